import { FREE_PLAN, type PlanLimits } from '@listbackup/lib/plan-limits';

export interface PlanDefinition {
  /** Stable key; `free` is the plan every new account starts on. */
  code: string;
  name: string;
  /** Price per month in cents, charged for the days of a month spent on the plan (prorated). */
  monthlyPriceCents: number;
  includedStorageBytes: number;
  /**
   * Whether storage above the included bytes is billed (overage). Without it, changePlan refuses the
   * plan while the account stores more than the included bytes; later growth is still billed.
   */
  storageOverage: boolean;
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
    extraGbMonthPriceCents: 5,
    trialDays: 14,
    auditLogRetentionDays: 730,
    limits: { sources: 500, connections: 200, members: 250, apiKeys: 250, minBackupIntervalMinutes: 5, maxRetentionDays: 3650 },
  },
];
