import { type AccountRepository, type SnapshotHeader, snapshotItems } from '@listbackup/engine';
import type { SnapshotChanges } from '../services/job-state.ts';
import { itemMetadata } from './engine-runtime.ts';

/**
 * How a snapshot differs from its parent, by item id and content hash. Only the resources the new
 * snapshot backs up are compared (a resource taken out of the source is not "deleted" at the
 * platform), and items the backup rejected are not counted as deleted. Null without a parent.
 * Holds one entry per parent item (id and hash) while it runs, as the pipeline holds the item ids.
 */
export async function snapshotChanges(
  account: AccountRepository,
  parent: SnapshotHeader | null,
  snapshot: SnapshotHeader,
  options: { resources: readonly string[]; rejectedIds: ReadonlySet<string> },
): Promise<SnapshotChanges | null> {
  if (!parent) return null;
  const resources = new Set(options.resources);
  const previous = new Map<string, string>();
  for await (const item of snapshotItems(account, parent)) {
    const resource = itemMetadata(item.metadata)?.resource;
    if (resource !== undefined && !resources.has(resource)) continue;
    previous.set(item.id, item.contentHash);
  }
  const previousItems = previous.size;
  let added = 0;
  let changed = 0;
  for await (const item of snapshotItems(account, snapshot)) {
    const hash = previous.get(item.id);
    if (hash === undefined) added++;
    else if (hash !== item.contentHash) changed++;
    previous.delete(item.id);
  }
  let deleted = 0;
  for (const id of previous.keys()) if (!options.rejectedIds.has(id)) deleted++;
  return { previousItems, added, changed, deleted };
}
