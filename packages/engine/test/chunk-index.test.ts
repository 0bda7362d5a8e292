import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ChunkIndex, type PackEntry } from '../src/chunk-index.ts';

const address = (seed: string) => createHash('sha256').update(seed).digest('hex');

/** Packs of `perPack` chunks each, and an index that reads their entries from here (counting reads). */
function indexOf(packCount: number, perPack: number, cacheSize = 4) {
  const packs = new Map<string, PackEntry[]>();
  for (let p = 0; p < packCount; p++) {
    const id = p.toString(16).padStart(32, '0');
    packs.set(
      id,
      Array.from({ length: perPack }, (_, i) => [address(`${p}/${i}`), i * 1000, 1000] as const),
    );
  }
  const reads: string[] = [];
  const index = new ChunkIndex(async (id) => {
    reads.push(id);
    return packs.get(id) ?? null;
  }, cacheSize);
  for (const [id, entries] of packs) index.addPack({ id, createdAt: new Date(0), bytes: perPack * 1000 }, entries);
  return { index, packs, reads };
}

describe('chunk index', () => {
  it('locates every chunk, re-reading the pack indexes that fell out of the cache', async () => {
    const { index, packs, reads } = indexOf(200, 400); // 80,000 chunks: more than one sort of the table
    expect(index.size).toBe(80_000);
    for (const [id, entries] of packs) {
      for (const [addr, offset, length] of entries.filter((_, i) => i % 50 === 0)) expect(await index.locate(addr)).toEqual({ packId: id, offset, length });
    }
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.length).toBeLessThanOrEqual(200);
  });

  it('answers "not stored" for an unknown chunk without reading any pack index, almost always', async () => {
    const { index, reads } = indexOf(100, 500);
    reads.length = 0;
    let found = 0;
    for (let i = 0; i < 5000; i++) if (await index.locate(address(`new ${i}`))) found++;
    expect(found).toBe(0);
    // A 32-bit prefix shared with one of 50,000 stored chunks sends a lookup to a pack now and then.
    expect(reads.length).toBeLessThan(5);
  });

  it('tells apart two addresses that share their prefix, in two packs', async () => {
    const index = new ChunkIndex(async (id) => (id === 'a'.repeat(32) ? [[`deadbeef${'1'.repeat(56)}`, 0, 10]] : [[`deadbeef${'2'.repeat(56)}`, 5, 20]]), 1);
    index.addPack({ id: 'a'.repeat(32), createdAt: new Date(0), bytes: 10 }, [[`deadbeef${'1'.repeat(56)}`, 0, 10]]);
    index.addPack({ id: 'b'.repeat(32), createdAt: new Date(0), bytes: 25 }, [[`deadbeef${'2'.repeat(56)}`, 5, 20]]);
    expect(await index.locate(`deadbeef${'2'.repeat(56)}`)).toEqual({ packId: 'b'.repeat(32), offset: 5, length: 20 });
    expect(await index.locate(`deadbeef${'1'.repeat(56)}`)).toEqual({ packId: 'a'.repeat(32), offset: 0, length: 10 });
    expect(await index.locate(`deadbeef${'3'.repeat(56)}`)).toBeNull();
  });

  it('forgets a deleted pack, and keeps the others through the next sort', async () => {
    const { index, packs } = indexOf(150, 500);
    const [gone, kept] = [...packs.keys()];
    index.removePack(gone);
    expect(index.hasPack(gone)).toBe(false);
    expect(await index.locate(packs.get(gone)![3][0])).toBeNull();
    expect((await index.locate(packs.get(kept)![3][0]))?.packId).toBe(kept);
    expect(index.packs()).toHaveLength(149);
    expect(index.size).toBe(149 * 500);
  });
});
