/**
 * Restore: items of a snapshot back to a target. A target receives each item's verified byte
 * stream; the stream fails (and the target must discard what it got) when a chunk is missing or
 * corrupt or the item does not hash to its recorded content hash. DirectoryTarget writes to a
 * temporary file and renames it into place only after the whole item verified, so a failed
 * restore never replaces an existing file with a partial or wrong one.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { safeArchivePath } from './archive.ts';
import { EngineConfigError } from './errors.ts';
import { ChunkReader } from './reader.ts';
import type { AccountRepository } from './repository.ts';
import { readSnapshot, type SnapshotItem, snapshotItems } from './snapshot.ts';
import { mapLimit, TaskWindow } from './streams.ts';

export interface RestoreTarget {
  /** Writes one item; `content` errors when the item fails verification. Calls may overlap (see RestoreOptions.concurrency). */
  write(item: SnapshotItem, content: Readable): Promise<void>;
  /** Called once every item is written (e.g. to make them durable). */
  finish?(): Promise<void>;
}

export interface RestoreOptions {
  itemIds?: Iterable<string>;
  signal?: AbortSignal;
  onProgress?: (progress: { itemsDone: number; bytesDone: number }) => void;
  /** Items written at once (default 4); their chunks are read ahead by pack meanwhile. */
  concurrency?: number;
  /** Plaintext bytes read ahead (default 4 MiB). */
  readAheadBytes?: number;
}

export interface RestoreResult {
  itemsRestored: number;
  bytesRestored: number;
}

/** The item's bytes, each chunk and the whole item verified. */
export function itemContent(account: AccountRepository, item: SnapshotItem, signal?: AbortSignal): Readable {
  return account.readItem(item.chunks, { signal, expectedContentHash: item.contentHash });
}

export async function restoreSnapshot(account: AccountRepository, snapshotId: string, target: RestoreTarget, options: RestoreOptions = {}): Promise<RestoreResult> {
  const { signal } = options;
  const snapshot = await readSnapshot(account, snapshotId);
  const ids = options.itemIds ? new Set(options.itemIds) : undefined;
  const result: RestoreResult = { itemsRestored: 0, bytesRestored: 0 };
  // A DirectoryTarget writes each chunk before it asks for the next, so each is freed once written;
  // another target gets a stream, which reads ahead.
  const direct = target instanceof DirectoryTarget ? target : null;
  const reader = new ChunkReader(account, { signal, readAheadBytes: options.readAheadBytes, freeConsumed: direct !== null });
  const writes = new TaskWindow(options.concurrency ?? 4);
  try {
    for await (const { item, chunks } of reader.items(snapshotItems(account, snapshot, { ids }))) {
      signal?.throwIfAborted();
      await writes.add(async () => {
        await (direct ? direct.writeChunks(item, chunks) : target.write(item, Readable.from(chunks, { objectMode: false, highWaterMark: 1 })));
        result.itemsRestored++;
        result.bytesRestored += item.size;
        options.onProgress?.({ itemsDone: result.itemsRestored, bytesDone: result.bytesRestored });
      });
    }
    await writes.drain();
  } finally {
    await writes.settle();
  }
  await target.finish?.();
  return result;
}

export interface DirectoryTargetOptions {
  /**
   * Flush every restored file and directory to disk before the restore reports done (default
   * false: like tar, rsync and restic, the files are left to the page cache).
   */
  durable?: boolean;
}

/**
 * Restores items as files under `root`, at their (sanitized) paths. Each item goes to a temporary
 * file that is renamed into place only after the whole item verified, so a failed restore never
 * replaces an existing file with a partial or wrong one.
 */
export class DirectoryTarget implements RestoreTarget {
  readonly root: string;
  private readonly durable: boolean;
  private readonly dirs = new Map<string, Promise<void>>();
  private readonly written: string[] = [];

  constructor(root: string, options: DirectoryTargetOptions = {}) {
    this.root = resolve(root);
    this.durable = options.durable ?? false;
  }

  pathOf(item: SnapshotItem): string {
    const path = resolve(this.root, ...safeArchivePath(item.path).split('/'));
    if (!path.startsWith(this.root + sep)) throw new EngineConfigError(`item path ${item.path} leaves the restore directory`);
    return path;
  }

  private mkdir(dir: string): Promise<void> {
    let made = this.dirs.get(dir);
    if (!made) {
      made = mkdir(dir, { recursive: true }).then(() => {});
      made.catch(() => this.dirs.delete(dir));
      this.dirs.set(dir, made);
    }
    return made;
  }

  write(item: SnapshotItem, content: Readable): Promise<void> {
    return this.writeChunks(item, content);
  }

  /** As write(), from the item's chunks: each is written before the next is asked for. */
  async writeChunks(item: SnapshotItem, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    const path = this.pathOf(item);
    await this.mkdir(dirname(path));
    const tmp = join(dirname(path), `.restore-${randomBytes(6).toString('hex')}`);
    const handle = await open(tmp, 'wx');
    try {
      for await (const piece of chunks) await handle.write(piece);
      await handle.close();
    } catch (error) {
      await handle.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      throw error;
    }
    await rename(tmp, path);
    if (this.durable) this.written.push(path);
  }

  /** With `durable`, syncs the restored files (many at once) and then their directories. */
  async finish(): Promise<void> {
    if (!this.durable) return;
    const sync = async (path: string) => {
      const handle = await open(path, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    };
    await mapLimit(this.written.splice(0), 16, sync);
    await mapLimit([...this.dirs.keys()], 16, sync);
  }
}
