import type { Em } from '@listbackup/lib/db';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import { type EventData, readAnyEvent } from '@listbackup/lib/events/contract';
import { isUuid } from '@listbackup/lib/ids';
import { utcDay } from '@listbackup/lib/analytics';
import { FAILURE_TYPES, FINAL_STATUSES, JOB_KINDS, type FailureType, type JobKind, type JobStatus } from '../entities/job.ts';
import type { BackupSummary } from './job-state.ts';
import { durationBin } from './durations.ts';

/**
 * The write side of the analytics read models: each function applies one event, inside the
 * consumer's transaction (runIdempotent), so an event replayed changes nothing.
 */

interface FinishedJob {
  accountId: string;
  sourceId: string;
  jobId: string;
  kind: JobKind;
  status: JobStatus;
  failureType: FailureType | null;
  partialSuccess: boolean;
  startedAt: Date | null;
  finishedAt: Date;
  backup: BackupSummary | null;
}

/** The finished job a `job.completed|failed|cancelled` event describes (read through the contract), or null for any other event or one not about a source. */
export function finishedJobOf(event: EventEnvelope): FinishedJob | null {
  const typed = readAnyEvent(event);
  if (!typed || (typed.type !== 'job.completed' && typed.type !== 'job.failed' && typed.type !== 'job.cancelled')) return null;
  const { data } = typed;
  const { job } = data;
  const kind = job.kind as JobKind;
  const finishedAt = dateOf(job.finishedAt);
  if (!isUuid(data.accountId) || !isUuid(data.sourceId) || !JOB_KINDS.includes(kind) || !FINAL_STATUSES.includes(job.status) || !finishedAt) return null;
  const failureType = FAILURE_TYPES.includes(job.failureType as FailureType) ? (job.failureType as FailureType) : null;
  return {
    accountId: data.accountId,
    sourceId: data.sourceId,
    jobId: data.jobId,
    kind,
    status: job.status,
    failureType: job.status === 'FAILED' ? (failureType ?? 'INTERNAL') : null,
    partialSuccess: job.partialSuccess,
    startedAt: dateOf(job.startedAt),
    finishedAt,
    backup: typed.type === 'job.completed' && job.status === 'SUCCEEDED' ? (typed.data.backup ?? null) : null,
  };
}

const FAILURE_COLUMNS: Record<FailureType, string> = {
  AUTH: 'failed_auth',
  CONFIG: 'failed_config',
  TRANSIENT: 'failed_transient',
  RATE_LIMITED: 'failed_rate_limited',
  INTERNAL: 'failed_internal',
  UNAVAILABLE: 'failed_unavailable',
  DAMAGED: 'failed_damaged',
  QUOTA_EXCEEDED: 'failed_quota_exceeded',
};

/** Weight of the newest backup in a source's change history (about the last ten count). */
export const CHANGE_HISTORY_WEIGHT = 0.1;

/** Adds a finished job to its source's day, and to the source's last-backup facts and change history. */
export async function recordFinishedJob(tx: Em, job: FinishedJob): Promise<void> {
  const durationMs = job.startedAt ? Math.max(0, job.finishedAt.getTime() - job.startedAt.getTime()) : null;
  const bin = durationMs === null ? null : durationBin(durationMs);
  const failures = Object.fromEntries(Object.values(FAILURE_COLUMNS).map((column) => [column, 0])) as Record<string, number>;
  if (job.failureType) failures[FAILURE_COLUMNS[job.failureType]] = 1;
  const changes = job.backup?.changes ?? null;
  const failureColumns = Object.keys(failures);
  // A backup that was flagged as an anomaly stays out of the history: the history describes what is normal.
  const observed = job.kind === 'BACKUP' && changes !== null && changes.previousItems > 0 && !job.backup?.anomaly;
  const deletedShare = observed ? changes.deleted / changes.previousItems : 0;
  const changedShare = observed ? changes.changed / changes.previousItems : 0;
  const weight = `greatest(${CHANGE_HISTORY_WEIGHT}, 1.0 / (st."change_observations" + 1))`;
  const ewma = (column: string, value: string) =>
    `"${column}_variance" = case when ? then (1 - ${weight}) * (st."${column}_variance" + ${weight} * power(${value} - st."${column}_mean", 2)) else st."${column}_variance" end,
     "${column}_mean" = case when ? then st."${column}_mean" + ${weight} * (${value} - st."${column}_mean") else st."${column}_mean" end`;
  const succeeded = job.kind === 'BACKUP' && job.status === 'SUCCEEDED';
  const finished = job.kind === 'BACKUP';
  // One statement (one round trip per event): the day's counters, then the source's facts.
  await tx.execute(
    `with "day" as (
       insert into "jobs"."job_day_stats" as s
         ("account_id", "source_id", "day", "kind", "runs", "succeeded", "failed", "cancelled", "partial", ${failureColumns.map((c) => `"${c}"`).join(', ')},
          "items", "bytes", "items_added", "items_changed", "items_deleted", "timed", "duration_ms_total", "duration_bins")
       values (?, ?, ?::date, ?, 1, ?, ?, ?, ?, ${failureColumns.map(() => '?').join(', ')}, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)
       on conflict ("account_id", "source_id", "day", "kind") do update set
         "runs" = s."runs" + 1, "succeeded" = s."succeeded" + excluded."succeeded", "failed" = s."failed" + excluded."failed",
         "cancelled" = s."cancelled" + excluded."cancelled", "partial" = s."partial" + excluded."partial",
         ${failureColumns.map((c) => `"${c}" = s."${c}" + excluded."${c}"`).join(', ')},
         "items" = s."items" + excluded."items", "bytes" = s."bytes" + excluded."bytes",
         "items_added" = s."items_added" + excluded."items_added", "items_changed" = s."items_changed" + excluded."items_changed",
         "items_deleted" = s."items_deleted" + excluded."items_deleted",
         "timed" = s."timed" + excluded."timed", "duration_ms_total" = s."duration_ms_total" + excluded."duration_ms_total",
         "duration_bins" = case when ?::text is null then s."duration_bins"
           else jsonb_set(s."duration_bins", array[?::text], to_jsonb(coalesce((s."duration_bins" ->> ?::text)::bigint, 0) + 1)) end
     )
     insert into "jobs"."source_stats" as st ("source_id", "account_id", "last_finished_at", "last_status", "last_success_job_id", "last_success_at",
       "change_observations", "deleted_share_mean", "changed_share_mean")
     values (?, ?, case when ? then ?::timestamptz end, case when ? then ? end, case when ? then ?::uuid end, case when ? then ?::timestamptz end,
       case when ? then 1 else 0 end, case when ? then ?::float8 else 0 end, case when ? then ?::float8 else 0 end)
     on conflict ("source_id") do update set
       "last_finished_at" = case when ? and (st."last_finished_at" is null or st."last_finished_at" <= ?::timestamptz) then ?::timestamptz else st."last_finished_at" end,
       "last_status" = case when ? and (st."last_finished_at" is null or st."last_finished_at" <= ?::timestamptz) then ? else st."last_status" end,
       "last_success_job_id" = case when ? and (st."last_success_at" is null or st."last_success_at" <= ?::timestamptz) then ?::uuid else st."last_success_job_id" end,
       "last_success_at" = case when ? and (st."last_success_at" is null or st."last_success_at" <= ?::timestamptz) then ?::timestamptz else st."last_success_at" end,
       ${ewma('deleted_share', '?::float8')},
       ${ewma('changed_share', '?::float8')},
       "change_observations" = st."change_observations" + case when ? then 1 else 0 end
     where st."account_id" = excluded."account_id"`,
    [
      job.accountId,
      job.sourceId,
      utcDay(job.finishedAt),
      job.kind,
      job.status === 'SUCCEEDED' ? 1 : 0,
      job.status === 'FAILED' ? 1 : 0,
      job.status === 'CANCELLED' ? 1 : 0,
      job.status === 'SUCCEEDED' && job.partialSuccess ? 1 : 0,
      ...failureColumns.map((c) => failures[c]),
      job.backup?.items ?? 0,
      job.backup?.logicalBytes ?? 0,
      changes?.added ?? 0,
      changes?.changed ?? 0,
      changes?.deleted ?? 0,
      durationMs === null ? 0 : 1,
      durationMs ?? 0,
      JSON.stringify(bin === null ? {} : { [bin]: 1 }),
      bin,
      bin,
      bin,
      job.sourceId,
      job.accountId,
      finished,
      job.finishedAt,
      finished,
      job.status,
      succeeded,
      job.jobId,
      succeeded,
      job.finishedAt,
      observed,
      observed,
      deletedShare,
      observed,
      changedShare,
      finished,
      job.finishedAt,
      job.finishedAt,
      finished,
      job.finishedAt,
      job.status,
      succeeded,
      job.finishedAt,
      job.jobId,
      succeeded,
      job.finishedAt,
      job.finishedAt,
      observed,
      deletedShare,
      observed,
      deletedShare,
      observed,
      changedShare,
      observed,
      changedShare,
      observed,
    ],
  );
}

export interface SourceFacts {
  accountId: string;
  sourceId: string;
  at: Date;
  platform: { id: string; slug: string } | null;
  schedule: { kind: string; cron: string | null; timeZone: string | null };
  paused: boolean;
  deletedAt: Date | null;
}

const SOURCE_CHANGES = new Set(['source.created', 'source.updated', 'source.paused', 'source.resumed', 'source.deleted']);

/** The source facts a `source.*` event carries (its `source` state, read through the contract), or null. */
export function sourceFactsOf(event: EventEnvelope): SourceFacts | null {
  const typed = readAnyEvent(event);
  const at = dateOf(event.time);
  if (!typed || !SOURCE_CHANGES.has(typed.type) || !at || !('source' in typed.data)) return null;
  const { accountId, sourceId, source } = typed.data as { accountId: string; sourceId: string; source?: SourceState };
  if (!source || !isUuid(accountId) || !isUuid(sourceId)) return null;
  return {
    accountId,
    sourceId,
    at,
    platform: source.platform && isUuid(source.platform.id) ? source.platform : null,
    schedule: source.schedule,
    paused: source.paused,
    deletedAt: dateOf(source.deletedAt),
  };
}

type SourceState = NonNullable<EventData<'source.updated'>['source']>;

/** Keeps a source's account, platform and schedule as its newest event states them. */
export async function recordSourceFacts(tx: Em, facts: SourceFacts): Promise<void> {
  const newer = `(st."facts_as_of" is null or st."facts_as_of" <= excluded."facts_as_of")`;
  await tx.execute(
    `insert into "jobs"."source_stats" as st ("source_id", "account_id", "platform_id", "platform_slug", "schedule_kind", "cron", "time_zone", "paused", "deleted_at", "facts_as_of")
     values (?, ?, ?, ?, ?, ?, ?, coalesce(?::boolean, false), ?::timestamptz, ?::timestamptz)
     on conflict ("source_id") do update set
       "platform_id" = coalesce(excluded."platform_id", st."platform_id"),
       "platform_slug" = coalesce(excluded."platform_slug", st."platform_slug"),
       "schedule_kind" = case when ${newer} then coalesce(excluded."schedule_kind", st."schedule_kind") else st."schedule_kind" end,
       "cron" = case when ${newer} and excluded."schedule_kind" is not null then excluded."cron" else st."cron" end,
       "time_zone" = case when ${newer} and excluded."schedule_kind" is not null then excluded."time_zone" else st."time_zone" end,
       "paused" = case when ${newer} and ?::boolean is not null then excluded."paused" else st."paused" end,
       "deleted_at" = coalesce(st."deleted_at", excluded."deleted_at"),
       "facts_as_of" = greatest(st."facts_as_of", excluded."facts_as_of")
     where st."account_id" = excluded."account_id"`,
    [
      facts.sourceId,
      facts.accountId,
      facts.platform?.id ?? null,
      facts.platform?.slug ?? null,
      facts.schedule.kind,
      facts.schedule.cron,
      facts.schedule.timeZone,
      facts.paused,
      facts.deletedAt,
      facts.at,
      facts.paused,
    ],
  );
}

function dateOf(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}
