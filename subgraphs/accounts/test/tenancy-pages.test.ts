// The accounts subgraph's lists are pages: each runs the shared paging checks on rows of its own.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describePaging, type PagingResponse } from '../../../test/support/paging.ts';
import { Account } from '../src/entities/account.ts';
import { Membership } from '../src/entities/membership.ts';
import { client, rows, seedUser, type SeededUser, type TenancyHarness, startHarness } from './tenancy-support.ts';

let harness: TenancyHarness;
let api: ReturnType<typeof client>;
let owner: SeededUser;
let other: SeededUser;
let stranger: SeededUser;
/** Holds a role on many accounts (User.memberships, Query.accounts); `peer` is a viewer of some of them. */
let joiner: SeededUser;
let peer: SeededUser;
let joinerMembershipOrder: string[];
let peerSeesOrder: string[];
let peerSeesIds: Set<string>;
let joinerAccountOrder: string[];
const ORG_COUNT = 45;
const PEER_SEES = 30;
/** The owner's members in list order, as the table sorts them (ties on the same instant by id). */
let memberOrder: string[];
let childOrder: string[];
const CHILD_COUNT = 45;

const MEMBER_COUNT = 45;
const memberEmails = Array.from({ length: MEMBER_COUNT }, (_, i) => `paged-member-${String(i).padStart(2, '0')}@example.test`);

beforeAll(async () => {
  harness = await startHarness();
  api = client(harness);
  owner = await seedUser(harness.orm, 'pages-owner');
  other = await seedUser(harness.orm, 'pages-other');
  stranger = await seedUser(harness.orm, 'pages-stranger');
  // Members in threes on the same instant, after the owner's own membership: ties are broken by id.
  const em = harness.orm.em.fork();
  const start = Date.now() + 60_000;
  for (const [i, email] of memberEmails.entries()) {
    em.create(Membership, { accountId: owner.account.id, userId: null, email, role: 'viewer', invitedBy: owner.user.id, createdAt: new Date(start + Math.floor(i / 3) * 1000) });
  }
  em.create(Membership, { accountId: other.account.id, userId: null, email: 'other-member@example.test', role: 'viewer', invitedBy: other.user.id, createdAt: new Date(start + 5500) });
  for (let i = 0; i < CHILD_COUNT; i++) {
    const id = randomUUID();
    // Names that sort apart from their order of creation, two of each name (ties by id).
    em.create(Account, { id, name: `paged-child-${String((i * 7) % 23).padStart(2, '0')}`, parentId: owner.account.id, path: [owner.account.id, id] });
    if (i < 3) {
      const grandchild = randomUUID();
      em.create(Account, { id: grandchild, name: `grandchild-${i}`, parentId: id, path: [owner.account.id, id, grandchild] });
    }
  }
  const otherChild = randomUUID();
  em.create(Account, { id: otherChild, name: 'paged-child-05', parentId: other.account.id, path: [other.account.id, otherChild] });
  // The joiner's memberships: on accounts whose names sort apart from the order they were granted
  // in, three at a time on the same instant (ties by id); a few of those accounts have sub-accounts.
  joiner = await seedUser(harness.orm, 'pages-joiner');
  peer = await seedUser(harness.orm, 'pages-peer');
  for (let i = 0; i < ORG_COUNT; i++) {
    const id = randomUUID();
    em.create(Account, { id, name: `paged-org-${String((i * 11) % 29).padStart(2, '0')}`, parentId: null, path: [id] });
    const createdAt = new Date(start + Math.floor(i / 3) * 1000);
    em.create(Membership, { accountId: id, userId: joiner.user.id, email: joiner.email, role: 'viewer', invitedBy: null, createdAt });
    if (i < PEER_SEES) em.create(Membership, { accountId: id, userId: peer.user.id, email: peer.email, role: 'viewer', invitedBy: null, createdAt });
    if (i < 3) {
      const sub = randomUUID();
      em.create(Account, { id: sub, name: `paged-org-sub-${i}`, parentId: id, path: [id, sub] });
    }
  }
  await em.flush();
  const joinerMemberships = await rows<{ name: string; account_id: string }>(
    harness.orm,
    'select a.name, m.account_id from accounts.memberships m join accounts.accounts a on a.id = m.account_id where m.user_id = ? order by m.created_at, m.id',
    [joiner.user.id],
  );
  joinerMembershipOrder = joinerMemberships.map((row) => row.name);
  const peerAccounts = new Set((await rows<{ account_id: string }>(harness.orm, 'select account_id from accounts.memberships where user_id = ?', [peer.user.id])).map((row) => row.account_id));
  peerSeesOrder = joinerMemberships.filter((row) => peerAccounts.has(row.account_id)).map((row) => row.name);
  peerSeesIds = new Set([...peerAccounts].filter((id) => id !== peer.account.id));
  const joinerAccounts = await rows<{ id: string; name: string }>(
    harness.orm,
    `select a.id, a.name from accounts.accounts a where a.path && (select array_agg(account_id::text) from accounts.memberships where user_id = ?) order by cardinality(a.path), a.name, a.id`,
    [joiner.user.id],
  );
  joinerAccountOrder = joinerAccounts.map((row) => row.name);
  childOrder = (await rows<{ name: string }>(harness.orm, 'select name from accounts.accounts where parent_id = ? order by name, id', [owner.account.id])).map((row) => row.name);
  memberOrder = (await rows<{ email: string }>(harness.orm, 'select email from accounts.memberships where account_id = ? order by created_at, id', [owner.account.id])).map((row) => row.email);
});
afterAll(async () => {
  await harness?.stop();
});

const MEMBERS = `query($id: ID!, $first: Int, $after: String) { account(id: $id) {
  members(first: $first, after: $after) { edges { cursor node { email account { id } } } pageInfo { hasNextPage endCursor } totalCount } } }`;
const members = (by: () => SeededUser, accountId: () => string) => (first?: number, after?: string | null) =>
  api.gql(by().principal, MEMBERS, { id: accountId(), first, after }) as Promise<PagingResponse>;

describePaging('Account.members', {
  page: members(() => owner, () => owner.account.id),
  connection: (response) => response.data!.account.members,
  failed: (response) => response.data?.account,
  label: (node) => node.email,
  expected: () => memberOrder,
  walk: 10,
  counted: true,
  secret: () => 'paged-member',
  foreign: {
    cursor: async () => (await members(() => other, () => other.account.id)(1)).data!.account.members.pageInfo.endCursor,
  },
  stranger: { page: members(() => stranger, () => owner.account.id), code: 'NOT_FOUND' },
});

const CHILDREN = `query($id: ID!, $first: Int, $after: String) { account(id: $id) {
  children(first: $first, after: $after) { edges { cursor node { name parent { id } } } pageInfo { hasNextPage endCursor } totalCount } } }`;
const children = (by: () => SeededUser, accountId: () => string) => (first?: number, after?: string | null) =>
  api.gql(by().principal, CHILDREN, { id: accountId(), first, after }) as Promise<PagingResponse>;

describePaging('Account.children', {
  page: children(() => owner, () => owner.account.id),
  connection: (response) => response.data!.account.children,
  failed: (response) => response.data?.account,
  label: (node) => node.name,
  expected: () => childOrder,
  walk: 10,
  counted: true,
  secret: () => 'paged-child',
  foreign: {
    cursor: async () => (await children(() => other, () => other.account.id)(1)).data!.account.children.pageInfo.endCursor,
  },
  stranger: { page: children(() => stranger, () => owner.account.id), code: 'NOT_FOUND' },
});

const MEMBERSHIPS = `query($first: Int, $after: String) { me {
  memberships(first: $first, after: $after) { edges { cursor node { user { id } account { id name } } } pageInfo { hasNextPage endCursor } totalCount } } }`;
const myMemberships = (by: () => SeededUser) => (first?: number, after?: string | null) => api.gql(by().principal, MEMBERSHIPS, { first, after }) as Promise<PagingResponse>;

const USER_MEMBERSHIPS = `query($r: [_Any!]!, $first: Int, $after: String) { _entities(representations: $r) { ... on User {
  memberships(first: $first, after: $after) { edges { cursor node { user { id } account { id name } } } pageInfo { hasNextPage endCursor } totalCount } } } }`;
const membershipsOf = (by: () => SeededUser, user: () => SeededUser) => (first?: number, after?: string | null) =>
  api.gql(by().principal, USER_MEMBERSHIPS, { r: [{ __typename: 'User', id: user().user.id }], first, after }) as Promise<PagingResponse>;

describePaging('User.memberships', {
  page: myMemberships(() => joiner),
  connection: (response) => response.data!.me.memberships,
  failed: (response) => response.data?.me,
  label: (node) => node.account.name,
  expected: () => joinerMembershipOrder,
  walk: 10,
  counted: true,
  secret: () => 'paged-org',
  foreign: {
    cursor: async () => (await myMemberships(() => other)(1)).data!.me.memberships.pageInfo.endCursor,
  },
  stranger: { page: membershipsOf(() => stranger, () => joiner), code: 'NOT_FOUND' },
});

// Another member sees, and counts, only the memberships on accounts whose members it may read.
describePaging('User.memberships (_entities), seen by a member of some of the accounts', {
  page: membershipsOf(() => peer, () => joiner),
  connection: (response) => response.data!._entities[0].memberships,
  failed: (response) => response.data?._entities?.[0],
  label: (node) => node.account.name,
  expected: () => peerSeesOrder,
  walk: 7,
  counted: true,
  secret: () => 'paged-org',
  foreign: {
    // The joiner's own list, at a membership the peer does not see.
    cursor: async () => (await myMemberships(() => joiner)(100)).data!.me.memberships.edges.find((edge: any) => !peerSeesIds.has(edge.node.account.id)).cursor,
  },
  stranger: { page: membershipsOf(() => stranger, () => joiner), code: 'NOT_FOUND' },
});

const ACCOUNTS = `query($first: Int, $after: String) {
  accounts(first: $first, after: $after) { edges { cursor node { id name } } pageInfo { hasNextPage endCursor } totalCount } }`;
const accountsOf = (by: () => SeededUser) => (first?: number, after?: string | null) => api.gql(by().principal, ACCOUNTS, { first, after }) as Promise<PagingResponse>;

describePaging('Query.accounts', {
  page: accountsOf(() => joiner),
  connection: (response) => response.data!.accounts,
  failed: (response) => response.data?.accounts,
  label: (node) => node.name,
  expected: () => joinerAccountOrder,
  walk: 10,
  counted: true,
  secret: () => 'paged-org',
  forged: () => [Buffer.from(JSON.stringify([0, 'x', randomUUID()])).toString('base64url'), Buffer.from(JSON.stringify([1.5, 'x', randomUUID()])).toString('base64url')],
  foreign: {
    cursor: async () => (await accountsOf(() => owner)(1)).data!.accounts.pageInfo.endCursor,
  },
});

describe('lists under many accounts', () => {
  it('pages the sub-accounts and the members of every child in one statement each, and counts them in one more', async () => {
    harness.queries.length = 0;
    const response = await api.gql(owner.principal, `query($id: ID!) { account(id: $id) { children(first: 100) { edges { node {
      children(first: 1) { edges { node { name } } totalCount } members(first: 1) { edges { node { email } } totalCount } } } } } }`, { id: owner.account.id });
    expect(response.errors).toBeUndefined();
    const nodes = response.data!.account.children.edges.map((edge: { node: any }) => edge.node);
    expect(nodes).toHaveLength(CHILD_COUNT);
    expect(nodes.flatMap((node: any) => node.children.edges.map((edge: any) => edge.node.name)).sort()).toEqual(['grandchild-0', 'grandchild-1', 'grandchild-2']);
    expect(nodes.map((node: any) => node.children.totalCount).reduce((a: number, b: number) => a + b)).toBe(3);
    expect(nodes.every((node: any) => node.members.totalCount === 0 && node.members.edges.length === 0)).toBe(true);
    const from = (table: string) => harness.queries.filter((sql) => sql.includes(`from "accounts"."${table}" t`));
    expect(from('accounts')).toHaveLength(3);
    expect(from('memberships')).toHaveLength(2);
  });
});
