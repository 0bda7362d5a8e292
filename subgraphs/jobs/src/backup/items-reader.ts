import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { readJson, sendJson } from '@listbackup/lib/http';
import { MAX_PAGE_SIZE, type Page } from '@listbackup/lib/pagination';
import { type ItemsPageRequest, pageItems, type SnapshotItemRecord } from '@listbackup/lib/snapshot-items';
import type { InternalRoute } from '@listbackup/lib/subgraph';
import { readSnapshot, type Repository, SnapshotNotFoundError, snapshotItems } from '@listbackup/engine';
import { itemMetadata, snapshotIdOf } from './engine-runtime.ts';

export const SNAPSHOT_ITEMS_PATH = '/internal/snapshots/items';

const ItemsRequest = z.object({
  accountId: z.uuid(),
  manifestKey: z.string().min(1).max(500),
  first: z.number().int().positive().max(MAX_PAGE_SIZE).nullish(),
  after: z.string().max(2000).nullish(),
  search: z.string().max(500).nullish(),
});

/**
 * A page of a snapshot's items, read from its manifest (streamed page by page, so only the page
 * asked for is kept in memory). Null when the key does not name a snapshot of that account: no
 * catalogue row can point into another account's store.
 */
export async function listSnapshotItems(repository: Repository, accountId: string, manifestKey: string, request: ItemsPageRequest): Promise<Page<SnapshotItemRecord> | null> {
  const id = snapshotIdOf(accountId, manifestKey);
  if (!id) return null;
  const account = await repository.account(accountId);
  let header: Awaited<ReturnType<typeof readSnapshot>>;
  try {
    header = await readSnapshot(account, id);
  } catch (error) {
    if (error instanceof SnapshotNotFoundError) return null;
    throw error;
  }
  async function* records(): AsyncGenerator<SnapshotItemRecord> {
    for await (const item of snapshotItems(account, header)) {
      const meta = itemMetadata(item.metadata);
      yield { path: item.path, name: item.name, resource: meta?.resource ?? null, size: item.size, contentType: meta?.contentType ?? null, modifiedAt: item.modifiedAt ?? null };
    }
  }
  return pageItems(records(), manifestKey, request);
}

/**
 * Which of `paths` the snapshot does not hold (at most `limit` of them), read from its manifest;
 * null when the store has no such snapshot. Asked before an export or restore of chosen items is queued.
 */
export async function missingItems(repository: Repository, accountId: string, engineSnapshotId: string, paths: readonly string[], limit = 20): Promise<string[] | null> {
  const account = await repository.account(accountId);
  let header: Awaited<ReturnType<typeof readSnapshot>>;
  try {
    header = await readSnapshot(account, engineSnapshotId);
  } catch (error) {
    if (error instanceof SnapshotNotFoundError) return null;
    throw error;
  }
  const wanted = new Set(paths);
  for await (const item of snapshotItems(account, header)) {
    if (wanted.delete(item.path) && wanted.size === 0) break;
  }
  return [...wanted].slice(0, limit);
}

/**
 * `POST /internal/snapshots/items` for the sources subgraph's `Snapshot.items`: it authorizes the
 * caller on the catalogue row and sends that row's account and manifest key. The backup store and
 * its keys stay in this subgraph.
 */
export function snapshotItemsRoute(repository: Repository): InternalRoute {
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'POST only' }, { allow: 'POST' });
    const parsed = ItemsRequest.safeParse(await readJson(req).catch(() => undefined));
    if (!parsed.success) return sendJson(res, 400, { error: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ') });
    const { accountId, manifestKey, ...request } = parsed.data;
    const page = await listSnapshotItems(repository, accountId, manifestKey, request);
    if (!page) return sendJson(res, 404, { code: 'ITEMS_UNAVAILABLE', message: 'The items of this snapshot cannot be read' });
    sendJson(res, 200, page);
  };
}
