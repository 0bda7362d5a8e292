/**
 * Content-defined chunking in the FastCDC style: a gear rolling hash, no hashing before the minimum
 * size, normalized chunking (a stricter mask before the average size, a looser one after it) and
 * a hard cut at the maximum size. Boundaries depend only on the bytes of the current chunk, so an
 * edit moves the boundaries next to it and the chunker falls back in step within a chunk or two.
 *
 * The parameters and the gear table are part of the repository format: changing either changes
 * every boundary, and with it every chunk address, which costs a full re-upload (never
 * correctness). Repositories record the parameters they were created with.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { EngineConfigError } from './errors.ts';

export interface ChunkingParams {
  minSize: number;
  avgSize: number;
  maxSize: number;
}

const KiB = 1024;

/**
 * Records (under the minimum) are one chunk each; files and record collections split into pieces
 * of about 256 KiB. Smaller chunks deduplicate scattered edits a little better, but every chunk
 * is a stored object: at 64 KiB a GiB is 16k objects, whose PUT requests on S3 cost more than a
 * month of storing the GiB, and whose creation on a local disk took more CPU than compressing and
 * encrypting their bytes (see docs/benchmarks.md). restic and borg cut even larger (1-2 MiB).
 * The minimum is half the average, as in restic: the chunker skips those bytes unhashed, and no
 * chunk is small enough to cost more than its bytes.
 */
export const DEFAULT_CHUNKING: Readonly<ChunkingParams> = Object.freeze({ minSize: 128 * KiB, avgSize: 256 * KiB, maxSize: 1024 * KiB });

export const GEAR_SEED = 0x4c424b31; // "LBK1"

/** splitmix32 from a fixed seed: the same 256 gear values on every machine and every release. */
function makeGear(seed: number): Int32Array {
  const table = new Int32Array(256);
  let state = seed >>> 0;
  for (let i = 0; i < 256; i++) {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    table[i] = z ^ (z >>> 16);
  }
  return table;
}

export const GEAR: Readonly<Int32Array> = makeGear(GEAR_SEED);

/** The top `bits` bits of a 32-bit word: with the gear hash shifting left, the high bits carry the longest window. */
function topMask(bits: number): number {
  return bits <= 0 ? 0 : (0xffffffff << (32 - bits)) | 0;
}

export function validateChunkingParams(params: ChunkingParams): void {
  const { minSize, avgSize, maxSize } = params;
  for (const [name, value] of Object.entries(params)) {
    if (!Number.isInteger(value) || value <= 0) throw new EngineConfigError(`chunking ${name} must be a positive integer`);
  }
  if (!(minSize < avgSize && avgSize < maxSize)) throw new EngineConfigError('chunking sizes must satisfy minSize < avgSize < maxSize');
  if ((avgSize & (avgSize - 1)) !== 0) throw new EngineConfigError('chunking avgSize must be a power of two');
  if (avgSize < 256 || avgSize > 2 ** 26) throw new EngineConfigError('chunking avgSize must be between 256 B and 64 MiB');
}

/**
 * Incremental chunker: feed it buffers with push(), take the completed chunks it returns, and call
 * finish() at the end of the item. It holds at most one incomplete chunk (< maxSize bytes).
 *
 * Returned chunks are views into the pushed buffers whenever a chunk lies inside one buffer, so a
 * caller must not reuse a buffer after pushing it (Node streams never do).
 */
export class Chunker {
  private readonly min: number;
  private readonly normal: number;
  private readonly max: number;
  private readonly maskS: number;
  private readonly maskL: number;
  private pieces: Uint8Array[] = [];
  private len = 0;
  private h = 0;

  constructor(params: ChunkingParams = DEFAULT_CHUNKING) {
    validateChunkingParams(params);
    this.min = params.minSize;
    this.normal = params.avgSize;
    this.max = params.maxSize;
    const bits = Math.log2(params.avgSize);
    this.maskS = topMask(bits + 2);
    this.maskL = topMask(bits - 2);
  }

  push(data: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let off = 0;
    const n = data.length;
    while (off < n) {
      const cut = this.scan(data, off);
      if (cut < 0) {
        this.pieces.push(off === 0 ? data : data.subarray(off));
        break;
      }
      out.push(this.take(data, off, cut));
      off = cut;
    }
    return out;
  }

  /** The rest of the item as its last chunk, or null when the item ended on a boundary (or was empty). */
  finish(): Uint8Array | null {
    if (this.len === 0) return null;
    const last = this.pieces.length === 1 ? this.pieces[0] : Buffer.concat(this.pieces, this.len);
    if (last !== this.pieces[0]) copies.add(last);
    this.pieces = [];
    this.len = 0;
    this.h = 0;
    return last;
  }

  /** Index in `data` just past the next boundary, or -1 when the chunk goes on past `data`. */
  private scan(data: Uint8Array, off: number): number {
    const n = data.length;
    const base = this.len - off; // chunk offset of data[i] is base + i
    const idxMax = this.max - base;
    const G = GEAR;
    let h = this.h;
    let i = this.min - base;
    if (i < off) i = off;
    if (i >= n) {
      this.len += n - off;
      return -1;
    }
    const maskS = this.maskS;
    let end = this.normal - base;
    if (end > n) end = n;
    for (; i < end; i++) {
      h = ((h << 1) + G[data[i]]) | 0;
      if ((h & maskS) === 0) return this.cut(i + 1);
    }
    const maskL = this.maskL;
    end = Math.min(idxMax, n);
    for (; i < end; i++) {
      h = ((h << 1) + G[data[i]]) | 0;
      if ((h & maskL) === 0) return this.cut(i + 1);
    }
    if (i === idxMax) return this.cut(idxMax);
    this.h = h;
    this.len += n - off;
    return -1;
  }

  private cut(index: number): number {
    this.h = 0;
    return index;
  }

  private take(data: Uint8Array, off: number, cut: number): Uint8Array {
    const tail = data.subarray(off, cut);
    if (this.pieces.length === 0) {
      this.len = 0;
      return tail;
    }
    this.pieces.push(tail);
    const chunk = Buffer.concat(this.pieces, this.len + tail.length);
    copies.add(chunk);
    this.pieces = [];
    this.len = 0;
    return chunk;
  }
}

/** Chunks the chunker copied together from several pieces; the others are views of the caller's bytes. */
const copies = new WeakSet<Uint8Array>();

/** Whether `chunk` is the chunker's own copy (nothing else references it), not a view of the bytes it was given. */
export function isChunkCopy(chunk: Uint8Array): boolean {
  return copies.has(chunk);
}

/** Chunks of a byte stream, in order; memory stays under one maximum-size chunk plus the source's own buffers. */
export async function* chunkStream(source: AsyncIterable<Uint8Array>, params: ChunkingParams = DEFAULT_CHUNKING): AsyncGenerator<Uint8Array> {
  const chunker = new Chunker(params);
  for await (const data of source) {
    if (data.length === 0) continue;
    for (const chunk of chunker.push(data)) yield chunk;
  }
  const last = chunker.finish();
  if (last) yield last;
}

/** The same chunker as a Transform: bytes in, one chunk per object out. */
export function createChunkerTransform(params: ChunkingParams = DEFAULT_CHUNKING): Transform {
  const chunker = new Chunker(params);
  return new Transform({
    readableObjectMode: true,
    transform(data: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      for (const chunk of chunker.push(data)) this.push(chunk);
      callback();
    },
    flush(callback: TransformCallback) {
      const last = chunker.finish();
      if (last) this.push(last);
      callback();
    },
  });
}
