import { createEvent, type EventOf } from '@listbackup/lib/events/contract';

export type JobEventType = 'job.created' | 'job.started' | 'job.progress' | 'job.requeued' | 'job.cancelling' | 'job.completed' | 'job.failed' | 'job.cancelled';

export interface JobRef {
  accountId: string;
  sourceId: string | null;
  jobId: string;
}

export interface JobStatePatch {
  status: 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  itemsDone?: number;
  itemsTotal?: number;
}

/** A job event as the jobs service publishes it: the job's whole state in `data.job`, named as in the schema. */
export function jobEventOf(type: JobEventType, job: JobRef, patch: JobStatePatch): EventOf<JobEventType> {
  const itemsDone = patch.itemsDone ?? 0;
  const itemsTotal = patch.itemsTotal ?? 100;
  const now = new Date().toISOString();
  return createEvent(type, job.accountId, job.jobId, {
    accountId: job.accountId,
    sourceId: job.sourceId,
    jobId: job.jobId,
    job: {
      __typename: 'Job',
      id: job.jobId,
      kind: 'BACKUP',
      status: patch.status,
      attempts: 1,
      progress: {
        itemsDone,
        itemsTotal,
        bytesDone: itemsDone * 1000,
        bytesTotal: null,
        itemsPerSecond: 10,
        bytesPerSecond: null,
        etaSeconds: Math.ceil((itemsTotal - itemsDone) / 10),
        percent: Math.round((itemsDone / itemsTotal) * 1000) / 10,
      },
      failureType: null,
      failureReason: null,
      partialSuccess: false,
      cancelRequested: type === 'job.cancelled',
      createdAt: now,
      startedAt: patch.status === 'QUEUED' ? null : now,
      finishedAt: ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(patch.status) ? now : null,
      nextAttemptAt: null,
    },
  });
}
