import DataLoader from 'dataloader';
import type { SubgraphContext } from '@listbackup/lib/subgraph';
import type { Em } from '@listbackup/lib/db';
import { byId, groupBy } from '@listbackup/lib/loaders';
import { Source } from './entities/source.ts';

export interface SourcesContext extends SubgraphContext {
  loaders: ReturnType<typeof createLoaders>;
}

// Ids come from clients and other subgraphs; a malformed one is simply not found (Postgres would reject it).
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const uuids = (ids: readonly string[]) => ids.filter((id) => UUID.test(id));

export function createLoaders(em: Em) {
  return {
    source: new DataLoader<string, Source | undefined>(async (ids) => byId(ids, await em.find(Source, { id: { $in: uuids(ids) } }))),
    sourcesByAccount: new DataLoader<string, Source[]>(async (accountIds) =>
      groupBy(accountIds, await em.find(Source, { accountId: { $in: uuids(accountIds) } }, { orderBy: { name: 'asc', id: 'asc' } }), (source) => source.accountId),
    ),
  };
}

export const extendContext = (base: SubgraphContext): SourcesContext => ({ ...base, loaders: createLoaders(base.em) });
