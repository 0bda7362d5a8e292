import { CronExpressionParser } from 'cron-parser';
import { AppError } from '@listbackup/lib/errors';
import type { ScheduleKind } from '../entities/source.ts';

export interface ScheduleInput {
  kind: ScheduleKind;
  cron?: string | null;
  timeZone?: string | null;
}

export interface ValidSchedule {
  kind: ScheduleKind;
  cron: string | null;
  timeZone: string | null;
}

/** Backups of one source may not start more often than this: each is a full job against the platform's rate limits. */
export const MIN_SCHEDULE_INTERVAL_MS = 5 * 60_000;
const MAX_CRON_LENGTH = 200;

const invalid = (message: string, field: string) => new AppError('BAD_USER_INPUT', message, { reason: 'INVALID_SCHEDULE', field });

export function validateSchedule(input: ScheduleInput): ValidSchedule {
  if (input.kind === 'MANUAL') {
    if (input.cron) throw invalid('A manual schedule takes no cron expression', 'schedule.cron');
    return { kind: 'MANUAL', cron: null, timeZone: null };
  }
  const cron = input.cron?.trim();
  if (!cron) throw invalid('A cron schedule needs a cron expression, for example "0 3 * * *"', 'schedule.cron');
  if (cron.length > MAX_CRON_LENGTH) throw invalid(`A cron expression has at most ${MAX_CRON_LENGTH} characters`, 'schedule.cron');
  const timeZone = canonicalTimeZone(input.timeZone?.trim() || 'UTC');
  let occurrences: Date[];
  try {
    const expression = CronExpressionParser.parse(cron, { tz: timeZone, currentDate: new Date() });
    occurrences = Array.from({ length: 12 }, () => expression.next().toDate());
  } catch (error) {
    throw invalid(`"${cron}" is not a valid cron expression: ${(error as Error).message}`, 'schedule.cron');
  }
  if (shortestGapMs(occurrences) < MIN_SCHEDULE_INTERVAL_MS) throw invalid(`Backups can run at most every ${MIN_SCHEDULE_INTERVAL_MS / 60_000} minutes`, 'schedule.cron');
  return { kind: 'CRON', cron, timeZone };
}

const shortestGapMs = (occurrences: Date[]) => Math.min(...occurrences.slice(1).map((at, i) => at.getTime() - occurrences[i].getTime()));

/** The shortest gap between two backups of a valid schedule, over its next 60 occurrences; null for a manual one. */
export function shortestInterval(schedule: ValidSchedule, after: Date = new Date()): number | null {
  if (schedule.kind !== 'CRON' || !schedule.cron) return null;
  const expression = CronExpressionParser.parse(schedule.cron, { tz: schedule.timeZone ?? 'UTC', currentDate: after });
  return shortestGapMs(Array.from({ length: 60 }, () => expression.next().toDate()));
}

function canonicalTimeZone(zone: string): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    throw invalid(`"${zone}" is not a known time zone; use an IANA name such as "Europe/Paris"`, 'schedule.timeZone');
  }
}

/** The first occurrence strictly after `after`, or null for a manual schedule. */
export function nextRun(schedule: { kind: ScheduleKind; cron: string | null; timeZone: string | null }, after: Date): Date | null {
  if (schedule.kind !== 'CRON' || !schedule.cron) return null;
  return CronExpressionParser.parse(schedule.cron, { tz: schedule.timeZone ?? 'UTC', currentDate: after }).next().toDate();
}
