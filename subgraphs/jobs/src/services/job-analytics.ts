import { analyticsRange, type AnalyticsRangeInput, type DayRange } from '@listbackup/lib/analytics';
import { authorize, subtreeAccounts } from '@listbackup/lib/access';
import type { Em } from '@listbackup/lib/db';
import { NotFoundError } from '@listbackup/lib/errors';
import { isUuid } from '@listbackup/lib/ids';
import type { EntityRef } from '@listbackup/lib/federation';
import { decodeCursor, encodeCursor, pageSize, toPage, type Page } from '@listbackup/lib/pagination';
import type { JobsContext } from '../context.ts';
import { FAILURE_TYPES, type FailureType, type JobKind } from '../entities/job.ts';
import { durationQuantiles } from './durations.ts';
import { type RecoveryPoint, recoveryPoint, type SourceRecoveryFacts } from './recovery-point.ts';

/**
 * The read side of job analytics. Every answer is a fixed handful of SQL statements over the
 * aggregates (job_day_stats, source_stats), grouped in the database: the cost grows with the days
 * and sources asked about, never with the number of jobs.
 */

export interface JobAnalyticsArgs {
  range?: AnalyticsRangeInput | null;
  kind?: JobKind | null;
}

export interface JobRunStats {
  runs: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  partial: number;
  successRate: number | null;
  durationP50Seconds: number | null;
  durationP95Seconds: number | null;
  failuresByType: { type: FailureType; count: number }[];
  itemsBackedUp: number;
  bytesBackedUp: number;
  itemsAdded: number;
  itemsChanged: number;
  itemsDeleted: number;
}

export interface JobAnalytics {
  from: string;
  to: string;
  kind: JobKind;
  accounts: number;
  /** What `byAccount` breaks down: the authorized accounts, the range and the kind. */
  scope: { accountIds: string[]; range: DayRange; kind: JobKind };
  totals: JobRunStats;
  days: { day: string; stats: JobRunStats }[];
  byPlatform: { platform: EntityRef | null; sources: number; stats: JobRunStats }[];
  recovery: RecoverySummary;
}

export interface SourceJobAnalytics {
  from: string;
  to: string;
  kind: JobKind;
  totals: JobRunStats;
  days: { day: string; stats: JobRunStats }[];
  recoveryPoint: RecoveryPoint;
}

export interface RecoverySummary {
  sources: number;
  onSchedule: number;
  behind: number;
  neverBackedUp: number;
  unscheduled: number;
  lastSuccessfulBackupAt: Date | null;
  oldestLastSuccessfulBackupAt: Date | null;
}

/** An account's job analytics, rolled up over the sub-accounts the caller can read when asked. */
export async function accountJobAnalytics(ctx: JobsContext, accountId: string, args: JobAnalyticsArgs & { includeSubAccounts?: boolean | null }): Promise<JobAnalytics> {
  let accountIds = [accountId];
  if (args.includeSubAccounts) accountIds = await subtreeAccounts(ctx, 'jobs:read', accountId);
  else await authorize(ctx, 'jobs:read', accountId);
  const range = analyticsRange(args.range);
  const kind = args.kind ?? 'BACKUP';
  const groups = await loadGroups(ctx.em, { accountIds }, range, kind);
  const sources = await ctx.em.execute<SourceRow[]>(
    `select "source_id", "platform_id", "schedule_kind", "cron", "time_zone", "paused", "deleted_at", "last_success_at", "last_success_job_id"
       from "jobs"."source_stats" where "account_id" = any(?::uuid[]) and "deleted_at" is null`,
    [uuidArray(accountIds)],
  );
  const now = new Date();
  const points = sources.map((row) => recoveryPoint(recoveryFacts(row), now));
  const sourcesPerPlatform = new Map<string | null, number>();
  for (const row of sources) sourcesPerPlatform.set(row.platform_id, (sourcesPerPlatform.get(row.platform_id) ?? 0) + 1);
  const platforms = new Map<string | null, Stats>();
  for (const group of groups.values()) platforms.set(group.platformId, (platforms.get(group.platformId) ?? new Stats()).merge(group.stats));
  for (const platformId of sourcesPerPlatform.keys()) if (!platforms.has(platformId)) platforms.set(platformId, new Stats());
  return {
    from: range.from,
    to: range.to,
    kind,
    accounts: accountIds.length,
    scope: { accountIds, range, kind },
    totals: total(groups.values()).view(),
    days: perDay(range, groups),
    byPlatform: [...platforms]
      .sort(([, a], [, b]) => b.counters.runs - a.counters.runs)
      .map(([platformId, stats]) => ({ platform: platformId ? { id: platformId } : null, sources: sourcesPerPlatform.get(platformId) ?? 0, stats: stats.view() })),
    recovery: summarize(points),
  };
}

/** A source's job analytics and recovery point. A source of another tenant, or none, is "not found". */
export async function sourceJobAnalytics(ctx: JobsContext, sourceId: string, args: JobAnalyticsArgs): Promise<SourceJobAnalytics> {
  if (!isUuid(sourceId)) throw new NotFoundError('Source');
  const stats = await ctx.loaders.sourceStats.load(sourceId);
  let facts: SourceRecoveryFacts & { accountId: string };
  if (stats) {
    facts = {
      accountId: stats.accountId,
      scheduleKind: stats.scheduleKind ?? null,
      cron: stats.cron ?? null,
      timeZone: stats.timeZone ?? null,
      paused: stats.paused,
      deletedAt: stats.deletedAt ?? null,
      lastSuccessAt: stats.lastSuccessAt ?? null,
      lastSuccessJobId: stats.lastSuccessJobId ?? null,
    };
  } else {
    // No job of it has finished and its creation is not applied yet: sources knows it (or not).
    const source = await ctx.sources.getSource(sourceId, ctx.requestId);
    if (!source) throw new NotFoundError('Source');
    facts = {
      accountId: source.accountId,
      scheduleKind: source.schedule?.kind ?? null,
      cron: source.schedule?.cron ?? null,
      timeZone: source.schedule?.timeZone ?? null,
      paused: source.paused,
      deletedAt: source.deleted ? new Date() : null,
      lastSuccessAt: null,
      lastSuccessJobId: null,
    };
  }
  await authorize(ctx, 'jobs:read', facts.accountId, 'Source');
  const range = analyticsRange(args.range);
  const kind = args.kind ?? 'BACKUP';
  const groups = await loadGroups(ctx.em, { accountIds: [facts.accountId], sourceId }, range, kind);
  return { from: range.from, to: range.to, kind, totals: total(groups.values()).view(), days: perDay(range, groups), recoveryPoint: recoveryPoint(facts, new Date()) };
}

/**
 * A roll-up per account, the most failed jobs first (then the most runs), a page at a time. Every
 * account of the roll-up is listed, those without jobs too; two statements, grouped by account.
 */
export async function accountBreakdown(ctx: JobsContext, analytics: JobAnalytics, first?: number | null, after?: string | null): Promise<Page<AccountStats> & { totalCount: number }> {
  const size = pageSize(first);
  const { accountIds, range, kind } = analytics.scope;
  const scope = { list: 'JobAnalytics.byAccount', owner: `${kind}:${range.from}:${range.to}:${accountIds.join(',')}` };
  const offset = decodeCursor(scope, after, (key) => key.length === 1 && Number.isSafeInteger(key[0]) && (key[0] as number) >= 0)?.[0] as number | undefined;
  const where = `s."account_id" = any(?::uuid[]) and s."kind" = ? and s."day" between ?::date and ?::date`;
  const params = [uuidArray(accountIds), kind, range.from, range.to];
  const counterRows = await ctx.em.execute<({ account_id: string } & Record<Counter, string | number>)[]>(
    `select s."account_id", ${COUNTERS.map((c) => `sum(s."${c}")::float8 as "${c}"`).join(', ')} from "jobs"."job_day_stats" s where ${where} group by 1`,
    params,
  );
  const binRows = await ctx.em.execute<{ account_id: string; key: string; count: string | number }[]>(
    `select s."account_id", b."key", sum(b."value"::bigint)::float8 as "count"
       from "jobs"."job_day_stats" s cross join lateral jsonb_each_text(s."duration_bins") b where ${where} group by 1, 2`,
    params,
  );
  const byAccount = new Map(accountIds.map((id) => [id, new Stats()]));
  for (const row of counterRows) {
    const stats = byAccount.get(row.account_id);
    if (stats) for (const c of COUNTERS) stats.counters[c] = Number(row[c]);
  }
  for (const row of binRows) byAccount.get(row.account_id)?.bins.set(row.key, Number(row.count));
  const ordered = [...byAccount].sort(([a, x], [b, y]) => y.counters.failed - x.counters.failed || y.counters.runs - x.counters.runs || a.localeCompare(b));
  const start = offset ?? 0;
  const rows = ordered.slice(start, start + size + 1).map(([id, stats], i) => ({ position: start + i + 1, node: { account: { id }, stats: stats.view() } }));
  const page = toPage(rows, size, (row) => encodeCursor(scope, [row.position]));
  return { edges: page.edges.map((edge) => ({ cursor: edge.cursor, node: edge.node.node })), pageInfo: page.pageInfo, totalCount: accountIds.length };
}

export interface AccountStats {
  account: EntityRef;
  stats: JobRunStats;
}

interface SourceRow {
  source_id: string;
  platform_id: string | null;
  schedule_kind: string | null;
  cron: string | null;
  time_zone: string | null;
  paused: boolean;
  deleted_at: Date | null;
  last_success_at: Date | null;
  last_success_job_id: string | null;
}

const recoveryFacts = (row: SourceRow): SourceRecoveryFacts => ({
  scheduleKind: row.schedule_kind,
  cron: row.cron,
  timeZone: row.time_zone,
  paused: row.paused,
  deletedAt: row.deleted_at ? new Date(row.deleted_at) : null,
  lastSuccessAt: row.last_success_at ? new Date(row.last_success_at) : null,
  lastSuccessJobId: row.last_success_job_id,
});

function summarize(points: RecoveryPoint[]): RecoverySummary {
  const count = (status: RecoveryPoint['status']) => points.filter((point) => point.status === status).length;
  const successes = points.map((point) => point.lastSuccessfulBackupAt).filter((at): at is Date => at !== null);
  const scheduled = points
    .filter((point) => point.status === 'ON_SCHEDULE' || point.status === 'BEHIND')
    .map((point) => point.lastSuccessfulBackupAt!)
    .sort((a, b) => a.getTime() - b.getTime());
  return {
    sources: points.length,
    onSchedule: count('ON_SCHEDULE'),
    behind: count('BEHIND'),
    neverBackedUp: count('NEVER_BACKED_UP'),
    unscheduled: count('UNSCHEDULED'),
    lastSuccessfulBackupAt: successes.length ? new Date(Math.max(...successes.map((at) => at.getTime()))) : null,
    oldestLastSuccessfulBackupAt: scheduled[0] ?? null,
  };
}

const COUNTERS = [
  'runs',
  'succeeded',
  'failed',
  'cancelled',
  'partial',
  'failed_auth',
  'failed_config',
  'failed_transient',
  'failed_rate_limited',
  'failed_internal',
  'failed_unavailable',
  'failed_damaged',
  'failed_quota_exceeded',
  'items',
  'bytes',
  'items_added',
  'items_changed',
  'items_deleted',
] as const;
type Counter = (typeof COUNTERS)[number];
type Counters = Record<Counter, number>;

const FAILURE_COUNTERS: Record<FailureType, Counter> = {
  AUTH: 'failed_auth',
  CONFIG: 'failed_config',
  TRANSIENT: 'failed_transient',
  RATE_LIMITED: 'failed_rate_limited',
  INTERNAL: 'failed_internal',
  UNAVAILABLE: 'failed_unavailable',
  DAMAGED: 'failed_damaged',
  QUOTA_EXCEEDED: 'failed_quota_exceeded',
};

/** Counters and duration bins of some rows, merged: sums, key by key. */
class Stats {
  readonly counters = Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Counters;
  readonly bins = new Map<string, number>();

  merge(other: Stats): this {
    for (const c of COUNTERS) this.counters[c] += other.counters[c];
    for (const [key, count] of other.bins) this.bins.set(key, (this.bins.get(key) ?? 0) + count);
    return this;
  }

  view(): JobRunStats {
    const c = this.counters;
    const decided = c.succeeded + c.failed;
    const { p50Seconds, p95Seconds } = durationQuantiles(this.bins);
    return {
      runs: c.runs,
      succeeded: c.succeeded,
      failed: c.failed,
      cancelled: c.cancelled,
      partial: c.partial,
      successRate: decided > 0 ? c.succeeded / decided : null,
      durationP50Seconds: p50Seconds,
      durationP95Seconds: p95Seconds,
      failuresByType: FAILURE_TYPES.map((type) => ({ type, count: c[FAILURE_COUNTERS[type]] }))
        .filter((entry) => entry.count > 0)
        .sort((a, b) => b.count - a.count),
      itemsBackedUp: c.items,
      bytesBackedUp: c.bytes,
      itemsAdded: c.items_added,
      itemsChanged: c.items_changed,
      itemsDeleted: c.items_deleted,
    };
  }
}

interface Group {
  day: string;
  platformId: string | null;
  stats: Stats;
}

/** The rows of the range summed per (day, platform) in two statements: counters, then duration bins. */
async function loadGroups(em: Em, scope: { accountIds: string[]; sourceId?: string }, range: DayRange, kind: JobKind): Promise<Map<string, Group>> {
  const where = `s."account_id" = any(?::uuid[]) ${scope.sourceId ? 'and s."source_id" = ?' : ''} and s."kind" = ? and s."day" between ?::date and ?::date`;
  const params = [uuidArray(scope.accountIds), ...(scope.sourceId ? [scope.sourceId] : []), kind, range.from, range.to];
  const from = `"jobs"."job_day_stats" s left join "jobs"."source_stats" st on st."source_id" = s."source_id" and st."account_id" = s."account_id"`;
  const counterRows = await em.execute<({ day: string; platform_id: string | null } & Record<Counter, string | number>)[]>(
    `select s."day"::text as "day", st."platform_id", ${COUNTERS.map((c) => `sum(s."${c}")::float8 as "${c}"`).join(', ')}
       from ${from} where ${where} group by 1, 2`,
    params,
  );
  const binRows = await em.execute<{ day: string; platform_id: string | null; key: string; count: string | number }[]>(
    `select s."day"::text as "day", st."platform_id", b."key", sum(b."value"::bigint)::float8 as "count"
       from ${from} cross join lateral jsonb_each_text(s."duration_bins") b where ${where} group by 1, 2, 3`,
    params,
  );
  const groups = new Map<string, Group>();
  const groupOf = (day: string, platformId: string | null) => {
    const key = `${day}|${platformId}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { day, platformId, stats: new Stats() }));
    return group;
  };
  for (const row of counterRows) {
    const { counters } = groupOf(row.day, row.platform_id).stats;
    for (const c of COUNTERS) counters[c] = Number(row[c]);
  }
  for (const row of binRows) groupOf(row.day, row.platform_id).stats.bins.set(row.key, Number(row.count));
  return groups;
}

const total = (groups: Iterable<Group>) => {
  const stats = new Stats();
  for (const group of groups) stats.merge(group.stats);
  return stats;
};

function perDay(range: DayRange, groups: Map<string, Group>): { day: string; stats: JobRunStats }[] {
  const byDay = new Map<string, Stats>();
  for (const group of groups.values()) byDay.set(group.day, (byDay.get(group.day) ?? new Stats()).merge(group.stats));
  return range.days.map((day) => ({ day, stats: (byDay.get(day) ?? new Stats()).view() }));
}

/** A Postgres array literal of already-validated uuids, bound as one text parameter. */
const uuidArray = (ids: readonly string[]) => `{${ids.filter(isUuid).join(',')}}`;
