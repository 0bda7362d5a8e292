import { defineEntity, p } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

export const SUBSCRIPTION_STATUSES = ['ACTIVE', 'PAST_DUE', 'CANCELLED'] as const;

/** The plan an account is on: one row per account (unique), so a replayed event cannot add a second. */
export const PlanSubscriptionSchema = defineEntity({
  name: 'PlanSubscription',
  tableName: 'plan_subscriptions',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    accountId: p.uuid().unique(),
    planId: p.uuid().index(),
    status: p.enum(SUBSCRIPTION_STATUSES).default('ACTIVE'),
    startedAt: p.datetime().onCreate(() => new Date()),
    /** When the current plan's trial ends; null: no trial on this plan. */
    trialEndsAt: p.datetime().nullable(),
  },
});

export class PlanSubscription extends PlanSubscriptionSchema.class {}
PlanSubscriptionSchema.setClass(PlanSubscription);
