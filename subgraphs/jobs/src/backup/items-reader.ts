import { AppError } from '@listbackup/lib/errors';
import type { Snapshot } from '../../../sources/src/entities/snapshot.ts';
import { type ItemsPageRequest, type ItemsReader, pageItems, type SnapshotItemRecord } from '../../../sources/src/services/items-reader.ts';
import type { Page } from '@listbackup/lib/pagination';
import { readSnapshot, type Repository, snapshotItems } from '../engine/index.ts';
import { itemMetadata, snapshotIdOf } from './engine-runtime.ts';

/**
 * `Snapshot.items` over the engine's manifests: the sources subgraph gets one of these from the
 * process wiring (it reads the same store with the same keys as the workers). The manifest is
 * streamed page by page, so browsing a large snapshot keeps only the page asked for in memory.
 */
export class EngineItemsReader implements ItemsReader {
  readonly #repository: Repository;

  constructor(repository: Repository) {
    this.#repository = repository;
  }

  async list(snapshot: Snapshot, request: ItemsPageRequest): Promise<Page<SnapshotItemRecord>> {
    // The key must name a snapshot of the catalogue row's own account: no row can point elsewhere.
    const id = snapshotIdOf(snapshot.accountId, snapshot.manifestKey);
    if (!id) throw new AppError('ITEMS_UNAVAILABLE', 'The items of this snapshot cannot be read');
    const account = await this.#repository.account(snapshot.accountId);
    const header = await readSnapshot(account, id);
    async function* records(): AsyncGenerator<SnapshotItemRecord> {
      for await (const item of snapshotItems(account, header)) {
        const meta = itemMetadata(item.metadata);
        yield { path: item.path, name: item.name, resource: meta?.resource ?? null, size: item.size, contentType: meta?.contentType ?? null, modifiedAt: item.modifiedAt ?? null };
      }
    }
    return pageItems(records(), request);
  }
}
