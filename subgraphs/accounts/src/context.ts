import DataLoader from 'dataloader';
import type { SubgraphContext } from '@listbackup/lib/subgraph';
import type { Em } from '@listbackup/lib/db';
import { byId, groupBy } from '@listbackup/lib/loaders';
import { User } from './entities/user.ts';
import { Account } from './entities/account.ts';
import { Membership } from './entities/membership.ts';
import { ApiKey } from './entities/api-key.ts';

export interface AccountsContext extends SubgraphContext {
  loaders: ReturnType<typeof createLoaders>;
}

export function createLoaders(em: Em) {
  return {
    user: new DataLoader<string, User | undefined>(async (ids) => byId(ids, await em.find(User, { id: { $in: [...ids] } }))),
    account: new DataLoader<string, Account | undefined>(async (ids) => byId(ids, await em.find(Account, { id: { $in: [...ids] } }))),
    childrenOfAccount: new DataLoader<string, Account[]>(async (ids) =>
      groupBy(ids, await em.find(Account, { parentId: { $in: [...ids] } }, { orderBy: { name: 'asc' } }), (account) => account.parentId!),
    ),
    membershipsOfAccount: new DataLoader<string, Membership[]>(async (ids) =>
      groupBy(ids, await em.find(Membership, { accountId: { $in: [...ids] } }, { orderBy: { createdAt: 'asc' } }), (m) => m.accountId),
    ),
    membershipsOfUser: new DataLoader<string, Membership[]>(async (ids) =>
      groupBy(ids, await em.find(Membership, { userId: { $in: [...ids] } }, { orderBy: { createdAt: 'asc' } }), (m) => m.userId!),
    ),
    apiKeysOfAccount: new DataLoader<string, ApiKey[]>(async (ids) =>
      groupBy(ids, await em.find(ApiKey, { accountId: { $in: [...ids] } }, { orderBy: { createdAt: 'desc' } }), (key) => key.accountId),
    ),
  };
}

export const extendContext = (base: SubgraphContext): AccountsContext => ({ ...base, loaders: createLoaders(base.em) });
