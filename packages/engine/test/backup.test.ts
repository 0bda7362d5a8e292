import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AccountKeys } from '../src/crypto.ts';
import { Keyring } from '../src/envelope.ts';
import { ChunkIntegrityError, DecryptionError, EngineConfigError, ItemIntegrityError, ItemRejectedError } from '../src/errors.ts';
import { StaticKeyProvider, StoreKeyProvider } from '../src/keys.ts';
import { layout } from '../src/layout.ts';
import { type BackupProgress, runBackup, type SourceItem } from '../src/pipeline.ts';
import { Repository } from '../src/repository.ts';
import { DirectoryTarget, restoreSnapshot } from '../src/restore.ts';
import { listManifests, listSnapshots, snapshotItems } from '../src/snapshot.ts';
import { LocalDirectoryStore } from '../src/store.ts';
import { verify } from '../src/verify.ts';
import { collect, contentHashOf, jsonRecords, listKeys, newAccountId, piecesOf, randomBuffer, randomStream, sha256, sha256Of, type TestRepo, tempDir, testRepository } from './support.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function tempStore(): LocalDirectoryStore {
  const { dir, cleanup } = tempDir('store');
  cleanups.push(cleanup);
  return new LocalDirectoryStore(dir, { durable: false });
}

function repo(options?: Parameters<typeof testRepository>[0]): TestRepo {
  const r = testRepository(options);
  cleanups.push(r.cleanup);
  return r;
}

async function restoredHashes(r: TestRepo, snapshotId?: string): Promise<Map<string, { hash: string; size: number }>> {
  const account = await r.repository.account(r.accountId);
  const snapshots = await listSnapshots(account);
  const header = snapshotId ? snapshots.find((s) => s.id === snapshotId)! : snapshots[snapshots.length - 1];
  const out = new Map<string, { hash: string; size: number }>();
  for await (const item of snapshotItems(account, header)) {
    out.set(item.path, await sha256Of(account.readItem(item.chunks, { expectedContentHash: item.contentHash })));
  }
  return out;
}

describe('backup and restore', () => {
  it('restores random binary and JSON items byte for byte, including a 50 MB item streamed end to end', async () => {
    const r = repo();
    const big = 50 * 1024 * 1024;
    const expectedBig = await sha256Of(randomStream('big', big));
    const binary = randomBuffer('binary', 777_777);
    const records = jsonRecords('records', 20_000);
    const tiny = Buffer.from('{"id":1}');
    const items: SourceItem[] = [
      { id: 'big', path: 'files/video.bin', size: big, content: () => randomStream('big', big) },
      { id: 'bin', path: 'files/photo.jpg', content: () => piecesOf(binary, 1000) },
      { id: 'rec', path: 'stripe/customers.ndjson', metadata: { resource: 'customers' }, content: () => piecesOf(records) },
      { id: 'tiny', path: 'stripe/customers/cus_1.json', content: () => [tiny] },
      { id: 'empty', path: 'notes/empty.txt', content: () => [] },
    ];
    const { snapshot, rejected } = await runBackup(r.repository, { accountId: r.accountId, sourceId: 'src-1', items });
    expect(rejected).toEqual([]);
    expect(snapshot.totals).toMatchObject({ items: 5, logicalBytes: big + binary.length + records.length + tiny.length });
    // JSON compresses: what is stored is well under what was backed up.
    expect(snapshot.totals.storedBytes).toBeLessThan(snapshot.totals.logicalBytes);

    const restored = await restoredHashes(r);
    expect(restored.get('files/video.bin')).toEqual(expectedBig);
    expect(restored.get('files/photo.jpg')).toEqual({ hash: sha256(binary), size: binary.length });
    expect(restored.get('stripe/customers.ndjson')).toEqual({ hash: sha256(records), size: records.length });
    expect(restored.get('stripe/customers/cus_1.json')).toEqual({ hash: sha256(tiny), size: tiny.length });
    expect(restored.get('notes/empty.txt')).toEqual({ hash: sha256(Buffer.alloc(0)), size: 0 });

    const account = await r.repository.account(r.accountId);
    const manifest = [];
    for await (const item of snapshotItems(account, snapshot)) manifest.push(item);
    expect(manifest.map((i) => i.id)).toEqual(['big', 'bin', 'rec', 'tiny', 'empty']);
    expect(manifest[2]).toMatchObject({ name: 'customers.ndjson', metadata: { resource: 'customers' }, contentHash: contentHashOf(records) });
  });

  it('addresses and seals alike whatever the concurrency: the same data key gives the same chunks', async () => {
    const serial = repo({ concurrency: 1, maxInflightBytes: 1 });
    const parallel = new Repository({ store: tempStore(), keys: new StaticKeyProvider({ [serial.accountId]: serial.dataKey }), concurrency: 32 });
    cleanups.push(() => parallel.close());
    const data = Buffer.concat([jsonRecords('mixed', 8_000), randomBuffer('mixed', 3_000_000)]);
    const a = await serial.repository.writeItem(serial.accountId, piecesOf(data));
    const b = await parallel.writeItem(serial.accountId, piecesOf(data));
    expect(b.chunks).toEqual(a.chunks);
    expect(b.contentHash).toBe(a.contentHash);
    expect(b.storedBytes).toBe(a.storedBytes);
    expect(a.contentHash).toBe(contentHashOf(data));
    await parallel.flush();
    expect(await sha256Of(parallel.readItem(serial.accountId, b.chunks, { expectedContentHash: a.contentHash }))).toEqual({ hash: sha256(data), size: data.length });
  });

  it('fails a read whose chunks do not add up to the recorded content hash', async () => {
    const r = repo();
    const one = await r.repository.writeItem(r.accountId, piecesOf(randomBuffer('one', 600_000)));
    const two = await r.repository.writeItem(r.accountId, piecesOf(randomBuffer('two', 600_000)));
    await r.repository.flush();
    // Each chunk is sound, but the list is not the item's: one chunk swapped for another item's.
    const swapped = [two.chunks[0], ...one.chunks.slice(1)];
    await expect(collect(r.repository.readItem(r.accountId, swapped, { expectedContentHash: one.contentHash }))).rejects.toBeInstanceOf(ItemIntegrityError);
    await expect(collect(r.repository.readItem(r.accountId, [...one.chunks].reverse(), { expectedContentHash: one.contentHash }))).rejects.toBeInstanceOf(ItemIntegrityError);
  });

  it('refuses a repository written in another format with a clear error, and leaves it as it was', async () => {
    const { dir, cleanup } = tempDir('format');
    cleanups.push(cleanup);
    const store = new LocalDirectoryStore(dir, { durable: false });
    const accountId = newAccountId();
    const dataKey = randomBytes(32);
    const old = new AccountKeys(accountId, dataKey).sealObject('config', 'config', Buffer.from(JSON.stringify({ version: 1, chunking: { minSize: 65536, avgSize: 262144, maxSize: 1048576 }, createdAt: '2026-11-01T00:00:00.000Z' })));
    await store.putIfAbsent(layout.config(accountId), old);
    const repository = new Repository({ store, keys: new StaticKeyProvider({ [accountId]: dataKey }) });
    cleanups.push(() => repository.close());
    await expect(repository.account(accountId)).rejects.toThrow(EngineConfigError);
    await expect(repository.account(accountId)).rejects.toThrow(/format 1/);
    expect((await store.getBytes(layout.config(accountId))).equals(old)).toBe(true);
    expect(await listKeys(store)).toEqual([layout.config(accountId)]);
  });

  it('stores less than 1% new bytes when backing up unchanged data a second time', async () => {
    const r = repo();
    const file = randomBuffer('unchanged', 12 * 1024 * 1024);
    const records = jsonRecords('unchanged', 30_000);
    const items: SourceItem[] = [
      { id: 'f', path: 'drive/archive.bin', content: () => piecesOf(file) },
      { id: 'r', path: 'stripe/charges.ndjson', content: () => piecesOf(records) },
      ...Array.from({ length: 50 }, (_, i) => ({ id: `small-${i}`, path: `github/issues/${i}.json`, content: () => [Buffer.from(JSON.stringify({ number: i, title: `Issue ${i}` }))] })),
    ];
    const first = await runBackup(r.repository, { accountId: r.accountId, sourceId: 'src', items });
    const second = await runBackup(r.repository, { accountId: r.accountId, sourceId: 'src', items });
    expect(second.snapshot.parentId).toBe(first.snapshot.id);
    expect(second.snapshot.totals.newBytes).toBe(0);
    expect(second.snapshot.totals.reusedBytes).toBe(second.snapshot.totals.logicalBytes);
    const ratio = second.snapshot.totals.storedBytes / second.snapshot.totals.logicalBytes;
    expect(ratio).toBeLessThan(0.01);
    expect(ratio).toBeGreaterThan(0); // its own manifest is new
    expect(first.snapshot.totals.newBytes).toBe(first.snapshot.totals.logicalBytes);
  });

  it('stores only a few chunks for an edit in the middle of a large file', async () => {
    const r = repo();
    const original = randomBuffer('large', 24 * 1024 * 1024);
    const edited = Buffer.from(original);
    edited.write('this paragraph was rewritten by a user', 12 * 1024 * 1024);
    await runBackup(r.repository, { accountId: r.accountId, sourceId: 'src', items: [{ id: 'doc', path: 'doc.bin', content: () => piecesOf(original) }] });
    const { snapshot } = await runBackup(r.repository, { accountId: r.accountId, sourceId: 'src', items: [{ id: 'doc', path: 'doc.bin', content: () => piecesOf(edited) }] });
    expect(snapshot.totals.newChunks).toBeGreaterThanOrEqual(1);
    expect(snapshot.totals.newChunks).toBeLessThanOrEqual(3);
    expect(snapshot.totals.newBytes).toBeLessThan(1024 * 1024);
    expect((await restoredHashes(r)).get('doc.bin')).toEqual({ hash: sha256(edited), size: edited.length });
  });

  it('names a corrupt chunk in verify, and restore fails clearly without touching the existing file', async () => {
    const r = repo();
    const data = randomBuffer('corrupt', 2 * 1024 * 1024);
    const { snapshot } = await runBackup(r.repository, { accountId: r.accountId, sourceId: 'src', items: [{ id: 'f', path: 'report.pdf', content: () => piecesOf(data) }] });
    const account = await r.repository.account(r.accountId);
    expect((await verify(account)).ok).toBe(true);

    const [item] = await collect(snapshotItems(account, snapshot));
    const victim = item.chunks[3].address;
    // Chunks live in packs: flip a byte inside the victim's region of its pack.
    const location = (await account.locate(victim))!;
    const path = join(r.dir, ...layout.pack(r.accountId, location.packId).split('/'));
    const bytes = readFileSync(path);
    bytes[location.offset + (location.length >> 1)] ^= 0xff;
    writeFileSync(path, bytes);

    const report = await verify(account);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ address: victim, problem: 'corrupt', snapshots: [snapshot.id] })]);
    expect(report.checkedChunks).toBe(report.referencedChunks);

    const { dir: target, cleanup } = tempDir('restore');
    cleanups.push(cleanup);
    writeFileSync(join(target, 'report.pdf'), 'the copy the user already has');
    const failure = await restoreSnapshot(account, snapshot.id, new DirectoryTarget(target)).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ChunkIntegrityError);
    expect((failure as ChunkIntegrityError).address).toBe(victim);
    expect(readFileSync(join(target, 'report.pdf'), 'utf8')).toBe('the copy the user already has');
  });

  it('names the chunks of a missing pack in verify', async () => {
    const r = repo();
    const { snapshot } = await runBackup(r.repository, { accountId: r.accountId, sourceId: 'src', items: [{ id: 'f', path: 'f.bin', content: () => [randomBuffer('missing', 500_000)] }] });
    const account = await r.repository.account(r.accountId);
    const [item] = await collect(snapshotItems(account, snapshot));
    const location = (await account.locate(item.chunks[0].address))!;
    await r.store.delete(layout.pack(r.accountId, location.packId));
    const inPack = [...new Set(item.chunks.map((c) => c.address))].sort();
    for (const address of inPack) expect((await account.locate(address))?.packId).toBe(location.packId);
    const report = await verify(account);
    expect(report.problems.map((p) => [p.address, p.problem])).toEqual(inPack.map((address) => [address, 'missing']));
  });

  it('verifies a share of the chunks when asked, the same share for the same seed', async () => {
    const r = repo();
    await runBackup(r.repository, { accountId: r.accountId, sourceId: 'src', items: [{ id: 'f', path: 'f.bin', content: () => piecesOf(randomBuffer('share', 8 * 1024 * 1024)) }] });
    const account = await r.repository.account(r.accountId);
    const a = await verify(account, { share: 0.25, seed: 'fixed' });
    const b = await verify(account, { share: 0.25, seed: 'fixed' });
    expect(a.checkedChunks).toBeGreaterThan(0);
    expect(a.checkedChunks).toBeLessThan(a.referencedChunks);
    expect(b.checkedChunks).toBe(a.checkedChunks);
    await expect(verify(account, { share: 0 })).rejects.toThrow(/share/);
  });

  it('verifies a share of the packs when asked (at least one), every referenced chunk of each chosen pack, the same packs for the same seed', async () => {
    const r = repo({ packSize: 1024 * 1024 });
    await runBackup(r.repository, { accountId: r.accountId, sourceId: 'src', items: [{ id: 'f', path: 'f.bin', content: () => piecesOf(randomBuffer('packs', 8 * 1024 * 1024)) }] });
    const account = await r.repository.account(r.accountId);
    const all = await verify(account, { by: 'pack' });
    expect(all).toMatchObject({ ok: true, by: 'pack', checkedPacks: all.referencedPacks, checkedChunks: all.referencedChunks });
    expect(all.referencedPacks).toBeGreaterThanOrEqual(6);
    const half = await verify(account, { by: 'pack', share: 0.5, seed: 'fixed' });
    expect(half.checkedPacks).toBe(Math.round(all.referencedPacks / 2));
    expect(half.checkedChunks).toBeLessThan(all.referencedChunks);
    expect((await verify(account, { by: 'pack', share: 0.5, seed: 'fixed' })).checkedChunks).toBe(half.checkedChunks);
    expect((await verify(account, { by: 'pack', share: 0.001 })).checkedPacks).toBe(1);
    // A pack gone from the store: a sample that reads it names each of its chunks, with the pack.
    const [item] = await collect(snapshotItems(account, (await listSnapshots(account))[0]));
    const { packId } = (await account.locate(item.chunks[0].address))!;
    await r.store.delete(layout.pack(r.accountId, packId));
    const broken = await verify(account, { by: 'pack' });
    expect(broken.ok).toBe(false);
    expect(broken.problems.length).toBeGreaterThan(0);
    expect(broken.problems.every((p) => p.problem === 'missing' && p.packId === packId)).toBe(true);
  });

  it('refuses a wrong data key with DecryptionError and leaves the store and the restore target as they were', async () => {
    const r = repo();
    await runBackup(r.repository, { accountId: r.accountId, sourceId: 'src', items: [{ id: 'f', path: 'ledger.csv', content: () => [jsonRecords('ledger', 500)] }] });
    const before = await listKeys(r.store);
    const { dir: target, cleanup } = tempDir('wrongkey');
    cleanups.push(cleanup);
    writeFileSync(join(target, 'ledger.csv'), 'keep me');

    const wrong = new Repository({ store: r.store, keys: new StaticKeyProvider({ [r.accountId]: randomBytes(32) }) });
    cleanups.push(() => wrong.close());
    await expect(wrong.account(r.accountId)).rejects.toBeInstanceOf(DecryptionError);
    await expect(runBackup(wrong, { accountId: r.accountId, sourceId: 'src', items: [{ id: 'x', path: 'x', content: () => [Buffer.from('x')] }] })).rejects.toBeInstanceOf(DecryptionError);
    const restore = async () => restoreSnapshot(await wrong.account(r.accountId), 'any', new DirectoryTarget(target));
    await expect(restore()).rejects.toBeInstanceOf(DecryptionError);

    expect(await listKeys(r.store)).toEqual(before);
    expect(readFileSync(join(target, 'ledger.csv'), 'utf8')).toBe('keep me');
  });

  it('keeps data readable across KEK rotation (rewrap), and the retired KEK is no longer needed', async () => {
    const { dir, cleanup } = tempDir('kek');
    cleanups.push(cleanup);
    const store = new LocalDirectoryStore(dir, { durable: false });
    const accountId = newAccountId();
    const old = { id: 'kek-2025', key: randomBytes(32) };
    const next = { id: 'kek-2026', key: randomBytes(32) };
    const records = jsonRecords('rotation', 2000);

    const before = new Repository({ store, keys: new StoreKeyProvider(store, new Keyring([old])) });
    cleanups.push(() => before.close());
    const { snapshot } = await runBackup(before, { accountId, sourceId: 'src', items: [{ id: 'r', path: 'r.ndjson', content: () => [records] }] });
    const wrappedBefore = JSON.parse((await store.getBytes(layout.dataKey(accountId))).toString());
    expect(wrappedBefore.kekId).toBe('kek-2025');

    const rotating = new StoreKeyProvider(store, new Keyring([next, old]));
    expect(await rotating.rewrap(accountId)).toBe(true);
    expect(await rotating.rewrap(accountId)).toBe(false);
    expect(JSON.parse((await store.getBytes(layout.dataKey(accountId))).toString()).kekId).toBe('kek-2026');

    const after = new Repository({ store, keys: new StoreKeyProvider(store, new Keyring([next])) });
    cleanups.push(() => after.close());
    const account = await after.account(accountId);
    const [item] = await collect(snapshotItems(account, snapshot));
    expect(await sha256Of(account.readItem(item.chunks))).toEqual({ hash: sha256(records), size: records.length });

    const retiredOnly = new Repository({ store, keys: new StoreKeyProvider(store, new Keyring([old])) });
    cleanups.push(() => retiredOnly.close());
    await expect(retiredOnly.account(accountId)).rejects.toBeInstanceOf(DecryptionError);
  });

  it('keeps tenants apart: the same content is stored once per account, and one account cannot read the other', async () => {
    const { dir, cleanup } = tempDir('tenants');
    cleanups.push(cleanup);
    const store = new LocalDirectoryStore(dir, { durable: false });
    const a = newAccountId();
    const b = newAccountId();
    const repository = new Repository({ store, keys: new StoreKeyProvider(store, new Keyring([{ id: 'k', key: randomBytes(32) }])) });
    cleanups.push(() => repository.close());
    const shared = randomBuffer('shared', 300_000);
    const snapA = await runBackup(repository, { accountId: a, sourceId: 's', items: [{ id: 'x', path: 'x', content: () => [shared] }] });
    const snapB = await runBackup(repository, { accountId: b, sourceId: 's', items: [{ id: 'x', path: 'x', content: () => [shared] }] });
    expect(snapB.snapshot.totals.newBytes).toBe(shared.length);
    const accountA = await repository.account(a);
    const accountB = await repository.account(b);
    const [itemA] = await collect(snapshotItems(accountA, snapA.snapshot));
    const [itemB] = await collect(snapshotItems(accountB, snapB.snapshot));
    expect(itemA.chunks[0].address).not.toBe(itemB.chunks[0].address);
    // Copy A's chunk to where B would look for it (its region of B's pack): B's key and binding reject it.
    const fromA = (await accountA.locate(itemA.chunks[0].address))!;
    const toB = (await accountB.locate(itemB.chunks[0].address))!;
    expect(toB.length).toBe(fromA.length);
    const copied = await store.getRange(layout.pack(a, fromA.packId), fromA.offset, fromA.length);
    const packB = Buffer.from(await store.getBytes(layout.pack(b, toB.packId)));
    copied.copy(packB, toB.offset);
    await store.put(layout.pack(b, toB.packId), packB);
    await expect(accountB.readChunk(itemB.chunks[0])).rejects.toThrow(ChunkIntegrityError);
    // And A's snapshot is not B's to read.
    await expect(listSnapshots(accountB)).resolves.toHaveLength(1);
    expect((await listSnapshots(accountB))[0].id).toBe(snapB.snapshot.id);
  });
});

describe('pipeline', () => {
  it('runs validate, transform and enrich hooks; rejected items are reported and left out', async () => {
    const r = repo();
    const items: SourceItem[] = [
      { id: 'ok', path: 'a.json', metadata: { kind: 'customer' }, content: () => [Buffer.from('{"email":"a@example.com","card":"4242"}')] },
      { id: 'bad', path: 'b.json', content: () => [Buffer.from('not json')] },
      { id: 'skip', path: 'tmp/c.json', content: () => [Buffer.from('{}')] },
      { id: 'short', path: 'd.bin', size: 100, content: () => [Buffer.alloc(10)] },
      { id: '', path: 'e.json', content: () => [Buffer.from('{}')] },
    ];
    const { snapshot, rejected } = await runBackup(r.repository, {
      accountId: r.accountId,
      sourceId: 'src',
      items,
      hooks: {
        validate: (item) => {
          if (item.id === 'bad') throw new ItemRejectedError('b.json is not valid JSON');
        },
        transform: (item) =>
          item.path.startsWith('tmp/')
            ? null
            : {
                ...item,
                content: async function* () {
                  for await (const piece of (await item.content()) as AsyncIterable<Uint8Array>) yield Buffer.from(Buffer.from(piece).toString().replace(/"card":"\d+"/, '"card":"[redacted]"'));
                },
              },
        enrich: (item) => ({ backedUpBy: 'engine-test', pathLength: item.path.length }),
      },
    });
    expect(rejected.map((x) => x.id).sort()).toEqual(['', 'bad', 'short']);
    expect(rejected.find((x) => x.id === 'short')!.reason).toMatch(/declared 100 bytes/);
    const account = await r.repository.account(r.accountId);
    const stored = await collect(snapshotItems(account, snapshot));
    expect(stored.map((i) => i.id)).toEqual(['ok']);
    expect(stored[0].metadata).toEqual({ kind: 'customer', backedUpBy: 'engine-test', pathLength: 6 });
    const content = Buffer.concat(await collect(account.readItem(stored[0].chunks))).toString();
    expect(content).toBe('{"email":"a@example.com","card":"[redacted]"}');
  });

  it('reports progress with items and bytes, ending with a final report', async () => {
    const r = repo();
    const reports: BackupProgress[] = [];
    const data = randomBuffer('progress', 3 * 1024 * 1024);
    await runBackup(r.repository, {
      accountId: r.accountId,
      sourceId: 'src',
      itemsTotal: 2,
      progressIntervalMs: 0,
      onProgress: (p) => reports.push(p),
      items: [
        { id: 'a', path: 'a', content: () => piecesOf(data) },
        { id: 'b', path: 'b', content: () => [Buffer.from('b')] },
      ],
    });
    const last = reports[reports.length - 1];
    expect(last).toMatchObject({ final: true, itemsDone: 2, itemsTotal: 2, bytesDone: data.length + 1, currentItem: null });
    expect(reports.filter((p) => !p.final).some((p) => p.bytesDone > 0 && p.bytesDone < data.length)).toBe(true);
    for (let i = 1; i < reports.length; i++) expect(reports[i].bytesDone).toBeGreaterThanOrEqual(reports[i - 1].bytesDone);
  });

  it('reports the items stored while the source is quiet, not only at the next item or the end', async () => {
    const r = repo();
    const reports: BackupProgress[] = [];
    let resume!: () => void;
    const quiet = new Promise<void>((resolve) => (resume = resolve));
    async function* items(): AsyncGenerator<SourceItem> {
      for (let i = 0; i < 5; i++) yield { id: `i${i}`, path: `i${i}.json`, content: () => [Buffer.from(`{"n":${i}}`)] };
      await quiet; // the platform's next page is slow
      yield { id: 'last', path: 'last.json', content: () => [Buffer.from('{}')] };
    }
    const run = runBackup(r.repository, { accountId: r.accountId, sourceId: 'src', itemConcurrency: 1, progressIntervalMs: 1_500, onProgress: (p) => reports.push(p), items: items() });
    try {
      await expect.poll(() => reports.at(-1)?.itemsDone, { timeout: 30_000, interval: 50 }).toBe(5);
      expect(reports.at(-1)?.final).toBe(false);
    } finally {
      resume();
    }
    await run;
    expect(reports.at(-1)).toMatchObject({ final: true, itemsDone: 6 });
  });

  it('cancels mid-item on abort: nothing is published, the store stays consistent, and a later run completes', async () => {
    const r = repo();
    const first = randomBuffer('cancel-1', 2 * 1024 * 1024);
    const second = randomBuffer('cancel-2', 6 * 1024 * 1024);
    const third = jsonRecords('cancel-3', 3000);
    const opened: string[] = [];
    const controller = new AbortController();
    // The user cancels while the second item is being read, halfway through its bytes.
    function* cancelHalfway(data: Buffer): Generator<Buffer> {
      let read = 0;
      for (const piece of piecesOf(data)) {
        yield piece;
        read += piece.length;
        if (read >= data.length / 2) controller.abort();
      }
    }
    const items = (cancel: boolean): SourceItem[] =>
      [
        ['one', first],
        ['two', second],
        ['three', third],
      ].map(([id, data]) => ({
        id: id as string,
        path: `${id}.bin`,
        content: () => {
          opened.push(id as string);
          return cancel && id === 'two' ? cancelHalfway(data as Buffer) : piecesOf(data as Buffer);
        },
      }));
    const snapshotId = `job-${randomBytes(4).toString('hex')}`;
    const cancelled = runBackup(r.repository, {
      accountId: r.accountId,
      sourceId: 'src',
      snapshotId,
      items: items(true),
      itemConcurrency: 1,
      checkpointIntervalMs: 0,
      signal: controller.signal,
    });
    await expect(cancelled).rejects.toMatchObject({ name: 'AbortError' });
    const account = await r.repository.account(r.accountId);
    expect(await listSnapshots(account)).toEqual([]);
    expect(await verify(account)).toMatchObject({ ok: true, snapshots: [] });
    const pending = await listManifests(account);
    expect(pending.map((m) => [m.snapshotId, m.published])).toEqual([[snapshotId, false]]);

    opened.length = 0;
    const resumed = await runBackup(r.repository, { accountId: r.accountId, sourceId: 'src', snapshotId, items: items(false) });
    expect(resumed.resumed).toBe(true);
    expect(opened).toEqual(['two', 'three']); // 'one' was checkpointed before the abort
    expect(resumed.snapshot.totals.items).toBe(3);
    const restored = await restoredHashes(r);
    expect(restored).toEqual(
      new Map([
        ['one.bin', { hash: sha256(first), size: first.length }],
        ['two.bin', { hash: sha256(second), size: second.length }],
        ['three.bin', { hash: sha256(third), size: third.length }],
      ]),
    );
    expect((await listManifests(account)).map((m) => [m.snapshotId, m.published, m.pending])).toEqual([[snapshotId, true, null]]);

    // A retried job that finds its snapshot published gets it back instead of a second backup.
    const again = await runBackup(r.repository, { accountId: r.accountId, sourceId: 'src', snapshotId, items: items(false) });
    expect(again).toMatchObject({ alreadyPublished: true, snapshot: { id: snapshotId } });
    expect(await listSnapshots(account)).toHaveLength(1);
  });

  it('resumes after a worker dies mid-backup: checkpointed items are neither lost nor duplicated', async () => {
    const r = repo();
    const snapshotId = 'job-crash';
    const data = Array.from({ length: 6 }, (_, i) => randomBuffer(`crash-${i}`, 300_000 + i));
    const makeItems = (dieAt: number | null): SourceItem[] =>
      data.map((buf, i) => ({
        id: `item-${i}`,
        path: `items/${i}.bin`,
        content: () => {
          if (i === dieAt) throw new Error('connection reset by peer');
          return [buf];
        },
      }));
    await expect(
      runBackup(r.repository, { accountId: r.accountId, sourceId: 'src', snapshotId, items: makeItems(4), itemConcurrency: 1, checkpointIntervalMs: 0 }),
    ).rejects.toThrow(/connection reset/);
    const account = await r.repository.account(r.accountId);
    expect(await listSnapshots(account)).toHaveLength(0);
    // A fresh process: new repository object, same store.
    const restarted = new Repository({ store: r.store, keys: new StaticKeyProvider({ [r.accountId]: r.dataKey }) });
    cleanups.push(() => restarted.close());
    const result = await runBackup(restarted, { accountId: r.accountId, sourceId: 'src', snapshotId, items: makeItems(null) });
    expect(result.resumed).toBe(true);
    const ids = (await collect(snapshotItems(await restarted.account(r.accountId), result.snapshot))).map((i) => i.id);
    expect(ids).toEqual(['item-0', 'item-1', 'item-2', 'item-3', 'item-4', 'item-5']);
    expect(result.snapshot.totals.logicalBytes).toBe(data.reduce((n, b) => n + b.length, 0));
  });
});
