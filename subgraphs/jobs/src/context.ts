import DataLoader from 'dataloader';
import type { SubgraphContext } from '@listbackup/lib/subgraph';
import type { Em } from '@listbackup/lib/db';
import { byId } from '@listbackup/lib/loaders';
import { Job } from './entities/job.ts';
import { SourceStats } from './entities/source-stats.ts';
import type { JobQueue } from './queue/job-queue.ts';
import type { SourcesClient } from './clients/sources-client.ts';
import type { SnapshotLookup } from './backup/snapshot-lookup.ts';
import type { PlatformsClient } from '@listbackup/lib/platforms-client';
import type { Repository } from '@listbackup/engine';
import { isUuid } from '@listbackup/lib/ids';
import { parentPageLoader, type ParentList } from '@listbackup/lib/pagination';

/** What the jobs services need beyond the request: the queue and the sources subgraph. */
export interface JobsDeps {
  queue: JobQueue;
  sources: SourcesClient;
  /**
   * Where a backup's connection (triggerSync) and a PLATFORM restore's are checked before anything
   * is queued; without it, backups are queued unchecked and platform restores are unavailable.
   */
  connections?: PlatformsClient;
  /** Export, restore and verify: present when this server has backup storage configured. */
  snapshotJobs?: {
    lookup: SnapshotLookup;
    /** Signs download links (see backup/downloads.ts). */
    downloadKeys: readonly Buffer[];
    /** The public origin download links point at (the gateway). */
    publicUrl: string;
    /** The backup store, where the items a job names are looked up before it is queued. */
    repository: Repository;
  };
}

export interface JobsContext extends SubgraphContext, JobsDeps {
  loaders: ReturnType<typeof createLoaders>;
}

/** An account's or a source's jobs, newest first, of some statuses and kinds when asked. */
const jobsBy = (parent: string): ParentList => ({ table: '"jobs"."jobs"', parent, order: ['created_at', 'id'], descending: true, filters: ['status', 'kind'] });
export const JOBS_OF_ACCOUNT = jobsBy('account_id');
export const JOBS_OF_SOURCE = jobsBy('source_id');

export function createLoaders(em: Em) {
  return {
    job: new DataLoader<string, Job | undefined>(async (ids) => byId(ids, await em.find(Job, { id: { $in: ids.filter(isUuid) } }))),
    /** A source's analytics facts (account, schedule, last backups), by source id. */
    sourceStats: new DataLoader<string, SourceStats | undefined>(async (ids) => {
      const rows = await em.find(SourceStats, { sourceId: { $in: ids.filter(isUuid) } });
      const index = new Map(rows.map((row) => [row.sourceId, row]));
      return ids.map((id) => index.get(id));
    }),
    /** Pages of jobs per account and per source: one SQL query per batch, whatever the number of parents. */
    accountJobPages: parentPageLoader(em, JOBS_OF_ACCOUNT, Job),
    sourceJobPages: parentPageLoader(em, JOBS_OF_SOURCE, Job),
  };
}

export const contextExtender =
  (deps: JobsDeps) =>
  (base: SubgraphContext): JobsContext => ({ ...base, ...deps, loaders: createLoaders(base.em) });
