/**
 * Snapshot manifests. A backup writes its items into pages (sealed, zstd-compressed JSON) as it
 * goes; each page is also a checkpoint, since a resumed backup reads the pages to learn which items
 * are stored. Publishing writes the chunk index and then the header: the header's presence is the
 * commit point, written with putIfAbsent, so a snapshot is immutable once it exists, and a backup
 * that dies before it leaves nothing published (only a pending manifest that a resume continues or
 * the garbage collector clears).
 */
import { randomUUID } from 'node:crypto';
import { constants as zc, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { EngineConfigError, ObjectNotFoundError, SnapshotNotFoundError } from './errors.ts';
import { assertId, layout } from './layout.ts';
import type { AccountRepository, ChunkRef } from './repository.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface SnapshotItem {
  /** The connector's stable id of the item (a record id, a file id). */
  id: string;
  /** Where the item sits in its source, `/`-separated; exports use it as the file name. */
  path: string;
  /** Display name (defaults to the last path segment). */
  name: string;
  size: number;
  /** ContentHash of the item's bytes (SHA-256 over its chunks' SHA-256s), hex. */
  contentHash: string;
  chunks: ChunkRef[];
  metadata: Json;
  /** When the item last changed in its source, ISO-8601, if the connector knows. */
  modifiedAt?: string;
  /** What the source said changes with the content (see SourceItem.changeMarker), if anything. */
  changeMarker?: string;
}

export interface SnapshotTotals {
  items: number;
  logicalBytes: number;
  /** Bytes this snapshot added to the store: new chunks and its own manifest. */
  storedBytes: number;
  /** Plaintext bytes of chunks stored for the first time by this snapshot. */
  newBytes: number;
  /** Plaintext bytes found stored already (deduplicated). */
  reusedBytes: number;
  chunks: number;
  newChunks: number;
}

export interface SnapshotHeader {
  version: 1;
  id: string;
  accountId: string;
  sourceId: string;
  parentId: string | null;
  startedAt: string;
  /** When the snapshot was published; retention works on this time. */
  createdAt: string;
  pages: number;
  indexParts: number;
  /** Distinct chunks the snapshot references. */
  uniqueChunks: number;
  totals: SnapshotTotals;
  labels: Record<string, string>;
  /** What the source's next backup starts from (the connector's incremental cursors); absent in older snapshots. */
  state?: Json;
}

export interface PendingSnapshot {
  version: 1;
  id: string;
  accountId: string;
  sourceId: string;
  parentId: string | null;
  startedAt: string;
  labels: Record<string, string>;
}

/** What writing one item cost, as the repository reported it. */
export interface ItemWriteStats {
  newBytes: number;
  reusedBytes: number;
  storedBytes: number;
  newChunks: number;
}

export interface Page {
  version: 1;
  items: SnapshotItem[];
  stats: ItemWriteStats;
}

const FLAG_ZSTD = 1;
const INDEX_ENTRY = 36; // 32-byte address + u32 plaintext size
const INDEX_PART_ENTRIES = 1 << 20;

function emptyTotals(): SnapshotTotals {
  return { items: 0, logicalBytes: 0, storedBytes: 0, newBytes: 0, reusedBytes: 0, chunks: 0, newChunks: 0 };
}

function sealJson(account: AccountRepository, kind: string, key: string, value: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(value));
  const compressed = zstdCompressSync(json, { params: { [zc.ZSTD_c_compressionLevel]: 3 } });
  return account.keys.sealObject(kind, key, compressed, FLAG_ZSTD);
}

async function readJson<T>(account: AccountRepository, kind: string, key: string): Promise<T> {
  const sealed = await account.store.getBytes(key);
  const opened = account.keys.openObject(kind, key, sealed);
  const body = opened.flags & FLAG_ZSTD ? zstdDecompressSync(opened.plaintext) : opened.plaintext;
  return JSON.parse(body.toString('utf8')) as T;
}

export interface BeginSnapshotOptions {
  /** Reuse an id to resume that backup; a new UUID otherwise. */
  snapshotId?: string;
  sourceId: string;
  parentId?: string | null;
  labels?: Record<string, string>;
  /** Flush a page once this much item JSON is buffered (default 1 MiB). */
  pageBytes?: number;
  now?: () => Date;
}

/**
 * Accumulates a backup's items into a pending manifest and publishes it. Obtain one with
 * SnapshotWriter.begin(), which resumes the pending manifest of the same id if there is one.
 */
export class SnapshotWriter {
  readonly account: AccountRepository;
  readonly pending: PendingSnapshot;
  /** True when begin() found pages of an earlier attempt. */
  readonly resumed: boolean;
  private readonly done: Set<string>;
  private readonly addresses: Map<string, number>;
  private readonly totals: SnapshotTotals;
  private readonly pageBytes: number;
  private readonly now: () => Date;
  private buffer: SnapshotItem[] = [];
  private bufferStats: ItemWriteStats = { newBytes: 0, reusedBytes: 0, storedBytes: 0, newChunks: 0 };
  private bufferedJson = 0;
  private nextPage: number;
  private published: SnapshotHeader | null = null;

  private constructor(
    account: AccountRepository,
    pending: PendingSnapshot,
    state: { resumed: boolean; done: Set<string>; addresses: Map<string, number>; totals: SnapshotTotals; nextPage: number },
    options: BeginSnapshotOptions,
  ) {
    this.account = account;
    this.pending = pending;
    this.resumed = state.resumed;
    this.done = state.done;
    this.addresses = state.addresses;
    this.totals = state.totals;
    this.nextPage = state.nextPage;
    this.pageBytes = options.pageBytes ?? 1024 * 1024;
    this.now = options.now ?? (() => new Date());
  }

  static async begin(account: AccountRepository, options: BeginSnapshotOptions): Promise<SnapshotWriter> {
    const id = options.snapshotId ?? randomUUID();
    assertId('snapshot', id);
    assertId('source', options.sourceId);
    if (await account.store.exists(layout.snapshot(account.accountId, id))) {
      throw new EngineConfigError(`snapshot ${id} is published already; snapshots are immutable`);
    }
    const now = options.now ?? (() => new Date());
    const pendingKey = layout.pending(account.accountId, id);
    let pending: PendingSnapshot;
    if (await account.store.exists(pendingKey)) {
      pending = await readJson<PendingSnapshot>(account, 'pending', pendingKey);
      if (pending.sourceId !== options.sourceId) throw new EngineConfigError(`pending snapshot ${id} belongs to source ${pending.sourceId}`);
    } else {
      pending = {
        version: 1,
        id,
        accountId: account.accountId,
        sourceId: options.sourceId,
        parentId: options.parentId ?? null,
        startedAt: now().toISOString(),
        labels: options.labels ?? {},
      };
      if (!(await account.store.putIfAbsent(pendingKey, sealJson(account, 'pending', pendingKey, pending)))) {
        pending = await readJson<PendingSnapshot>(account, 'pending', pendingKey);
      }
    }
    // Pages of an earlier attempt are the checkpoint: their items are stored, their chunks written.
    const done = new Set<string>();
    const addresses = new Map<string, number>();
    const totals = emptyTotals();
    let nextPage = 1;
    const pageKeys: string[] = [];
    for await (const info of account.store.list(layout.manifest(account.accountId, id))) {
      if (/\/page-\d{6}$/.test(info.key)) {
        pageKeys.push(info.key);
        totals.storedBytes += info.size;
      }
    }
    pageKeys.sort();
    for (const key of pageKeys) {
      const page = await readJson<Page>(account, 'page', key);
      for (const item of page.items) addItemTotals(totals, addresses, done, item);
      addStats(totals, page.stats);
      nextPage = Number(key.slice(-6)) + 1;
    }
    return new SnapshotWriter(account, pending, { resumed: pageKeys.length > 0, done, addresses, totals, nextPage }, options);
  }

  get id(): string {
    return this.pending.id;
  }

  /** Ids of the items already in the manifest (from earlier attempts and this one). */
  get doneItemIds(): ReadonlySet<string> {
    return this.done;
  }

  /** Running totals, including items not yet checkpointed. */
  get progress(): Readonly<SnapshotTotals> {
    return this.totals;
  }

  /** Adds a stored item; a page is flushed when enough JSON is buffered. */
  async add(item: SnapshotItem, stats: ItemWriteStats): Promise<void> {
    if (this.published) throw new EngineConfigError(`snapshot ${this.id} is published already`);
    if (this.done.has(item.id)) throw new EngineConfigError(`item ${item.id} is in snapshot ${this.id} already`);
    addItemTotals(this.totals, this.addresses, this.done, item);
    addStats(this.totals, stats);
    addStats(this.bufferStats, stats);
    this.buffer.push(item);
    this.bufferedJson += 200 + item.path.length + (item.changeMarker?.length ?? 0) + item.chunks.length * 90 + (item.metadata === null ? 0 : JSON.stringify(item.metadata).length);
    if (this.bufferedJson >= this.pageBytes) await this.checkpoint();
  }

  /** Writes the buffered items as a page: once it returns, a resumed backup will skip them. */
  async checkpoint(): Promise<void> {
    if (this.buffer.length === 0) return;
    const key = layout.page(this.account.accountId, this.id, this.nextPage);
    const page: Page = { version: 1, items: this.buffer, stats: this.bufferStats };
    const sealed = sealJson(this.account, 'page', key, page);
    // The page names chunks: they must be on disk before it is.
    await this.account.flush();
    if (!(await this.account.store.putIfAbsent(key, sealed))) {
      throw new Error(`manifest page ${key} exists already: is another worker writing snapshot ${this.id}?`);
    }
    this.nextPage++;
    this.totals.storedBytes += sealed.length;
    this.buffer = [];
    this.bufferStats = { newBytes: 0, reusedBytes: 0, storedBytes: 0, newChunks: 0 };
    this.bufferedJson = 0;
  }

  /** Writes the last page, the chunk index and the header (with `state`); from then on the snapshot is visible and immutable. */
  async publish(state?: Json): Promise<SnapshotHeader> {
    if (this.published) return this.published;
    await this.checkpoint();
    const accountId = this.account.accountId;
    const entries = [...this.addresses.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    let indexParts = 0;
    for (let start = 0; start < entries.length || indexParts === 0; start += INDEX_PART_ENTRIES) {
      const part = entries.slice(start, start + INDEX_PART_ENTRIES);
      const body = Buffer.allocUnsafe(part.length * INDEX_ENTRY);
      part.forEach(([address, size], i) => {
        body.write(address, i * INDEX_ENTRY, 32, 'hex');
        body.writeUInt32BE(size, i * INDEX_ENTRY + 32);
      });
      indexParts++;
      const key = layout.index(accountId, this.id, indexParts);
      const sealed = this.account.keys.sealObject('index', key, body);
      await this.account.store.putIfAbsent(key, sealed);
      this.totals.storedBytes += sealed.length;
    }
    const header: SnapshotHeader = {
      version: 1,
      id: this.id,
      accountId,
      sourceId: this.pending.sourceId,
      parentId: this.pending.parentId,
      startedAt: this.pending.startedAt,
      createdAt: this.now().toISOString(),
      pages: this.nextPage - 1,
      indexParts,
      uniqueChunks: entries.length,
      totals: { ...this.totals },
      labels: this.pending.labels,
      ...(state === undefined ? {} : { state }),
    };
    await this.account.flush();
    const headerKey = layout.snapshot(accountId, this.id);
    const sealedHeader = sealJson(this.account, 'snapshot', headerKey, header);
    header.totals.storedBytes += sealedHeader.length;
    const finalHeader = sealJson(this.account, 'snapshot', headerKey, header);
    if (!(await this.account.store.putIfAbsent(headerKey, finalHeader))) {
      throw new EngineConfigError(`snapshot ${this.id} was published by another writer`);
    }
    await this.account.flush();
    await this.account.store.delete(layout.pending(accountId, this.id));
    this.published = header;
    return header;
  }

  /** Gives the backup up: removes its pending manifest (chunks stay until the garbage collector runs). */
  async discard(): Promise<void> {
    await deleteManifest(this.account, this.id);
  }
}

function addItemTotals(totals: SnapshotTotals, addresses: Map<string, number>, done: Set<string>, item: SnapshotItem): void {
  done.add(item.id);
  totals.items++;
  totals.logicalBytes += item.size;
  totals.chunks += item.chunks.length;
  for (const chunk of item.chunks) addresses.set(chunk.address, chunk.size);
}

function addStats(target: { newBytes: number; reusedBytes: number; storedBytes: number; newChunks: number }, stats: ItemWriteStats): void {
  target.newBytes += stats.newBytes;
  target.reusedBytes += stats.reusedBytes;
  target.storedBytes += stats.storedBytes;
  target.newChunks += stats.newChunks;
}

async function deleteManifest(account: AccountRepository, snapshotId: string): Promise<void> {
  const keys: string[] = [];
  for await (const info of account.store.list(layout.manifest(account.accountId, snapshotId))) keys.push(info.key);
  // The pending marker goes last: until then a half-deleted manifest still reads as pending.
  keys.sort((a, b) => Number(a.endsWith('/pending')) - Number(b.endsWith('/pending')));
  for (const key of keys) await account.store.delete(key);
}

/** Published snapshots of the account (optionally of one source), oldest first. */
export async function listSnapshots(account: AccountRepository, filter: { sourceId?: string } = {}): Promise<SnapshotHeader[]> {
  const headers: SnapshotHeader[] = [];
  for await (const info of account.store.list(layout.snapshots(account.accountId))) {
    const header = await readJson<SnapshotHeader>(account, 'snapshot', info.key);
    if (!filter.sourceId || header.sourceId === filter.sourceId) headers.push(header);
  }
  return headers.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1));
}

export async function readSnapshot(account: AccountRepository, snapshotId: string): Promise<SnapshotHeader> {
  assertId('snapshot', snapshotId);
  try {
    return await readJson<SnapshotHeader>(account, 'snapshot', layout.snapshot(account.accountId, snapshotId));
  } catch (error) {
    if (error instanceof ObjectNotFoundError) throw new SnapshotNotFoundError(snapshotId);
    throw error;
  }
}

/** Page `seq` (from 1) of a published snapshot's manifest. */
export function readPage(account: AccountRepository, header: SnapshotHeader, seq: number): Promise<Page> {
  return readJson<Page>(account, 'page', layout.page(account.accountId, header.id, seq));
}

/** The snapshot's items, page by page (one page in memory at a time); `ids` narrows to chosen items. */
export async function* snapshotItems(account: AccountRepository, header: SnapshotHeader, filter: { ids?: ReadonlySet<string> } = {}): AsyncGenerator<SnapshotItem> {
  for (let seq = 1; seq <= header.pages; seq++) {
    const page = await readPage(account, header, seq);
    for (const item of page.items) if (!filter.ids || filter.ids.has(item.id)) yield item;
  }
}

/** Every distinct chunk the snapshot references, with its plaintext size, in address order. */
export async function* snapshotChunks(account: AccountRepository, header: SnapshotHeader): AsyncGenerator<ChunkRef> {
  for (let part = 1; part <= header.indexParts; part++) {
    const key = layout.index(account.accountId, header.id, part);
    const body = account.keys.openObject('index', key, await account.store.getBytes(key)).plaintext;
    for (let offset = 0; offset + INDEX_ENTRY <= body.length; offset += INDEX_ENTRY) {
      yield { address: body.toString('hex', offset, offset + 32), size: body.readUInt32BE(offset + 32) };
    }
  }
}

/**
 * Unpublishes and removes a snapshot's manifest. Its chunks stay until the garbage collector finds
 * no remaining snapshot that references them.
 */
export async function deleteSnapshot(account: AccountRepository, snapshotId: string): Promise<void> {
  assertId('snapshot', snapshotId);
  await account.store.delete(layout.snapshot(account.accountId, snapshotId));
  await deleteManifest(account, snapshotId);
}

export interface PendingManifest {
  snapshotId: string;
  /** The pending record, or null for an orphan (a manifest whose snapshot was deleted half-way). */
  pending: PendingSnapshot | null;
  published: boolean;
  /** The newest write to the manifest: when the backup last made progress. */
  lastActivity: Date;
  pageKeys: string[];
}

/** Manifests that are not (only) a published snapshot: backups in progress or abandoned, and leftovers. */
export async function listManifests(account: AccountRepository): Promise<PendingManifest[]> {
  const byId = new Map<string, { keys: string[]; last: number; hasPending: boolean }>();
  const prefix = layout.manifests(account.accountId);
  for await (const info of account.store.list(prefix)) {
    const rest = info.key.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash < 0) continue;
    const id = rest.slice(0, slash);
    const entry = byId.get(id) ?? { keys: [], last: 0, hasPending: false };
    entry.keys.push(info.key);
    entry.last = Math.max(entry.last, info.lastModified.getTime());
    if (info.key.endsWith('/pending')) entry.hasPending = true;
    byId.set(id, entry);
  }
  const result: PendingManifest[] = [];
  for (const [snapshotId, entry] of byId) {
    const published = await account.store.exists(layout.snapshot(account.accountId, snapshotId));
    const pendingKey = layout.pending(account.accountId, snapshotId);
    const pending = entry.hasPending ? await readJson<PendingSnapshot>(account, 'pending', pendingKey).catch(() => null) : null;
    result.push({
      snapshotId,
      pending,
      published,
      lastActivity: new Date(entry.last),
      pageKeys: entry.keys.filter((key) => /\/page-\d{6}$/.test(key)).sort(),
    });
  }
  return result;
}

/** Chunk references of a pending manifest's pages (the garbage collector keeps them). */
export async function* pendingChunks(account: AccountRepository, manifest: PendingManifest): AsyncGenerator<ChunkRef> {
  for (const key of manifest.pageKeys) {
    const page = await readJson<Page>(account, 'page', key);
    for (const item of page.items) yield* item.chunks;
  }
}

/** Removes a pending or orphaned manifest (never a published snapshot's). */
export async function discardManifest(account: AccountRepository, snapshotId: string): Promise<void> {
  if (await account.store.exists(layout.snapshot(account.accountId, snapshotId))) {
    await account.store.delete(layout.pending(account.accountId, snapshotId));
    return;
  }
  await deleteManifest(account, snapshotId);
}
