// A user of account A can neither read nor change account B, its members, API keys or children,
// through root fields, nested fields or `_entities`; and "not found" reads the same whether the
// record is missing or belongs to B.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@listbackup/lib/principal';
import { client, rows, seedUser, startHarness, type GraphQLResponse, type SeededUser, type TenancyHarness } from './tenancy-support.ts';

let harness: TenancyHarness;
let api: ReturnType<typeof client>;
let a: SeededUser;
let b: SeededUser;
let aChild: string;
let bChild: string;
let bMembership: string;
let bOwnerMembership: string;
let bKey: string;
const B_SECRET_NAME = `B-private-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  harness = await startHarness();
  api = client(harness);
  a = await seedUser(harness.orm, 'tenant-a');
  b = await seedUser(harness.orm, 'tenant-b');
  const ok = (response: GraphQLResponse) => {
    expect(response.errors).toBeUndefined();
    return response.data!;
  };
  aChild = ok(await api.gql(a.principal, `mutation { createAccount(input: {name: "A child", parentId: "${a.account.id}"}) { id } }`)).createAccount.id;
  bChild = ok(await api.gql(b.principal, `mutation { createAccount(input: {name: "${B_SECRET_NAME}", parentId: "${b.account.id}"}) { id } }`)).createAccount.id;
  bMembership = ok(
    await api.gql(b.principal, `mutation { addMember(input: {accountId: "${b.account.id}", email: "b-colleague@example.test", role: ADMIN}) { id } }`),
  ).addMember.id;
  bOwnerMembership = (await rows<{ id: string }>(harness.orm, `select id from accounts.memberships where account_id = ? and role = 'owner'`, [b.account.id]))[0].id;
  bKey = ok(
    await api.gql(b.principal, `mutation { createApiKey(input: {accountId: "${b.account.id}", name: "B key", scopes: [JOBS_READ]}) { apiKey { id } } }`),
  ).createApiKey.apiKey.id;
});
afterAll(async () => {
  await harness?.stop();
});

/** Everything stored for tenant B, to prove a refused call changed nothing. */
async function snapshotB() {
  const ids = [b.account.id, bChild];
  return {
    accounts: await rows(harness.orm, `select id, name, parent_id, path from accounts.accounts where path && ?::text[] order by id`, [`{${ids.join(',')}}`]),
    memberships: await rows(harness.orm, `select id, email, role, user_id from accounts.memberships where account_id = any(?::uuid[]) order by id`, [`{${ids.join(',')}}`]),
    apiKeys: await rows(harness.orm, `select id, name, scopes, revoked_at from accounts.api_keys where account_id = any(?::uuid[]) order by id`, [`{${ids.join(',')}}`]),
  };
}

/** The call fails exactly as it would for a record that does not exist, leaking no data. */
function expectNotFound(response: GraphQLResponse, missing: GraphQLResponse): void {
  expect(response.errors?.map((e) => ({ message: e.message, code: e.extensions?.code }))).toEqual(
    missing.errors?.map((e) => ({ message: e.message, code: e.extensions?.code })),
  );
  expect(response.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  expect(response.data ?? null).toEqual(missing.data ?? null);
  expect(JSON.stringify(response)).not.toContain(B_SECRET_NAME);
  expect(JSON.stringify(response)).not.toContain(b.account.name);
}

describe('root fields', () => {
  it('account(id) of B, of B’s child, and of a random id all answer the same NOT_FOUND', async () => {
    for (const query of [
      `query($id: ID!) { account(id: $id) { id name } }`,
      `query($id: ID!) { account(id: $id) { id name parent { id } children { edges { node { id } } } members { edges { node { id } } } apiKeys { id } } }`,
    ]) {
      const missing = await api.gql(a.principal, query, { id: randomUUID() });
      expect(missing.data).toBeNull();
      expect(missing.errors).toEqual([expect.objectContaining({ message: 'Account not found', path: ['account'] })]);
      for (const id of [b.account.id, bChild]) expectNotFound(await api.gql(a.principal, query, { id }), missing);
    }
  });

  it('accounts lists only A’s tree', async () => {
    const response = await api.gql(a.principal, `{ accounts { edges { node { id name } } totalCount } }`);
    expect(response.data!.accounts.edges.map((edge: { node: { id: string } }) => edge.node.id).sort()).toEqual([a.account.id, aChild].sort());
    expect(response.data!.accounts.totalCount).toBe(2);
  });

  it('every mutation on B’s records fails like one on a missing record and changes nothing', async () => {
    const before = await snapshotB();
    const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
      [`mutation($id: ID!) { renameAccount(id: $id, name: "pwned") { id } }`, { id: b.account.id }, { id: randomUUID() }],
      [`mutation($id: ID!) { renameAccount(id: $id, name: "pwned") { id } }`, { id: bChild }, { id: randomUUID() }],
      [`mutation($id: ID) { createAccount(input: {name: "intruder", parentId: $id}) { id } }`, { id: b.account.id }, { id: randomUUID() }],
      [`mutation($id: ID!) { addMember(input: {accountId: $id, email: "spy@example.test", role: VIEWER}) { id } }`, { id: b.account.id }, { id: randomUUID() }],
      [`mutation($id: ID!) { changeMemberRole(membershipId: $id, role: VIEWER) { id } }`, { id: bMembership }, { id: randomUUID() }],
      [`mutation($id: ID!) { changeMemberRole(membershipId: $id, role: VIEWER) { id } }`, { id: bOwnerMembership }, { id: randomUUID() }],
      [`mutation($id: ID!) { removeMember(membershipId: $id) }`, { id: bMembership }, { id: randomUUID() }],
      [`mutation($id: ID!) { createApiKey(input: {accountId: $id, name: "spy", scopes: [JOBS_READ]}) { secret } }`, { id: b.account.id }, { id: randomUUID() }],
      [`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: bKey }, { id: randomUUID() }],
    ];
    for (const [mutation, onB, onMissing] of cases) {
      const missing = await api.gql(a.principal, mutation, onMissing);
      expect(missing.errors?.[0].extensions?.code, mutation).toBe('NOT_FOUND');
      expectNotFound(await api.gql(a.principal, mutation, onB), missing);
    }
    expect(await snapshotB()).toEqual(before);
  });

  it('an API key of A is just as blind to B', async () => {
    const asKey: Principal = { kind: 'apiKey', apiKeyId: randomUUID(), accountId: a.account.id, scopes: ['account:read'] };
    const query = `query($id: ID!) { account(id: $id) { id } }`;
    const missing = await api.gql(asKey, query, { id: randomUUID() });
    expectNotFound(await api.gql(asKey, query, { id: b.account.id }), missing);
    // The principal's claimed account is not trusted: the key id decides, and this one does not exist.
    expect((await api.post('/internal/access', asKey, { accountIds: [a.account.id] })).body).toEqual({ roles: [null] });
  });
});

describe('_entities', () => {
  const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Account { id name } } }`;

  it('resolves A’s account but answers NOT_FOUND with no data for B’s, exactly as for a missing one', async () => {
    const own = await api.gql(a.principal, ENTITIES, { r: [{ __typename: 'Account', id: a.account.id }] });
    expect(own.errors).toBeUndefined();
    expect(own.data!._entities[0]).toMatchObject({ id: a.account.id, name: a.account.name });

    const missing = await api.gql(a.principal, ENTITIES, { r: [{ __typename: 'Account', id: randomUUID() }] });
    expect(missing.errors).toEqual([expect.objectContaining({ message: 'Account not found', path: ['_entities', 0], extensions: { code: 'NOT_FOUND' } })]);
    expect(missing.data?._entities ?? [null]).toEqual([null]);
    for (const id of [b.account.id, bChild]) {
      const response = await api.gql(a.principal, ENTITIES, { r: [{ __typename: 'Account', id }] });
      expectNotFound(response, missing);
      expect(response.data?._entities ?? [null]).toEqual([null]);
    }
  });

  it('in a mixed batch only A’s entity has data', async () => {
    const response = await api.gql(a.principal, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Account { id name } } }`, {
      r: [
        { __typename: 'Account', id: a.account.id },
        { __typename: 'Account', id: b.account.id },
      ],
    });
    expect(response.data!._entities).toEqual([{ id: a.account.id, name: a.account.name }, null]);
    expect(response.errors).toEqual([expect.objectContaining({ message: 'Account not found', path: ['_entities', 1], extensions: { code: 'NOT_FOUND' } })]);
  });
});

describe('nested fields', () => {
  it('a member shared by A and B shows A only the membership on A', async () => {
    // B's owner joins A as a viewer: A may now see that person, but not their other accounts.
    const add = await api.gql(a.principal, `mutation($e: String!) { addMember(input: {accountId: "${a.account.id}", email: $e, role: VIEWER}) { id } }`, { e: b.email });
    expect(add.errors).toBeUndefined();
    const response = await api.gql(a.principal, `{ account(id: "${a.account.id}") { members { edges { node { email user { memberships { edges { node { account { id name } } } totalCount } } } } } } }`);
    expect(response.errors).toBeUndefined();
    const shared = response.data!.account.members.edges.map((edge: { node: unknown }) => edge.node).find((m: { email: string }) => m.email === b.email);
    expect(shared.user.memberships).toEqual({ edges: [{ node: { account: { id: a.account.id, name: a.account.name } } }], totalCount: 1 });
    expect(JSON.stringify(response)).not.toContain(b.account.id);

    // And B, a viewer of A, gets no more than a viewer's reach into A.
    const asB = await api.gql(b.principal, `{ account(id: "${a.account.id}") { myRole apiKeys { id } } }`);
    expect(asB.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const bCannotManage = await api.gql(b.principal, `mutation { addMember(input: {accountId: "${aChild}", email: "friend@example.test", role: VIEWER}) { id } }`);
    expect(bCannotManage.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    await api.gql(a.principal, `mutation($id: ID!) { removeMember(membershipId: $id) }`, { id: add.data!.addMember.id });
  });

  it('a child of A never lists, nor climbs to, anything of B', async () => {
    const response = await api.gql(a.principal, `{ account(id: "${aChild}") { parent { id children { edges { node { id } } } } ancestors { id } } }`);
    expect(response.data!.account).toEqual({ parent: { id: a.account.id, children: { edges: [{ node: { id: aChild } }] } }, ancestors: [{ id: a.account.id }] });
  });
});
