import type { Snapshot } from '../entities/snapshot.ts';
import type { Page } from '@listbackup/lib/pagination';
import { type ItemsPageRequest, pageItems, type SnapshotItemRecord } from '@listbackup/lib/snapshot-items';

export type { ItemsPageRequest, SnapshotItemRecord };

/**
 * Reads a snapshot's items. The items live in the engine's manifest (`snapshot.manifestKey`), not
 * in this service's tables: the jobs subgraph, which holds the backup store, reads them
 * (JobsItemsReader); tests pass one of their own.
 */
export interface ItemsReader {
  list(snapshot: Snapshot, request: ItemsPageRequest): Promise<Page<SnapshotItemRecord>>;
}

/** Items held in memory per manifest key: for tests, and a model for an engine-backed reader. */
export class InMemoryItemsReader implements ItemsReader {
  readonly #items = new Map<string, SnapshotItemRecord[]>();

  set(manifestKey: string, items: SnapshotItemRecord[]): this {
    this.#items.set(manifestKey, items);
    return this;
  }

  async list(snapshot: Snapshot, request: ItemsPageRequest): Promise<Page<SnapshotItemRecord>> {
    return pageItems(this.#items.get(snapshot.manifestKey) ?? [], snapshot.manifestKey, request);
  }
}
