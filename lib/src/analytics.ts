import { AppError } from './errors.ts';

/**
 * The span of whole UTC days an analytics field reports on, both ends included. Shared by every
 * subgraph that answers analytics (jobs, billing), so ranges mean the same and fail the same way.
 */
export interface DayRange {
  /** `YYYY-MM-DD` */
  from: string;
  /** `YYYY-MM-DD` */
  to: string;
  /** Every day from `from` to `to`, in order. */
  days: string[];
}

export interface AnalyticsRangeInput {
  from: string;
  to: string;
}

/** A range longer than this is refused: a year and a day covers every monthly and yearly view. */
export const MAX_ANALYTICS_DAYS = 366;
/** Without a range: the last 30 days, today included. */
export const DEFAULT_ANALYTICS_DAYS = 30;

const DAY_MS = 86_400_000;

/** The UTC calendar day of an instant, `YYYY-MM-DD`. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

const addDays = (day: string, n: number) => utcDay(new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS));

const invalid = (reason: string, message: string, field: string) => new AppError('BAD_USER_INPUT', message, { reason, field });

/**
 * Checks a requested range (days already parsed by the `Date` scalar). Errors (BAD_USER_INPUT with
 * `extensions.reason`): RANGE_REVERSED, RANGE_IN_FUTURE, RANGE_TOO_LONG.
 */
export function analyticsRange(input: AnalyticsRangeInput | null | undefined, now: Date = new Date()): DayRange {
  const today = utcDay(now);
  const from = input?.from ?? addDays(today, -(DEFAULT_ANALYTICS_DAYS - 1));
  const to = input?.to ?? today;
  if (from > to) throw invalid('RANGE_REVERSED', `The range starts (${from}) after it ends (${to})`, 'range.from');
  if (to > today) throw invalid('RANGE_IN_FUTURE', `The range ends in the future (${to}); today is ${today} (UTC)`, 'range.to');
  const length = Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1;
  if (length > MAX_ANALYTICS_DAYS) throw invalid('RANGE_TOO_LONG', `A range covers at most ${MAX_ANALYTICS_DAYS} days; this one covers ${length}`, 'range');
  return { from, to, days: Array.from({ length }, (_, i) => addDays(from, i)) };
}
