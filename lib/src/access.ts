import DataLoader from 'dataloader';
import type { Principal } from './principal.ts';
import { AppError, ForbiddenError, NotFoundError, UnauthenticatedError } from './errors.ts';
import { internalClient, type Caller, type ServiceClient } from './internal-client.ts';
import { isAccountStatus, mergeAccessChanges, type AccessChange, type AccountStatus, type CarriedAccess, type Role, type VisibleFact } from './access-facts.ts';

export { ROLES, isRole, ACCOUNT_STATUSES, isAccountStatus, type Role, type AccountStatus } from './access-facts.ts';

export const ACTIONS = [
  'account:read',
  'account:update',
  'account:create-child',
  'account:delete',
  'members:read',
  'members:manage',
  'apikeys:read',
  'apikeys:manage',
  'connections:read',
  'connections:manage',
  'sources:read',
  'sources:manage',
  'jobs:read',
  'jobs:run',
  'billing:read',
  'billing:manage',
  'audit:read',
  'notifications:manage',
] as const;
export type Action = (typeof ACTIONS)[number];

const VIEWER: Action[] = ['account:read', 'members:read', 'connections:read', 'sources:read', 'jobs:read', 'billing:read'];
const OPERATOR: Action[] = [...VIEWER, 'jobs:run', 'sources:manage'];
const ADMIN: Action[] = [
  ...OPERATOR,
  'account:update',
  'account:create-child',
  'members:manage',
  'apikeys:read',
  'apikeys:manage',
  'connections:manage',
  'audit:read',
  'notifications:manage',
];
const OWNER: Action[] = [...ADMIN, 'account:delete', 'billing:manage'];

export const ROLE_ACTIONS: Record<Role, ReadonlySet<Action>> = {
  viewer: new Set(VIEWER),
  operator: new Set(OPERATOR),
  admin: new Set(ADMIN),
  owner: new Set(OWNER),
};

export const ROLE_RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2, owner: 3 };

export function isAction(value: string): value is Action {
  return (ACTIONS as readonly string[]).includes(value);
}

/** What a suspended account may still do besides reading: pay, leave, and keep people and keys safe. */
const SUSPENDED_ALLOWED: ReadonlySet<Action> = new Set(['billing:manage', 'account:delete', 'members:manage', 'apikeys:manage']);
/** What an account waiting for its purge may do besides reading: be restored (or deleted for good). */
const DELETED_ALLOWED: ReadonlySet<Action> = new Set(['account:delete']);

/** Whether an account in `status` allows `action` (roles aside). */
export function statusAllows(status: AccountStatus, action: Action): boolean {
  if (status === 'active' || action.endsWith(':read')) return true;
  return (status === 'suspended' ? SUSPENDED_ALLOWED : DELETED_ALLOWED).has(action);
}

export class AccountSuspendedError extends AppError {
  constructor(action: Action) {
    super('ACCOUNT_SUSPENDED', `This account is suspended: it can be read, but not ${action}. Settle its billing or ask support to resume it`);
  }
}

export class AccountDeletedError extends AppError {
  constructor(action: Action) {
    super('ACCOUNT_DELETED', `This account is scheduled for deletion: it can be read or restored (restoreAccount), but not ${action}`);
  }
}

/** One access fact: the caller's role on an account and the account's status. */
export interface AccessFact {
  role: Role;
  status: AccountStatus;
}

/**
 * Answers "which role does this caller hold on each of these accounts", counting roles inherited
 * from ancestors. The accounts subgraph owns the answer; other subgraphs ask it over HTTP.
 */
export interface AccessResolver {
  rolesOn(principal: Principal, accountIds: readonly string[]): Promise<(Role | null)[]>;
  /**
   * Roles and account statuses in one look-up. A resolver without it answers roles only, and
   * every account counts as active.
   */
  factsOn?(principal: Principal, accountIds: readonly string[]): Promise<(AccessFact | null)[]>;
  /** Every account the caller can see, with the role it holds there and where it sits in the tree. */
  visibleAccounts(principal: Principal): Promise<VisibleAccount[]>;
}

export interface VisibleAccount {
  accountId: string;
  role: Role;
  /** The account's ancestors from the root down, then the account itself. */
  path: string[];
}

/**
 * Per-request access checks, batched: many `authorize` calls in one request make one lookup. With
 * facts carried by the gateway (access-facts.ts) they are answered from those, without a lookup.
 */
export class AccessChecker {
  readonly principal: Principal;
  readonly #facts: DataLoader<string, AccessFact | null>;
  readonly #resolver: AccessResolver;
  readonly #live: boolean;
  #carried?: Map<string, VisibleFact>;
  #visible?: Promise<VisibleAccount[]>;
  #changes?: AccessChange;

  constructor(principal: Principal, resolver: AccessResolver, carried?: CarriedAccess) {
    this.principal = principal;
    this.#resolver = resolver;
    this.#live = principal.kind !== 'anonymous' && carried?.live === true;
    if (this.#live && carried?.accounts) this.#carried = new Map(carried.accounts.map((fact) => [fact.accountId.toLowerCase(), fact]));
    this.#facts = new DataLoader(async (ids) => {
      if (resolver.factsOn) return resolver.factsOn(principal, ids);
      return (await resolver.rolesOn(principal, ids)).map((role) => (role ? { role, status: 'active' as const } : null));
    });
  }

  /** The gateway checked that the caller's session or API key is alive for this request. */
  get vouchedLive(): boolean {
    return this.#live;
  }

  async roleOn(accountId: string): Promise<Role | null> {
    return (await this.factOn(accountId))?.role ?? null;
  }

  /** The caller's role on the account and the account's status; null without a role. */
  factOn(accountId: string): Promise<AccessFact | null> {
    if (this.principal.kind === 'anonymous') return Promise.resolve(null);
    if (this.#carried) {
      const fact = this.#carried.get(String(accountId).toLowerCase());
      return Promise.resolve(fact ? { role: fact.role, status: fact.status } : null);
    }
    return this.#facts.load(accountId);
  }

  visibleAccounts(): Promise<VisibleAccount[]> {
    if (this.principal.kind === 'anonymous') return Promise.resolve([]);
    if (this.#carried) return Promise.resolve([...this.#carried.values()].map(({ accountId, role, path }) => ({ accountId, role, path })));
    return (this.#visible ??= this.#resolver.visibleAccounts(this.principal));
  }

  /** Forget cached (and carried) answers after this request changed memberships or the account tree. */
  clear(): void {
    this.#facts.clearAll();
    this.#visible = undefined;
    this.#carried = undefined;
    const principal = this.principal;
    if (principal.kind === 'user') this.noteChange({ userIds: [principal.userId] });
    if (principal.kind === 'apiKey') this.noteChange({ apiKeyIds: [principal.apiKeyId] });
  }

  /** Records whose access this request changed, so the gateway that sent it drops their cached facts at once. */
  noteChange(change: AccessChange): void {
    this.#changes = mergeAccessChanges(this.#changes, change);
  }

  /** Whose access this request changed, if anyone's. */
  get changes(): AccessChange | undefined {
    return this.#changes;
  }
}

export interface AuthContext {
  access: AccessChecker;
}

/**
 * The one authorization check. Denies by default: no role on the account (or the account does
 * not exist) looks like "not found"; a role without the action is "forbidden"; an API key must
 * also carry the action as a scope. A suspended account (or one waiting for its purge) answers
 * ACCOUNT_SUSPENDED (ACCOUNT_DELETED) to what its status does not allow.
 */
export async function authorize(ctx: AuthContext, action: Action, accountId: string, what = 'Account'): Promise<Role> {
  const principal = ctx.access.principal;
  if (principal.kind === 'anonymous') throw new UnauthenticatedError();
  const fact = await ctx.access.factOn(accountId);
  if (!fact) throw new NotFoundError(what);
  const { role, status } = fact;
  if (!ROLE_ACTIONS[role].has(action)) throw new ForbiddenError(`Your role (${role}) does not allow ${action}`);
  if (principal.kind === 'apiKey' && !principal.scopes.includes(action)) {
    throw new ForbiddenError(`This API key lacks the ${action} scope`);
  }
  if (!statusAllows(status, action)) throw status === 'deleted' ? new AccountDeletedError(action) : new AccountSuspendedError(action);
  return role;
}

/** Like `authorize` but answers false instead of throwing, for filtering lists. */
export async function can(ctx: AuthContext, action: Action, accountId: string): Promise<boolean> {
  const principal = ctx.access.principal;
  if (principal.kind === 'anonymous') return false;
  const fact = await ctx.access.factOn(accountId);
  if (!fact || !ROLE_ACTIONS[fact.role].has(action) || !statusAllows(fact.status, action)) return false;
  return principal.kind !== 'apiKey' || principal.scopes.includes(action);
}

/**
 * The account and every account below it where the caller may do `action`: an MSP's roll-up. The
 * account itself is authorized first (so a foreign one is "not found"); the rest come from the
 * caller's visible accounts, so nothing outside the caller's tree is ever included.
 */
export async function subtreeAccounts(ctx: AuthContext, action: Action, accountId: string): Promise<string[]> {
  await authorize(ctx, action, accountId);
  const below = (await accountsAllowing(ctx, action))
    .filter((account) => account.accountId !== accountId && account.path.includes(accountId))
    .map((account) => account.accountId);
  return [accountId, ...below];
}

/**
 * The caller's visible accounts where its role (and, for an API key, its scopes) allows `action`,
 * statuses aside: a list filter for reads, which every status allows.
 */
export async function accountsAllowing(ctx: AuthContext, action: Action): Promise<VisibleAccount[]> {
  const principal = ctx.access.principal;
  if (principal.kind === 'apiKey' && !principal.scopes.includes(action)) return [];
  return (await ctx.access.visibleAccounts()).filter((account) => ROLE_ACTIONS[account.role].has(action));
}

export const ACCESS_PATH = '/internal/access';

/** Asks the accounts subgraph through the internal client, as the caller. */
export class HttpAccessResolver implements AccessResolver {
  readonly #accounts: ServiceClient;
  /** One caller per principal object (one per request), so a request signs one token for accounts. */
  readonly #callers = new WeakMap<Principal, Caller>();

  constructor(accountsUrl: string, internalTokenSecret: string) {
    this.#accounts = internalClient(internalTokenSecret).service('accounts', accountsUrl);
  }

  async rolesOn(principal: Principal, accountIds: readonly string[]): Promise<(Role | null)[]> {
    return (await this.factsOn(principal, accountIds)).map((fact) => fact?.role ?? null);
  }

  /** Accounts answers `{roles, statuses}` in the order asked (an accounts without statuses: all active). */
  async factsOn(principal: Principal, accountIds: readonly string[]): Promise<(AccessFact | null)[]> {
    const body = await this.#post(principal, { accountIds, withStatus: true });
    const roles = body.roles as (Role | null)[];
    const statuses = Array.isArray(body.statuses) ? (body.statuses as unknown[]) : [];
    return roles.map((role, index) => (role ? { role, status: isAccountStatus(statuses[index]) ? statuses[index] : 'active' } : null));
  }

  async visibleAccounts(principal: Principal): Promise<VisibleAccount[]> {
    const body = await this.#post(principal, { visible: true });
    return body.visible as VisibleAccount[];
  }

  #post(principal: Principal, payload: unknown): Promise<Record<string, unknown>> {
    // A pure read: safe to retry.
    let caller = this.#callers.get(principal);
    if (!caller) this.#callers.set(principal, (caller = { principal, requestId: 'access' }));
    return this.#accounts.json({ path: ACCESS_PATH, caller, json: payload, idempotent: true });
  }
}
