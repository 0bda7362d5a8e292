import type { Em } from '@listbackup/lib/db';
import { AccountQuota } from '../entities/account-quota.ts';
import { JobFailure } from '../worker/errors.ts';

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(2)} GiB`;

/** Refuses a backup of an account whose grace is over (QUOTA_EXCEEDED), before it stores anything: one primary-key read. */
export async function assertStorageQuota(em: Em, accountId: string, now: Date): Promise<void> {
  const quota = await em.findOne(AccountQuota, { accountId });
  if (!quota?.blockedFrom || quota.blockedFrom.getTime() > now.getTime()) return;
  const since = quota.overSince ? ` since ${quota.overSince.toISOString()}` : '';
  throw new JobFailure(
    'QUOTA_EXCEEDED',
    `Storage quota exceeded: the ${quota.planName} plan includes ${gib(quota.quotaBytes)} and the account stores ${gib(quota.usedBytes)}${since}; ` +
      `its grace ended ${quota.blockedFrom.toISOString()}. Nothing was backed up. Delete data or upgrade the plan to back up again.`,
  );
}
