import { FREE_PLAN, type PlanLimits } from '@listbackup/lib/plan-limits';

export interface PlanDefinition {
  /** Stable key; `free` is the plan every new account starts on. */
  code: string;
  name: string;
  /** Price per month in cents, charged for the days of a month spent on the plan (prorated). */
  monthlyPriceCents: number;
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
  /** Price in cents of each GB-month stored above the included storage. */
  extraGbMonthPriceCents: number;
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
    monthlyPriceCents: 0,
    includedStorageBytes: 5 * GIB,
    storageOverage: false,
    storageGrace: { days: 7, bytes: 1 * GIB },
    extraGbMonthPriceCents: 25,
    trialDays: null,
    auditLogRetentionDays: 90,
    limits: FREE_PLAN.limits,
  },
  {
    code: 'team',
    name: 'Team',
    monthlyPriceCents: 4900,
    includedStorageBytes: 100 * GIB,
    storageOverage: true,
    storageGrace: null,
    extraGbMonthPriceCents: 10,
    trialDays: 14,
    auditLogRetentionDays: 365,
    limits: { sources: 50, connections: 20, members: 25, apiKeys: 25, minBackupIntervalMinutes: 15, maxRetentionDays: 1095 },
  },
  {
    code: 'business',
    name: 'Business',
    monthlyPriceCents: 19900,
    includedStorageBytes: 1 * TIB,
    storageOverage: true,
    storageGrace: null,
    extraGbMonthPriceCents: 5,
    trialDays: 14,
    auditLogRetentionDays: 730,
    limits: { sources: 500, connections: 200, members: 250, apiKeys: 250, minBackupIntervalMinutes: 5, maxRetentionDays: 3650 },
  },
];
