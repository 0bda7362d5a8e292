import { DateTime } from '@listbackup/lib/scalars';
import { ref } from '@listbackup/lib/federation';
import type { Resolvers } from '../generated/resolvers.ts';
import { getJob, listRecentJobs } from '../services/job-service.ts';

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    job: (_, { id }, ctx) => getJob(ctx, id),
  },
  Job: {
    __resolveReference: ({ id }, ctx) => getJob(ctx, id),
    account: (job) => ref(job.accountId),
    source: (job) => (job.sourceId ? ref(job.sourceId) : null),
  },
  Account: {
    jobs: ({ id }, _, ctx) => listRecentJobs(ctx, id),
  },
};
