import type { Em } from '@listbackup/lib/db';
import { lockAccountPlan } from '@listbackup/lib/events/account-plans';
import { assertRoomFor, PlanLimitError, type AccountPlan } from '@listbackup/lib/plan-limits';
import { Source } from '../entities/source.ts';
import { shortestInterval, type ValidSchedule } from './schedule.ts';
import { retentionDays, type Retention } from './retention.ts';

/** The account's plan, locked for the rest of `tx` (see lockAccountPlan). */
export const lockPlan = (tx: Em, accountId: string): Promise<AccountPlan> => lockAccountPlan(tx, 'sources', accountId);

/** Refuses a new source when the account's live sources fill its plan. Call with the plan locked. */
export async function assertRoomForSource(tx: Em, plan: AccountPlan, accountId: string): Promise<void> {
  assertRoomFor(plan, 'sources', await tx.count(Source, { accountId, deletedAt: null }));
}

/** Refuses a schedule that runs more often, or a retention that keeps longer, than the plan allows. */
export function assertPlanAllows(plan: AccountPlan, change: { schedule?: ValidSchedule; retention?: Retention }): void {
  const interval = change.schedule && shortestInterval(change.schedule);
  if (interval != null && interval < plan.limits.minBackupIntervalMinutes * 60_000) {
    const minutes = Math.floor(interval / 60_000);
    throw new PlanLimitError(
      plan,
      'BACKUP_INTERVAL_MINUTES',
      minutes,
      plan.limits.minBackupIntervalMinutes,
      `The ${plan.name} plan runs a source's backups at most every ${plan.limits.minBackupIntervalMinutes} minutes; this schedule runs them ${minutes} minutes apart`,
    );
  }
  const days = change.retention && retentionDays(change.retention);
  if (days != null && days > plan.limits.maxRetentionDays) {
    throw new PlanLimitError(
      plan,
      'RETENTION_DAYS',
      days,
      plan.limits.maxRetentionDays,
      `The ${plan.name} plan keeps snapshots at most ${plan.limits.maxRetentionDays} days; this retention keeps them ${days} days`,
    );
  }
}
