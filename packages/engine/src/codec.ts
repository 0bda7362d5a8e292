/**
 * Chunk encoding: zstd, then AES-256-GCM. Compression is skipped for chunks whose sample does not
 * shrink (media, archives, already-compressed exports): zstd would spend most of the pipeline's
 * time to save nothing. Compressing a chunk of some size runs on libuv's thread pool, so a backup
 * uses every core while the calling thread chunks and hashes the next bytes.
 */
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { constants as zc, zstdCompress, zstdCompressSync } from 'node:zlib';
import type { Sealer } from './crypto.ts';
import { ByteBudget, freeBuffer } from './streams.ts';

export const FLAG_ZSTD = 1;

const SAMPLE = 4096;
/** A chunk is compressed when its sample carries at most this many bits a byte (of 8). */
const MAX_ENTROPY_BITS = 7.5;
/** Chunks under this are compressed on the calling thread: a trip to the thread pool costs more. */
const INLINE_LIMIT = 16 * 1024;

const zstdCompressAsync = promisify(zstdCompress);

/**
 * Chunks compressed or decoded on libuv's thread pool at once, across the process: one per core
 * keeps every core busy; more only hold more buffers and zstd contexts (a larger peak RSS).
 * Acquire and release one slot each.
 */
export const poolSlots = new ByteBudget(Math.max(2, availableParallelism()));

/** A sealed chunk as the pieces it is written from (header and IV, ciphertext, tag): never copied into one buffer. */
export type SealedParts = readonly Uint8Array[];

export function sealedLength(parts: SealedParts): number {
  let length = 0;
  for (const part of parts) length += part.length;
  return length;
}

function zstdOptions(data: Uint8Array, level: number): Parameters<typeof zstdCompressSync>[1] {
  return {
    pledgedSrcSize: data.length,
    // One output buffer for most chunks (records compress to a fifth or less): the default 16 KiB
    // makes zstd loop and copy, and a buffer as large as the input is mostly waste.
    chunkSize: Math.max(16 * 1024, data.length >> 1),
    params: { [zc.ZSTD_c_compressionLevel]: level },
  } as Parameters<typeof zstdCompressSync>[1];
}

/**
 * Whether compressing `plaintext` is worth it, judged on a sample from its middle: its bytes'
 * order-0 entropy (random, encrypted and already-compressed data is close to 8 bits a byte).
 * Cheaper than compressing the sample: zstd would set up a context for every chunk.
 */
export function looksCompressible(plaintext: Uint8Array): boolean {
  if (plaintext.length <= SAMPLE * 2) return true;
  const start = (plaintext.length >> 1) - (SAMPLE >> 1);
  const counts = new Uint16Array(256);
  for (let i = start; i < start + SAMPLE; i++) counts[plaintext[i]]++;
  let bits = 0;
  for (let i = 0; i < 256; i++) {
    const c = counts[i];
    if (c > 0) bits -= c * Math.log2(c / SAMPLE);
  }
  return bits / SAMPLE <= MAX_ENTROPY_BITS;
}

export async function encodeChunk(sealer: Sealer, address: string, plaintext: Uint8Array, level: number): Promise<SealedParts> {
  if (looksCompressible(plaintext)) {
    const options = zstdOptions(plaintext, level);
    const compressed = plaintext.length < INLINE_LIMIT ? zstdCompressSync(plaintext, options) : await compressOnPool(plaintext, options);
    try {
      if (compressed.length < plaintext.length) return sealer.sealChunkParts(address, compressed, FLAG_ZSTD);
    } finally {
      freeBuffer(compressed); // sealing copied it
    }
  }
  return sealer.sealChunkParts(address, plaintext, 0);
}

async function compressOnPool(plaintext: Uint8Array, options: Parameters<typeof zstdCompressSync>[1]): Promise<Buffer> {
  await poolSlots.acquire(1);
  try {
    return await zstdCompressAsync(plaintext, options);
  } finally {
    poolSlots.release(1);
  }
}
