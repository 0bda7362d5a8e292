import { DateScalar, DateTime } from '@listbackup/lib/scalars';
import { ref } from '@listbackup/lib/federation';
import type { Resolvers } from '../generated/resolvers.ts';
import { accountBreakdown, accountJobAnalytics, sourceJobAnalytics } from '../services/job-analytics.ts';
import { cancelJob, findJob, getJob, jobLog, listAccountJobs, listJobs, listSourceJobs, retryJob, triggerSync } from '../services/job-service.ts';
import { progressView } from '../services/job-state.ts';
import { exportSnapshotJob, jobDownload, jobVerification, restoreSnapshotJob, verifySnapshotJob } from '../services/snapshot-jobs.ts';
import { jobGarbageCollection, jobTiering } from '../services/maintenance.ts';
import { subscriptionResolvers } from './subscription.ts';

export const resolvers: Resolvers = {
  DateTime,
  Date: DateScalar,
  Query: {
    job: (_, { id }, ctx) => getJob(ctx, id),
    jobs: (_, { filter, first, after }, ctx) => listJobs(ctx, filter ?? {}, first, after),
  },
  Mutation: {
    triggerSync: (_, { sourceId, full }, ctx) => triggerSync(ctx, sourceId, { full }),
    cancelJob: (_, { id }, ctx) => cancelJob(ctx, id),
    retryJob: (_, { id }, ctx) => retryJob(ctx, id),
    exportSnapshot: (_, { snapshotId, format, items }, ctx) => exportSnapshotJob(ctx, snapshotId, format ?? 'TAR_ZSTD', items),
    restoreSnapshot: (_, { snapshotId, target, items, connectionId }, ctx) => restoreSnapshotJob(ctx, snapshotId, target, items, connectionId),
    verifySnapshot: (_, { snapshotId, sample }, ctx) => verifySnapshotJob(ctx, snapshotId, sample),
  },
  Job: {
    __resolveReference: ({ id }, ctx) => getJob(ctx, id),
    account: (job) => ref(job.accountId),
    source: (job) => (job.sourceId ? ref(job.sourceId) : null),
    progress: (job) => progressView(job.progress),
    cancelRequested: (job) => job.cancelRequestedAt != null,
    triggeredBy: (job) => ({ kind: job.triggerKind, id: job.triggeredById ?? null }),
    log: (job, { first, after }, ctx) => jobLog(ctx, job, first, after),
    download: (job, _, ctx) => jobDownload(ctx, job),
    verification: (job) => jobVerification(job) as never,
    garbageCollection: (job) => jobGarbageCollection(job),
    tiering: (job) => jobTiering(job),
  },
  Source: {
    jobs: ({ id }, args, ctx) => listSourceJobs(ctx, id, args),
    jobAnalytics: ({ id }, { range, kind }, ctx) => sourceJobAnalytics(ctx, id, { range, kind }),
  },
  Account: {
    jobs: ({ id }, args, ctx) => listAccountJobs(ctx, id, args),
    jobAnalytics: ({ id }, { range, kind, includeSubAccounts }, ctx) => accountJobAnalytics(ctx, id, { range, kind, includeSubAccounts }),
  },
  JobAnalytics: {
    byAccount: (analytics, { first, after }, ctx) => accountBreakdown(ctx, analytics, first, after),
  },
  RecoveryPoint: {
    lastSuccessfulJob: (point, _, ctx) => (point.lastSuccessfulJobId ? findJob(ctx, point.lastSuccessfulJobId) : null),
  },
  ...subscriptionResolvers,
};
