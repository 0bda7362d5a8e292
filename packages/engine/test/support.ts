import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chunker } from '../src/chunker.ts';
import { ContentHash } from '../src/crypto.ts';
import { StaticKeyProvider } from '../src/keys.ts';
import { Repository, type RepositoryOptions } from '../src/repository.ts';
import { LocalDirectoryStore } from '../src/store.ts';

/** Deterministic pseudo-random bytes (AES-256-CTR keystream of a seed), streamed in pieces. */
export async function* randomStream(seed: string, size: number, piece = 1 << 20): AsyncGenerator<Buffer> {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(piece);
  for (let left = size; left > 0; left -= piece) {
    yield cipher.update(zeros.subarray(0, Math.min(piece, left)));
  }
}

export function randomBuffer(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(seed).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

/** JSON lines that look like SaaS records (customers with ids, emails, amounts), deterministic by seed. */
export function jsonRecords(seed: string, count: number): Buffer {
  const rand = randomBuffer(`${seed}/records`, count * 8);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = rand.readUInt32BE(i * 8);
    const s = rand.readUInt32BE(i * 8 + 4);
    lines.push(
      JSON.stringify({
        id: `cus_${(r ^ s).toString(36)}${i}`,
        object: 'customer',
        created: 1_700_000_000 + i * 17,
        email: `user${r % 100_000}@example.com`,
        name: `Customer ${s % 10_000}`,
        balance: (r % 1_000_000) - 500_000,
        currency: ['usd', 'eur', 'gbp'][s % 3],
        metadata: { plan: ['free', 'pro', 'enterprise'][r % 3], seats: s % 500 },
      }),
    );
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

export async function sha256Of(stream: AsyncIterable<Uint8Array>): Promise<{ hash: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const piece of stream) {
    hash.update(piece);
    size += piece.length;
  }
  return { hash: hash.digest('hex'), size };
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Pieces of a buffer, as a connector would stream them. */
/** The content hash the repository records for `data` as one item, cut by the default chunker. */
export function contentHashOf(data: Buffer): string {
  const chunker = new Chunker();
  const chunks = chunker.push(data);
  const last = chunker.finish();
  return ContentHash.of(last ? [...chunks, last] : chunks);
}

export function* piecesOf(data: Buffer, piece = 64 * 1024): Generator<Buffer> {
  for (let offset = 0; offset < data.length; offset += piece) yield data.subarray(offset, offset + piece);
}

export interface TestRepo {
  dir: string;
  store: LocalDirectoryStore;
  repository: Repository;
  dataKey: Buffer;
  accountId: string;
  cleanup: () => Promise<void>;
}

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `lb-engine-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function newAccountId(): string {
  return `acct-${randomBytes(6).toString('hex')}`;
}

export function testRepository(options: Partial<RepositoryOptions> = {}): TestRepo {
  const { dir, cleanup } = tempDir('repo');
  const store = new LocalDirectoryStore(dir, { durable: false });
  const accountId = newAccountId();
  const dataKey = randomBytes(32);
  const repository = new Repository({ store, keys: new StaticKeyProvider({ [accountId]: dataKey }), ...options });
  return {
    dir,
    store,
    repository,
    dataKey,
    accountId,
    cleanup: async () => {
      await repository.close();
      cleanup();
    },
  };
}

export async function listKeys(store: LocalDirectoryStore, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of store.list(prefix)) keys.push(info.key);
  return keys;
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}
