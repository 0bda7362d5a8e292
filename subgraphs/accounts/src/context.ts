import DataLoader from 'dataloader';
import type { SubgraphContext } from '@listbackup/lib/subgraph';
import type { Fetch } from './delivery/senders.ts';
import type { Em } from '@listbackup/lib/db';
import { byId, groupBy } from '@listbackup/lib/loaders';
import { User } from './entities/user.ts';
import { Account } from './entities/account.ts';
import { Membership } from './entities/membership.ts';
import { ApiKey } from './entities/api-key.ts';
import { isUuid } from '@listbackup/lib/ids';
import { countParentRows, parentPageLoader, rowsByKey, type ParentCountKey, type ParentList } from '@listbackup/lib/pagination';

/** What the accounts services need beyond the request. */
export interface AccountsDeps {
  /** Audit log export links: the key that signs them and the public origin (the gateway) they point at. */
  auditLinks: { key: Buffer; publicUrl: string };
  /** Notification endpoints: how they are called (the SSRF-guarded fetch) and whether plain http is refused (production). */
  notifications: { fetch: Fetch; requireHttps: boolean };
}

export interface AccountsContext extends SubgraphContext, AccountsDeps {
  loaders: ReturnType<typeof createLoaders>;
}

// Ids come from clients and other subgraphs; a malformed one is simply not found (Postgres would reject it).
const uuids = (ids: readonly string[]) => ids.filter((id) => isUuid(id));

/** An account's members, oldest first (the index `memberships_account_created_idx` serves it). */
export const MEMBERS_OF_ACCOUNT: ParentList = { table: '"accounts"."memberships"', parent: 'account_id', order: ['created_at', 'id'] };

/** A user's memberships, oldest first (the index `memberships_user_created_idx` serves it); filtered by account for other callers. */
export const MEMBERSHIPS_OF_USER: ParentList = { table: '"accounts"."memberships"', parent: 'user_id', order: ['created_at', 'id'], filters: ['account_id'] };

/** An account's sub-accounts, by name (the index `accounts_parent_name_idx` serves it). */
export const CHILDREN_OF_ACCOUNT: ParentList = { table: '"accounts"."accounts"', parent: 'parent_id', order: ['name', 'id'] };

const pageKey = (key: ParentCountKey) => JSON.stringify(key);

/** Unscoped by design: every service checks `authorize` on the row's account before returning it. */
export function createLoaders(em: Em) {
  return {
    /** Read-only rows: a request that changes a user or an account loads it through the ORM. */
    user: new DataLoader<string, User | undefined>(rowsByKey(em, User, '"accounts"."users"')),
    account: new DataLoader<string, Account | undefined>(rowsByKey(em, Account, '"accounts"."accounts"')),
    childPages: parentPageLoader(em, CHILDREN_OF_ACCOUNT, Account),
    childCounts: new DataLoader<ParentCountKey, number, string>((keys) => countParentRows(em, CHILDREN_OF_ACCOUNT, keys), { cacheKeyFn: pageKey }),
    membership: new DataLoader<string, Membership | undefined>(async (ids) => byId(ids, await em.find(Membership, { id: { $in: uuids(ids) } }))),
    memberPages: parentPageLoader(em, MEMBERS_OF_ACCOUNT, Membership),
    memberCounts: new DataLoader<ParentCountKey, number, string>((keys) => countParentRows(em, MEMBERS_OF_ACCOUNT, keys), { cacheKeyFn: pageKey }),
    userMembershipPages: parentPageLoader(em, MEMBERSHIPS_OF_USER, Membership),
    userMembershipCounts: new DataLoader<ParentCountKey, number, string>((keys) => countParentRows(em, MEMBERSHIPS_OF_USER, keys), { cacheKeyFn: pageKey }),
    membershipsOfUser: new DataLoader<string, Membership[]>(async (ids) =>
      groupBy(ids, await em.find(Membership, { userId: { $in: uuids(ids) } }, { orderBy: { createdAt: 'asc', id: 'asc' } }), (m) => m.userId!),
    ),
    apiKey: new DataLoader<string, ApiKey | undefined>(async (ids) => byId(ids, await em.find(ApiKey, { id: { $in: uuids(ids) } }))),
    apiKeysOfAccount: new DataLoader<string, ApiKey[]>(async (ids) =>
      groupBy(ids, await em.find(ApiKey, { accountId: { $in: uuids(ids) } }, { orderBy: { createdAt: 'desc', id: 'desc' } }), (key) => key.accountId),
    ),
  };
}

export const contextExtender =
  (deps: AccountsDeps) =>
  (base: SubgraphContext): AccountsContext => ({ ...base, ...deps, loaders: createLoaders(base.em) });
