import { randomUUID } from 'node:crypto';
import type { Em } from '@listbackup/lib/db';
import { NotFoundError } from '@listbackup/lib/errors';
import type { BillingContext } from '../context.ts';
import { Plan } from '../entities/plan.ts';
import { PLAN_CATALOGUE, type PlanDefinition } from '../catalogue.ts';
import { CURRENCIES, type Currency } from '../entities/invoice.ts';

/** Inserts new plans and updates changed ones by code, keeping ids. Safe when several replicas start at once. */
export async function syncPlanCatalogue(em: Em, catalogue: readonly PlanDefinition[] = PLAN_CATALOGUE): Promise<void> {
  if (catalogue.length === 0) return;
  await em
    .createQueryBuilder(Plan)
    .insert(catalogue.map(({ storageGrace, ...plan }) => ({ id: randomUUID(), ...plan, monthlyPriceCents: plan.prices.USD.monthlyCents, extraGbMonthPriceCents: plan.prices.USD.extraGbMonthCents, storageGraceDays: storageGrace?.days ?? null, storageGraceBytes: storageGrace?.bytes ?? null })))
    .onConflict('code')
    .merge(['name', 'includedStorageBytes', 'storageOverage', 'storageGraceDays', 'storageGraceBytes', 'monthlyPriceCents', 'extraGbMonthPriceCents', 'prices', 'trialDays', 'auditLogRetentionDays', 'limits'])
    .execute();
}

/** The plans on offer are public: every caller, signed in or not, may read them. */
export async function listPlans(ctx: BillingContext): Promise<Plan[]> {
  return ctx.em.find(Plan, {}, { orderBy: { monthlyPriceCents: 'asc', code: 'asc' } });
}

export async function getPlan(ctx: BillingContext, id: string): Promise<Plan> {
  const plan = await ctx.loaders.plan.load(id);
  if (!plan) throw new NotFoundError('Plan');
  return plan;
}

/** A plan's prices, one per currency, in the order of CURRENCIES. */
export function planPrices(plan: Plan): { currency: Currency; monthlyPriceCents: number; extraGbMonthPriceCents: number }[] {
  return CURRENCIES.map((currency) => ({ currency, monthlyPriceCents: plan.prices[currency].monthlyCents, extraGbMonthPriceCents: plan.prices[currency].extraGbMonthCents }));
}
