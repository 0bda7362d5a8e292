import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyRetention, collectGarbage } from '../src/gc.ts';
import { StaticKeyProvider } from '../src/keys.ts';
import { layout } from '../src/layout.ts';
import { runBackup, type SourceItem } from '../src/pipeline.ts';
import { type AccountRepository, Repository } from '../src/repository.ts';
import { DirectoryTarget, restoreSnapshot } from '../src/restore.ts';
import { deleteSnapshot, SnapshotWriter, snapshotItems } from '../src/snapshot.ts';
import { verify } from '../src/verify.ts';
import { collect, listKeys, piecesOf, randomBuffer, sha256, type TestRepo, tempDir, testRepository } from './support.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function repo(options: Parameters<typeof testRepository>[0] = {}): TestRepo {
  const r = testRepository(options);
  cleanups.push(r.cleanup);
  return r;
}

async function packKeys(r: TestRepo): Promise<string[]> {
  return listKeys(r.store, layout.packs(r.accountId));
}

async function storedAddresses(account: AccountRepository): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const chunk of account.listChunks()) out.add(chunk.address);
  return out;
}

function item(id: string, data: Buffer): SourceItem {
  return { id, path: `${id}.bin`, content: () => piecesOf(data) };
}

describe('pack files', () => {
  it('appends chunks to packs of about packSize, one object each, with an index that locates every chunk', async () => {
    const r = repo({ packSize: 1024 * 1024 });
    const data = randomBuffer('packs', 6 * 1024 * 1024);
    const { snapshot } = await runBackup(r.repository, { accountId: r.accountId, sourceId: 'src', items: [item('big', data)] });
    const account = await r.repository.account(r.accountId);
    const [stored] = await collect(snapshotItems(account, snapshot));
    const packs = await packKeys(r);
    // Far fewer objects than chunks.
    expect(stored.chunks.length).toBeGreaterThan(packs.length);
    expect(packs.length).toBeGreaterThanOrEqual(5);
    expect(await listKeys(r.store, layout.packIndexes(r.accountId))).toHaveLength(packs.length);

    // A fresh process finds every chunk through the indexes, at the recorded region of its pack.
    const fresh = new Repository({ store: r.store, keys: new StaticKeyProvider({ [r.accountId]: r.dataKey }) });
    cleanups.push(() => fresh.close());
    const reader = await fresh.account(r.accountId);
    let covered = 0;
    for (const key of packs) covered += readFileSync(join(r.dir, ...key.split('/'))).length;
    let regions = 0;
    for (const pack of await reader.listPacks()) {
      let end = 0;
      for (const [, offset, length] of await reader.packEntries(pack.id)) {
        expect(offset).toBe(end); // back to back
        end = offset + length;
      }
      expect(end).toBe(pack.bytes);
      regions += end;
    }
    expect(regions).toBe(covered);
    for (const chunk of stored.chunks) expect(await reader.hasChunk(chunk.address)).toBe(true);
    const restored = Buffer.concat(await collect(reader.readChunks(stored.chunks, { expectedContentHash: stored.contentHash })));
    expect(sha256(restored)).toBe(sha256(data));
    expect((await verify(reader)).ok).toBe(true);
  });

  it('a crash before the open pack is stored loses only unflushed chunks: they are not stored, and the resumed backup rewrites them', async () => {
    const r = repo();
    const snapshotId = 'job-crash-mid-pack';
    const first = randomBuffer('checkpointed', 400_000);
    const second = randomBuffer('unflushed', 700_000);
    const account = await r.repository.account(r.accountId);
    // Item one is checkpointed (its pack stored first); item two's chunks are only appended.
    const writer = await SnapshotWriter.begin(account, { sourceId: 'src', snapshotId });
    const one = await account.writeItem(piecesOf(first));
    await writer.add({ id: 'one', path: 'one.bin', name: 'one.bin', size: one.size, contentHash: one.contentHash, chunks: one.chunks, metadata: null }, one);
    await writer.checkpoint();
    const packsAfterCheckpoint = await packKeys(r);
    const two = await account.writeItem(piecesOf(second));
    expect(two.newChunks).toBeGreaterThan(0);
    // "Crash": the process goes away without flushing. Nothing of item two reached the store.
    expect(await packKeys(r)).toEqual(packsAfterCheckpoint);

    const restarted = new Repository({ store: r.store, keys: new StaticKeyProvider({ [r.accountId]: r.dataKey }) });
    cleanups.push(() => restarted.close());
    const again = await restarted.account(r.accountId);
    for (const chunk of one.chunks) expect(await again.hasChunk(chunk.address)).toBe(true);
    for (const chunk of two.chunks) expect(await again.hasChunk(chunk.address)).toBe(false);

    const result = await runBackup(restarted, { accountId: r.accountId, sourceId: 'src', snapshotId, items: [item('one', first), item('two', second)] });
    expect(result.resumed).toBe(true);
    expect(result.snapshot.totals.newChunks).toBe(one.newChunks + two.newChunks); // item two's chunks were written again
    for (const chunk of two.chunks) expect(await again.hasChunk(chunk.address)).toBe(true);
    const { dir, cleanup } = tempDir('crash-restore');
    cleanups.push(cleanup);
    await restoreSnapshot(again, result.snapshot.id, new DirectoryTarget(dir));
    expect(sha256(readFileSync(join(dir, 'one.bin')))).toBe(sha256(first));
    expect(sha256(readFileSync(join(dir, 'two.bin')))).toBe(sha256(second));
    expect((await verify(again)).ok).toBe(true);
  });

  it('a pack whose index was never written does not count as stored, and GC removes it after the grace period', async () => {
    const r = repo();
    const account = await r.repository.account(r.accountId);
    const write = await account.writeItem([randomBuffer('orphan', 300_000)]);
    await account.flush();
    const [indexKey] = await listKeys(r.store, layout.packIndexes(r.accountId));
    await r.store.delete(indexKey); // as if the process died between the pack and its index
    const restarted = new Repository({ store: r.store, keys: new StaticKeyProvider({ [r.accountId]: r.dataKey }) });
    cleanups.push(() => restarted.close());
    const again = await restarted.account(r.accountId);
    expect(await again.hasChunk(write.chunks[0].address)).toBe(false);
    expect((await collectGarbage(again)).deletedPacks).toBe(0); // young: may be a backup's pack about to get its index
    expect(await packKeys(r)).toHaveLength(1);
    const later = await collectGarbage(again, { now: new Date(Date.now() + 2 * 3_600_000) });
    expect(later.deletedPacks).toBe(1);
    expect(await packKeys(r)).toEqual([]);
  });
});

describe('garbage collection of packs', () => {
  it('deletes a pack whose chunks are all unreferenced, index first, and keeps the packs other snapshots use', async () => {
    const r = repo();
    const a = await runBackup(r.repository, { accountId: r.accountId, sourceId: 'a', items: [item('x', randomBuffer('dead', 900_000))] });
    const b = await runBackup(r.repository, { accountId: r.accountId, sourceId: 'b', items: [item('y', randomBuffer('live', 900_000))] });
    const account = await r.repository.account(r.accountId);
    const packsBefore = await packKeys(r);
    expect(packsBefore).toHaveLength(2);
    const [itemA] = await collect(snapshotItems(account, a.snapshot));
    const deadPack = (await account.locate(itemA.chunks[0].address))!.packId;
    await deleteSnapshot(account, a.snapshot.id);

    const dry = await collectGarbage(account, { graceMs: 0, dryRun: true });
    expect(dry).toMatchObject({ deletedPacks: 1, deletedChunks: new Set(itemA.chunks.map((c) => c.address)).size, repackedPacks: 0 });
    expect(await packKeys(r)).toEqual(packsBefore);

    const result = await collectGarbage(account, { graceMs: 0 });
    expect(result).toMatchObject({ deletedPacks: 1, repackedPacks: 0, partialPacks: 0 });
    expect(await packKeys(r)).toEqual(packsBefore.filter((key) => key !== layout.pack(r.accountId, deadPack)));
    expect(await r.store.exists(layout.packIndex(r.accountId, deadPack))).toBe(false);
    for (const chunk of itemA.chunks) expect(await account.hasChunk(chunk.address)).toBe(false);
    expect(await verify(account)).toMatchObject({ ok: true, snapshots: [b.snapshot.id] });
  });

  it('repacks a partly used pack: live chunks move to a new pack before the old one goes; below the threshold it is kept and reported', async () => {
    const r = repo();
    const keep = randomBuffer('keep', 800_000);
    const drop = randomBuffer('drop', 800_000);
    await runBackup(r.repository, { accountId: r.accountId, sourceId: 'src', items: [item('keep', keep), item('drop', drop)], now: () => new Date('2026-04-01T03:00:00Z') });
    const latest = await runBackup(r.repository, { accountId: r.accountId, sourceId: 'src', items: [item('keep', keep)], now: () => new Date('2026-04-02T03:00:00Z') });
    const account = await r.repository.account(r.accountId);
    await applyRetention(account, { keepLast: 1 }, { sourceId: 'src' });
    const [oldPack] = await packKeys(r);
    expect(await packKeys(r)).toHaveLength(1); // the second backup stored nothing new

    // Under the threshold: reported, nothing rewritten.
    const kept = await collectGarbage(account, { graceMs: 0, repackUnusedShare: 0.9 });
    expect(kept).toMatchObject({ partialPacks: 1, repackedPacks: 0, deletedPacks: 0, deletedChunks: 0 });
    expect(await packKeys(r)).toEqual([oldPack]);

    const [keptItem] = await collect(snapshotItems(account, latest.snapshot));
    const result = await collectGarbage(account, { graceMs: 0 });
    expect(result).toMatchObject({ repackedPacks: 1, partialPacks: 0 });
    expect(result.deletedChunks).toBeGreaterThan(0);
    const packs = await packKeys(r);
    expect(packs).toHaveLength(1);
    expect(packs[0]).not.toBe(oldPack);
    expect(await storedAddresses(account)).toEqual(new Set(keptItem.chunks.map((c) => c.address)));

    // A fresh process reads the moved chunks through the new index.
    const fresh = new Repository({ store: r.store, keys: new StaticKeyProvider({ [r.accountId]: r.dataKey }) });
    cleanups.push(() => fresh.close());
    const reader = await fresh.account(r.accountId);
    expect((await verify(reader)).ok).toBe(true);
    const restored = Buffer.concat(await collect(reader.readChunks(keptItem.chunks, { expectedContentHash: keptItem.contentHash })));
    expect(sha256(restored)).toBe(sha256(keep));
  });
});
