export interface PlanDefinition {
  /** Stable key; `free` is the plan every new account starts on. */
  code: string;
  name: string;
  includedStorageBytes: number;
  monthlyPriceCents: number;
}

const GIB = 1024 ** 3;
const TIB = 1024 ** 4;

export const FREE_PLAN_CODE = 'free';

/** The plans on offer. The code is the source of truth: `syncPlanCatalogue` upserts them by code at start. */
export const PLAN_CATALOGUE: readonly PlanDefinition[] = [
  { code: FREE_PLAN_CODE, name: 'Free', includedStorageBytes: 5 * GIB, monthlyPriceCents: 0 },
  { code: 'team', name: 'Team', includedStorageBytes: 100 * GIB, monthlyPriceCents: 4900 },
  { code: 'business', name: 'Business', includedStorageBytes: 1 * TIB, monthlyPriceCents: 19900 },
];
