/**
 * Grandfather-father-son retention, with restic's `forget` semantics: keep the newest N snapshots,
 * and for each of the last N days (weeks, months, years) that have snapshots, the newest snapshot
 * of that day (week, month, year). A snapshot is kept when any rule keeps it. Calendar periods are
 * taken in the policy's time zone; weeks are ISO weeks (Monday first). A pure function: no clock,
 * no store.
 */
import { EngineConfigError } from './errors.ts';

export interface RetentionPolicy {
  keepLast?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  /** IANA time zone for day, week, month and year boundaries (default UTC). */
  timeZone?: string;
}

export interface Dated {
  id: string;
  createdAt: Date | string;
}

export interface PruneDecision<T extends Dated> {
  /** Newest first. */
  keep: T[];
  /** Newest first. */
  drop: T[];
  /** Why each kept snapshot stays, e.g. ["last", "daily 2026-03-01"]. */
  reasons: Map<string, string[]>;
}

const RULES = ['keepLast', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly'] as const;

/** Throws EngineConfigError for counts that are not non-negative integers, an unknown time zone, or a policy that keeps nothing. */
export function validateRetention(policy: RetentionPolicy): void {
  let total = 0;
  for (const rule of RULES) {
    const value = policy[rule];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 0) throw new EngineConfigError(`retention ${rule} must be a whole number of at least 0`);
    total += value;
  }
  if (total === 0) throw new EngineConfigError('retention keeps nothing: set at least one of keepLast, keepDaily, keepWeekly, keepMonthly, keepYearly above 0');
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: policy.timeZone ?? 'UTC' });
  } catch {
    throw new EngineConfigError(`retention time zone "${policy.timeZone}" is not a known IANA time zone`);
  }
}

interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

function calendarDate(formatter: Intl.DateTimeFormat, time: Date): CalendarDate {
  const parts: Record<string, number> = {};
  for (const part of formatter.formatToParts(time)) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  return { year: parts.year, month: parts.month, day: parts.day };
}

/** ISO-8601 week: the week with the year's first Thursday is week 1. */
export function isoWeek(date: CalendarDate): { year: number; week: number } {
  const utc = new Date(Date.UTC(date.year, date.month - 1, date.day));
  const weekday = utc.getUTCDay() || 7; // Monday 1 … Sunday 7
  utc.setUTCDate(utc.getUTCDate() + 4 - weekday); // the Thursday of this week decides its year
  const year = utc.getUTCFullYear();
  const week = Math.ceil(((utc.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return { year, week };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

export function prune<T extends Dated>(snapshots: readonly T[], policy: RetentionPolicy): PruneDecision<T> {
  validateRetention(policy);
  const formatter = new Intl.DateTimeFormat('en-US', { timeZone: policy.timeZone ?? 'UTC', year: 'numeric', month: 'numeric', day: 'numeric' });
  const dated = snapshots.map((snapshot) => {
    const time = snapshot.createdAt instanceof Date ? snapshot.createdAt : new Date(snapshot.createdAt);
    if (Number.isNaN(time.getTime())) throw new EngineConfigError(`snapshot ${snapshot.id} has an invalid createdAt`);
    return { snapshot, time: time.getTime(), date: calendarDate(formatter, time) };
  });
  dated.sort((a, b) => b.time - a.time || (a.snapshot.id < b.snapshot.id ? 1 : a.snapshot.id > b.snapshot.id ? -1 : 0));

  const reasons = new Map<string, string[]>();
  const mark = (id: string, reason: string) => {
    const list = reasons.get(id);
    if (list) list.push(reason);
    else reasons.set(id, [reason]);
  };

  const buckets: [number | undefined, string, (d: CalendarDate) => string][] = [
    [policy.keepDaily, 'daily', (d) => `${d.year}-${pad(d.month)}-${pad(d.day)}`],
    [
      policy.keepWeekly,
      'weekly',
      (d) => {
        const w = isoWeek(d);
        return `${w.year}-W${pad(w.week)}`;
      },
    ],
    [policy.keepMonthly, 'monthly', (d) => `${d.year}-${pad(d.month)}`],
    [policy.keepYearly, 'yearly', (d) => `${d.year}`],
  ];

  for (const entry of dated.slice(0, policy.keepLast ?? 0)) mark(entry.snapshot.id, 'last');
  for (const [count, name, bucketOf] of buckets) {
    if (!count) continue;
    let kept = 0;
    let last: string | null = null;
    for (const entry of dated) {
      if (kept >= count) break;
      const bucket = bucketOf(entry.date);
      if (bucket === last) continue;
      last = bucket;
      kept++;
      mark(entry.snapshot.id, `${name} ${bucket}`);
    }
  }

  const keep: T[] = [];
  const drop: T[] = [];
  for (const entry of dated) (reasons.has(entry.snapshot.id) ? keep : drop).push(entry.snapshot);
  return { keep, drop, reasons };
}
