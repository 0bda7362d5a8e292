/**
 * The one reader of restore, export and verify: reads planned by pack and offset, bounded read-ahead.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StaticKeyProvider } from '../src/keys.ts';
import { runBackup, type SourceItem } from '../src/pipeline.ts';
import { ChunkReader } from '../src/reader.ts';
import { Repository } from '../src/repository.ts';
import { DirectoryTarget, restoreSnapshot } from '../src/restore.ts';
import { readSnapshot, snapshotItems } from '../src/snapshot.ts';
import { LocalDirectoryStore } from '../src/store.ts';
import { ByteBudget } from '../src/streams.ts';
import { verify } from '../src/verify.ts';
import { collect, jsonRecords, newAccountId, randomBuffer, sha256, tempDir } from './support.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A store that records every ranged read. */
class RecordingStore extends LocalDirectoryStore {
  readonly ranges: { key: string; offset: number; length: number }[] = [];
  override async getRange(key: string, offset: number, length: number): Promise<Buffer> {
    this.ranges.push({ key, offset, length });
    return super.getRange(key, offset, length);
  }
}

function dir(name: string): string {
  const made = tempDir(name);
  cleanups.push(made.cleanup);
  return made.dir;
}

async function backedUp(items: SourceItem[]) {
  const store = new RecordingStore(dir('store'), { durable: false });
  const accountId = newAccountId();
  // Small packs, several items at once: the chunks of different items interleave in the packs.
  const repository = new Repository({ store, keys: new StaticKeyProvider({ [accountId]: randomBuffer(accountId, 32) }), packSize: 1024 * 1024 });
  cleanups.push(() => repository.close());
  const { snapshot } = await runBackup(repository, { accountId, sourceId: 'src', items, itemConcurrency: 4 });
  const account = await repository.account(accountId);
  store.ranges.length = 0;
  return { store, account, snapshot };
}

const data = [
  ...Array.from({ length: 12 }, (_, i) => ({ id: `file-${i}`, path: `files/${i}.bin`, bytes: randomBuffer(`file ${i}`, 200_000 + i * 50_000) })),
  ...Array.from({ length: 4 }, (_, i) => ({ id: `json-${i}`, path: `records/${i}.ndjson`, bytes: jsonRecords(`json ${i}`, 3000) })),
  ...Array.from({ length: 30 }, (_, i) => ({ id: `rec-${i}`, path: `records/one-${i}.json`, bytes: Buffer.from(JSON.stringify({ id: i, name: `record ${i}` })) })),
];
const sourceItems = (): SourceItem[] => data.map(({ id, path, bytes }) => ({ id, path, content: () => [bytes.subarray(0, bytes.length >> 1), bytes.subarray(bytes.length >> 1)] }));

/** Per pack, the ranges read must not overlap and must come in offset order: each stretch read once, front to back. */
function expectEachPackReadOnceInOrder(ranges: RecordingStore['ranges']): void {
  const byPack = new Map<string, { offset: number; length: number }[]>();
  for (const range of ranges) byPack.set(range.key, [...(byPack.get(range.key) ?? []), range]);
  expect(byPack.size).toBeGreaterThan(1);
  for (const list of byPack.values()) {
    for (let i = 1; i < list.length; i++) expect(list[i].offset).toBeGreaterThanOrEqual(list[i - 1].offset + list[i - 1].length);
  }
}

describe('reads planned by pack', () => {
  it('restores byte for byte, reading each pack once in offset order (the read-ahead spans the snapshot), in far fewer reads than chunks', async () => {
    const { store, account, snapshot } = await backedUp(sourceItems());
    const target = dir('restore');
    const result = await restoreSnapshot(account, snapshot.id, new DirectoryTarget(target), { concurrency: 4, readAheadBytes: 32 * 1024 * 1024 });
    expect(result.itemsRestored).toBe(data.length);
    for (const item of data) expect(sha256(readFileSync(join(target, ...item.path.split('/'))))).toBe(sha256(item.bytes));
    expectEachPackReadOnceInOrder(store.ranges);
    const read = store.ranges.reduce((sum, range) => sum + range.length, 0);
    const packs = await account.listPacks();
    expect(read).toBe(packs.reduce((sum, pack) => sum + pack.bytes, 0));
    expect(store.ranges.length).toBeLessThan(snapshot.totals.chunks / 3);
  });

  it('verifies every chunk reading each pack once, front to back', async () => {
    const { store, account } = await backedUp(sourceItems());
    const report = await verify(account);
    expect(report.ok).toBe(true);
    expect(report.checkedChunks).toBe(report.referencedChunks);
    expectEachPackReadOnceInOrder(store.ranges);
  });

  it('keeps items whole and in order with a read-ahead far smaller than one item, several items written at once', async () => {
    const { account, snapshot } = await backedUp(sourceItems());
    const target = dir('restore');
    await restoreSnapshot(account, snapshot.id, new DirectoryTarget(target), { concurrency: 3, readAheadBytes: 64 * 1024 });
    for (const item of data) expect(sha256(readFileSync(join(target, ...item.path.split('/'))))).toBe(sha256(item.bytes));
  });

  it('gives its room back when the consumer stops early, and reads again afterwards', async () => {
    const { account, snapshot } = await backedUp(sourceItems());
    const reader = new ChunkReader(account, { readAheadBytes: 256 * 1024 });
    const header = await readSnapshot(account, snapshot.id);
    for await (const { chunks } of reader.items(snapshotItems(account, header))) {
      for await (const _ of chunks) break;
      break;
    }
    let items = 0;
    for await (const { item, chunks } of reader.items(snapshotItems(account, header))) {
      const bytes = Buffer.concat(await collect(chunks));
      expect(sha256(bytes)).toBe(sha256(data.find((d) => d.id === item.id)!.bytes));
      items++;
    }
    expect(items).toBe(data.length);
  });
});

describe('in-flight budget', () => {
  it('counts the buffer a view keeps alive, once for all its views, and makes others wait for room', async () => {
    const budget = new ByteBudget(1000);
    const shared = new Uint8Array(800);
    const releaseA = await budget.hold(shared.subarray(0, 100));
    const releaseB = await budget.hold(shared.subarray(100, 200));
    let other = false;
    const waiting = budget.hold(new Uint8Array(300)).then((release) => {
      other = true;
      return release;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(other).toBe(false); // 800 held + 300 > 1000
    releaseA();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(other).toBe(false); // the 800 bytes are still kept alive by the second view
    releaseB();
    (await waiting)();
    expect(other).toBe(true);
  });
});

describe('buffers freed once used', () => {
  const big = randomBuffer('big', 3 * 1024 * 1024);
  const records = jsonRecords('freed', 20_000);
  const items = (): SourceItem[] => [
    // One piece: each chunk is a view of the caller's buffer.
    { id: 'whole', path: 'whole.bin', content: () => [big] },
    // Small pieces: each chunk is the chunker's copy, freed once stored.
    { id: 'pieces', path: 'pieces.bin', content: () => Array.from({ length: big.length / 16384 }, (_, i) => big.subarray(i * 16384, (i + 1) * 16384)) },
    { id: 'records', path: 'records.ndjson', content: () => [records] },
  ];
  const expected = new Map([
    ['whole', sha256(big)],
    ['pieces', sha256(big)],
    ['records', sha256(records)],
  ]);

  it('leaves the bytes given to a backup as they were, whether its chunks were views of them or copies', async () => {
    const before = [sha256(big), sha256(records)];
    const { account, snapshot } = await backedUp(items());
    expect([big.length, records.length]).toEqual([3 * 1024 * 1024, records.length]);
    expect([sha256(big), sha256(records)]).toEqual(before);
    const target = dir('restore');
    await restoreSnapshot(account, snapshot.id, new DirectoryTarget(target));
    for (const [id, path] of [['whole', 'whole.bin'], ['pieces', 'pieces.bin'], ['records', 'records.ndjson']]) {
      expect(sha256(readFileSync(join(target, path)))).toBe(expected.get(id));
    }
  });

  it('lets a restore target other than a directory keep every chunk it was given', async () => {
    const { account, snapshot } = await backedUp(items());
    const kept = new Map<string, Buffer[]>();
    await restoreSnapshot(account, snapshot.id, {
      async write(item, content) {
        const pieces: Buffer[] = [];
        for await (const piece of content) pieces.push(piece as Buffer);
        kept.set(item.id, pieces);
      },
    });
    expect(kept.size).toBe(3);
    for (const [id, pieces] of kept) expect(sha256(Buffer.concat(pieces))).toBe(expected.get(id));
  });

  it('frees a chunk once its consumer asks for the next when told to, and otherwise leaves it to the consumer', async () => {
    const { account, snapshot } = await backedUp(items());
    const header = await readSnapshot(account, snapshot.id);
    const consume = async (freeConsumed: boolean) => {
      const reader = new ChunkReader(account, { freeConsumed });
      const lengths: number[][] = [];
      for await (const { chunks } of reader.items(snapshotItems(account, header))) {
        const pieces: Buffer[] = [];
        for await (const piece of chunks) pieces.push(piece);
        lengths.push(pieces.map((piece) => piece.length));
      }
      return lengths.flat();
    };
    const kept = await consume(false);
    expect(kept.reduce((sum, n) => sum + n, 0)).toBe(2 * big.length + records.length);
    // Freed: every chunk of a MiB or so is empty once the consumer went on (small ones are left to the collector).
    const freed = await consume(true);
    expect(freed.filter((n) => n > 0).every((n) => n < 64 * 1024)).toBe(true);
    expect(freed.filter((n) => n === 0).length).toBeGreaterThan(kept.length / 2);
  });
});
