import { FREE_PLAN, type PlanLimits } from '@listbackup/lib/plan-limits';
import type { Currency } from './entities/invoice.ts';

/** A plan's prices in one currency, in its cents (minor unit). */
export interface PlanPrice {
  /** Per month, charged for the days of a month spent on the plan (prorated). */
  monthlyCents: number;
  /** Per GB-month stored above the included storage. */
  extraGbMonthCents: number;
}

/** Set per market, not converted: each currency's prices are the ones shown to its customers. */
export type PlanPrices = Record<Currency, PlanPrice>;

export interface PlanDefinition {
  /** Stable key; `free` is the plan every new account starts on. */
  code: string;
  name: string;
  /** What the plan costs in each currency invoices can be in. */
  prices: PlanPrices;
  includedStorageBytes: number;
  /**
   * Whether storage above the included bytes is billed (overage) and never blocks a backup. Without
   * it the included bytes are a quota: changePlan refuses the plan while the account stores more,
   * and an account that goes over has `storageGrace` before its backups are refused.
   */
  storageOverage: boolean;
  /**
   * Plans without overage: how long, and how far above the quota, backups still run once the
   * account is over it (services/storage-quota.ts); null on plans with overage.
   */
  storageGrace: { days: number; bytes: number } | null;
  /** Days free the first time an account moves to the plan; null: no trial. */
  trialDays: number | null;
  /** How long the account's audit log is kept (sent with `account.upgraded`; accounts prunes by it). */
  auditLogRetentionDays: number;
  /** What the plan allows; sources, platforms and accounts enforce them (lib/src/plan-limits.ts). */
  limits: PlanLimits;
}

const GIB = 1024 ** 3;
const TIB = 1024 ** 4;

export const FREE_PLAN_CODE = FREE_PLAN.code;

/** The plans on offer. The code is the source of truth: `syncPlanCatalogue` upserts them by code at start. */
export const PLAN_CATALOGUE: readonly PlanDefinition[] = [
  {
    code: FREE_PLAN_CODE,
    name: FREE_PLAN.name,
    prices: { USD: { monthlyCents: 0, extraGbMonthCents: 25 }, EUR: { monthlyCents: 0, extraGbMonthCents: 23 }, GBP: { monthlyCents: 0, extraGbMonthCents: 20 } },
    includedStorageBytes: 5 * GIB,
    storageOverage: false,
    storageGrace: { days: 7, bytes: 1 * GIB },
    trialDays: null,
    auditLogRetentionDays: 90,
    limits: FREE_PLAN.limits,
  },
  {
    code: 'team',
    name: 'Team',
    prices: { USD: { monthlyCents: 4900, extraGbMonthCents: 10 }, EUR: { monthlyCents: 4500, extraGbMonthCents: 9 }, GBP: { monthlyCents: 3900, extraGbMonthCents: 8 } },
    includedStorageBytes: 100 * GIB,
    storageOverage: true,
    storageGrace: null,
    trialDays: 14,
    auditLogRetentionDays: 365,
    limits: { sources: 50, connections: 20, members: 25, apiKeys: 25, minBackupIntervalMinutes: 15, maxRetentionDays: 1095 },
  },
  {
    code: 'business',
    name: 'Business',
    prices: { USD: { monthlyCents: 19900, extraGbMonthCents: 5 }, EUR: { monthlyCents: 18500, extraGbMonthCents: 5 }, GBP: { monthlyCents: 15900, extraGbMonthCents: 4 } },
    includedStorageBytes: 1 * TIB,
    storageOverage: true,
    storageGrace: null,
    trialDays: 14,
    auditLogRetentionDays: 730,
    limits: { sources: 500, connections: 200, members: 250, apiKeys: 250, minBackupIntervalMinutes: 5, maxRetentionDays: 3650 },
  },
];

/** The plan's prices in `currency`. */
export const priceIn = (plan: { prices: PlanPrices }, currency: Currency): PlanPrice => plan.prices[currency];
