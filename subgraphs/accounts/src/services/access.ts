import { isUuid } from '@listbackup/lib/ids';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { ROLE_RANK, isAccountStatus, isRole, type AccessFact, type AccessResolver, type AccountStatus, type Role, type VisibleAccount } from '@listbackup/lib/access';
import type { VisibleFact } from '@listbackup/lib/access-facts';
import type { Em, Orm } from '@listbackup/lib/db';
import { graphqlErrorBody, readJson, sendJson } from '@listbackup/lib/http';
import type { Principal } from '@listbackup/lib/principal';
import type { InternalRoute } from '@listbackup/lib/subgraph';
import { API_KEY_VERIFY_PATH, apiKeyVerifyRoute } from './api-key-service.ts';

/** An API key acts as an admin of its account and the accounts below it, never more. */
export const API_KEY_ROLE: Role = 'admin';


/** Ids arrive from clients and other subgraphs; a malformed one is simply unknown (Postgres would reject it). */
/** A Postgres array literal of already-validated uuids, bound as one text parameter. */
function uuidArray(ids: readonly string[]): string {
  return `{${ids.filter(isUuid).join(',')}}`;
}

function highest(current: Role | undefined, candidate: string): Role | undefined {
  if (!isRole(candidate)) return current;
  return current === undefined || ROLE_RANK[candidate] > ROLE_RANK[current] ? candidate : current;
}

/**
 * The source of truth for "which role does this caller hold where", read straight from the
 * accounts tables. A user's role on an account is the highest role among their memberships on it
 * or on any of its ancestors (`path` holds the ids from the root down to the account); a
 * pending invitation (no user yet) grants nothing, and neither does a session that was signed out,
 * revoked or has expired: its access tokens keep their signature until they expire, but no role.
 * An API key is an admin of its own account's subtree while it is not revoked, and nothing anywhere else.
 */
export class LocalAccessResolver implements AccessResolver {
  readonly #orm: Orm;
  readonly #accounts: string;
  readonly #memberships: string;
  readonly #apiKeys: string;
  readonly #sessions: string;

  constructor(orm: Orm) {
    this.#orm = orm;
    const schema = orm.config.get('schema');
    const table = (name: string) => (schema ? `"${schema}"."${name}"` : `"${name}"`);
    this.#accounts = table('accounts');
    this.#memberships = table('memberships');
    this.#apiKeys = table('api_keys');
    this.#sessions = table('sessions');
  }

  /** The condition, on memberships `m`, that the caller's session is alive; its one parameter is the session id. */
  #liveSession(): string {
    return `exists (select 1 from ${this.#sessions} s where s.id = ? and s.user_id = m.user_id and s.revoked_at is null and s.expires_at > now())`;
  }

  /**
   * The account's status, on accounts `a`: the worst of the account and its ancestors (a deleted
   * or suspended parent holds its whole subtree).
   */
  #status(): string {
    return `(select case when bool_or(x.deleted_at is not null) then 'deleted' when bool_or(x.suspended_at is not null) then 'suspended' else 'active' end
               from ${this.#accounts} x where x.id::text = any(a.path))`;
  }

  async rolesOn(principal: Principal, accountIds: readonly string[]): Promise<(Role | null)[]> {
    return (await this.factsOn(principal, accountIds)).map((fact) => fact?.role ?? null);
  }

  async factsOn(principal: Principal, accountIds: readonly string[]): Promise<(AccessFact | null)[]> {
    const wanted = accountIds.filter(isUuid);
    const roles = new Map<string, Role>();
    const statuses = new Map<string, AccountStatus>();
    const keep = (row: { id: string; status: string }) => statuses.set(row.id, isAccountStatus(row.status) ? row.status : 'active');
    if (wanted.length > 0 && principal.kind === 'user' && isUuid(principal.userId) && isUuid(principal.sessionId)) {
      const rows = await this.#em().execute<{ id: string; role: string; status: string }[]>(
        `select a.id, m.role, ${this.#status()} as status from ${this.#accounts} a
           join ${this.#memberships} m on m.user_id = ? and m.account_id::text = any(a.path)
          where a.id = any(?::uuid[]) and ${this.#liveSession()}`,
        [principal.userId, uuidArray(wanted), principal.sessionId],
      );
      for (const row of rows) {
        const role = highest(roles.get(row.id), row.role);
        if (role) roles.set(row.id, role);
        keep(row);
      }
    } else if (wanted.length > 0 && principal.kind === 'apiKey' && isUuid(principal.apiKeyId)) {
      const rows = await this.#em().execute<{ id: string; status: string }[]>(
        `select a.id, ${this.#status()} as status from ${this.#apiKeys} k
           join ${this.#accounts} a on a.path @> array[k.account_id::text]
          where k.id = ? and k.revoked_at is null and a.id = any(?::uuid[])`,
        [principal.apiKeyId, uuidArray(wanted)],
      );
      for (const row of rows) {
        roles.set(row.id, API_KEY_ROLE);
        keep(row);
      }
    }
    return accountIds.map((id) => {
      const role = roles.get(id.toLowerCase());
      return role ? { role, status: statuses.get(id.toLowerCase()) ?? 'active' } : null;
    });
  }

  async visibleAccounts(principal: Principal): Promise<VisibleAccount[]> {
    const roles = new Map<string, Role>();
    const paths = new Map<string, string[]>();
    if (principal.kind === 'user' && isUuid(principal.userId) && isUuid(principal.sessionId)) {
      // One query: every account whose path passes through one of the user's memberships.
      const rows = await this.#em().execute<{ id: string; role: string; path: string[] }[]>(
        `select a.id, a.path, m.role from ${this.#memberships} m
           join ${this.#accounts} a on a.path @> array[m.account_id::text]
          where m.user_id = ? and ${this.#liveSession()}`,
        [principal.userId, principal.sessionId],
      );
      for (const row of rows) {
        const role = highest(roles.get(row.id), row.role);
        if (role) roles.set(row.id, role);
        paths.set(row.id, row.path);
      }
    } else if (principal.kind === 'apiKey' && isUuid(principal.apiKeyId)) {
      const rows = await this.#em().execute<{ id: string; path: string[] }[]>(
        `select a.id, a.path from ${this.#apiKeys} k
           join ${this.#accounts} a on a.path @> array[k.account_id::text]
          where k.id = ? and k.revoked_at is null`,
        [principal.apiKeyId],
      );
      for (const row of rows) {
        roles.set(row.id, API_KEY_ROLE);
        paths.set(row.id, row.path);
      }
    }
    return [...roles].map(([accountId, role]) => ({ accountId, role, path: paths.get(accountId) ?? [accountId] }));
  }

  /**
   * What the gateway carries for a caller: whether its session (or API key) is alive and, when it
   * sees at most `max` accounts, each of them with role, status and path (else null: too many to carry).
   */
  async principalFacts(principal: Principal, max: number): Promise<{ live: boolean; accounts: VisibleFact[] | null }> {
    let live = false;
    if (principal.kind === 'user' && isUuid(principal.userId) && isUuid(principal.sessionId)) {
      const rows = await this.#em().execute<{ live: boolean }[]>(
        `select exists (select 1 from ${this.#sessions} s where s.id = ? and s.user_id = ? and s.revoked_at is null and s.expires_at > now()) as live`,
        [principal.sessionId, principal.userId],
      );
      live = rows[0]?.live === true;
    } else if (principal.kind === 'apiKey' && isUuid(principal.apiKeyId)) {
      const rows = await this.#em().execute<{ live: boolean }[]>(`select exists (select 1 from ${this.#apiKeys} k where k.id = ? and k.revoked_at is null) as live`, [principal.apiKeyId]);
      live = rows[0]?.live === true;
    }
    if (!live) return { live: false, accounts: null };
    const visible = await this.visibleAccounts(principal);
    if (visible.length > max) return { live: true, accounts: null };
    const statuses = await this.factsOn(principal, visible.map((account) => account.accountId));
    return { live: true, accounts: visible.map((account, index) => ({ ...account, status: statuses[index]?.status ?? 'active' })) };
  }

  #em(): Em {
    return this.#orm.em.fork();
  }
}

export const ACCESS_ROUTE_PATH = '/internal/access';

const AccessRequest = z.union([
  z.object({ accountIds: z.array(z.string().max(100)).max(1000), withStatus: z.literal(true).optional() }).strict(),
  z.object({ visible: z.literal(true) }).strict(),
  z.object({ facts: z.literal(true), max: z.number().int().min(0).max(1000) }).strict(),
]);

/**
 * `POST /internal/access` answers for the principal of the verified internal token (never for one
 * named in the body): `{accountIds}` → `{roles}` in the same order; with `withStatus: true` also
 * `statuses` (`active`, `suspended` or `deleted`, null where there is no role); `{visible: true}` → `{visible}`;
 * `{facts: true, max}` → `{live, accounts}` for the gateway (LocalAccessResolver.principalFacts).
 */
export function accessRoute(resolver: LocalAccessResolver): InternalRoute {
  return async (req: IncomingMessage, res: ServerResponse, claims) => {
    if (req.method !== 'POST') return sendJson(res, 405, graphqlErrorBody('BAD_REQUEST', 'Use POST'), { allow: 'POST' });
    const parsed = AccessRequest.safeParse(await readJson(req));
    if (!parsed.success) return sendJson(res, 400, graphqlErrorBody('BAD_REQUEST', 'Expected {"accountIds": [...]}, {"visible": true} or {"facts": true, "max": n}'));
    if ('accountIds' in parsed.data) {
      if (!parsed.data.withStatus) return sendJson(res, 200, { roles: await resolver.rolesOn(claims.principal, parsed.data.accountIds) });
      const facts = await resolver.factsOn(claims.principal, parsed.data.accountIds);
      return sendJson(res, 200, { roles: facts.map((fact) => fact?.role ?? null), statuses: facts.map((fact) => fact?.status ?? null) });
    }
    if ('facts' in parsed.data) {
      return sendJson(res, 200, await resolver.principalFacts(claims.principal, parsed.data.max));
    }
    return sendJson(res, 200, { visible: await resolver.visibleAccounts(claims.principal) });
  };
}

/**
 * The internal routes of the tenancy half: role look-ups for every subgraph and API key
 * verification for the gateway. `startSubgraph` only lets through requests carrying a valid
 * internal token addressed to `accounts`.
 */
export function accessInternalRoutes(orm: Orm, resolver = new LocalAccessResolver(orm)): Record<string, InternalRoute> {
  return {
    [ACCESS_ROUTE_PATH]: accessRoute(resolver),
    [API_KEY_VERIFY_PATH]: apiKeyVerifyRoute(orm),
  };
}
