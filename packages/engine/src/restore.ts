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
import type { Readable } from 'node:stream';
import { safeArchivePath } from './archive.ts';
import { EngineConfigError } from './errors.ts';
import type { AccountRepository } from './repository.ts';
import { readSnapshot, type SnapshotItem, snapshotItems } from './snapshot.ts';

export interface RestoreTarget {
  /** Writes one item; `content` errors when the item fails verification. */
  write(item: SnapshotItem, content: Readable): Promise<void>;
}

export interface RestoreOptions {
  itemIds?: Iterable<string>;
  signal?: AbortSignal;
  onProgress?: (progress: { itemsDone: number; bytesDone: number }) => void;
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
  const snapshot = await readSnapshot(account, snapshotId);
  const ids = options.itemIds ? new Set(options.itemIds) : undefined;
  const result: RestoreResult = { itemsRestored: 0, bytesRestored: 0 };
  for await (const item of snapshotItems(account, snapshot, { ids })) {
    options.signal?.throwIfAborted();
    await target.write(item, itemContent(account, item, options.signal));
    result.itemsRestored++;
    result.bytesRestored += item.size;
    options.onProgress?.({ itemsDone: result.itemsRestored, bytesDone: result.bytesRestored });
  }
  return result;
}

/** Restores items as files under `root`, at their (sanitized) paths. */
export class DirectoryTarget implements RestoreTarget {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }

  pathOf(item: SnapshotItem): string {
    const path = resolve(this.root, ...safeArchivePath(item.path).split('/'));
    if (!path.startsWith(this.root + sep)) throw new EngineConfigError(`item path ${item.path} leaves the restore directory`);
    return path;
  }

  async write(item: SnapshotItem, content: Readable): Promise<void> {
    const path = this.pathOf(item);
    await mkdir(dirname(path), { recursive: true });
    const tmp = join(dirname(path), `.restore-${randomBytes(6).toString('hex')}`);
    const handle = await open(tmp, 'wx');
    try {
      for await (const piece of content) await handle.write(piece);
      await handle.sync();
      await handle.close();
    } catch (error) {
      await handle.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      throw error;
    }
    await rename(tmp, path);
  }
}
