import DataLoader from 'dataloader';
import type { SubgraphContext } from '@listbackup/lib/subgraph';
import type { Em } from '@listbackup/lib/db';
import { byId } from '@listbackup/lib/loaders';
import { Job } from './entities/job.ts';
import { SourceStats } from './entities/source-stats.ts';
import type { JobQueue } from './queue/job-queue.ts';
import type { SourcesClient } from './clients/sources-client.ts';
import type { SnapshotLookup } from './backup/snapshot-lookup.ts';
import { isUuid } from '@listbackup/lib/ids';
import { loadJobPages, type JobListKey } from './services/job-lists.ts';

/** What the jobs services need beyond the request: the queue and the sources subgraph. */
export interface JobsDeps {
  queue: JobQueue;
  sources: SourcesClient;
  /** Export, restore and verify: present when this server has backup storage configured. */
  snapshotJobs?: {
    lookup: SnapshotLookup;
    /** Signs download links (see backup/downloads.ts). */
    downloadKey: Buffer;
    /** The public origin download links point at (the gateway). */
    publicUrl: string;
  };
}

export interface JobsContext extends SubgraphContext, JobsDeps {
  loaders: ReturnType<typeof createLoaders>;
}

export function createLoaders(em: Em) {
  return {
    job: new DataLoader<string, Job | undefined>(async (ids) => byId(ids, await em.find(Job, { id: { $in: ids.filter(isUuid) } }))),
    /** A source's analytics facts (account, schedule, last backups), by source id. */
    sourceStats: new DataLoader<string, SourceStats | undefined>(async (ids) => {
      const rows = await em.find(SourceStats, { sourceId: { $in: ids.filter(isUuid) } });
      const index = new Map(rows.map((row) => [row.sourceId, row]));
      return ids.map((id) => index.get(id));
    }),
    /** Pages of jobs per account or per source: one SQL query per batch, whatever the number of parents. */
    jobPages: new DataLoader<JobListKey, Job[], string>((keys) => loadJobPages(em, keys), { cacheKeyFn: (key) => JSON.stringify(key) }),
  };
}

export const contextExtender =
  (deps: JobsDeps) =>
  (base: SubgraphContext): JobsContext => ({ ...base, ...deps, loaders: createLoaders(base.em) });
