/**
 * The files both backup tools are measured on, generated deterministically: half NDJSON record
 * collections of 16 MiB (Stripe-style customers), half random binary files of 1–24 MiB (AES-CTR
 * keystream), and 3,000 small JSON records. `changeFiles` then changes about 1% of the bytes the
 * way a day at a SaaS platform does: records rewritten in place and appended in some collections,
 * a region of one binary file rewritten, a new binary file, small records rewritten and added.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { closeSync, createReadStream, mkdirSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { join, relative } from 'node:path';

const MiB = 1024 * 1024;
const PIECE = 1024 * 1024;

/** xorshift32: fast deterministic numbers for record fields. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Margaret', 'Linus', 'Radia', 'Tim'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Hamilton', 'Torvalds', 'Perlman', 'Berners-Lee'];
const PLANS = ['free', 'starter', 'pro', 'business', 'enterprise'];
const CURRENCIES = ['usd', 'eur', 'gbp', 'jpy', 'chf'];
const STATUSES = ['active', 'past_due', 'canceled', 'trialing', 'incomplete'];

/** One SaaS-like JSON record (a Stripe-style customer with a subscription). */
function record(next: () => number, n: number): string {
  const a = next();
  const b = next();
  const c = next();
  const first = FIRST[a % FIRST.length];
  const last = LAST[b % LAST.length];
  return `{"id":"cus_${a.toString(36)}${b.toString(36)}","object":"customer","created":${1_600_000_000 + (c % 100_000_000)},"email":"${first.toLowerCase()}.${last.toLowerCase()}${c % 10_000}@example.com","name":"${first} ${last}","balance":${(a % 2_000_000) - 1_000_000},"currency":"${CURRENCIES[c % 5]}","delinquent":${(b & 7) === 0},"metadata":{"plan":"${PLANS[a % 5]}","seats":${b % 500},"account_manager":"${FIRST[c % 12]}"},"subscription":{"id":"sub_${c.toString(36)}${n}","status":"${STATUSES[b % 5]}","current_period_end":${1_700_000_000 + (a % 10_000_000)},"items":[{"price":"price_${(a ^ c).toString(36)}","quantity":${(c % 20) + 1}}]}}\n`;
}

/**
 * Record templates with their digit runs located: a record is a template copied with its digits
 * overwritten from the PRNG, so generating costs little while every record differs.
 */
const TEMPLATES = (() => {
  const next = prng(7);
  return Array.from({ length: 256 }, (_, i) => {
    const bytes = Buffer.from(record(next, i), 'latin1');
    const digits: number[] = [];
    for (let j = 0; j < bytes.length; j++) if (bytes[j] >= 0x30 && bytes[j] <= 0x39) digits.push(j);
    return { bytes, digits: Int32Array.from(digits) };
  });
})();

/** `size` bytes of JSON lines. */
function jsonLines(seed: number, size: number): Buffer {
  const next = prng(seed);
  const buf = Buffer.allocUnsafe(size);
  let offset = 0;
  while (offset < size) {
    const { bytes, digits } = TEMPLATES[next() & 255];
    if (offset + bytes.length > size) {
      buf.set(bytes.subarray(0, size - offset), offset);
      break;
    }
    buf.set(bytes, offset);
    let r = next();
    for (let k = 0; k < digits.length; k++) {
      buf[offset + digits[k]] = 0x30 + (r & 7) + ((r >>> 3) & 1) * 2;
      r >>>= 4;
      if (r < 16) r = next();
    }
    offset += bytes.length;
  }
  return buf;
}

/** `size` pseudo-random bytes (AES-256-CTR keystream of the seed). */
function randomBytesOf(seed: string, size: number): Buffer {
  return createCipheriv('aes-256-ctr', createHash('sha256').update(`bench ${seed}`).digest(), Buffer.alloc(16)).update(Buffer.alloc(size));
}

function writeFile(path: string, pieces: Iterable<Buffer>): number {
  const fd = openSync(path, 'w');
  let size = 0;
  try {
    for (const piece of pieces) size += writeSync(fd, piece);
  } finally {
    closeSync(fd);
  }
  return size;
}

function* inPieces(size: number, make: (offset: number, length: number) => Buffer): Generator<Buffer> {
  for (let offset = 0; offset < size; offset += PIECE) yield make(offset, Math.min(PIECE, size - offset));
}

/** Overwrites `data.length` bytes at `offset` of an existing file (its size stays). */
function overwrite(path: string, offset: number, data: Buffer): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, data, 0, data.length, offset);
  } finally {
    closeSync(fd);
  }
}

function append(path: string, data: Buffer): void {
  const fd = openSync(path, 'a');
  try {
    writeSync(fd, data);
  } finally {
    closeSync(fd);
  }
}

export const SMALL_RECORDS = 3000;
const COLLECTION = 16 * MiB;

export interface Dataset {
  bytes: number;
  files: number;
}

/** Writes the data set under `root` (about `total` bytes). */
export function generateFiles(root: string, total: number): Dataset {
  const collections = join(root, 'stripe', 'customers');
  const records = join(root, 'stripe', 'records');
  const files = join(root, 'drive', 'files');
  for (const dir of [collections, records, files]) mkdirSync(dir, { recursive: true });
  let bytes = 0;
  let count = 0;
  const recordBytes = (n: number) => Buffer.from(record(prng(100_000 + n), n), 'latin1');
  for (let n = 0; n < SMALL_RECORDS; n++) {
    bytes += writeFile(join(records, `cus-${String(n).padStart(4, '0')}.json`), [recordBytes(n)]);
    count++;
  }
  const half = (total - bytes) / 2;
  for (let n = 0; n * COLLECTION < half; n++) {
    const size = Math.min(COLLECTION, Math.round(half - n * COLLECTION));
    bytes += writeFile(join(collections, `part-${String(n).padStart(3, '0')}.ndjson`), inPieces(size, (offset, length) => jsonLines(n * 1000 + offset / PIECE + 1, length)));
    count++;
  }
  const sizes = prng(42);
  let binary = 0;
  for (let n = 0; binary < half; n++) {
    const size = Math.min(MiB + (sizes() % (23 * MiB)), Math.round(half - binary));
    binary += writeFile(join(files, `${String(n).padStart(3, '0')}.bin`), inPieces(size, (offset, length) => randomBytesOf(`${n}/${offset}`, length)));
    count++;
  }
  return { bytes: bytes + binary, files: count };
}

/**
 * About 1% of the bytes change: 16 collections get 128 KiB of records rewritten in place and
 * 384 KiB appended; one binary file gets 1 MiB rewritten in its middle; one new 1 MiB binary file;
 * 30 small records rewritten and 30 added. Returns the bytes written.
 */
export function changeFiles(root: string, round: number): number {
  let changed = 0;
  const collections = join(root, 'stripe', 'customers');
  const parts = readdirSync(collections).sort();
  for (let i = 0; i < 16 && i < parts.length; i++) {
    const path = join(collections, parts[(i * 2) % parts.length]);
    const size = statSync(path).size;
    const edit = jsonLines(900_000 + round * 100 + i, 128 * 1024);
    overwrite(path, Math.floor(size / 2), edit);
    const more = jsonLines(950_000 + round * 100 + i, 384 * 1024);
    append(path, more);
    changed += edit.length + more.length;
  }
  const files = join(root, 'drive', 'files');
  const bins = readdirSync(files).sort();
  const edited = join(files, bins[bins.length >> 1]);
  const middle = Math.floor(statSync(edited).size / 2);
  const region = randomBytesOf(`edit ${round}`, MiB);
  overwrite(edited, middle, region);
  changed += region.length;
  changed += writeFile(join(files, `new-${round}.bin`), [randomBytesOf(`new ${round}`, MiB)]);
  const records = join(root, 'stripe', 'records');
  for (let n = 0; n < 30; n++) {
    const rewritten = Buffer.from(record(prng(200_000 + round * 1000 + n), n), 'latin1');
    changed += writeFile(join(records, `cus-${String(n * 97).padStart(4, '0')}.json`), [rewritten]);
    const added = Buffer.from(record(prng(300_000 + round * 1000 + n), n), 'latin1');
    changed += writeFile(join(records, `new-${round}-${n}.json`), [added]);
  }
  return changed;
}

/** Every regular file under `root`, relative paths in sorted order. */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) out.push(relative(root, path));
    }
  };
  walk(root);
  return out;
}

/** SHA-256 over every file's relative path, size and content, in path order: equal trees, equal digests. */
export async function treeDigest(root: string): Promise<{ digest: string; files: number; bytes: number }> {
  const tree = createHash('sha256');
  let bytes = 0;
  const paths = listFiles(root);
  for (const path of paths) {
    const file = createHash('sha256');
    let size = 0;
    for await (const piece of createReadStream(join(root, path), { highWaterMark: PIECE })) {
      file.update(piece as Buffer);
      size += (piece as Buffer).length;
    }
    bytes += size;
    tree.update(`${path}\0${size}\0${file.digest('hex')}\n`);
  }
  return { digest: tree.digest('hex'), files: paths.length, bytes };
}

/** Bytes of every file under `root` (a repository's size on disk, as its files count it). */
export function treeBytes(root: string): number {
  let bytes = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) bytes += statSync(path).size;
    }
  };
  walk(root);
  return bytes;
}
