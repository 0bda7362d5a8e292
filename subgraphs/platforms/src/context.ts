import DataLoader from 'dataloader';
import type { SubgraphContext } from '@listbackup/lib/subgraph';
import type { Em } from '@listbackup/lib/db';
import { byId } from '@listbackup/lib/loaders';
import { selectParentPages, type ParentList, type ParentPageKey } from '@listbackup/lib/pagination';
import { Platform } from './entities/platform.ts';
import { Connection } from './entities/connection.ts';
import type { PlatformsRuntime } from './runtime.ts';
import { isUuid } from '@listbackup/lib/ids';

export interface PlatformsContext extends SubgraphContext {
  loaders: ReturnType<typeof createLoaders>;
  platforms: PlatformsRuntime;
}

// Ids come from clients and other subgraphs; a malformed one is simply not found (Postgres would reject it).
const uuids = (ids: readonly string[]) => ids.filter((id) => isUuid(id));

/** An account's connections, oldest first (the index `connections_account_created_idx` serves it). */
const CONNECTIONS_BY_ACCOUNT: ParentList = { table: '"platforms"."connections"', parent: 'account_id', order: ['created_at', 'id'] };

export function createLoaders(em: Em) {
  return {
    platform: new DataLoader<string, Platform | undefined>(async (ids) => byId(ids, await em.find(Platform, { id: { $in: uuids(ids) } }))),
    connection: new DataLoader<string, Connection | undefined>(async (ids) => byId(ids, await em.find(Connection, { id: { $in: uuids(ids) } }))),
    connectionPages: new DataLoader<ParentPageKey, Connection[], string>(
      async (keys) => (await selectParentPages(em, CONNECTIONS_BY_ACCOUNT, keys)).map((rows) => rows.map((row) => em.map(Connection, row))),
      { cacheKeyFn: (key) => JSON.stringify(key) },
    ),
  };
}

export const contextExtender =
  (platforms: PlatformsRuntime) =>
  (base: SubgraphContext): PlatformsContext => ({ ...base, loaders: createLoaders(base.em), platforms });
