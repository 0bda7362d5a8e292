import { defineEntity, p } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import type { PlanLimits } from '@listbackup/lib/plan-limits';
import type { PlanPrices } from '../catalogue.ts';

/** A price plan; the rows mirror `catalogue.ts`, upserted at start. */
export const PlanSchema = defineEntity({
  name: 'Plan',
  tableName: 'plans',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    code: p.text().unique(),
    name: p.text(),
    // A JS number is exact up to 2^53 bytes (8 PiB), far beyond any plan.
    includedStorageBytes: p.bigint('number'),
    /** The USD monthly price, which orders the plans; `prices` has every currency's. */
    monthlyPriceCents: p.integer(),
    storageOverage: p.boolean(),
    /** Plans without overage: the grace once over the included storage (catalogue.ts). */
    storageGraceDays: p.integer().nullable(),
    storageGraceBytes: p.bigint('number').nullable(),
    extraGbMonthPriceCents: p.integer(),
    prices: p.json<PlanPrices>(),
    trialDays: p.integer().nullable(),
    auditLogRetentionDays: p.integer(),
    limits: p.json<PlanLimits>(),
  },
});

export class Plan extends PlanSchema.class {}
PlanSchema.setClass(Plan);
