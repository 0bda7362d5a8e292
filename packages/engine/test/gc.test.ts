import { afterEach, describe, expect, it } from 'vitest';
import { applyRetention, collectGarbage } from '../src/gc.ts';
import { type SourceItem, runBackup } from '../src/pipeline.ts';
import type { AccountRepository } from '../src/repository.ts';
import { listManifests, listSnapshots, SnapshotWriter, snapshotChunks } from '../src/snapshot.ts';
import { verify } from '../src/verify.ts';
import { collect, piecesOf, randomBuffer, type TestRepo, testRepository } from './support.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function storedAddresses(account: AccountRepository): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const chunk of account.listChunks()) out.add(chunk.address);
  return out;
}

describe('retention pruning and garbage collection', () => {
  it('drops the snapshots the policy drops, then deletes exactly the chunks no remaining snapshot references', async () => {
    const r: TestRepo = testRepository();
    cleanups.push(r.cleanup);
    // Five daily backups of a file that changes a little each day, plus a file only the first day has.
    const base = randomBuffer('gc-base', 4 * 1024 * 1024);
    const onlyFirst = randomBuffer('gc-first', 1024 * 1024);
    const days = ['2026-04-01', '2026-04-02', '2026-04-03', '2026-04-04', '2026-04-05'];
    for (const [i, day] of days.entries()) {
      const version = Buffer.from(base);
      version.write(`edit of day ${i}`, (i + 1) * 700_000);
      const items: SourceItem[] = [{ id: 'doc', path: 'doc.bin', content: () => piecesOf(version) }];
      if (i === 0) items.push({ id: 'old', path: 'old.bin', content: () => piecesOf(onlyFirst) });
      await runBackup(r.repository, { accountId: r.accountId, sourceId: 'src', items, now: () => new Date(`${day}T03:00:00Z`) });
    }
    // Another source of the same account shares chunks with this one; GC must keep them.
    await runBackup(r.repository, { accountId: r.accountId, sourceId: 'other', items: [{ id: 'copy', path: 'copy.bin', content: () => piecesOf(onlyFirst) }] });

    const account = await r.repository.account(r.accountId);
    const all = await listSnapshots(account, { sourceId: 'src' });
    expect(all).toHaveLength(5);

    const decision = await applyRetention(account, { keepLast: 2 }, { sourceId: 'src' });
    expect(decision.keep.map((s) => s.createdAt.slice(0, 10))).toEqual(['2026-04-05', '2026-04-04']);
    const remaining = await listSnapshots(account);
    expect(remaining).toHaveLength(3);

    const referenced = new Set<string>();
    for (const header of remaining) for await (const chunk of snapshotChunks(account, header)) referenced.add(chunk.address);
    const before = await storedAddresses(account);
    const garbage = [...before].filter((a) => !referenced.has(a));
    expect(garbage.length).toBeGreaterThan(0);

    const dry = await collectGarbage(account, { graceMs: 0, dryRun: true });
    expect(dry.deletedChunks).toBe(garbage.length);
    expect(await storedAddresses(account)).toEqual(before);

    const result = await collectGarbage(account, { graceMs: 0 });
    expect(result).toMatchObject({ snapshots: 3, referencedChunks: referenced.size, scannedChunks: before.size, deletedChunks: garbage.length });
    expect(await storedAddresses(account)).toEqual(referenced);
    const report = await verify(account);
    expect(report).toMatchObject({ ok: true, checkedChunks: referenced.size });
    // Nothing left to collect.
    expect((await collectGarbage(account, { graceMs: 0 })).deletedChunks).toBe(0);
  });

  it('leaves young unreferenced chunks and the chunks of a backup in progress alone, and clears abandoned ones', async () => {
    const r = testRepository();
    cleanups.push(r.cleanup);
    const account = await r.repository.account(r.accountId);
    // A backup in progress: one checkpointed item, not published.
    const writer = await SnapshotWriter.begin(account, { sourceId: 'src', snapshotId: 'in-progress' });
    const write = await account.writeItem([randomBuffer('pending', 600_000)]);
    await writer.add({ id: 'p', path: 'p', name: 'p', size: write.size, contentHash: write.contentHash, chunks: write.chunks, metadata: null }, write);
    await writer.checkpoint();
    // A chunk written a moment ago that nothing references yet.
    const loose = await account.writeItem([randomBuffer('loose', 100_000)]);

    const young = await collectGarbage(account);
    expect(young.deletedChunks).toBe(0);
    expect(young.youngUnreferencedChunks).toBe(loose.chunks.length);

    const now = new Date(Date.now() + 2 * 3_600_000);
    const later = await collectGarbage(account, { now });
    expect(later.deletedChunks).toBe(loose.chunks.length);
    const stored = await storedAddresses(account);
    for (const chunk of write.chunks) expect(stored.has(chunk.address)).toBe(true);

    // A week without progress: the pending backup is abandoned, its manifest and chunks go.
    const weekLater = new Date(Date.now() + 8 * 86_400_000);
    const abandoned = await collectGarbage(account, { now: weekLater });
    expect(abandoned.discardedManifests).toEqual(['in-progress']);
    expect(abandoned.deletedChunks).toBe(write.chunks.length);
    expect(await listManifests(account)).toEqual([]);
    expect(await collect(account.listChunks())).toEqual([]);
  });
});
