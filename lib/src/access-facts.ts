/**
 * Access facts carried from the gateway to the subgraphs. The gateway asks accounts once per
 * principal (cached, dropped by the events that change access) whether the session or API key is
 * alive and which accounts it can see with which role, and signs the answer into the internal token
 * of every subgraph fetch, so a subgraph neither asks accounts for roles nor checks the session in
 * the database. A principal that sees more accounts than a token should carry gets the liveness
 * only, and its subgraphs ask accounts as before.
 *
 * Kept free of other modules of the kit: the internal token parses it.
 */

export const ROLES = ['owner', 'admin', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/**
 * An account's standing, inherited down the tree (the worst of the account and its ancestors):
 * `suspended` (by billing for non-payment, or by an operator) reads but refuses what costs
 * resources or changes the account; `deleted` waits out its recovery window and only reads or
 * is restored.
 */
export const ACCOUNT_STATUSES = ['active', 'suspended', 'deleted'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

export function isAccountStatus(value: unknown): value is AccountStatus {
  return typeof value === 'string' && (ACCOUNT_STATUSES as readonly string[]).includes(value);
}

/** An account the caller can see, with the role it holds there, the account's status and where it sits in the tree. */
export interface VisibleFact {
  accountId: string;
  role: Role;
  status: AccountStatus;
  /** The account's ancestors from the root down, then the account itself. */
  path: string[];
}

/** What the gateway vouches for about its caller, for one request. */
export interface CarriedAccess {
  /** The session or API key was alive when the gateway looked (no revocation event since, within the cache's TTL). */
  live: true;
  /** Every account the caller can see; absent when there were too many to carry (subgraphs then ask accounts). */
  accounts?: VisibleFact[];
}

/** The most accounts a token carries; a principal that sees more carries its liveness only. */
export const MAX_CARRIED_ACCOUNTS = 64;
/** The most bytes of carried facts (JSON) in a token, so the header stays far below HTTP servers' limits (16 KiB). */
export const MAX_CARRIED_BYTES = 6_144;
const MAX_PATH_LENGTH = 64;

/** The facts as a token should carry them: the accounts only when they fit both bounds. */
export function boundedCarriedAccess(accounts: VisibleFact[] | null): CarriedAccess {
  if (!accounts || accounts.length > MAX_CARRIED_ACCOUNTS) return { live: true };
  const facts: CarriedAccess = { live: true, accounts };
  return JSON.stringify(compactCarriedAccess(facts)).length > MAX_CARRIED_BYTES ? { live: true } : facts;
}

/**
 * The carried facts as a token holds them, or null when malformed. Compact: each account is
 * `[id, role, status, parent]`, where `parent` is the index of its parent when that is carried too,
 * else the ancestors' ids (its path without itself), so a tree of accounts does not repeat its paths.
 */
export function parseCarriedAccess(value: unknown): CarriedAccess | null {
  if (!value || typeof value !== 'object') return null;
  const { live, accounts } = value as { live?: unknown; accounts?: unknown };
  if (live !== true) return null;
  if (accounts === undefined) return { live: true };
  if (!Array.isArray(accounts) || accounts.length > MAX_CARRIED_ACCOUNTS) return null;
  const entries: [string, Role, AccountStatus, number | string[]][] = [];
  for (const entry of accounts) {
    if (!Array.isArray(entry) || entry.length !== 4) return null;
    const [accountId, role, status, parent] = entry as unknown[];
    if (typeof accountId !== 'string' || typeof role !== 'string' || !isRole(role) || !isAccountStatus(status)) return null;
    const byIndex = Number.isInteger(parent) && (parent as number) >= 0 && (parent as number) < accounts.length;
    const byIds = Array.isArray(parent) && parent.length < MAX_PATH_LENGTH && parent.every((id) => typeof id === 'string');
    if (!byIndex && !byIds) return null;
    entries.push([accountId, role, status, parent as number | string[]]);
  }
  const paths: (string[] | undefined)[] = [];
  const pathOf = (index: number, depth: number): string[] | null => {
    const known = paths[index];
    if (known) return known;
    if (depth > MAX_PATH_LENGTH) return null; // a cycle
    const [accountId, , , parent] = entries[index];
    const above = typeof parent === 'number' ? pathOf(parent, depth + 1) : parent;
    if (!above) return null;
    return (paths[index] = [...above, accountId]);
  };
  const parsed: VisibleFact[] = [];
  for (let index = 0; index < entries.length; index++) {
    const path = pathOf(index, 0);
    if (!path) return null;
    const [accountId, role, status] = entries[index];
    parsed.push({ accountId, role, status, path });
  }
  return { live: true, accounts: parsed };
}

/** The token's form of carried facts (see parseCarriedAccess). */
export function compactCarriedAccess(facts: CarriedAccess): unknown {
  if (!facts.accounts) return { live: true };
  const indexes = new Map(facts.accounts.map((fact, index) => [fact.accountId, index]));
  return {
    live: true,
    accounts: facts.accounts.map((fact) => {
      const above = fact.path.slice(0, -1);
      const parent = indexes.get(above.at(-1) ?? '');
      return [fact.accountId, fact.role, fact.status, parent ?? above];
    }),
  };
}

/** Whose access facts an event makes stale: callers' cached facts that match are dropped. */
export interface AccessChange {
  userIds?: string[];
  sessionIds?: string[];
  apiKeyIds?: string[];
  /** Any principal that can see one of these accounts. */
  accountIds?: string[];
}

/** The header on a subgraph's answer naming what the request changed (JSON AccessChange), for the gateway that sent it. */
export const ACCESS_CHANGED_HEADER = 'x-listbackup-access-changed';

/** The event types that change someone's access, as bus patterns (every tenant). */
export const ACCESS_EVENT_PATTERNS = ['lb.evt.*.user.>', 'lb.evt.*.member.>', 'lb.evt.*.apikey.>', 'lb.evt.*.account.>'];

/** What an event changes about access, or null when it changes nothing. */
export function accessChangeOf(event: { type: string; data: Record<string, unknown>; actor?: { kind: string; id: string | null } }): AccessChange | null {
  const data = event.data;
  const str = (value: unknown) => (typeof value === 'string' && value ? [value] : []);
  const list = (value: unknown) => (Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string') : []);
  switch (event.type) {
    case 'user.logout':
    case 'user.session_revoked':
      return { sessionIds: str(data.sessionId) };
    case 'user.password_changed':
    case 'user.deleted':
      return { userIds: str(data.userId) };
    case 'member.added':
    case 'member.removed':
    case 'member.role_changed':
      return data.userId ? { userIds: str(data.userId) } : null;
    case 'apikey.revoked':
      return { apiKeyIds: str(data.apiKeyId) };
    case 'account.created':
      return { accountIds: str(data.parentId), userIds: event.actor?.kind === 'user' ? str(event.actor.id) : [] };
    case 'account.suspended':
    case 'account.resumed':
    case 'account.deleted':
    case 'account.restored':
    case 'account.purged':
      return { accountIds: list(data.accountIds) };
    default:
      return null;
  }
}

/** Both changes in one. */
export function mergeAccessChanges(a: AccessChange | undefined, b: AccessChange): AccessChange {
  if (!a) return b;
  const both = (key: keyof AccessChange) => [...new Set([...(a[key] ?? []), ...(b[key] ?? [])])];
  return { userIds: both('userIds'), sessionIds: both('sessionIds'), apiKeyIds: both('apiKeyIds'), accountIds: both('accountIds') };
}
