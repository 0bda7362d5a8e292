import { defineEntity, p } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

export const JOB_KINDS = ['BACKUP', 'EXPORT', 'RESTORE', 'VERIFY', 'PRUNE', 'TIER', 'GC'] as const;
export type JobKind = (typeof JOB_KINDS)[number];
export const JOB_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const ACTIVE_STATUSES: readonly JobStatus[] = ['QUEUED', 'RUNNING'];
export const FINAL_STATUSES: readonly JobStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];
export const FAILURE_TYPES = ['AUTH', 'CONFIG', 'TRANSIENT', 'RATE_LIMITED', 'INTERNAL', 'UNAVAILABLE', 'DAMAGED', 'QUOTA_EXCEEDED'] as const;
export type FailureType = (typeof FAILURE_TYPES)[number];
export const TRIGGER_KINDS = ['USER', 'API_KEY', 'SCHEDULE', 'OPERATOR', 'SYSTEM', 'WEBHOOK'] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

/** Counters as the worker last stored them. Totals are absent while unknown. */
export interface StoredProgress {
  itemsDone: number;
  itemsTotal?: number | null;
  bytesDone: number;
  bytesTotal?: number | null;
  /** The totals are a guess (the size of the source's previous snapshot), not what the platform said. */
  totalsEstimated?: boolean;
  itemsPerSecond?: number | null;
  bytesPerSecond?: number | null;
}

/** What a handler saved to resume from, with the progress it had reached at that point. */
export interface StoredCheckpoint {
  data: unknown;
  progress: StoredProgress;
}

export const JobSchema = defineEntity({
  name: 'Job',
  tableName: 'jobs',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    accountId: p.uuid(),
    sourceId: p.uuid().nullable(),
    kind: p.enum(JOB_KINDS),
    status: p.enum(JOB_STATUSES).default('QUEUED'),
    /** What the handler works on, beyond the source (a snapshot id, chosen items, a format). */
    params: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    triggerKind: p.enum(TRIGGER_KINDS).default('SYSTEM'),
    /** The user or API key that started the job. */
    triggeredById: p.text().nullable(),
    /** Makes creation idempotent: a scheduled occurrence or a client retry creates one job. */
    idempotencyKey: p.text().nullable().unique(),
    /** Attempts started by a worker. */
    attempts: p.integer().default(0),
    /** Failed attempts, all kinds counted. */
    failures: p.integer().default(0),
    /** Failed attempts in a row that made no progress; the stricter retry budget. */
    failuresWithoutProgress: p.integer().default(0),
    /** Since when the job has waited on an unavailable platform (an open circuit breaker), deferral after deferral; null while it is not. */
    deferredSince: p.datetime().nullable(),
    /**
     * Fences queue messages: every (re)enqueue bumps it, and a message carrying an older value is
     * stale and dropped, so a job never runs twice at the same time.
     */
    run: p.integer().default(1),
    /** The pg-boss job carrying the current run. */
    queueJobId: p.uuid().nullable(),
    progress: p.json<StoredProgress>().defaultRaw(`'{"itemsDone":0,"bytesDone":0}'`),
    checkpoint: p.json<StoredCheckpoint>().nullable(),
    checkpointAt: p.datetime().nullable(),
    /** Last time the worker stored progress or a checkpoint; tells whether a lost attempt got anywhere. */
    lastProgressAt: p.datetime().nullable(),
    failureType: p.enum(FAILURE_TYPES).nullable(),
    failureReason: p.text().nullable(),
    partialSuccess: p.boolean().default(false),
    /** What the handler returned (a snapshot id, a download key). */
    result: p.json<Record<string, unknown>>().nullable(),
    cancelRequestedAt: p.datetime().nullable(),
    nextAttemptAt: p.datetime().nullable(),
    attemptStartedAt: p.datetime().nullable(),
    /** The worker running the current attempt. */
    workerId: p.text().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()).onUpdate(() => new Date()),
    startedAt: p.datetime().nullable(),
    finishedAt: p.datetime().nullable(),
  },
  indexes: [
    { name: 'jobs_account_created_idx', properties: ['accountId', 'createdAt', 'id'] },
    { name: 'jobs_source_created_idx', properties: ['sourceId', 'createdAt', 'id'] },
    /** The accounts active lately, whose daily GC is due (services/maintenance.ts). */
    { name: 'jobs_created_idx', properties: ['createdAt'] },
    /** The accounts that store backups, whose tiering and weekly verify are due (services/maintenance.ts). */
    { name: 'jobs_backed_up_accounts_idx', properties: ['accountId'], where: "kind = 'BACKUP' and status = 'SUCCEEDED'" },
  ],
  uniques: [{ name: 'jobs_one_active_backup_per_source', properties: ['sourceId'], where: "kind = 'BACKUP' and status in ('QUEUED', 'RUNNING')" }],
});

export class Job extends JobSchema.class {}
JobSchema.setClass(Job);

/** At most one backup of a source queued or running at a time (a partial unique index, see migration 0002). */
export const ONE_ACTIVE_BACKUP_INDEX = 'jobs_one_active_backup_per_source';
