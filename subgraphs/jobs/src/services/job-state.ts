import type { Actor } from '@listbackup/lib/events/envelope';
import { createEvent, type EventOf } from '@listbackup/lib/events/contract';
import { enqueueEvent } from '@listbackup/lib/events/outbox';
import type { Em } from '@listbackup/lib/db';
import type { Job, StoredProgress } from '../entities/job.ts';
import { JobLog, type JobLogLevel } from '../entities/job-log.ts';

/** Progress as the API shows it: the stored counters plus the figures derived from them. */
export interface ProgressView {
  itemsDone: number;
  itemsTotal: number | null;
  bytesDone: number;
  bytesTotal: number | null;
  itemsPerSecond: number | null;
  bytesPerSecond: number | null;
  etaSeconds: number | null;
  percent: number | null;
  totalsEstimated: boolean;
}

export function progressView(progress: StoredProgress | null | undefined): ProgressView {
  const p = progress ?? { itemsDone: 0, bytesDone: 0 };
  const totalsEstimated = p.totalsEstimated === true && (p.itemsTotal != null || p.bytesTotal != null);
  // An estimate that turned out low grows with what was done rather than showing more than 100%.
  const atLeastDone = (total: number | null | undefined, done: number) => (total == null ? null : totalsEstimated ? Math.max(total, done) : total);
  const itemsTotal = atLeastDone(p.itemsTotal, p.itemsDone);
  const bytesTotal = atLeastDone(p.bytesTotal, p.bytesDone);
  const itemsPerSecond = p.itemsPerSecond ?? null;
  const bytesPerSecond = p.bytesPerSecond ?? null;
  // Bytes say more about time left than items (one large file is not one small record).
  let percent: number | null = null;
  let etaSeconds: number | null = null;
  if (bytesTotal && bytesTotal > 0) {
    percent = ratio(p.bytesDone, bytesTotal);
    if (bytesPerSecond && bytesPerSecond > 0) etaSeconds = Math.max(0, Math.ceil((bytesTotal - p.bytesDone) / bytesPerSecond));
  } else if (itemsTotal && itemsTotal > 0) {
    percent = ratio(p.itemsDone, itemsTotal);
    if (itemsPerSecond && itemsPerSecond > 0) etaSeconds = Math.max(0, Math.ceil((itemsTotal - p.itemsDone) / itemsPerSecond));
  }
  return { itemsDone: p.itemsDone, itemsTotal, bytesDone: p.bytesDone, bytesTotal, itemsPerSecond, bytesPerSecond, etaSeconds, percent, totalsEstimated };
}

const ratio = (done: number, total: number) => Math.min(100, Math.round((done / total) * 1000) / 10);

/**
 * A job's state as job.* events carry it: `__typename` and key for the gateway's event-driven
 * subscriptions, and the fields that change over a job's life, named as in the schema.
 */
export function jobState(job: Job, progress: StoredProgress = job.progress) {
  return {
    __typename: 'Job' as const,
    id: job.id,
    kind: job.kind,
    status: job.status,
    attempts: job.attempts,
    progress: progressView(progress),
    failureType: job.failureType ?? null,
    failureReason: job.failureReason ?? null,
    partialSuccess: job.partialSuccess,
    cancelRequested: job.cancelRequestedAt != null,
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
    nextAttemptAt: job.nextAttemptAt?.toISOString() ?? null,
  };
}

/** The job event types (contract.ts); all but `job.retrying` carry only the job. */
export type JobEventType = 'job.created' | 'job.started' | 'job.progress' | 'job.requeued' | 'job.cancelling' | 'job.completed' | 'job.failed' | 'job.cancelled';

/** The data always names the account, source and job, and carries the job's current state. */
export function jobEvent(type: JobEventType, job: Job, progress?: StoredProgress, actor?: Actor): EventOf<JobEventType> {
  return createEvent(type, job.accountId, job.id, jobData(job, progress), { actor });
}

function jobData(job: Job, progress?: StoredProgress) {
  return { accountId: job.accountId, sourceId: job.sourceId ?? null, jobId: job.id, job: jobState(job, progress) };
}

/** What a SUCCEEDED backup's `job.completed` event adds (`data.backup`): the snapshot it made and how it differs from its parent. */
export interface BackupSummary {
  snapshotId: string | null;
  items: number;
  logicalBytes: number;
  /** Null for a source's first snapshot (nothing to compare with). */
  changes: SnapshotChanges | null;
  /** True when the backup changed far more than the source's history says is normal (the snapshot is flagged). */
  anomaly: boolean;
}

/** How a snapshot differs from its parent, by item id and content hash. */
export interface SnapshotChanges {
  /** Items in the parent snapshot, counted over the resources both snapshots back up. */
  previousItems: number;
  added: number;
  changed: number;
  deleted: number;
}

/** The `backup` part of a finished backup's event, read from the job's result. */
export function backupSummary(job: Job): BackupSummary | null {
  if (job.kind !== 'BACKUP' || job.status !== 'SUCCEEDED' || !job.result) return null;
  const result = job.result as { snapshotId?: unknown; items?: unknown; logicalBytes?: unknown; changes?: SnapshotChanges | null; anomaly?: unknown };
  return {
    snapshotId: typeof result.snapshotId === 'string' ? result.snapshotId : null,
    items: typeof result.items === 'number' ? result.items : 0,
    logicalBytes: typeof result.logicalBytes === 'number' ? result.logicalBytes : 0,
    changes: result.changes ?? null,
    anomaly: result.anomaly != null,
  };
}

/** Writes the event to the outbox in the caller's transaction. */
export function recordJobEvent(tx: Em, type: Exclude<JobEventType, 'job.progress'>, job: Job, actor?: Actor): void {
  enqueueEvent(tx, jobEvent(type, job, undefined, actor));
}

/** `job.completed|failed|cancelled`; a finished backup's `job.completed` adds the snapshot it made (`backup`). */
export function recordJobFinished(tx: Em, type: 'job.completed' | 'job.failed' | 'job.cancelled', job: Job): void {
  const backup = type === 'job.completed' ? backupSummary(job) : null;
  enqueueEvent(tx, backup ? createEvent('job.completed', job.accountId, job.id, { ...jobData(job), backup }) : jobEvent(type, job));
}

/** `job.retrying`: the attempt failed and the next one starts after `retryDelayMs`. */
export function recordJobRetrying(tx: Em, job: Job, retryDelayMs: number): void {
  enqueueEvent(tx, createEvent('job.retrying', job.accountId, job.id, { ...jobData(job), retryDelayMs }));
}

export const MAX_LOG_MESSAGE = 4_000;

export function addLogLine(em: Em, job: Job, message: string, level: JobLogLevel = 'INFO'): JobLog {
  const line = em.create(JobLog, {
    jobId: job.id,
    accountId: job.accountId,
    at: new Date(),
    level,
    message: message.length > MAX_LOG_MESSAGE ? `${message.slice(0, MAX_LOG_MESSAGE - 1)}…` : message,
    attempt: job.attempts,
  });
  em.persist(line);
  return line;
}
