import { ACTIONS, type Action, type Role } from '@listbackup/lib/access';
import type { AccountStatus, ApiKeyScope, Resolvers, Role as GraphQLRole } from '../generated/resolvers.ts';
import {
  ancestorsOf,
  childrenOf,
  createAccount,
  getAccount,
  listVisibleAccounts,
  myRoleOn,
  parentOf,
  renameAccount,
} from '../services/account-service.ts';
import { addMember, changeMemberRole, listMembers, membershipsOfUser, removeMember } from '../services/membership-service.ts';
import { createApiKey, listApiKeys, revokeApiKey } from '../services/api-key-service.ts';
import { accountStatus, deleteAccount, restoreAccount } from '../services/account-lifecycle.ts';

/** Roles are upper-case enum values in GraphQL and lower-case everywhere else. */
const toGraphQL = (role: Role): GraphQLRole => role.toUpperCase() as GraphQLRole;
const fromGraphQL = (role: GraphQLRole): Role => role.toLowerCase() as Role;

/** API-key scopes are actions (`jobs:run`) everywhere but in GraphQL, where they are enum values (`JOBS_RUN`). */
const scopeToGraphQL = (action: Action | string): ApiKeyScope => action.toUpperCase().replace(/[:-]/g, '_') as ApiKeyScope;
const ACTION_OF_SCOPE = new Map<string, Action>(ACTIONS.map((action) => [scopeToGraphQL(action), action]));
const scopeFromGraphQL = (scope: ApiKeyScope): string => ACTION_OF_SCOPE.get(scope) ?? scope;

/** Accounts tree, members and API keys: the tenancy half of the accounts subgraph. */
export const tenancyResolvers = {
  Query: {
    account: (_, { id }, ctx) => getAccount(ctx, id),
    accounts: (_, { first, after }, ctx) => listVisibleAccounts(ctx, first, after),
  },
  Mutation: {
    createAccount: (_, { input }, ctx) => createAccount(ctx, { name: input.name, parentId: input.parentId }),
    renameAccount: (_, { id, name }, ctx) => renameAccount(ctx, id, name),
    deleteAccount: (_, { id, confirmName }, ctx) => deleteAccount(ctx, id, confirmName),
    restoreAccount: (_, { id }, ctx) => restoreAccount(ctx, id),
    addMember: (_, { input }, ctx) => addMember(ctx, { accountId: input.accountId, email: input.email, role: fromGraphQL(input.role) }),
    changeMemberRole: (_, { membershipId, role }, ctx) => changeMemberRole(ctx, membershipId, fromGraphQL(role)),
    removeMember: (_, { membershipId }, ctx) => removeMember(ctx, membershipId),
    createApiKey: (_, { input }, ctx) => createApiKey(ctx, { ...input, scopes: input.scopes.map(scopeFromGraphQL) }),
    revokeApiKey: (_, { id }, ctx) => revokeApiKey(ctx, id),
  },
  User: {
    memberships: (user, { first, after }, ctx) => membershipsOfUser(ctx, user.id, first, after),
  },
  Account: {
    __resolveReference: ({ id }, ctx) => getAccount(ctx, id),
    parent: (account, _, ctx) => parentOf(ctx, account),
    children: (account, { first, after }, ctx) => childrenOf(ctx, account, first, after),
    ancestors: (account, _, ctx) => ancestorsOf(ctx, account),
    members: (account, { first, after }, ctx) => listMembers(ctx, account.id, first, after),
    apiKeys: (account, _, ctx) => listApiKeys(ctx, account.id),
    myRole: async (account, _, ctx) => toGraphQL(await myRoleOn(ctx, account)),
    status: async (account, _, ctx) => (await accountStatus(ctx, account)).toUpperCase() as AccountStatus,
    suspensionReason: (account) => account.suspendedReason ?? null,
  },
  Membership: {
    account: (membership, _, ctx) => getAccount(ctx, membership.accountId),
    user: async (membership, _, ctx) => (membership.userId ? ((await ctx.loaders.user.load(membership.userId)) ?? null) : null),
    role: (membership) => toGraphQL(membership.role),
    pending: (membership) => membership.userId === null,
  },
  ApiKey: {
    account: (apiKey, _, ctx) => getAccount(ctx, apiKey.accountId),
    scopes: (apiKey) => apiKey.scopes.map(scopeToGraphQL),
  },
} satisfies Resolvers;
