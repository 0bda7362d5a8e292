import { actorOf } from '@listbackup/lib/events/contract';
import { authorize } from '@listbackup/lib/access';
import { AppError, ValidationError } from '@listbackup/lib/errors';
import type { JobsContext } from '../context.ts';
import type { Job, JobKind } from '../entities/job.ts';
import type { SnapshotJobParams } from '../backup/handlers.ts';
import { downloadLink, type StoredDownload } from '../backup/downloads.ts';
import { enqueueJob, triggerOf } from './job-service.ts';
import { isUuid } from '@listbackup/lib/ids';

const MAX_ITEMS = 10_000;

function backupUnavailable(ctx: JobsContext): NonNullable<JobsContext['snapshotJobs']> {
  if (!ctx.snapshotJobs) throw new AppError('BACKUPS_UNAVAILABLE', 'Exports, restores and verification are not available on this server');
  return ctx.snapshotJobs;
}

/** Queues a job on a snapshot the caller can read, if the caller may run jobs on its account. */
async function snapshotJob(ctx: JobsContext, snapshotId: string, kind: JobKind, params: Omit<SnapshotJobParams, 'snapshotId' | 'engineSnapshotId' | 'sourceName'>): Promise<Job> {
  const deps = backupUnavailable(ctx);
  if (params.items) {
    if (params.items.length === 0) throw new ValidationError('items: name at least one item, or leave items out for all of them', 'items');
    if (params.items.length > MAX_ITEMS) throw new ValidationError(`items: at most ${MAX_ITEMS} paths at a time`, 'items');
  }
  const snapshot = await deps.lookup.get(ctx, snapshotId);
  await authorize(ctx, 'jobs:run', snapshot.accountId, 'Snapshot');
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

export function exportSnapshotJob(ctx: JobsContext, snapshotId: string, format: 'TAR_ZSTD' | 'ZIP', items?: string[] | null): Promise<Job> {
  return snapshotJob(ctx, snapshotId, 'EXPORT', { format, items: items ?? null });
}

export function restoreSnapshotJob(ctx: JobsContext, snapshotId: string, target: 'DOWNLOAD' | 'PLATFORM', items?: string[] | null, connectionId?: string | null): Promise<Job> {
  if (connectionId != null && !isUuid(connectionId)) throw new ValidationError('connectionId: not a connection id', 'connectionId');
  if (connectionId != null && target !== 'PLATFORM') throw new ValidationError('connectionId: only a PLATFORM restore writes to a connection', 'connectionId');
  return snapshotJob(ctx, snapshotId, 'RESTORE', { target, items: items ?? null, connectionId: connectionId ?? null });
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
  return { ...download, ...downloadLink(ctx.snapshotJobs.downloadKey, ctx.snapshotJobs.publicUrl, job, download) };
}

export function jobVerification(job: Job) {
  return job.status === 'SUCCEEDED' ? ((job.result?.verification as Record<string, unknown> | undefined) ?? null) : null;
}
