import { LockMode } from '@mikro-orm/core';
import { authorize } from '@listbackup/lib/access';
import { AppError } from '@listbackup/lib/errors';
import { PlanLimitError } from '@listbackup/lib/plan-limits';
import { actorOf, createEvent } from '@listbackup/lib/events/contract';
import { enqueueEvent } from '@listbackup/lib/events/outbox';
import type { BillingContext } from '../context.ts';
import { Plan } from '../entities/plan.ts';
import { PlanChange } from '../entities/plan-change.ts';
import { PlanSubscription } from '../entities/plan-subscription.ts';
import { currentUsage } from './metering.ts';
import { assertUsageFits } from './plan-usage.ts';
import { settleStorageQuota } from './storage-quota.ts';
import { currencyOf } from './invoicing.ts';
import { priceIn } from '../catalogue.ts';
import { startFreePlan } from './subscription-service.ts';

const DAY_MS = 86_400_000;
const gib = (bytes: number) => Number((bytes / 1024 ** 3).toFixed(2));

/** The calendar month (UTC) that holds `at`: plans are priced by the month, as storage is metered. */
export function billingMonth(at: Date): { start: Date; end: Date } {
  const start = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
  const end = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
  return { start, end };
}

/**
 * What a plan costs from `at` to the end of its month, in (fractional) cents: the monthly price
 * times the share of the month left, not counting days still in a trial.
 */
export function restOfMonthCents(monthlyPriceCents: number, at: Date, trialEndsAt: Date | null): number {
  const { start, end } = billingMonth(at);
  const from = Math.max(at.getTime(), trialEndsAt?.getTime() ?? 0);
  return (monthlyPriceCents * Math.max(0, end.getTime() - from)) / (end.getTime() - start.getTime());
}

export interface PlanChangeResult {
  subscription: PlanSubscription;
  change: PlanChange;
}

/**
 * Moves the account to another plan now. The rest of the month is prorated: the new plan's price
 * for it less the old one's (negative: a credit). A plan the account's usage does not fit in (less
 * storage than it stores, fewer sources than it has, ...) is refused (PLAN_LIMIT), and nothing changes. The first move to a plan with a
 * trial starts it; an account gets one trial.
 */
export async function changePlan(ctx: BillingContext, accountId: string, planCode: string, now: Date = new Date()): Promise<PlanChangeResult> {
  await authorize(ctx, 'billing:manage', accountId);
  const target = await ctx.em.findOne(Plan, { code: planCode });
  if (!target) throw new AppError('BAD_USER_INPUT', `There is no plan "${planCode.slice(0, 64)}"`, { reason: 'UNKNOWN_PLAN', field: 'plan' });
  return ctx.em.transactional(async (tx) => {
    // Every account starts on Free; the account.created event may not have reached billing yet.
    await startFreePlan(tx, accountId, now);
    const subscription = await tx.findOneOrFail(PlanSubscription, { accountId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (subscription.planId === target.id) throw new AppError('BAD_USER_INPUT', `The account is already on the ${target.name} plan`, { reason: 'SAME_PLAN', field: 'plan' });
    const current = await tx.findOneOrFail(Plan, { id: subscription.planId });
    const { storedBytes } = await currentUsage(tx, accountId);
    // On a plan with overage the storage above the included bytes is billed, not refused.
    if (!target.storageOverage && storedBytes > target.includedStorageBytes) {
      const message = `The ${target.name} plan includes ${gib(target.includedStorageBytes)} GB of storage; the account stores ${gib(storedBytes)} GB`;
      throw new PlanLimitError(target, 'STORAGE_BYTES', storedBytes, target.includedStorageBytes, message);
    }
    await assertUsageFits(tx, accountId, target);
    const hadTrial = (await tx.count(PlanChange, { accountId, trialEndsAt: { $ne: null } })) > 0;
    const trialEndsAt = target.trialDays && !hadTrial ? new Date(now.getTime() + target.trialDays * DAY_MS) : null;
    const currency = await currencyOf(tx, accountId);
    const prorationCents = Math.round(
      restOfMonthCents(priceIn(target, currency).monthlyCents, now, trialEndsAt) - restOfMonthCents(priceIn(current, currency).monthlyCents, now, subscription.trialEndsAt ?? null),
    );
    const change = tx.create(PlanChange, {
      accountId,
      fromPlanId: current.id,
      toPlanId: target.id,
      changedAt: now,
      periodEnd: billingMonth(now).end,
      prorationCents,
      trialEndsAt,
    });
    subscription.planId = target.id;
    subscription.trialEndsAt = trialEndsAt;
    enqueueEvent(
      tx,
      createEvent(
        'account.upgraded',
        accountId,
        accountId,
        { accountId, fromPlan: current.code, toPlan: target.code, auditLogRetentionDays: target.auditLogRetentionDays, planName: target.name, limits: target.limits },
        { actor: actorOf(ctx), time: now },
      ),
    );
    await tx.flush();
    // An upgrade to overage (or more storage) lifts a blocked account at once.
    await settleStorageQuota(tx, accountId, now, 0);
    return { subscription, change };
  });
}
