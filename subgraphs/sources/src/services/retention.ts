import { AppError } from '@listbackup/lib/errors';

export interface Retention {
  keepLast: number;
  keepDaily: number;
  keepWeekly: number;
  keepMonthly: number;
}

/** Counts left out keep nothing by that rule. */
export type RetentionInput = Partial<Retention>;

const LIMITS: Record<keyof Retention, number> = { keepLast: 10_000, keepDaily: 3_660, keepWeekly: 520, keepMonthly: 1_200 };

const invalid = (message: string, field: string) => new AppError('BAD_USER_INPUT', message, { reason: 'INVALID_RETENTION', field });

/** Each count within bounds, and at least one snapshot kept: a policy that keeps nothing would delete every backup. */
export function validateRetention(input: RetentionInput): Retention {
  const retention: Retention = { keepLast: input.keepLast ?? 0, keepDaily: input.keepDaily ?? 0, keepWeekly: input.keepWeekly ?? 0, keepMonthly: input.keepMonthly ?? 0 };
  for (const [key, max] of Object.entries(LIMITS) as [keyof Retention, number][]) {
    const value = retention[key];
    if (!Number.isInteger(value) || value < 0 || value > max) throw invalid(`${key} must be a whole number from 0 to ${max}`, `retention.${key}`);
  }
  if (retention.keepLast + retention.keepDaily + retention.keepWeekly + retention.keepMonthly === 0) {
    throw invalid('A retention policy must keep at least one snapshot', 'retention');
  }
  return retention;
}

/**
 * How far back the policy can keep a snapshot by its calendar rules, in days: a daily snapshot
 * is kept `keepDaily` days, a weekly one `keepWeekly` weeks, a monthly one `keepMonthly` months
 * (of 365/12 days). `keepLast` counts snapshots, not time, and is bounded by its own maximum.
 */
export function retentionDays(retention: Retention): number {
  return Math.max(retention.keepDaily, retention.keepWeekly * 7, Math.ceil((retention.keepMonthly * 365) / 12));
}
