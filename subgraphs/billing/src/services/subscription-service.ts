import { randomUUID } from 'node:crypto';
import { authorize } from '@listbackup/lib/access';
import type { Em } from '@listbackup/lib/db';
import type { BillingContext } from '../context.ts';
import { Plan } from '../entities/plan.ts';
import { PlanSubscription } from '../entities/plan-subscription.ts';
import { FREE_PLAN_CODE } from '../catalogue.ts';

/** The account's subscription, or null while it has none yet (the Free plan is given on `account.created`). */
export async function getSubscription(ctx: BillingContext, accountId: string): Promise<PlanSubscription | null> {
  await authorize(ctx, 'billing:read', accountId);
  return ctx.loaders.subscriptionByAccount.load(accountId);
}

/**
 * Puts the account on the Free plan unless it already has a subscription (on any plan).
 * Returns whether a subscription was created. The unique account id makes this safe under
 * concurrent and repeated calls.
 */
export async function startFreePlan(em: Em, accountId: string, startedAt: Date = new Date()): Promise<boolean> {
  const free = await em.findOneOrFail(Plan, { code: FREE_PLAN_CODE });
  const result = await em
    .createQueryBuilder(PlanSubscription)
    .insert({ id: randomUUID(), accountId, planId: free.id, status: 'ACTIVE', startedAt })
    .onConflict('accountId')
    .ignore()
    .execute('run');
  return result.affectedRows > 0;
}
