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

/** Unscoped by design: every service checks `authorize` on the row's account before returning it. */
export function createLoaders(em: Em) {
  return {
    user: new DataLoader<string, User | undefined>(async (ids) => byId(ids, await em.find(User, { id: { $in: uuids(ids) } }))),
    account: new DataLoader<string, Account | undefined>(async (ids) => byId(ids, await em.find(Account, { id: { $in: uuids(ids) } }))),
    childrenOfAccount: new DataLoader<string, Account[]>(async (ids) =>
      groupBy(ids, await em.find(Account, { parentId: { $in: uuids(ids) } }, { orderBy: { name: 'asc', id: 'asc' } }), (account) => account.parentId!),
    ),
    membership: new DataLoader<string, Membership | undefined>(async (ids) => byId(ids, await em.find(Membership, { id: { $in: uuids(ids) } }))),
    membershipsOfAccount: new DataLoader<string, Membership[]>(async (ids) =>
      groupBy(ids, await em.find(Membership, { accountId: { $in: uuids(ids) } }, { orderBy: { createdAt: 'asc', id: 'asc' } }), (m) => m.accountId),
    ),
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
