import type { Em } from '@listbackup/lib/db';
import { COUNTED_LIMITS, countLimitError, PlanLimitError, type AccountPlan, type CountedLimit } from '@listbackup/lib/plan-limits';
import type { UsageKind } from '../entities/plan-usage-item.ts';

const LIMIT_OF: Record<UsageKind, CountedLimit> = { SOURCE: 'sources', CONNECTION: 'connections', MEMBER: 'members', API_KEY: 'apiKeys' };

/**
 * Refuses a plan the account's current usage does not fit in, naming the first limit it is over:
 * the counts of live sources, connections, members (invitations included) and API keys, the
 * shortest backup interval and the longest retention of its live sources, as their subgraphs'
 * events told billing (plan_usage_items).
 */
export async function assertUsageFits(tx: Em, accountId: string, target: AccountPlan): Promise<void> {
  const rows = await tx.execute<{ kind: UsageKind; count: number; min_interval: number | null; max_retention: number | null }[]>(
    `select "kind", count(*)::int as "count", min("backup_interval_minutes") as "min_interval", max("retention_days") as "max_retention"
     from "billing"."plan_usage_items" where "account_id" = ? and "live" group by "kind"`,
    [accountId],
  );
  const usage = new Map(rows.map((row) => [LIMIT_OF[row.kind], row]));
  for (const limit of COUNTED_LIMITS) {
    const count = usage.get(limit)?.count ?? 0;
    if (count > target.limits[limit]) throw countLimitError(target, limit, count);
  }
  const sources = usage.get('sources');
  const { minBackupIntervalMinutes, maxRetentionDays } = target.limits;
  if (sources?.min_interval != null && sources.min_interval < minBackupIntervalMinutes) {
    const message = `The ${target.name} plan runs a source's backups at most every ${minBackupIntervalMinutes} minutes; a source of the account runs them ${sources.min_interval} minutes apart`;
    throw new PlanLimitError(target, 'BACKUP_INTERVAL_MINUTES', sources.min_interval, minBackupIntervalMinutes, message);
  }
  if (sources?.max_retention != null && sources.max_retention > maxRetentionDays) {
    const message = `The ${target.name} plan keeps snapshots at most ${maxRetentionDays} days; a source of the account keeps them ${sources.max_retention} days`;
    throw new PlanLimitError(target, 'RETENTION_DAYS', sources.max_retention, maxRetentionDays, message);
  }
}
