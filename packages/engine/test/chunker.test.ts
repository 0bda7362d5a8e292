import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Chunker, chunkStream, createChunkerTransform, DEFAULT_CHUNKING, GEAR } from '../src/chunker.ts';
import { EngineConfigError } from '../src/errors.ts';
import { piecesOf, randomBuffer } from './support.ts';

async function chunksOf(data: Buffer, piece = 64 * 1024): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of chunkStream(Readable.from(piecesOf(data, piece)))) out.push(Buffer.from(chunk));
  return out;
}

const digest = (chunk: Uint8Array) => createHash('sha256').update(chunk).digest('hex');

describe('content-defined chunker', () => {
  it('uses a gear table fixed by its seed, so chunk boundaries never change between releases', () => {
    const fingerprint = createHash('sha256').update(Buffer.from(GEAR.buffer, GEAR.byteOffset, GEAR.byteLength)).digest('hex');
    expect(new Set(GEAR).size).toBe(256);
    expect(fingerprint).toBe('6d04ebd61c4158753a891963b790bfcb7b29f8d8fb5e82ea8840e9efa49a09d8');
    // Pinned boundaries of a fixed input: a changed table or algorithm fails here.
    const sizes = new Chunker().push(randomBuffer('pinned', 4 << 20)).map((c) => c.length);
    expect(sizes.slice(0, 6)).toEqual([307869, 363053, 267151, 351351, 291910, 275589]);
  });

  it('cuts chunks between the minimum and maximum size that concatenate back to the input', async () => {
    const data = randomBuffer('bounds', 32 * 1024 * 1024);
    const chunks = await chunksOf(data);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    for (const chunk of chunks.slice(0, -1)) {
      expect(chunk.length).toBeGreaterThanOrEqual(DEFAULT_CHUNKING.minSize);
      expect(chunk.length).toBeLessThanOrEqual(DEFAULT_CHUNKING.maxSize);
    }
    const average = data.length / chunks.length;
    expect(average).toBeGreaterThan(DEFAULT_CHUNKING.avgSize * 0.75);
    expect(average).toBeLessThan(DEFAULT_CHUNKING.avgSize * 1.5);
  });

  it('finds the same boundaries however the stream is split into pieces', async () => {
    const data = randomBuffer('splits', 6 * 1024 * 1024);
    const reference = (await chunksOf(data, 1 << 20)).map(digest);
    for (const piece of [1000, 4096, 100_003, 3 * 1024 * 1024]) {
      expect((await chunksOf(data, piece)).map(digest)).toEqual(reference);
    }
    const small = data.subarray(0, 1536 * 1024);
    expect((await chunksOf(small, 7)).map(digest)).toEqual((await chunksOf(small, 1 << 20)).map(digest));
  });

  it('keeps an item smaller than the minimum chunk as one chunk, and yields nothing for an empty one', async () => {
    const small = randomBuffer('small', DEFAULT_CHUNKING.minSize - 1);
    const chunks = await chunksOf(small);
    expect(chunks).toHaveLength(1);
    expect(chunks[0].equals(small)).toBe(true);
    expect(await chunksOf(Buffer.alloc(0))).toHaveLength(0);
  });

  it('cuts runs of identical bytes at the maximum size', async () => {
    const zeros = Buffer.alloc(DEFAULT_CHUNKING.maxSize * 3 + 5);
    const chunks = await chunksOf(zeros);
    const max = DEFAULT_CHUNKING.maxSize;
    expect(chunks.map((c) => c.length)).toEqual([max, max, max, 5]);
  });

  it('changes only the chunks around an insertion near the start of a large item', async () => {
    const original = randomBuffer('edit', 32 * 1024 * 1024);
    const edited = Buffer.concat([original.subarray(0, 5000), Buffer.from('inserted bytes'), original.subarray(5000)]);
    const before = (await chunksOf(original)).map(digest);
    const after = (await chunksOf(edited)).map(digest);
    const known = new Set(before);
    const changed = after.filter((h) => !known.has(h));
    expect(changed.length).toBeGreaterThanOrEqual(1);
    expect(changed.length).toBeLessThanOrEqual(2);
    // Everything after the edited region is shared chunk for chunk.
    expect(after.slice(changed.length)).toEqual(before.slice(before.length - (after.length - changed.length)));
  });

  it('changes only the chunks around an edit in the middle', async () => {
    const original = randomBuffer('middle', 32 * 1024 * 1024);
    const edited = Buffer.from(original);
    edited.write('a change in the middle', 16 * 1024 * 1024);
    const before = new Set((await chunksOf(original)).map(digest));
    const after = (await chunksOf(edited)).map(digest);
    expect(after.filter((h) => !before.has(h)).length).toBeLessThanOrEqual(2);
  });

  it('works as a Transform stream with the same boundaries', async () => {
    const data = randomBuffer('transform', 6 * 1024 * 1024);
    const viaTransform: string[] = [];
    const transform = Readable.from(piecesOf(data, 10_000)).pipe(createChunkerTransform());
    for await (const chunk of transform) viaTransform.push(digest(chunk));
    expect(viaTransform).toEqual((await chunksOf(data)).map(digest));
  });

  it('rejects impossible parameters', () => {
    expect(() => new Chunker({ minSize: 64, avgSize: 32, maxSize: 128 })).toThrow(EngineConfigError);
    expect(() => new Chunker({ minSize: 1024, avgSize: 3000, maxSize: 8192 })).toThrow(/power of two/);
  });
});
