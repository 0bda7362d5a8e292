import { createHash } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import type { Em, Orm } from '@listbackup/lib/db';
import { Job } from '../entities/job.ts';
import type { GcReport, TieringReport } from '../backup/maintenance.ts';
import type { JobQueue } from '../queue/job-queue.ts';
import { enqueueJob, type JobTriggerInfo } from './job-service.ts';
import { addLogLine } from './job-state.ts';
import { deleteAccountRows } from '@listbackup/lib/events/account-purge';
import { isUuid } from '@listbackup/lib/ids';

/** What a GC job carries in `params` (see backup/maintenance.ts). */
export interface GcJobParams {
  /** Engine snapshot ids to forget first: snapshots the catalogue deleted (a source deleted with its snapshots, retention). */
  forget?: string[];
  /** The account is gone (purged after its recovery window): delete every object it stored. */
  purge?: boolean;
}

export interface GcRequest extends GcJobParams {
  accountId: string;
  trigger: JobTriggerInfo;
  idempotencyKey?: string;
  /** Wait this long before running (so several deletions close together make one run). */
  delayMs?: number;
}

/** How long after a deletion its GC runs by default: deletions of the next minutes join the same run. */
export const DEFAULT_GC_DELAY_MS = 2 * 60 * 1000;

/**
 * Asks for a GC of the account. A GC of the account still waiting in the queue takes the request
 * (its snapshots to forget are added), so a burst of deletions makes one run; otherwise a new GC job
 * is queued. Runs of one account never overlap: they hold the account's lock exclusively.
 */
export async function requestGc(em: Em, queue: JobQueue, request: GcRequest): Promise<{ job: Job; created: boolean }> {
  const forget = [...new Set(request.forget ?? [])];
  const merged = await em.fork().transactional(async (tx) => {
    const waiting = await tx.findOne(Job, { accountId: request.accountId, kind: 'GC', status: 'QUEUED', attempts: 0 }, { lockMode: LockMode.PESSIMISTIC_WRITE, orderBy: { createdAt: 'asc' } });
    if (!waiting) return null;
    const params = waiting.params as GcJobParams;
    const known = new Set(params.forget ?? []);
    const added = forget.filter((id) => !known.has(id));
    if (added.length === 0 && (!request.purge || params.purge)) return waiting;
    waiting.params = { ...params, forget: [...known, ...added], ...(request.purge || params.purge ? { purge: true } : {}) };
    addLogLine(tx, waiting, request.purge && !params.purge ? 'The account was purged: this run deletes all its stored data' : `${added.length} more deleted snapshot(s) to forget`);
    return waiting;
  });
  if (merged) return { job: merged, created: false };
  const params: GcJobParams = { ...(forget.length ? { forget } : {}), ...(request.purge ? { purge: true } : {}) };
  return enqueueJob(em, queue, {
    accountId: request.accountId,
    kind: 'GC',
    params: params as Record<string, unknown>,
    trigger: request.trigger,
    idempotencyKey: request.idempotencyKey ?? null,
    startAfter: request.delayMs ? new Date(Date.now() + request.delayMs) : undefined,
  });
}

const PURGE_RUNS = `select id from "jobs"."jobs" where kind = 'GC' and params @> '{"purge": true}'`;

/**
 * Deletes what jobs keeps of purged accounts: their jobs with their logs, and their analytics. The
 * GC runs that delete the accounts' stored objects stay until they succeed (`forgetFinishedPurges`).
 */
export async function deleteAccountData(orm: Orm, accountIds: string[]): Promise<void> {
  const ids = `{${accountIds.filter(isUuid).join(',')}}`;
  await orm.em.fork().transactional(async (tx) => {
    await tx.execute(`delete from "jobs"."job_logs" where account_id = any(?::uuid[]) and job_id not in (${PURGE_RUNS})`, [ids]);
    await tx.execute(`delete from "jobs"."jobs" where account_id = any(?::uuid[]) and id not in (${PURGE_RUNS})`, [ids]);
    await deleteAccountRows(tx, ['job_day_stats', 'source_stats'], accountIds.filter(isUuid));
  });
}

/** Removes the GC runs that purged an account once they succeeded, with their logs: the account's last rows here. Returns how many. */
export async function forgetFinishedPurges(orm: Orm): Promise<number> {
  return orm.em.fork().transactional(async (tx) => {
    const done = `${PURGE_RUNS} and status = 'SUCCEEDED'`;
    await tx.execute(`delete from "jobs"."job_logs" where job_id in (${done})`);
    const deleted: { id: string }[] = await tx.execute(`delete from "jobs"."jobs" where id in (${done}) returning id`);
    return deleted.length;
  });
}

/** What a finished GC job reported (backup/maintenance.ts), for Job.garbageCollection. */
export function jobGarbageCollection(job: Job): GcReport | null {
  return job.kind === 'GC' && job.status === 'SUCCEEDED' ? ((job.result?.garbageCollection as GcReport | undefined) ?? null) : null;
}

/** What a finished TIER job reported (backup/maintenance.ts), for Job.tiering. */
export function jobTiering(job: Job): TieringReport | null {
  return job.kind === 'TIER' && job.status === 'SUCCEEDED' ? ((job.result?.tiering as TieringReport | undefined) ?? null) : null;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const WEEK_MS = 7 * DAY_MS;

/** The share of an account's packs its weekly verify reads (restic's `check --read-data-subset`): about every pack in ten weeks. */
export const WEEKLY_VERIFY_SAMPLE = 0.1;

/** The second of the UTC day an account's daily GC is due: spread over the day by its id, so accounts do not all run at midnight. */
export function dailySlotMs(accountId: string): number {
  return slotMs(accountId, DAY_MS);
}

/** When in its period (a day, a week) a maintenance kind of an account is due, spread by the account's id (and the kind, so they do not coincide). */
function slotMs(seed: string, periodMs: number): number {
  return (createHash('sha256').update(seed).digest().readUInt32BE(0) % (periodMs / 1000)) * 1000;
}

/** The maintenance that runs on a schedule: every account's kind, how often, and which accounts get it. */
const SCHEDULED = [
  // Frees what retention and deletions left: for accounts that ran jobs in the last two days.
  { kind: 'GC', key: 'gc-daily', periodMs: DAY_MS, accounts: 'active', slot: (accountId: string) => dailySlotMs(accountId), params: {} },
  // Moves packs to colder storage as they age: for every account that stores backups.
  { kind: 'TIER', key: 'tier-daily', periodMs: DAY_MS, accounts: 'storing', slot: (accountId: string) => slotMs(`TIER:${accountId}`, DAY_MS), params: {} },
  // Reads a sample of the packs back: for every account that stores backups.
  {
    kind: 'VERIFY',
    key: 'verify-weekly',
    periodMs: WEEK_MS,
    accounts: 'storing',
    slot: (accountId: string) => slotMs(`VERIFY:${accountId}`, WEEK_MS),
    params: { sample: WEEKLY_VERIFY_SAMPLE, sampleBy: 'PACKS' },
  },
] as const;

/** Accounts that ran a job (other than a GC) since the parameter. */
const ACTIVE_ACCOUNTS = `select distinct account_id from "jobs"."jobs" where created_at > ? and kind <> 'GC'`;
/** Accounts that store backups: one of their backups succeeded (jobs_backed_up_accounts_idx), and they were not purged. */
const STORING_ACCOUNTS = `select distinct b.account_id from "jobs"."jobs" b where b.kind = 'BACKUP' and b.status = 'SUCCEEDED'
  and not exists (select 1 from "jobs"."jobs" p where p.account_id = b.account_id and p.kind = 'GC' and p.params @> '{"purge": true}')`;

/** The start of the UTC day, or of the ISO week (Monday), that `now` is in. */
function periodStart(now: Date, periodMs: number): number {
  const day = Date.parse(`${now.toISOString().slice(0, 10)}T00:00:00Z`);
  return periodMs === DAY_MS ? day : day - ((now.getUTCDay() + 6) % 7) * DAY_MS;
}

/**
 * Queues the scheduled maintenance that has come due: each account's daily GC (accounts that ran a
 * job in the last two days), daily TIER and weekly sampled VERIFY (accounts that store backups:
 * a backup of theirs succeeded, and they were not purged), each once its account's slot of the
 * day or week has come, and at most once per account and period however many processes call this.
 * The jobs have no source and are triggered by SCHEDULE. Returns the jobs queued.
 */
export async function scheduleMaintenance(orm: Orm, queue: JobQueue, now: Date = new Date()): Promise<Job[]> {
  const queued: Job[] = [];
  for (const task of SCHEDULED) {
    const start = periodStart(now, task.periodMs);
    const period = new Date(start).toISOString().slice(0, 10);
    const prefix = `${task.key}:`;
    const suffix = `:${period}`;
    const [accounts, values] = task.accounts === 'active' ? [ACTIVE_ACCOUNTS, [new Date(now.getTime() - 2 * DAY_MS)]] : [STORING_ACCOUNTS, []];
    const rows: { account_id: string }[] = await orm.em
      .fork()
      .execute(`select a.account_id from (${accounts}) a where not exists (select 1 from "jobs"."jobs" j where j.idempotency_key = ? || a.account_id || ?)`, [...values, prefix, suffix]);
    for (const { account_id: accountId } of rows) {
      if (now.getTime() < start + task.slot(accountId)) continue;
      const { job, created } = await enqueueJob(orm.em, queue, {
        accountId,
        kind: task.kind,
        params: { ...task.params },
        trigger: { kind: 'SCHEDULE' },
        idempotencyKey: `${prefix}${accountId}${suffix}`,
      });
      if (created) queued.push(job);
    }
  }
  return queued;
}
