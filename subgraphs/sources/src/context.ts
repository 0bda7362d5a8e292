import DataLoader from 'dataloader';
import type { SubgraphContext } from '@listbackup/lib/subgraph';
import type { Em } from '@listbackup/lib/db';
import { byId, groupBy } from '@listbackup/lib/loaders';
import { Source } from './entities/source.ts';
import { Snapshot } from './entities/snapshot.ts';
import type { PlatformsClient } from './clients/platforms-client.ts';
import type { ItemsReader } from './services/items-reader.ts';
import { isUuid } from '@listbackup/lib/ids';
import { loadSnapshotPages, type SnapshotListKey } from './services/snapshot-lists.ts';

/** What the sources services need beyond the request. */
export interface SourcesDeps {
  platforms: PlatformsClient;
  items: ItemsReader;
}

export interface SourcesContext extends SubgraphContext, SourcesDeps {
  loaders: ReturnType<typeof createLoaders>;
}

export function createLoaders(em: Em) {
  return {
    /** Including deleted sources (lists leave them out; references to them remain). */
    source: new DataLoader<string, Source | undefined>(async (ids) => byId(ids, await em.find(Source, { id: { $in: ids.filter(isUuid) } }))),
    sourcesByAccount: new DataLoader<string, Source[]>(async (accountIds) =>
      groupBy(accountIds, await em.find(Source, { accountId: { $in: accountIds.filter(isUuid) }, deletedAt: null }, { orderBy: { name: 'asc', id: 'asc' } }), (source) => source.accountId),
    ),
    snapshot: new DataLoader<string, Snapshot | undefined>(async (ids) => byId(ids, await em.find(Snapshot, { id: { $in: ids.filter(isUuid) } }))),
    snapshotByJob: new DataLoader<string, Snapshot | undefined>(async (jobIds) => {
      const rows = await em.find(Snapshot, { jobId: { $in: jobIds.filter(isUuid) } });
      const byJob = new Map(rows.map((row) => [row.jobId, row]));
      return jobIds.map((id) => byJob.get(id));
    }),
    snapshotPages: new DataLoader<SnapshotListKey, Snapshot[], string>((keys) => loadSnapshotPages(em, keys), { cacheKeyFn: (key) => JSON.stringify(key) }),
  };
}

export const contextExtender =
  (deps: SourcesDeps) =>
  (base: SubgraphContext): SourcesContext => ({ ...base, ...deps, loaders: createLoaders(base.em) });
