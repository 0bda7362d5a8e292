import { actorOf } from '@listbackup/lib/events/contract';
import { authorize } from '@listbackup/lib/access';
import { AppError, NotFoundError, ValidationError } from '@listbackup/lib/errors';
import type { JobsContext } from '../context.ts';
import type { Job, JobKind } from '../entities/job.ts';
import type { SnapshotJobParams } from '../backup/handlers.ts';
import { downloadLink, type StoredDownload } from '../backup/downloads.ts';
import type { SnapshotRef } from '../backup/snapshot-lookup.ts';
import { missingItems } from '../backup/items-reader.ts';
import { enqueueJob, triggerOf } from './job-service.ts';
import { isUuid } from '@listbackup/lib/ids';
import { assertAuthorized } from '@listbackup/lib/platforms-client';

const MAX_ITEMS = 10_000;

function backupUnavailable(ctx: JobsContext): NonNullable<JobsContext['snapshotJobs']> {
  if (!ctx.snapshotJobs) throw new AppError('BACKUPS_UNAVAILABLE', 'Exports, restores and verification are not available on this server');
  return ctx.snapshotJobs;
}

/**
 * Queues a job on a snapshot the caller can read, if the caller may run jobs on its account and
 * `check` (what else the job names) passes: nothing is queued otherwise.
 */
async function snapshotJob(
  ctx: JobsContext,
  snapshotId: string,
  kind: JobKind,
  params: Omit<SnapshotJobParams, 'snapshotId' | 'engineSnapshotId' | 'sourceName'>,
  check?: (snapshot: SnapshotRef) => Promise<void>,
): Promise<Job> {
  const deps = backupUnavailable(ctx);
  if (params.items) {
    if (params.items.length === 0) throw new ValidationError('items: name at least one item, or leave items out for all of them', 'items');
    if (params.items.length > MAX_ITEMS) throw new ValidationError(`items: at most ${MAX_ITEMS} paths at a time`, 'items');
  }
  const snapshot = await deps.lookup.get(ctx, snapshotId);
  await authorize(ctx, 'jobs:run', snapshot.accountId, 'Snapshot');
  await check?.(snapshot);
  if (params.items) await checkItems(deps, snapshot, params.items);
  const { job } = await enqueueJob(ctx.em, ctx.queue, {
    accountId: snapshot.accountId,
    sourceId: snapshot.sourceId,
    kind,
    params: { ...params, items: params.items ? [...new Set(params.items)] : null, snapshotId: snapshot.id, engineSnapshotId: snapshot.jobId, sourceName: snapshot.sourceName },
    trigger: triggerOf(ctx.principal),
    actor: actorOf(ctx),
  });
  return job;
}

/** Every item a job names must be in the snapshot: the export or restore would fail on the first one that is not. */
async function checkItems(deps: NonNullable<JobsContext['snapshotJobs']>, snapshot: SnapshotRef, items: readonly string[]): Promise<void> {
  const missing = await missingItems(deps.repository, snapshot.accountId, snapshot.jobId, items);
  if (missing === null) throw new NotFoundError('Snapshot');
  if (missing.length === 0) return;
  throw new AppError('BAD_USER_INPUT', `items: the snapshot holds no item at ${missing.map((path) => `"${path}"`).join(', ')}`, { reason: 'UNKNOWN_ITEM', field: 'items', missing });
}

export function exportSnapshotJob(ctx: JobsContext, snapshotId: string, format: 'TAR_ZSTD' | 'ZIP', items?: string[] | null): Promise<Job> {
  return snapshotJob(ctx, snapshotId, 'EXPORT', { format, items: items ?? null });
}

export function restoreSnapshotJob(ctx: JobsContext, snapshotId: string, target: 'DOWNLOAD' | 'PLATFORM', items?: string[] | null, connectionId?: string | null): Promise<Job> {
  if (connectionId != null && !isUuid(connectionId)) throw new ValidationError('connectionId: not a connection id', 'connectionId');
  if (connectionId != null && target !== 'PLATFORM') throw new ValidationError('connectionId: only a PLATFORM restore writes to a connection', 'connectionId');
  const check = target === 'PLATFORM' ? (snapshot: SnapshotRef) => checkRestoreTarget(ctx, snapshot, connectionId ?? null) : undefined;
  return snapshotJob(ctx, snapshotId, 'RESTORE', { target, items: items ?? null, connectionId: connectionId ?? null }, check);
}

/**
 * What a PLATFORM restore writes to, checked before it is queued: a live source, and a connection
 * of the snapshot's account (the source's, or the one named) that the caller sees, that is
 * authorized and on the source's platform. Another tenant's connection, or none, is NOT_FOUND.
 */
async function checkRestoreTarget(ctx: JobsContext, snapshot: SnapshotRef, connectionId: string | null): Promise<void> {
  const connections = ctx.connections;
  if (!connections) throw new AppError('BACKUPS_UNAVAILABLE', 'Restores to a platform are not available on this server');
  if (snapshot.sourceDeleted) {
    throw new AppError('BAD_USER_INPUT', 'The snapshot’s source was deleted; restore it to a download instead', { reason: 'SOURCE_DELETED', field: 'snapshotId' });
  }
  const target = await connections.inAccount(ctx, snapshot.accountId, connectionId ?? snapshot.connectionId);
  assertAuthorized(target, 'restoring to it');
  if (target.id === snapshot.connectionId) return;
  const origin = await connections.getConnection(ctx, snapshot.connectionId);
  if (origin && origin.platform.slug !== target.platform.slug) {
    throw new AppError('BAD_USER_INPUT', `The snapshot holds ${origin.platform.slug} data; restore it to a ${origin.platform.slug} connection`, {
      reason: 'CONNECTION_PLATFORM_MISMATCH',
      field: 'connectionId',
    });
  }
}

export function verifySnapshotJob(ctx: JobsContext, snapshotId: string, sample?: number | null): Promise<Job> {
  const share = sample ?? 1;
  if (!(share > 0 && share <= 1)) throw new ValidationError('sample: a share of the chunks greater than 0 and at most 1', 'sample');
  return snapshotJob(ctx, snapshotId, 'VERIFY', { sample: share });
}

/** A finished export's link, signed on read; the Job itself was already authorized. */
export function jobDownload(ctx: JobsContext, job: Job) {
  const download = job.status === 'SUCCEEDED' ? (job.result?.download as StoredDownload | undefined) : undefined;
  if (!download || !ctx.snapshotJobs) return null;
  return { ...download, ...downloadLink(ctx.snapshotJobs.downloadKeys[0], ctx.snapshotJobs.publicUrl, job, download) };
}

/** What a VERIFY found: when it SUCCEEDED, or FAILED on damage (the report names it). */
export function jobVerification(job: Job) {
  const report = job.status === 'SUCCEEDED' || job.status === 'FAILED' ? (job.result?.verification as Record<string, unknown> | undefined) : undefined;
  return report ? { sampledBy: 'CHUNKS', ...report } : null;
}
