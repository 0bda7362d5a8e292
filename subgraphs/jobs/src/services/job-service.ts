import { randomUUID } from 'node:crypto';
import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import { authorize, can } from '@listbackup/lib/access';
import type { Principal } from '@listbackup/lib/principal';
import { AppError, NotFoundError } from '@listbackup/lib/errors';
import type { Em } from '@listbackup/lib/db';
import type { JobsContext } from '../context.ts';
import { ACTIVE_STATUSES, Job, type JobKind, type JobStatus, type TriggerKind } from '../entities/job.ts';
import { JobLog } from '../entities/job-log.ts';
import { notify, type JobQueue } from '../queue/job-queue.ts';
import { addLogLine, recordJobEvent } from './job-state.ts';
import type { Actor } from '@listbackup/lib/events/envelope';
import { actorOf, systemActor } from '@listbackup/lib/events/contract';
import { decodeCursor, decodeTimeCursor, encodeCursor, pageSize, principalKey, timeCursor, timeKey, toPage, type CursorScope, type Page, type ParentPageKey } from '@listbackup/lib/pagination';
import { isUuid } from '@listbackup/lib/ids';
import { assertAuthorized } from '@listbackup/lib/platforms-client';

/** A job the caller may read; any other is "not found", whether it exists or not. */
export async function getJob(ctx: JobsContext, id: string): Promise<Job> {
  const job = await ctx.loaders.job.load(id);
  if (!job) throw new NotFoundError('Job');
  await authorize(ctx, 'jobs:read', job.accountId, 'Job');
  return job;
}

/** A job the caller may read, or null (for nullable fields: "none" and "not yours" look the same). */
export async function findJob(ctx: JobsContext, id: string): Promise<Job | null> {
  const job = await ctx.loaders.job.load(id);
  return job && (await can(ctx, 'jobs:read', job.accountId)) ? job : null;
}

export interface JobListArgs {
  first?: number | null;
  after?: string | null;
  status?: JobStatus[] | null;
  kind?: JobKind[] | null;
}

export interface JobFilter {
  accountId?: string | null;
  sourceId?: string | null;
  status?: JobStatus[] | null;
  kind?: JobKind[] | null;
}

/** Jobs of one account (or of every account the caller can see), newest first. */
export async function listJobs(ctx: JobsContext, filter: JobFilter, first?: number | null, after?: string | null): Promise<Page<Job>> {
  const size = pageSize(first);
  const scope = { list: 'Query.jobs', owner: filter.accountId ?? principalKey(ctx.principal) };
  const cursor = decodeTimeCursor(scope, after);
  let accountIds: string[];
  if (filter.accountId) {
    await authorize(ctx, 'jobs:read', filter.accountId);
    accountIds = [filter.accountId];
  } else {
    const visible = await ctx.access.visibleAccounts();
    const allowed = await Promise.all(visible.map(async ({ accountId }) => ((await can(ctx, 'jobs:read', accountId)) ? accountId : null)));
    accountIds = allowed.filter((id): id is string => id !== null && isUuid(id));
  }
  if (accountIds.length === 0 || (filter.sourceId && !isUuid(filter.sourceId))) return toPage<Job>([], size, timeCursor(scope));
  const where: Record<string, unknown> = { accountId: { $in: accountIds } };
  if (filter.sourceId) where.sourceId = filter.sourceId;
  if (filter.status) where.status = { $in: filter.status };
  if (filter.kind) where.kind = { $in: filter.kind };
  if (cursor) where.$or = [{ createdAt: { $lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { $lt: cursor.id } }];
  const rows = await ctx.em.find(Job, where, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: size + 1 });
  return toPage(rows, size, timeCursor(scope));
}

const jobPageKey = (scope: CursorScope, size: number, args: JobListArgs): ParentPageKey => ({
  parentId: scope.owner,
  limit: size + 1,
  after: timeKey(scope, args.after),
  filters: { status: args.status ?? null, kind: args.kind ?? null },
});

export async function listAccountJobs(ctx: JobsContext, accountId: string, args: JobListArgs): Promise<Page<Job>> {
  await authorize(ctx, 'jobs:read', accountId);
  const size = pageSize(args.first);
  const scope = { list: 'Account.jobs', owner: accountId };
  const rows = await ctx.loaders.accountJobPages.load(jobPageKey(scope, size, args));
  return toPage(rows, size, timeCursor(scope));
}

/**
 * A source's jobs. Sources live in another subgraph, so the jobs themselves say whose they are: a
 * caller without access to that account gets "not found", and a source without jobs an empty page.
 */
export async function listSourceJobs(ctx: JobsContext, sourceId: string, args: JobListArgs): Promise<Page<Job>> {
  const size = pageSize(args.first);
  const scope = { list: 'Source.jobs', owner: sourceId };
  const rows = await ctx.loaders.sourceJobPages.load(jobPageKey(scope, size, args));
  for (const accountId of new Set(rows.map((job) => job.accountId))) await authorize(ctx, 'jobs:read', accountId, 'Source');
  return toPage(rows, size, timeCursor(scope));
}

/** The log of a job the caller already read (resolvers only reach a Job through getJob or an authorized list). */
export async function jobLog(ctx: JobsContext, job: Job, first?: number | null, after?: string | null): Promise<Page<JobLog>> {
  const size = pageSize(first, 100);
  const scope = { list: 'Job.log', owner: job.id };
  const key = decodeCursor(scope, after, (k) => k.length === 1 && Number.isSafeInteger(k[0]));
  const where: Record<string, unknown> = { jobId: job.id, accountId: job.accountId };
  if (key) where.id = { $gt: key[0] };
  const rows = await ctx.em.find(JobLog, where, { orderBy: { id: 'asc' }, limit: size + 1 });
  return toPage(rows, size, (line) => encodeCursor(scope, [line.id]));
}

export interface JobTriggerInfo {
  kind: TriggerKind;
  id?: string | null;
}

export function triggerOf(principal: Principal): JobTriggerInfo {
  if (principal.kind === 'user') return { kind: 'USER', id: principal.userId };
  if (principal.kind === 'apiKey') return { kind: 'API_KEY', id: principal.apiKeyId };
  return { kind: 'SYSTEM' };
}

const describeTrigger = (trigger: JobTriggerInfo) =>
  ({ USER: 'a member', API_KEY: 'an API key', SCHEDULE: 'the schedule', OPERATOR: 'an operator', SYSTEM: 'ListBackup', WEBHOOK: 'a webhook of the platform' })[trigger.kind];

/** Starts a backup of the source now (or answers the backup of it already queued or running); `full` reads every resource in full. */
export async function triggerSync(ctx: JobsContext, sourceId: string, options: { full?: boolean } = {}): Promise<Job> {
  const source = isUuid(sourceId) ? await ctx.sources.getSource(sourceId, ctx.requestId) : null;
  if (!source || source.deleted) throw new NotFoundError('Source');
  await authorize(ctx, 'jobs:run', source.accountId, 'Source');
  if (ctx.connections) assertAuthorized(await ctx.connections.inAccount(ctx, source.accountId, source.connectionId), 'backing it up', 'sourceId');
  const params: BackupJobParams = options.full ? { full: true } : {};
  const { job } = await enqueueJob(ctx.em, ctx.queue, { accountId: source.accountId, sourceId: source.id, kind: 'BACKUP', params, trigger: triggerOf(ctx.principal), actor: actorOf(ctx) });
  return job;
}

/** What a BACKUP job carries in `params`. */
export type BackupJobParams = {
  /** Read every resource in full, not only what changed since the last backup. */
  full?: boolean;
};

export interface EnqueueJobInput {
  accountId: string;
  sourceId?: string | null;
  kind: JobKind;
  params?: Record<string, unknown>;
  trigger: JobTriggerInfo;
  /** The same key never creates a second job (a scheduled occurrence, a client's retried request). */
  idempotencyKey?: string | null;
  /** Resume state carried over (for example from a job this one replaces). */
  startAfter?: Date;
  /** Who asked, for the job.created event; the scheduler or the jobs service itself when absent. */
  actor?: Actor;
}

/**
 * Creates a QUEUED job and its queue message in one transaction, with the job.created event in the
 * outbox. No authorization: callers authorize (or are trusted services). At most one backup per
 * source is active; asking for another answers the active one (`created: false`).
 */
export async function enqueueJob(em: Em, queue: JobQueue, input: EnqueueJobInput): Promise<{ job: Job; created: boolean }> {
  const existing = () => findExisting(em.fork(), input);
  try {
    return await em.fork().transactional(async (tx) => {
      const found = await findExisting(tx, input);
      if (found) return { job: found, created: false };
      const now = new Date();
      const job = tx.create(Job, {
        // Set here, not at flush: the queue message carries it before the row is written.
        id: randomUUID(),
        accountId: input.accountId,
        sourceId: input.sourceId ?? null,
        kind: input.kind,
        status: 'QUEUED',
        params: input.params ?? {},
        triggerKind: input.trigger.kind,
        triggeredById: input.trigger.id ?? null,
        idempotencyKey: input.idempotencyKey ?? null,
        attempts: 0,
        failures: 0,
        failuresWithoutProgress: 0,
        run: 1,
        progress: { itemsDone: 0, bytesDone: 0 },
        partialSuccess: false,
        createdAt: now,
        updatedAt: now,
      });
      await queue.enqueue(tx, job, input.startAfter);
      addLogLine(tx, job, `Queued by ${describeTrigger(input.trigger)}`);
      recordJobEvent(tx, 'job.created', job, input.actor ?? systemActor(input.trigger.kind === 'SCHEDULE' ? 'scheduler' : 'jobs'));
      return { job, created: true };
    });
  } catch (error) {
    // Another request created the same job between our look and our insert.
    if (error instanceof UniqueConstraintViolationException) {
      const found = await existing();
      if (found) return { job: found, created: false };
    }
    throw error;
  }
}

async function findExisting(em: Em, input: EnqueueJobInput): Promise<Job | null> {
  if (input.idempotencyKey) {
    const byKey = await em.findOne(Job, { idempotencyKey: input.idempotencyKey });
    if (byKey) return byKey;
  }
  if (input.kind === 'BACKUP' && input.sourceId) {
    return em.findOne(Job, { sourceId: input.sourceId, kind: 'BACKUP', status: { $in: [...ACTIVE_STATUSES] } });
  }
  return null;
}

/**
 * A queued job is cancelled at once; a running one is asked to stop (its worker hears it through
 * NOTIFY within moments) and turns CANCELLED when the worker has stopped cleanly.
 */
export async function cancelJob(ctx: JobsContext, id: string): Promise<Job> {
  const readable = await getJob(ctx, id);
  await authorize(ctx, 'jobs:run', readable.accountId, 'Job');
  return ctx.em.fork().transactional(async (tx) => {
    const job = await tx.findOneOrFail(Job, { id: readable.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (job.status === 'CANCELLED') return job;
    if (job.status === 'SUCCEEDED' || job.status === 'FAILED') {
      throw new AppError('BAD_USER_INPUT', `The job has already ${job.status === 'SUCCEEDED' ? 'succeeded' : 'failed'}`, { reason: 'JOB_FINISHED' });
    }
    const who = describeTrigger(triggerOf(ctx.principal));
    if (job.status === 'QUEUED') {
      await ctx.queue.withdraw(tx, job);
      job.status = 'CANCELLED';
      job.cancelRequestedAt = new Date();
      job.finishedAt = new Date();
      job.nextAttemptAt = null;
      addLogLine(tx, job, `Cancelled by ${who} before it ran`);
      recordJobEvent(tx, 'job.cancelled', job, actorOf(ctx));
    } else if (!job.cancelRequestedAt) {
      job.cancelRequestedAt = new Date();
      addLogLine(tx, job, `Cancellation requested by ${who}`);
      recordJobEvent(tx, 'job.cancelling', job, actorOf(ctx));
      await notify(tx, `cancel:${job.id}`);
    }
    return job;
  });
}

/** Runs a FAILED or CANCELLED job again: the same job, a new attempt, a fresh retry budget. */
export async function retryJob(ctx: JobsContext, id: string): Promise<Job> {
  const readable = await getJob(ctx, id);
  await authorize(ctx, 'jobs:run', readable.accountId, 'Job');
  try {
    return await ctx.em.fork().transactional(async (tx) => {
      const job = await tx.findOneOrFail(Job, { id: readable.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (job.status !== 'FAILED' && job.status !== 'CANCELLED') {
        throw new AppError('BAD_USER_INPUT', 'Only a failed or cancelled job can be retried', { reason: 'JOB_NOT_RETRYABLE' });
      }
      await requeueJob(tx, ctx.queue, job, `Retried by ${describeTrigger(triggerOf(ctx.principal))}`, actorOf(ctx));
      return job;
    });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) {
      throw new AppError('BAD_USER_INPUT', 'Another backup of this source is queued or running', { reason: 'BACKUP_ALREADY_ACTIVE' });
    }
    throw error;
  }
}

/**
 * Puts a finished job back in the queue (a retry by a member, or an operator's redrive): a new run,
 * the retry budget reset, any dead-lettered message of it removed. Resumes from its checkpoint.
 */
export async function requeueJob(tx: Em, queue: JobQueue, job: Job, note: string, actor?: Actor): Promise<void> {
  job.status = 'QUEUED';
  job.run += 1;
  job.failures = 0;
  job.failuresWithoutProgress = 0;
  job.failureType = null;
  job.failureReason = null;
  job.finishedAt = null;
  job.cancelRequestedAt = null;
  job.nextAttemptAt = null;
  job.partialSuccess = false;
  job.result = null;
  job.workerId = null;
  await tx.flush();
  await queue.enqueue(tx, job);
  await queue.clearDeadLetters(tx, job.id);
  addLogLine(tx, job, note);
  recordJobEvent(tx, 'job.requeued', job, actor);
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
  const createdAt = input.createdAt ?? new Date();
  const job = em.create(Job, {
    accountId: input.accountId,
    sourceId: input.sourceId ?? null,
    kind: input.kind,
    status: input.status ?? 'QUEUED',
    params: {},
    triggerKind: 'SYSTEM',
    attempts: 0,
    failures: 0,
    failuresWithoutProgress: 0,
    run: 1,
    progress: { itemsDone: 0, bytesDone: 0 },
    partialSuccess: false,
    createdAt,
    updatedAt: createdAt,
  });
  await em.persist(job).flush();
  return job;
}
