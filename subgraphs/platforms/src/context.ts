import DataLoader from 'dataloader';
import type { SubgraphContext } from '@listbackup/lib/subgraph';
import type { Em } from '@listbackup/lib/db';
import { byId } from '@listbackup/lib/loaders';
import { parentPageLoader, type ParentList } from '@listbackup/lib/pagination';
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
    connectionPages: parentPageLoader(em, CONNECTIONS_BY_ACCOUNT, Connection),
  };
}

export const contextExtender =
  (platforms: PlatformsRuntime) =>
  (base: SubgraphContext): PlatformsContext => ({ ...base, loaders: createLoaders(base.em), platforms });
