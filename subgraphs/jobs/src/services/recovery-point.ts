import { CronExpressionParser } from 'cron-parser';

export type RecoveryPointStatus = 'ON_SCHEDULE' | 'BEHIND' | 'NEVER_BACKED_UP' | 'UNSCHEDULED';

/** What a source's schedule and last backups say (a row of source_stats). */
export interface SourceRecoveryFacts {
  scheduleKind: string | null;
  cron: string | null;
  timeZone: string | null;
  paused: boolean;
  deletedAt: Date | null;
  lastSuccessAt: Date | null;
  lastSuccessJobId: string | null;
}

export interface RecoveryPoint {
  status: RecoveryPointStatus;
  lastSuccessfulBackupAt: Date | null;
  lastSuccessfulJobId: string | null;
  /** Seconds since the last successful backup: the recovery point actually achieved now. */
  ageSeconds: number | null;
  /** The longest gap the schedule leaves between two backups: the recovery point it promises. */
  targetSeconds: number | null;
}

/** Gaps looked at to find the schedule's longest one (a week of daily runs, a few weeks of weekly ones). */
const OCCURRENCES = 8;

/**
 * The recovery point a source achieves now against its schedule. A scheduled source is ON_SCHEDULE
 * while its last successful backup is no older than the scheduled run before the latest one: the
 * latest run may still be going. Older than that, a whole scheduled backup is missing: BEHIND.
 * Manual, paused and deleted sources promise nothing (UNSCHEDULED), but their age is still told.
 */
export function recoveryPoint(facts: SourceRecoveryFacts, now: Date): RecoveryPoint {
  const lastSuccessAt = facts.lastSuccessAt;
  const base = {
    lastSuccessfulBackupAt: lastSuccessAt,
    lastSuccessfulJobId: facts.lastSuccessJobId,
    ageSeconds: lastSuccessAt ? Math.max(0, (now.getTime() - lastSuccessAt.getTime()) / 1000) : null,
  };
  const previous = facts.scheduleKind === 'CRON' && facts.cron && !facts.paused && !facts.deletedAt ? previousRuns(facts.cron, facts.timeZone, now) : null;
  if (!previous || previous.length < 2) return { ...base, status: 'UNSCHEDULED', targetSeconds: null };
  let longest = 0;
  for (let i = 1; i < previous.length; i++) longest = Math.max(longest, previous[i - 1].getTime() - previous[i].getTime());
  const targetSeconds = longest / 1000;
  if (!lastSuccessAt) return { ...base, status: 'NEVER_BACKED_UP', targetSeconds };
  return { ...base, status: lastSuccessAt >= previous[1] ? 'ON_SCHEDULE' : 'BEHIND', targetSeconds };
}

/** The schedule's runs at or before `now`, newest first; null when the expression cannot be read. */
function previousRuns(cron: string, timeZone: string | null, now: Date): Date[] | null {
  try {
    const expression = CronExpressionParser.parse(cron, { tz: timeZone ?? 'UTC', currentDate: new Date(now.getTime() + 1) });
    return Array.from({ length: OCCURRENCES + 1 }, () => expression.prev().toDate());
  } catch {
    return null;
  }
}
