/**
 * Deleting everything an account stored (the account itself is gone, after its recovery window).
 * Nothing of an account is shared with another, so this is a delete of its prefix, ordered so that
 * an interrupted purge leaves a repository that still opens and reads what is left: data first,
 * then the config, the data key last (without it nothing left behind can be read by anyone).
 * Running it again finishes the work.
 */
import { assertId, layout } from './layout.ts';
import type { ObjectStore } from './store.ts';
import { TaskWindow } from './streams.ts';

export interface PurgeOptions {
  signal?: AbortSignal;
  /** Deletes in flight (default 16). */
  concurrency?: number;
}

export interface PurgeResult {
  deletedObjects: number;
  deletedBytes: number;
}

export async function purgeAccountData(store: ObjectStore, accountId: string, options: PurgeOptions = {}): Promise<PurgeResult> {
  assertId('account', accountId);
  const { signal } = options;
  const result: PurgeResult = { deletedObjects: 0, deletedBytes: 0 };
  const last = [layout.config(accountId), layout.dataKey(accountId)];
  const window = new TaskWindow(options.concurrency ?? 16);
  try {
    for await (const object of store.list(layout.account(accountId))) {
      signal?.throwIfAborted();
      if (last.includes(object.key)) continue;
      result.deletedObjects++;
      result.deletedBytes += object.size;
      await window.add(() => store.delete(object.key));
    }
    await window.drain();
  } finally {
    await window.settle();
  }
  await store.removeStaleTemporaryFiles?.(0, Date.now(), layout.account(accountId));
  for (const key of last) {
    signal?.throwIfAborted();
    const info = await store.head(key);
    if (!info) continue;
    await store.delete(key);
    result.deletedObjects++;
    result.deletedBytes += info.size;
  }
  return result;
}
