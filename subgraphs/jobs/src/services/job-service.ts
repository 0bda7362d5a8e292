import { authorize } from '@listbackup/lib/access';
import { NotFoundError } from '@listbackup/lib/errors';
import type { JobsContext } from '../context.ts';
import type { Em } from '@listbackup/lib/db';
import { Job } from '../entities/job.ts';

/** A job the caller may read; any other is "not found", whether it exists or not. */
export async function getJob(ctx: JobsContext, id: string): Promise<Job> {
  const job = await ctx.loaders.job.load(id);
  if (!job) throw new NotFoundError('Job');
  await authorize(ctx, 'jobs:read', job.accountId, 'Job');
  return job;
}

export async function listRecentJobs(ctx: JobsContext, accountId: string): Promise<Job[]> {
  await authorize(ctx, 'jobs:read', accountId);
  return ctx.loaders.recentJobsByAccount.load(accountId);
}

export interface NewJob {
  accountId: string;
  sourceId?: string | null;
  kind: Job['kind'];
  status?: Job['status'];
  createdAt?: Date;
}

/** Writes a job without any authorization or queueing: for seeding and tests. */
export async function createJobRecord(em: Em, input: NewJob): Promise<Job> {
  const job = em.create(Job, {
    accountId: input.accountId,
    sourceId: input.sourceId ?? null,
    kind: input.kind,
    status: input.status ?? 'QUEUED',
    createdAt: input.createdAt ?? new Date(),
  });
  await em.persist(job).flush();
  return job;
}
