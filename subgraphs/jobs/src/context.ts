import DataLoader from 'dataloader';
import type { SubgraphContext } from '@listbackup/lib/subgraph';
import type { Em } from '@listbackup/lib/db';
import { Job } from './entities/job.ts';
import { byId, groupBy } from '@listbackup/lib/loaders';

export interface JobsContext extends SubgraphContext {
  loaders: ReturnType<typeof createLoaders>;
}

// Ids come from clients and other subgraphs; a malformed one is simply not found (Postgres would reject it).
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const uuids = (ids: readonly string[]) => ids.filter((id) => UUID.test(id));

export function createLoaders(em: Em) {
  return {
    job: new DataLoader<string, Job | undefined>(async (ids) => byId(ids, await em.find(Job, { id: { $in: uuids(ids) } }))),
    recentJobsByAccount: new DataLoader<string, Job[]>(async (accountIds) =>
      groupBy(accountIds, await em.find(Job, { accountId: { $in: uuids(accountIds) } }, { orderBy: { createdAt: 'desc', id: 'desc' } }), (job) => job.accountId),
    ),
  };
}

export const extendContext = (base: SubgraphContext): JobsContext => ({ ...base, loaders: createLoaders(base.em) });
