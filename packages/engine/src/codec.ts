/**
 * Chunk encoding: zstd, then AES-256-GCM. Compression is skipped for chunks whose sample does not
 * shrink (media, archives, already-compressed exports): zstd would spend most of the pipeline's
 * time to save nothing. The same function runs inline and in the sealing workers.
 */
import { constants as zc, zstdCompressSync } from 'node:zlib';
import type { Sealer } from './crypto.ts';

export const FLAG_ZSTD = 1;

const SAMPLE = 4096;
/** A chunk is compressed when its sample shrinks to at most this share. */
const SAMPLE_RATIO = 0.97;

function zstd(data: Uint8Array, level: number): Buffer {
  return zstdCompressSync(data, {
    pledgedSrcSize: data.length,
    // One output buffer for most chunks (records compress to a fifth or less): the default 16 KiB
    // makes zstd loop and copy, and a buffer as large as the input is mostly waste.
    chunkSize: Math.max(16 * 1024, data.length >> 1),
    params: { [zc.ZSTD_c_compressionLevel]: level },
  } as Parameters<typeof zstdCompressSync>[1]);
}

/** Whether compressing `plaintext` is worth it, judged on a sample from its middle. */
export function looksCompressible(plaintext: Uint8Array, level: number): boolean {
  if (plaintext.length <= SAMPLE * 2) return true;
  const start = (plaintext.length >> 1) - (SAMPLE >> 1);
  const sample = plaintext.subarray(start, start + SAMPLE);
  return zstd(sample, level).length <= sample.length * SAMPLE_RATIO;
}

export function encodeChunk(sealer: Sealer, address: string, plaintext: Uint8Array, level: number): Buffer {
  if (looksCompressible(plaintext, level)) {
    const compressed = zstd(plaintext, level);
    if (compressed.length < plaintext.length) return sealer.sealChunk(address, compressed, FLAG_ZSTD);
  }
  return sealer.sealChunk(address, plaintext, 0);
}
