import DataLoader from 'dataloader';
import type { SubgraphContext } from '@listbackup/lib/subgraph';
import type { Em } from '@listbackup/lib/db';
import { Job } from './entities/job.ts';
import { byId, groupBy } from '@listbackup/lib/loaders';

export interface JobsContext extends SubgraphContext {
  loaders: ReturnType<typeof createLoaders>;
}

export function createLoaders(em: Em) {
  return {
    job: new DataLoader<string, Job | undefined>(async (ids) => byId(ids, await em.find(Job, { id: { $in: [...ids] } }))),
    recentJobsByAccount: new DataLoader<string, Job[]>(async (accountIds) =>
      groupBy(accountIds, await em.find(Job, { accountId: { $in: [...accountIds] } }, { orderBy: { createdAt: 'desc' } }), (job) => job.accountId),
    ),
  };
}

export const extendContext = (base: SubgraphContext): JobsContext => ({ ...base, loaders: createLoaders(base.em) });
