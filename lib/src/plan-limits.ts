import { z } from 'zod';
import { AppError } from './errors.ts';

/**
 * What a plan allows an account. Billing's catalogue sets them per plan and sends them with
 * `account.upgraded`; each subgraph that owns a limited thing keeps the account's current limits
 * in a small read model (events/account-plans.ts) and checks them in the transaction that
 * creates the thing, under a per-account lock.
 */
export const PlanLimitsShape = z.object({
  /** Live sources. */
  sources: z.number().int().min(0),
  /** Connections to platforms, whatever their status. */
  connections: z.number().int().min(0),
  /** Memberships, pending invitations included. */
  members: z.number().int().min(0),
  /** API keys not revoked. */
  apiKeys: z.number().int().min(0),
  /** The shortest gap between two scheduled backups of a source. */
  minBackupIntervalMinutes: z.number().int().min(1),
  /** The longest a source's retention policy may keep a snapshot by its calendar rules. */
  maxRetentionDays: z.number().int().min(1),
});
export type PlanLimits = z.infer<typeof PlanLimitsShape>;

/** The names a PLAN_LIMIT error gives in `extensions.limit`. */
export type PlanLimitName = 'SOURCES' | 'CONNECTIONS' | 'MEMBERS' | 'API_KEYS' | 'BACKUP_INTERVAL_MINUTES' | 'RETENTION_DAYS' | 'STORAGE_BYTES';

export interface AccountPlan {
  code: string;
  name: string;
  limits: PlanLimits;
}

/**
 * The Free plan every account starts on. Its limits are defined here, once: billing's catalogue
 * uses them, and every read model answers them for an account no `account.upgraded` has reached.
 */
export const FREE_PLAN: AccountPlan = {
  code: 'free',
  name: 'Free',
  limits: { sources: 5, connections: 3, members: 5, apiKeys: 5, minBackupIntervalMinutes: 60, maxRetentionDays: 365 },
};

/** A plan's limit in the way: `extensions` { limit, usage, allowed, plan } (the plan's code). */
export class PlanLimitError extends AppError {
  constructor(plan: Pick<AccountPlan, 'code'>, limit: PlanLimitName, usage: number, allowed: number, message: string) {
    super('PLAN_LIMIT', message, { limit, usage, allowed, plan: plan.code });
  }
}

const COUNTED = {
  sources: ['SOURCES', 'source', 'sources'],
  connections: ['CONNECTIONS', 'connection', 'connections'],
  members: ['MEMBERS', 'member (pending invitations included)', 'members (pending invitations included)'],
  apiKeys: ['API_KEYS', 'API key', 'API keys'],
} as const satisfies Record<string, readonly [PlanLimitName, string, string]>;

export type CountedLimit = keyof typeof COUNTED;

/** The PLAN_LIMIT error of a counted limit the account's `count` of `kind` meets. */
export function countLimitError(plan: AccountPlan, kind: CountedLimit, count: number): PlanLimitError {
  const allowed = plan.limits[kind];
  const [limit, one, many] = COUNTED[kind];
  return new PlanLimitError(plan, limit, count, allowed, `The ${plan.name} plan allows ${allowed} ${allowed === 1 ? one : many}; the account has ${count}`);
}

/** Refuses one more of `kind` when the account already has `count` of them. */
export function assertRoomFor(plan: AccountPlan, kind: CountedLimit, count: number): void {
  if (count >= plan.limits[kind]) throw countLimitError(plan, kind, count);
}

export const COUNTED_LIMITS = Object.keys(COUNTED) as CountedLimit[];

