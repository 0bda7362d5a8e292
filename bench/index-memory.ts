/**
 * Memory of the engine's chunk index for a large repository: `npx node bench/index-memory.ts [--chunks 10000000] [--no-write]`.
 *
 * Registers synthetic packs (random addresses, 128 chunks a pack, as the engine's 16 MiB packs of
 * compressed chunks hold) in a ChunkIndex, the structure every backup, restore and verify of an
 * account keeps in memory, and measures the heap and RSS it takes, then lookups of stored and of
 * new chunks. For comparison, the structure the engine used before (a Map from address to
 * location, with each pack's entries kept) is measured on a tenth of the chunks and scaled.
 * Writes the "## Chunk index memory" section of docs/benchmarks.md.
 */
import { spawnSync } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ChunkIndex, type PackEntry } from '@listbackup/engine/chunk-index';
import { writeSection } from './section.ts';

const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const CHUNKS = Number(option('--chunks') ?? 10_000_000);
const PER_PACK = 128;
const mode = option('--mode');
const MiB = 1024 * 1024;
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const KEY = Buffer.alloc(16, 7);
const ZEROS = Buffer.alloc(32 * PER_PACK);

/** The entries of pack `p`, the same on every call (the index re-reads a pack's entries like this): random addresses. */
function entriesOf(p: number): PackEntry[] {
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(p, 0);
  const bytes = createCipheriv('aes-128-ctr', KEY, iv).update(ZEROS);
  const out: PackEntry[] = [];
  for (let i = 0; i < PER_PACK; i++) out.push([bytes.toString('hex', i * 32, i * 32 + 32), i * 131_072, 131_072]);
  return out;
}
const packId = (p: number) => p.toString(16).padStart(32, '0');

function settle(): { heap: number; rss: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.arrayBuffers, rss: m.rss };
}

async function measureIndex(chunks: number) {
  const packs = Math.ceil(chunks / PER_PACK);
  const before = settle();
  const start = performance.now();
  const index = new ChunkIndex(async (id) => entriesOf(Number.parseInt(id, 16)));
  for (let p = 0; p < packs; p++) index.addPack({ id: packId(p), createdAt: new Date(), bytes: PER_PACK * 131_072 }, entriesOf(p));
  const loadSeconds = (performance.now() - start) / 1000;
  const after = settle();
  // Stored chunks spread over the repository (cache misses), then chunks never stored.
  const hits = 20_000;
  const stored = Array.from({ length: hits }, (_, i) => entriesOf((i * 7919) % packs)[i % PER_PACK][0]);
  let t = performance.now();
  for (const address of stored) if (!(await index.locate(address))) throw new Error('a stored chunk was not found');
  const hitMicros = ((performance.now() - t) * 1000) / hits;
  t = performance.now();
  const misses = 200_000;
  const fresh = Array.from({ length: misses }, () => randomBytes(32).toString('hex'));
  t = performance.now();
  for (const address of fresh) if (await index.locate(address)) throw new Error('a new chunk was found');
  const missMicros = ((performance.now() - t) * 1000) / misses;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  return { chunks: index.size, packs, bytes: after.heap - before.heap, rss: after.rss, peakRss, loadSeconds, hitMicros, missMicros };
}

/** The engine's previous structure: every chunk's location in a Map by address, and each pack's entries kept. */
function measureMap(chunks: number) {
  const packs = Math.ceil(chunks / PER_PACK);
  const before = settle();
  const locations = new Map<string, { packId: string; offset: number; length: number }>();
  const kept: PackEntry[][] = [];
  for (let p = 0; p < packs; p++) {
    const entries = entriesOf(p);
    const id = packId(p);
    kept.push(entries);
    for (const [address, offset, length] of entries) locations.set(address, { packId: id, offset, length });
  }
  const after = settle();
  return { chunks: locations.size, bytes: after.heap - before.heap, keep: kept.length };
}

if (mode) {
  const result = mode === 'index' ? await measureIndex(CHUNKS) : measureMap(CHUNKS);
  console.log(JSON.stringify(result));
  process.exit(0);
}

const child = (m: string, chunks: number) => {
  const run = spawnSync(process.execPath, ['--expose-gc', '--max-semi-space-size=2', fileURLToPath(import.meta.url), '--mode', m, '--chunks', String(chunks)], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!);
};
const started = performance.now();
const index = child('index', CHUNKS);
const map = child('map', Math.round(CHUNKS / 10));
const mapBytesScaled = (map.bytes / map.chunks) * CHUNKS;
const section = [
  '## Chunk index memory',
  '',
  `Command: \`npx node bench/index-memory.ts${CHUNKS !== 10_000_000 ? ` --chunks ${CHUNKS}` : ''}\` · ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · ${fmt((performance.now() - started) / 1000)} s · ${cpus()[0]?.model ?? ''}, ${cpus().length} cores, ${fmt(totalmem() / 1024 ** 3, 1)} GiB, Node ${process.version}`,
  '',
  `Every backup, restore and verify of an account keeps the index of where its chunks are. Measured on ${fmt(index.chunks)} synthetic chunks (random addresses) in ${fmt(index.packs)} packs of ${PER_PACK} (a 16 MiB pack of compressed chunks), a repository of some 2.5 TB at the engine's 256 KiB chunks; memory after a full GC, in a process of its own.`,
  '',
  '| | result |',
  '| --- | ---: |',
  `| index of ${fmt(index.chunks)} chunks: heap and array buffers | ${fmt(index.bytes / MiB)} MiB (${fmt(index.bytes / index.chunks, 1)} bytes a chunk) |`,
  `| process RSS with it, after loading (peak while loading; the engine's process settings) | ${fmt(index.rss / MiB)} MiB (${fmt(index.peakRss / MiB)} MiB) |`,
  `| registering all of them | ${fmt(index.loadSeconds, 1)} s |`,
  `| locating a stored chunk, spread over the repository (its pack's index decoded again: not among the 64 cached) | ${fmt(index.hitMicros, 1)} µs |`,
  `| answering that a new chunk is not stored | ${fmt(index.missMicros, 2)} µs |`,
  `| the previous structure (a Map from address to location, each pack's entries kept), measured on ${fmt(map.chunks)} chunks, scaled | ${fmt(mapBytesScaled / MiB)} MiB (${fmt(map.bytes / map.chunks)} bytes a chunk) |`,
  '',
  'The table holds one 8-byte number per chunk (the first 32 bits of its address and its pack number), the packs their id, size and time, and an LRU of 64 decoded pack indexes confirms each candidate: a new chunk is answered from the table alone, a stored one costs at most one pack index read. Snapshot manifests and the change-marker table of a parent snapshot (20 bytes an item) are read page by page and not counted here. Loading the index still reads every pack index once per process (128 chunks an object): on S3, a repository of 10 million chunks is some 78,000 GETs at first use.',
  '',
].join('\n');
console.log(section);
if (!args.includes('--no-write')) writeSection(section);
