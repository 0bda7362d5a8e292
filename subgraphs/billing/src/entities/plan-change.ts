import { defineEntity, p } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

/** One change of an account's plan and what it cost or credited for the rest of the month. */
export const PlanChangeSchema = defineEntity({
  name: 'PlanChange',
  tableName: 'plan_changes',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    accountId: p.uuid(),
    fromPlanId: p.uuid(),
    toPlanId: p.uuid(),
    changedAt: p.datetime(),
    /** The end of the month (UTC) the proration covers. */
    periodEnd: p.datetime(),
    /** The new plan's price for the rest of the month less the old one's; negative: a credit. */
    prorationCents: p.integer(),
    /** The trial the change started, if any; an account gets one trial. */
    trialEndsAt: p.datetime().nullable(),
  },
  indexes: [{ properties: ['accountId', 'changedAt'] }],
});

export class PlanChange extends PlanChangeSchema.class {}
PlanChangeSchema.setClass(PlanChange);
