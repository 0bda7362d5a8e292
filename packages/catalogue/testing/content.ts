/**
 * Deterministic pseudo-random file contents of any size, readable from any offset without
 * holding the file: the AES-256-CTR keystream of a seed. Fake servers stream it; tests hash it.
 */
import { createCipheriv, createHash } from 'node:crypto';

const BLOCK = 64 * 1024;

export function* generatedBytes(seed: string, start: number, end: number): Generator<Buffer, void, undefined> {
  const key = createHash('sha256').update(seed).digest();
  const firstBlock = Math.floor(start / 16);
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64BE(BigInt(firstBlock), 8);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  let skip = start - firstBlock * 16;
  let left = end - start;
  while (left > 0) {
    const take = Math.min(BLOCK, left + skip);
    const out = cipher.update(Buffer.alloc(take));
    const piece = out.subarray(skip, Math.min(out.length, skip + left));
    skip = 0;
    left -= piece.length;
    yield piece;
  }
}

export function generatedSha256(seed: string, size: number): string {
  const hash = createHash('sha256');
  for (const piece of generatedBytes(seed, 0, size)) hash.update(piece);
  return hash.digest('hex');
}
