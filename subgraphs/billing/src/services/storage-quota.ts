import { authorize } from '@listbackup/lib/access';
import type { Em } from '@listbackup/lib/db';
import { createEvent, systemActor } from '@listbackup/lib/events/contract';
import { enqueueEvent } from '@listbackup/lib/events/outbox';
import type { BillingContext } from '../context.ts';
import { FREE_PLAN_CODE } from '../catalogue.ts';
import { Plan } from '../entities/plan.ts';
import { StorageQuota } from '../entities/storage-quota.ts';
import { balancesBySource, currentUsage } from './metering.ts';

const DAY_MS = 86_400_000;

/** The shares of the plan's included storage whose crossing is announced (`billing.quota_reached`). */
export const QUOTA_THRESHOLDS = [80, 100] as const;

interface QuotaPlan {
  code: string;
  name: string;
  quotaBytes: number;
  storageOverage: boolean;
  graceDays: number;
  graceBytes: number;
}

async function planOf(tx: Em, accountId: string): Promise<QuotaPlan | null> {
  const [row] = await tx.execute<{ code: string; name: string; quota: string; overage: boolean; grace_days: number | null; grace_bytes: string | null }[]>(
    `select p.code, p.name, p.included_storage_bytes::text as quota, p.storage_overage as overage, p.storage_grace_days as grace_days, p.storage_grace_bytes::text as grace_bytes
       from billing.plan_subscriptions s join billing.plans p on p.id = s.plan_id where s.account_id = ?`,
    [accountId],
  );
  if (!row) return null;
  return { code: row.code, name: row.name, quotaBytes: Number(row.quota), storageOverage: row.overage, graceDays: row.grace_days ?? 0, graceBytes: Number(row.grace_bytes ?? 0) };
}

/**
 * The one place that tells what the account's stored total means against its plan, in the
 * transaction that changes the total by `deltaBytes` (before that change's ledger rows are written)
 * or changes the plan (after the subscription is flushed, delta 0):
 * - each threshold of the included storage that a growth crosses upwards: `billing.quota_reached`
 *   (a total that fell back under one and rises again is announced again);
 * - the standing (`billing.storage_standing`), when it changes or the bytes change while over. On a
 *   plan without overage, going over starts the grace period: backups still run for the plan's
 *   grace days, or until the total passes the quota by more than its grace bytes, whichever comes
 *   first; then jobs refuses them (QUOTA_EXCEEDED). Coming back within, or a plan with overage,
 *   lifts it at once. A plan with overage is never blocked.
 * No plan yet, nothing to tell.
 */
export async function settleStorageQuota(tx: Em, accountId: string, at: Date, deltaBytes: number): Promise<void> {
  // Locks the account's standing first, then reads: concurrent changes of its bytes and its plan settle one after the other.
  await tx.createQueryBuilder(StorageQuota).insert({ accountId, version: 0, usedBytes: 0, quotaBytes: 0 }).onConflict('accountId').ignore().execute('run');
  const [row] = await tx.execute<{ version: number; plan_code: string | null; used_bytes: string; over_since: Date | null; blocked_from: Date | null }[]>(
    `select version, plan_code, used_bytes::text, over_since, blocked_from from billing.storage_quotas where account_id = ? for update`,
    [accountId],
  );
  const plan = await planOf(tx, accountId);
  if (!plan || !row) return;
  const before = (await balancesBySource(tx, accountId)).reduce((sum, balance) => sum + balance.storedBytes, 0);
  const after = Math.max(0, before + deltaBytes);
  if (deltaBytes > 0 && plan.quotaBytes > 0) {
    for (const threshold of QUOTA_THRESHOLDS) {
      const line = (plan.quotaBytes * threshold) / 100;
      if (before < line && after >= line) {
        enqueueEvent(tx, createEvent('billing.quota_reached', accountId, accountId, { accountId, threshold, usedBytes: after, quotaBytes: plan.quotaBytes }, { actor: systemActor('billing'), time: at }));
      }
    }
  }

  const over = !plan.storageOverage && after > plan.quotaBytes;
  const overSince = over ? (row.over_since ? new Date(row.over_since) : at) : null;
  let blockedFrom: Date | null = null;
  if (overSince) {
    const graceEnds = overSince.getTime() + plan.graceDays * DAY_MS;
    const earlier = row.blocked_from ? new Date(row.blocked_from).getTime() : Number.POSITIVE_INFINITY;
    blockedFrom = new Date(after > plan.quotaBytes + plan.graceBytes ? Math.min(graceEnds, at.getTime(), earlier) : graceEnds);
  }
  const same = (a: Date | null, b: Date | null) => (a ? new Date(a).getTime() : null) === (b ? b.getTime() : null);
  const unchanged = row.version === 0 ? !over : row.plan_code === plan.code && same(row.over_since, overSince) && same(row.blocked_from, blockedFrom) && (!over || Number(row.used_bytes) === after);
  if (unchanged) return;
  const version = row.version + 1;
  await tx.nativeUpdate(StorageQuota, { accountId }, { version, planCode: plan.code, usedBytes: after, quotaBytes: plan.quotaBytes, overSince, blockedFrom });
  enqueueEvent(
    tx,
    createEvent(
      'billing.storage_standing',
      accountId,
      accountId,
      {
        accountId,
        version,
        plan: plan.code,
        planName: plan.name,
        usedBytes: after,
        quotaBytes: plan.quotaBytes,
        overSince: overSince?.toISOString() ?? null,
        blockedFrom: blockedFrom?.toISOString() ?? null,
      },
      { actor: systemActor('billing'), time: at },
    ),
  );
}

export type StorageQuotaState = 'WITHIN' | 'OVERAGE' | 'GRACE' | 'BLOCKED';

/** The account's standing as the graph shows it (billing:read). */
export interface StorageQuotaView {
  state: StorageQuotaState;
  plan: string;
  includedBytes: number;
  storedBytes: number;
  overSince: Date | null;
  backupsBlockedFrom: Date | null;
}

export async function getStorageQuota(ctx: BillingContext, accountId: string, now: Date = new Date()): Promise<StorageQuotaView> {
  await authorize(ctx, 'billing:read', accountId);
  const subscription = await ctx.loaders.subscriptionByAccount.load(accountId);
  const plan = subscription ? await ctx.em.findOneOrFail(Plan, { id: subscription.planId }) : await ctx.em.findOneOrFail(Plan, { code: FREE_PLAN_CODE });
  const { storedBytes } = await currentUsage(ctx.em, accountId);
  const standing = await ctx.em.findOne(StorageQuota, { accountId });
  const overSince = standing?.overSince ?? null;
  const blockedFrom = standing?.blockedFrom ?? null;
  const state: StorageQuotaState = plan.storageOverage
    ? storedBytes > plan.includedStorageBytes
      ? 'OVERAGE'
      : 'WITHIN'
    : !overSince
      ? 'WITHIN'
      : blockedFrom && blockedFrom.getTime() <= now.getTime()
        ? 'BLOCKED'
        : 'GRACE';
  return { state, plan: plan.code, includedBytes: plan.includedStorageBytes, storedBytes, overSince: plan.storageOverage ? null : overSince, backupsBlockedFrom: plan.storageOverage ? null : blockedFrom };
}
