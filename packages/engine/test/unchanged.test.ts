/**
 * Change markers: an item whose id and marker equal the parent snapshot's is carried over without
 * reading its content; the periodic full run (`rehash`) reads everything again.
 */
import { createReadStream, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileChangeMarker, runBackup, type SourceItem } from '../src/pipeline.ts';
import { DirectoryTarget, restoreSnapshot } from '../src/restore.ts';
import { readSnapshot, snapshotItems } from '../src/snapshot.ts';
import { collect, jsonRecords, randomBuffer, sha256, type TestRepo, tempDir, testRepository } from './support.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function repo(): TestRepo {
  const r = testRepository();
  cleanups.push(r.cleanup);
  return r;
}

function dir(name: string): string {
  const made = tempDir(name);
  cleanups.push(made.cleanup);
  return made.dir;
}

/** Items that count every content() call. */
function counted(items: { id: string; path: string; marker?: string; bytes: Buffer }[]): { items: SourceItem[]; reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    items: items.map(({ id, path, marker, bytes }) => ({
      id,
      path,
      ...(marker !== undefined ? { changeMarker: marker } : {}),
      content: () => {
        reads.push(id);
        return [bytes];
      },
    })),
  };
}

/** The files under `root` as engine items, marked by size and modification time, counting reads. */
function fileItems(root: string, names: string[], reads: string[]): SourceItem[] {
  return names.map((name) => {
    const path = join(root, name);
    const info = statSync(path);
    return {
      id: name,
      path: `files/${name}`,
      size: info.size,
      modifiedAt: info.mtime,
      changeMarker: fileChangeMarker(info),
      content: () => {
        reads.push(name);
        return createReadStream(path);
      },
    };
  });
}

describe('unchanged items (change markers)', () => {
  it('reads no content on a re-backup where nothing changed, and the new snapshot restores the same bytes', async () => {
    const r = repo();
    const data = [
      { id: 'drive:1', path: 'drive/report.bin', marker: 'md5:1', bytes: randomBuffer('report', 3 * 1024 * 1024) },
      { id: 'stripe:customers', path: 'stripe/customers.ndjson', marker: 'updated:2026-11-01', bytes: jsonRecords('customers', 5000) },
      ...Array.from({ length: 40 }, (_, i) => ({ id: `github:${i}`, path: `github/issues/${i}.json`, marker: `etag-${i}`, bytes: Buffer.from(JSON.stringify({ number: i })) })),
    ];
    const first = counted(data);
    const parent = await runBackup(r.repository, { accountId: r.accountId, sourceId: 'src', items: first.items });
    expect(first.reads).toHaveLength(data.length);

    const second = counted(data);
    let final: { itemsUnchanged: number; itemsDone: number } | undefined;
    const { snapshot } = await runBackup(r.repository, { accountId: r.accountId, sourceId: 'src', items: second.items, onProgress: (p) => (final = p) });
    expect(second.reads).toEqual([]);
    expect(final).toMatchObject({ itemsUnchanged: data.length, itemsDone: 0 });
    expect(snapshot.parentId).toBe(parent.snapshot.id);
    expect(snapshot.totals).toMatchObject({ items: data.length, logicalBytes: parent.snapshot.totals.logicalBytes, newBytes: 0, newChunks: 0 });

    const account = await r.repository.account(r.accountId);
    const target = dir('restore');
    await restoreSnapshot(account, snapshot.id, new DirectoryTarget(target));
    for (const item of data) expect(sha256(readFileSync(join(target, ...item.path.split('/'))))).toBe(sha256(item.bytes));
    const entries = await collect(snapshotItems(account, snapshot));
    expect(entries.map((entry) => entry.changeMarker)).toEqual(data.map((item) => item.marker));
  });

  it('reads an item whose marker changed, one without a marker, and one whose declared size differs; a renamed item keeps its chunks', async () => {
    const r = repo();
    const bytes = (seed: string) => randomBuffer(seed, 300_000);
    const first = counted([
      { id: 'a', path: 'a.bin', marker: 'v1', bytes: bytes('a') },
      { id: 'b', path: 'b.bin', marker: 'v1', bytes: bytes('b') },
      { id: 'c', path: 'c.bin', bytes: bytes('c') },
      { id: 'd', path: 'd.bin', marker: 'v1', bytes: bytes('d') },
    ]);
    await runBackup(r.repository, { accountId: r.accountId, sourceId: 'src', items: first.items });

    const second = counted([
      { id: 'a', path: 'renamed/a.bin', marker: 'v1', bytes: bytes('a') },
      { id: 'b', path: 'b.bin', marker: 'v2', bytes: bytes('b2') },
      { id: 'c', path: 'c.bin', bytes: bytes('c') },
      { id: 'd', path: 'd.bin', marker: 'v1', bytes: bytes('d') },
    ]);
    second.items[3].size = 123; // declared size differs from the stored one: the marker is not trusted
    const { snapshot, rejected } = await runBackup(r.repository, { accountId: r.accountId, sourceId: 'src', items: second.items });
    expect(second.reads).toEqual(['b', 'c', 'd']);
    expect(rejected.map((item) => item.id)).toEqual(['d']); // its content is 300,000 bytes, not the 123 it declared
    const account = await r.repository.account(r.accountId);
    const entries = new Map((await collect(snapshotItems(account, snapshot))).map((entry) => [entry.id, entry]));
    expect(entries.get('a')).toMatchObject({ path: 'renamed/a.bin', name: 'a.bin', changeMarker: 'v1' });
    const restored = dir('restore');
    await restoreSnapshot(account, snapshot.id, new DirectoryTarget(restored));
    expect(sha256(readFileSync(join(restored, 'renamed', 'a.bin')))).toBe(sha256(bytes('a')));
    expect(sha256(readFileSync(join(restored, 'b.bin')))).toBe(sha256(bytes('b2')));
  });

  it('a file whose bytes changed but whose size and mtime did not is kept until the next full run, which reads it', async () => {
    const r = repo();
    const root = dir('files');
    mkdirSync(root, { recursive: true });
    const names = ['one.bin', 'two.json'];
    writeFileSync(join(root, 'one.bin'), randomBuffer('one', 200_000));
    writeFileSync(join(root, 'two.json'), jsonRecords('two', 100));
    const mtime = new Date('2026-11-20T10:00:00Z');
    for (const name of names) utimesSync(join(root, name), mtime, mtime);
    const reads: string[] = [];
    await runBackup(r.repository, { accountId: r.accountId, sourceId: 'files', items: fileItems(root, names, reads) });

    // Same size, same mtime, other bytes (a tool that restores timestamps, or a clock gone back).
    const changed = randomBuffer('one, edited', 200_000);
    writeFileSync(join(root, 'one.bin'), changed);
    utimesSync(join(root, 'one.bin'), mtime, mtime);
    reads.length = 0;
    const daily = await runBackup(r.repository, { accountId: r.accountId, sourceId: 'files', items: fileItems(root, names, reads) });
    expect(reads).toEqual([]);
    const account = await r.repository.account(r.accountId);
    const stale = (await collect(snapshotItems(account, daily.snapshot))).find((item) => item.id === 'one.bin')!;

    reads.length = 0;
    const full = await runBackup(r.repository, { accountId: r.accountId, sourceId: 'files', items: fileItems(root, names, reads), rehash: () => true });
    expect(reads.sort()).toEqual(names);
    const entry = (await collect(snapshotItems(account, await readSnapshot(account, full.snapshot.id)))).find((item) => item.id === 'one.bin')!;
    expect(entry.contentHash).not.toBe(stale.contentHash);
    expect(full.snapshot.totals.newBytes).toBeGreaterThan(0);
    const restored = dir('restore');
    await restoreSnapshot(account, full.snapshot.id, new DirectoryTarget(restored));
    expect(sha256(readFileSync(join(restored, 'files', 'one.bin')))).toBe(sha256(changed));
  });

  it('rejects an item whose change marker is not a string of at most 1024 characters, and backs up the rest', async () => {
    const r = repo();
    const items = counted([
      { id: 'ok', path: 'ok.json', marker: 'v1', bytes: Buffer.from('{}') },
      { id: 'long', path: 'long.json', marker: 'x'.repeat(1025), bytes: Buffer.from('{}') },
    ]).items;
    (items as { changeMarker?: unknown }[]).push({ id: 'number', path: 'n.json', changeMarker: 7, content: () => [Buffer.from('{}')] } as never);
    const { snapshot, rejected } = await runBackup(r.repository, { accountId: r.accountId, sourceId: 'src', items });
    expect(rejected.map((item) => [item.id, item.reason])).toEqual([
      ['long', 'item long has an invalid change marker (a string of at most 1024 characters)'],
      ['number', 'item number has an invalid change marker (a string of at most 1024 characters)'],
    ]);
    expect(snapshot.totals.items).toBe(1);
  });
});
