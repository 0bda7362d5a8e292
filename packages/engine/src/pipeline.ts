/**
 * The backup pipeline, per item: fetch (the connector's iterable) → validate → transform → enrich →
 * chunk → address → compress → encrypt → store, then into the snapshot's manifest.
 *
 * - Streams: items are processed a few at a time, each item's bytes chunk by chunk; nothing holds
 *   a whole item or a whole source in memory.
 * - Cancel: the AbortSignal is checked between chunks and between items. The chunks in flight
 *   finish (they are immutable and content-addressed, so a stored chunk is always a valid one), the
 *   finished items are checkpointed, and the snapshot is not published.
 * - Resume: run again with the same snapshotId (e.g. the job id). Items already in the pending
 *   manifest are skipped without fetching their content; a snapshot already published is returned
 *   as it is, so a retried job that died after publishing does not back up twice.
 */
import { EngineConfigError, ItemRejectedError } from './errors.ts';
import { layout } from './layout.ts';
import type { Repository, WriteItemResult } from './repository.ts';
import { type Json, listSnapshots, readSnapshot, type SnapshotHeader, type SnapshotItem, SnapshotWriter } from './snapshot.ts';
import { ParentItems } from './parent-items.ts';
import type { ByteSource } from './streams.ts';

export interface SourceItem {
  /** Stable id in the source (record id, file id): what a resumed backup matches on. */
  id: string;
  /** `/`-separated location in the source; exports use it as the file name. */
  path: string;
  name?: string;
  metadata?: Json;
  /** Declared size, when the source says it; a mismatch rejects the item. */
  size?: number;
  modifiedAt?: string | Date;
  /**
   * Something the source changes whenever the content changes: an ETag, a revision (Dropbox
   * `rev`, Box `sha1`, Drive `md5Checksum`/`version`), an `updated_at`, a content hash. An item
   * whose id and marker equal the parent snapshot's is carried over without calling content().
   * For files, `fileChangeMarker` (size and modification time).
   */
  changeMarker?: string;
  /** Opens the item's bytes; called only when the item is to be stored. */
  content: () => ByteSource | Promise<ByteSource>;
}

/**
 * An item unchanged since the parent snapshot (an incremental run did not fetch it): its entry is
 * copied into the new snapshot as it is. Its chunks are stored already and stay referenced.
 */
export interface CarriedItem {
  id: string;
  carried: SnapshotItem;
}

export interface BackupHooks {
  /** Throw ItemRejectedError to leave the item out (the backup goes on, partially); any other error fails the backup. */
  validate?: (item: SourceItem) => void | Promise<void>;
  /** The item to store instead (a redacted stream, a normalized path), or null to skip it silently. */
  transform?: (item: SourceItem) => SourceItem | null | Promise<SourceItem | null>;
  /** Metadata to add to the item's own. */
  enrich?: (item: SourceItem) => Record<string, Json> | undefined | Promise<Record<string, Json> | undefined>;
}

export interface BackupProgress {
  snapshotId: string;
  /** Items stored by this run. */
  itemsDone: number;
  /** Items found in the manifest of an earlier attempt and skipped. */
  itemsResumed: number;
  /** Items given as CarriedItem: copied from the parent snapshot as they are. */
  itemsCarried: number;
  /** Items whose change marker equals the parent snapshot's: carried over without reading their content. */
  itemsUnchanged: number;
  itemsRejected: number;
  /** Items the connector declared, when given. */
  itemsTotal?: number;
  /** Plaintext bytes processed by this run, counted per chunk. */
  bytesDone: number;
  /** Plaintext bytes this run stored for the first time (the rest were deduplicated). */
  newBytes: number;
  /** Bytes this run added to the store. */
  storedBytes: number;
  currentItem: string | null;
  final: boolean;
}

export interface RejectedItem {
  id: string;
  path: string;
  reason: string;
}

export interface BackupOptions {
  accountId: string;
  sourceId: string;
  items: AsyncIterable<SourceItem | CarriedItem> | Iterable<SourceItem | CarriedItem>;
  /** The snapshot to write or resume (use the job id so a retried job resumes); a new UUID by default. */
  snapshotId?: string;
  /** Recorded as the parent and used to skip lookups of its chunks; by default the source's latest snapshot. null for none. */
  parentSnapshotId?: string | null;
  labels?: Record<string, string>;
  /** Recorded in the published snapshot's header for the next run (e.g. connector cursors); told which items were rejected. */
  state?: (rejected: readonly RejectedItem[]) => Json;
  hooks?: BackupHooks;
  signal?: AbortSignal;
  onProgress?: (progress: BackupProgress) => void;
  /** At most one progress call per interval, plus a final one (default 1000 ms). */
  progressIntervalMs?: number;
  /** Checkpoint finished items at least this often (default 30 s) … */
  checkpointIntervalMs?: number;
  /** … or after this many plaintext bytes (default 256 MiB). */
  checkpointBytes?: number;
  /** Items processed at once (default 4): small records gain from it, large files are chunked concurrently anyway. */
  itemConcurrency?: number;
  /**
   * Whether to read this item's content even when its change marker equals the parent's (the
   * periodic full run re-hashes everything, so a marker that failed to change hides a change for
   * one period at most). Default: never.
   */
  rehash?: (item: SourceItem) => boolean;
  itemsTotal?: number;
  now?: () => Date;
}

export interface BackupResult {
  snapshot: SnapshotHeader;
  rejected: RejectedItem[];
  /** True when the run continued a pending snapshot, or found it published already. */
  resumed: boolean;
  alreadyPublished: boolean;
}

interface Outcome {
  item: SourceItem | CarriedItem;
  carried?: 'given' | 'unchanged';
  stored?: { entry: SnapshotItem; write: WriteItemResult };
  rejected?: string;
}

export async function runBackup(repository: Repository, options: BackupOptions): Promise<BackupResult> {
  const { signal, hooks = {} } = options;
  signal?.throwIfAborted();
  const account = await repository.account(options.accountId);
  // Garbage collection in another process may have deleted packs this process still knows.
  await account.refreshIndex();

  if (options.snapshotId && (await account.store.exists(layout.snapshot(account.accountId, options.snapshotId)))) {
    const snapshot = await readSnapshot(account, options.snapshotId);
    if (snapshot.sourceId !== options.sourceId) throw new EngineConfigError(`snapshot ${options.snapshotId} belongs to another source`);
    return { snapshot, rejected: [], resumed: true, alreadyPublished: true };
  }

  let parentId = options.parentSnapshotId;
  if (parentId === undefined) {
    const previous = await listSnapshots(account, { sourceId: options.sourceId });
    parentId = previous.length > 0 ? previous[previous.length - 1].id : null;
  }
  let parentItems: ParentItems | null = null;
  if (parentId) {
    const parent = await readSnapshot(account, parentId);
    parentItems = await ParentItems.load(account, parent);
  }

  const writer = await SnapshotWriter.begin(account, {
    snapshotId: options.snapshotId,
    sourceId: options.sourceId,
    parentId,
    labels: options.labels,
    now: options.now,
  });

  const now = () => Date.now();
  const progress: BackupProgress = {
    snapshotId: writer.id,
    itemsDone: 0,
    itemsResumed: 0,
    itemsCarried: 0,
    itemsUnchanged: 0,
    itemsRejected: 0,
    itemsTotal: options.itemsTotal,
    bytesDone: 0,
    newBytes: 0,
    storedBytes: 0,
    currentItem: null,
    final: false,
  };
  const progressInterval = options.progressIntervalMs ?? 1000;
  let lastProgress = 0;
  let trailing: NodeJS.Timeout | undefined;
  const report = (force = false) => {
    if (!options.onProgress) return;
    const t = now();
    const wait = lastProgress + progressInterval - t;
    if (!force && wait > 0) {
      // Sent at the end of the interval: the counts reached before the source goes quiet (a slow
      // page, a back-off) are not held back until the next item or the end of the backup.
      trailing ??= setTimeout(() => {
        trailing = undefined;
        report(true);
      }, wait).unref();
      return;
    }
    clearTimeout(trailing);
    trailing = undefined;
    lastProgress = t;
    options.onProgress({ ...progress });
  };

  const checkpointInterval = options.checkpointIntervalMs ?? 30_000;
  const checkpointBytes = options.checkpointBytes ?? 256 * 1024 * 1024;
  let lastCheckpoint = now();
  let bytesSinceCheckpoint = 0;

  const rejected: RejectedItem[] = [];
  const seen = new Set<string>();

  const carryItem = (item: CarriedItem): Outcome => {
    const entry: SnapshotItem = { ...item.carried, id: item.id };
    return { item, carried: 'given', stored: { entry, write: carriedWrite(entry) } };
  };

  const processItem = async (original: SourceItem): Promise<Outcome> => {
    try {
      checkShape(original);
      await hooks.validate?.(original);
      const item = hooks.transform ? await hooks.transform(original) : original;
      if (!item) return { item: original };
      checkShape(item);
      const extra = hooks.enrich ? await hooks.enrich(item) : undefined;
      const metadata = mergeMetadata(item.metadata, extra);
      const { changeMarker } = item;
      const described = {
        path: item.path,
        name: item.name ?? lastSegment(item.path),
        metadata,
        ...(item.modifiedAt !== undefined ? { modifiedAt: new Date(item.modifiedAt).toISOString() } : {}),
        ...(changeMarker !== undefined ? { changeMarker } : {}),
      };
      if (changeMarker !== undefined && parentItems && !options.rehash?.(item)) {
        const previous = await parentItems.unchanged(original.id, changeMarker);
        if (previous && (item.size === undefined || item.size === previous.size)) {
          const entry: SnapshotItem = { id: original.id, size: previous.size, contentHash: previous.contentHash, chunks: previous.chunks, ...described };
          return { item: original, carried: 'unchanged', stored: { entry, write: carriedWrite(entry) } };
        }
      }
      progress.currentItem = item.path;
      const write = await account.writeItem(await item.content(), {
        signal,
        onBytes: (bytes) => {
          progress.bytesDone += bytes;
          report();
        },
      });
      if (item.size !== undefined && item.size !== write.size) {
        throw new ItemRejectedError(`item ${item.id} declared ${item.size} bytes but its content had ${write.size}`);
      }
      const entry: SnapshotItem = { id: original.id, size: write.size, contentHash: write.contentHash, chunks: write.chunks, ...described };
      return { item: original, stored: { entry, write } };
    } catch (error) {
      if (error instanceof ItemRejectedError) return { item: original, rejected: error.message };
      throw error;
    }
  };

  const commit = async (outcome: Outcome) => {
    if (outcome.rejected !== undefined) {
      progress.itemsRejected++;
      rejected.push({ id: outcome.item.id, path: pathOf(outcome.item), reason: outcome.rejected });
    } else if (outcome.stored) {
      const { entry, write } = outcome.stored;
      await writer.add(entry, { newBytes: write.newBytes, reusedBytes: write.reusedBytes, storedBytes: write.storedBytes, newChunks: write.newChunks });
      if (outcome.carried === 'given') progress.itemsCarried++;
      else if (outcome.carried === 'unchanged') progress.itemsUnchanged++;
      else progress.itemsDone++;
      progress.newBytes += write.newBytes;
      progress.storedBytes += write.storedBytes;
      bytesSinceCheckpoint += write.size;
    }
    if (bytesSinceCheckpoint >= checkpointBytes || now() - lastCheckpoint >= checkpointInterval) {
      await writer.checkpoint();
      bytesSinceCheckpoint = 0;
      lastCheckpoint = now();
    }
    report();
  };

  // Items run concurrently but enter the manifest in source order.
  const concurrency = Math.max(1, options.itemConcurrency ?? 4);
  const queue: Promise<Outcome>[] = [];
  try {
    for await (const item of options.items) {
      signal?.throwIfAborted();
      if (writer.doneItemIds.has(item.id)) {
        progress.itemsResumed++;
        report();
        continue;
      }
      if (seen.has(item.id)) {
        progress.itemsRejected++;
        rejected.push({ id: item.id, path: pathOf(item), reason: `item id ${item.id} appears twice in this source` });
        continue;
      }
      seen.add(item.id);
      const outcome = 'carried' in item ? Promise.resolve(carryItem(item)) : processItem(item);
      outcome.catch(() => {}); // observed in order below
      queue.push(outcome);
      if (queue.length >= concurrency) await commit(await queue.shift()!);
    }
    while (queue.length > 0) await commit(await queue.shift()!);
  } catch (error) {
    // Let every item still in flight finish or fail, keep what finished, publish nothing.
    const settled = await Promise.allSettled(queue);
    try {
      for (const result of settled) if (result.status === 'fulfilled' && result.value.stored) await commit(result.value);
      await writer.checkpoint();
    } catch {
      // The pending manifest keeps what was checkpointed before; the original error matters more.
    }
    progress.currentItem = null;
    report(true);
    throw error;
  } finally {
    clearTimeout(trailing);
    trailing = undefined;
  }

  signal?.throwIfAborted();
  const snapshot = await writer.publish(options.state?.(rejected));
  progress.currentItem = null;
  progress.final = true;
  progress.storedBytes = snapshot.totals.storedBytes;
  report(true);
  return { snapshot, rejected, resumed: writer.resumed, alreadyPublished: false };
}

/** What carrying an entry over costs: nothing new, every chunk reused. */
function carriedWrite(entry: SnapshotItem): WriteItemResult {
  return { chunks: entry.chunks, size: entry.size, contentHash: entry.contentHash, newChunks: 0, reusedChunks: entry.chunks.length, newBytes: 0, reusedBytes: entry.size, storedBytes: 0 };
}

/**
 * The change marker of a file: its size and modification time (as rsync, restic and kopia judge a
 * file unchanged). For sources that are file systems; platforms give better markers.
 */
export function fileChangeMarker(file: { size: number; mtime: Date }): string {
  return `size:${file.size} mtime:${file.mtime.toISOString()}`;
}

function pathOf(item: SourceItem | CarriedItem): string {
  return 'carried' in item ? item.carried.path : item.path;
}

function checkShape(item: SourceItem): void {
  if (typeof item.id !== 'string' || item.id.length === 0) throw new ItemRejectedError('an item needs a non-empty string id');
  if (typeof item.path !== 'string' || item.path.length === 0) throw new ItemRejectedError(`item ${item.id} needs a non-empty path`);
  if (typeof item.content !== 'function') throw new ItemRejectedError(`item ${item.id} has no content`);
  if (item.size !== undefined && (!Number.isSafeInteger(item.size) || item.size < 0)) throw new ItemRejectedError(`item ${item.id} has an invalid size`);
  if (item.changeMarker !== undefined && (typeof item.changeMarker !== 'string' || item.changeMarker.length > 1024)) {
    throw new ItemRejectedError(`item ${item.id} has an invalid change marker (a string of at most 1024 characters)`);
  }
}

function mergeMetadata(own: Json | undefined, extra: Record<string, Json> | undefined): Json {
  if (!extra || Object.keys(extra).length === 0) return own ?? null;
  if (own === undefined || own === null) return extra;
  if (typeof own === 'object' && !Array.isArray(own)) return { ...own, ...extra };
  return { value: own, ...extra };
}

function lastSegment(path: string): string {
  const parts = path.split('/').filter(Boolean);
  return parts.length > 0 ? parts[parts.length - 1] : path;
}
