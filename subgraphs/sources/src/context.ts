import DataLoader from 'dataloader';
import type { SubgraphContext } from '@listbackup/lib/subgraph';
import type { Em } from '@listbackup/lib/db';
import { byId } from '@listbackup/lib/loaders';
import { parentPageLoader, type ParentList } from '@listbackup/lib/pagination';
import { Source } from './entities/source.ts';
import { Snapshot } from './entities/snapshot.ts';
import type { PlatformsClient } from '@listbackup/lib/platforms-client';
import type { ItemsReader } from './services/items-reader.ts';
import { isUuid } from '@listbackup/lib/ids';

/** What the sources services need beyond the request. */
export interface SourcesDeps {
  platforms: PlatformsClient;
  items: ItemsReader;
}

export interface SourcesContext extends SubgraphContext, SourcesDeps {
  loaders: ReturnType<typeof createLoaders>;
}

/** An account's live sources by name (the index `sources_account_name_idx` serves it). */
const SOURCES_BY_ACCOUNT: ParentList = { table: '"sources"."sources"', parent: 'account_id', order: ['name', 'id'], where: '"deleted_at" is null' };

/** A source's snapshots, newest first. */
const SNAPSHOTS_OF_SOURCE: ParentList = { table: '"sources"."snapshots"', parent: 'source_id', order: ['created_at', 'id'], descending: true };

export function createLoaders(em: Em) {
  return {
    /** Including deleted sources (lists leave them out; references to them remain). */
    source: new DataLoader<string, Source | undefined>(async (ids) => byId(ids, await em.find(Source, { id: { $in: ids.filter(isUuid) } }))),
    sourcePages: parentPageLoader(em, SOURCES_BY_ACCOUNT, Source),
    snapshot: new DataLoader<string, Snapshot | undefined>(async (ids) => byId(ids, await em.find(Snapshot, { id: { $in: ids.filter(isUuid) } }))),
    snapshotByJob: new DataLoader<string, Snapshot | undefined>(async (jobIds) => {
      const rows = await em.find(Snapshot, { jobId: { $in: jobIds.filter(isUuid) } });
      const byJob = new Map(rows.map((row) => [row.jobId, row]));
      return jobIds.map((id) => byJob.get(id));
    }),
    snapshotPages: parentPageLoader(em, SNAPSHOTS_OF_SOURCE, Snapshot),
  };
}

export const contextExtender =
  (deps: SourcesDeps) =>
  (base: SubgraphContext): SourcesContext => ({ ...base, ...deps, loaders: createLoaders(base.em) });
