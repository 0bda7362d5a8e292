import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalAccessResolver } from '../src/services/access.ts';
import { client, errorCode, rows, seedUser, startHarness, type TenancyHarness } from './tenancy-support.ts';

let harness: TenancyHarness;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  harness = await startHarness();
  api = client(harness);
});
afterAll(async () => {
  await harness?.stop();
});

const CREATE = `mutation($input: CreateAccountInput!) { createAccount(input: $input) { id name myRole parent { id } } }`;

async function createAccount(principal: Parameters<typeof api.gql>[0], name: string, parentId?: string): Promise<string> {
  const response = await api.gql(principal, CREATE, { input: { name, parentId } });
  expect(response.errors).toBeUndefined();
  return response.data!.createAccount.id;
}

describe('personal account at sign-up', () => {
  it('is a root account the user owns, with an account.created event in the outbox', async () => {
    const alice = await seedUser(harness.orm, 'alice');
    expect(alice.account.path).toEqual([alice.account.id]);
    expect(alice.account.parentId).toBeNull();
    const members = await rows(harness.orm, `select user_id, email, role from accounts.memberships where account_id = ?`, [alice.account.id]);
    expect(members).toEqual([{ user_id: alice.user.id, email: alice.email, role: 'owner' }]);
    const events = await rows<{ type: string; subject: string; data: Record<string, unknown> }>(
      harness.orm,
      `select type, subject, data from accounts.outbox_events where account_id = ?`,
      [alice.account.id],
    );
    expect(events).toEqual([{ type: 'account.created', subject: alice.account.id, data: { name: alice.account.name, parentId: null } }]);

    const response = await api.gql(alice.principal, `{ account(id: "${alice.account.id}") { id name myRole parent { id } children { edges { node { id } } } ancestors { id } } }`);
    expect(response.data?.account).toEqual({ id: alice.account.id, name: alice.account.name, myRole: 'OWNER', parent: null, children: { edges: [] }, ancestors: [] });
  });
});

describe('account tree', () => {
  it('creates sub-accounts whose path extends the parent, lists children and ancestors nearest first', async () => {
    const owner = await seedUser(harness.orm, 'tree');
    const root = owner.account.id;
    const client1 = await createAccount(owner.principal, 'Client one', root);
    const client2 = await createAccount(owner.principal, 'Another client', root);
    const dept = await createAccount(owner.principal, 'Department', client1);

    const [deptRow] = await rows<{ path: string[]; parent_id: string }>(harness.orm, `select path, parent_id from accounts.accounts where id = ?`, [dept]);
    expect(deptRow).toEqual({ path: [root, client1, dept], parent_id: client1 });

    const response = await api.gql(
      owner.principal,
      `query($id: ID!) { account(id: $id) { name myRole parent { id name } ancestors { id } children { edges { node { id } } } } root: account(id: "${root}") { children { edges { node { id name } } } } }`,
      { id: dept },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({
      account: { name: 'Department', myRole: 'OWNER', parent: { id: client1, name: 'Client one' }, ancestors: [{ id: client1 }, { id: root }], children: { edges: [] } },
      root: { children: { edges: [{ node: { id: client2, name: 'Another client' } }, { node: { id: client1, name: 'Client one' } }] } },
    });

    const events = await rows<{ type: string; data: Record<string, unknown> }>(harness.orm, `select type, data from accounts.outbox_events where account_id = ?`, [dept]);
    expect(events).toEqual([{ type: 'account.created', data: { name: 'Department', parentId: client1 } }]);
  });

  it('createAccount without a parent makes a new root account owned by the caller', async () => {
    const user = await seedUser(harness.orm, 'roots');
    const response = await api.gql(user.principal, CREATE, { input: { name: '  Second org  ' } });
    expect(response.errors).toBeUndefined();
    expect(response.data!.createAccount).toMatchObject({ name: 'Second org', myRole: 'OWNER', parent: null });
    const id = response.data!.createAccount.id;
    const members = await rows(harness.orm, `select user_id, role from accounts.memberships where account_id = ?`, [id]);
    expect(members).toEqual([{ user_id: user.user.id, role: 'owner' }]);
    const list = await api.gql(user.principal, `{ accounts { edges { node { id } } } }`);
    expect(list.data!.accounts.edges.map((edge: { node: { id: string } }) => edge.node.id).sort()).toEqual([user.account.id, id].sort());
  });

  it('a role on an account applies to every descendant, and only there', async () => {
    const owner = await seedUser(harness.orm, 'inherit-owner');
    const viewer = await seedUser(harness.orm, 'inherit-viewer');
    const root = owner.account.id;
    const mid = await createAccount(owner.principal, 'Mid', root);
    const leaf = await createAccount(owner.principal, 'Leaf', mid);
    const sibling = await createAccount(owner.principal, 'Sibling', root);
    const add = await api.gql(owner.principal, `mutation($i: AddMemberInput!) { addMember(input: $i) { id } }`, {
      i: { accountId: mid, email: viewer.email, role: 'VIEWER' },
    });
    expect(add.errors).toBeUndefined();

    // Readable: mid and leaf (inherited). Not: the root above, nor the sibling.
    const leafView = await api.gql(viewer.principal, `{ account(id: "${leaf}") { myRole parent { id } ancestors { id } } }`);
    expect(leafView.data?.account).toEqual({ myRole: 'VIEWER', parent: { id: mid }, ancestors: [{ id: mid }] });
    const midView = await api.gql(viewer.principal, `{ account(id: "${mid}") { parent { id } children { edges { node { id } } } } }`);
    expect(midView.data?.account).toEqual({ parent: null, children: { edges: [{ node: { id: leaf } }] } });
    for (const hidden of [root, sibling]) {
      const response = await api.gql(viewer.principal, `{ account(id: "${hidden}") { id } }`);
      expect(errorCode(response)).toBe('NOT_FOUND');
      expect(response.data).toBeNull();
    }
    const list = await api.gql(viewer.principal, `{ accounts { edges { node { id myRole } } totalCount } }`);
    // The top of the tree first: the viewer's own root, then mid (depth 2), then leaf (depth 3).
    expect(list.data!.accounts).toEqual({
      edges: [{ node: { id: viewer.account.id, myRole: 'OWNER' } }, { node: { id: mid, myRole: 'VIEWER' } }, { node: { id: leaf, myRole: 'VIEWER' } }],
      totalCount: 3,
    });

    // A viewer cannot create below or rename: FORBIDDEN (it can see the account), nothing written.
    const child = await api.gql(viewer.principal, CREATE, { input: { name: 'Nope', parentId: leaf } });
    expect(errorCode(child)).toBe('FORBIDDEN');
    const rename = await api.gql(viewer.principal, `mutation { renameAccount(id: "${leaf}", name: "Mine") { id } }`);
    expect(errorCode(rename)).toBe('FORBIDDEN');
    expect(await rows(harness.orm, `select name from accounts.accounts where parent_id = ? or id = ?`, [leaf, leaf])).toEqual([{ name: 'Leaf' }]);

    // The highest role wins: an admin grant on the leaf lifts the inherited viewer role there only.
    await api.gql(owner.principal, `mutation($i: AddMemberInput!) { addMember(input: $i) { id } }`, { i: { accountId: leaf, email: viewer.email, role: 'ADMIN' } });
    const roles = await api.gql(viewer.principal, `{ leaf: account(id: "${leaf}") { myRole } mid: account(id: "${mid}") { myRole } }`);
    expect(roles.data).toEqual({ leaf: { myRole: 'ADMIN' }, mid: { myRole: 'VIEWER' } });
  });

  it('renames with a trimmed name of 1 to 200 characters', async () => {
    const user = await seedUser(harness.orm, 'rename');
    const id = user.account.id;
    const ok = await api.gql(user.principal, `mutation($n: String!) { renameAccount(id: "${id}", name: $n) { name } }`, { n: '  Acme Ltd ' });
    expect(ok.data?.renameAccount).toEqual({ name: 'Acme Ltd' });
    for (const bad of ['   ', 'x'.repeat(201)]) {
      const response = await api.gql(user.principal, `mutation($n: String!) { renameAccount(id: "${id}", name: $n) { name } }`, { n: bad });
      expect(errorCode(response)).toBe('BAD_USER_INPUT');
    }
    expect(await rows(harness.orm, `select name from accounts.accounts where id = ?`, [id])).toEqual([{ name: 'Acme Ltd' }]);
  });

  it('rejects an unknown parent with NOT_FOUND and writes nothing', async () => {
    const user = await seedUser(harness.orm, 'unknown-parent');
    const before = await rows(harness.orm, `select count(*)::int as n from accounts.accounts`);
    for (const parentId of [randomUUID(), 'not-a-uuid']) {
      const response = await api.gql(user.principal, CREATE, { input: { name: 'Orphan', parentId } });
      expect(errorCode(response)).toBe('NOT_FOUND');
      expect(response.errors![0].message).toBe('Account not found');
    }
    expect(await rows(harness.orm, `select count(*)::int as n from accounts.accounts`)).toEqual(before);
  });

  it('an API key cannot create a root account', async () => {
    const user = await seedUser(harness.orm, 'key-root');
    const response = await api.gql({ kind: 'apiKey', apiKeyId: randomUUID(), accountId: user.account.id, scopes: ['account:create-child'] }, CREATE, {
      input: { name: 'By key' },
    });
    expect(errorCode(response)).toBe('FORBIDDEN');
  });

  it('anonymous callers get UNAUTHENTICATED', async () => {
    const user = await seedUser(harness.orm, 'anon');
    const response = await api.gql({ kind: 'anonymous' }, `{ account(id: "${user.account.id}") { id } }`);
    expect(errorCode(response)).toBe('UNAUTHENTICATED');
    const list = await api.gql({ kind: 'anonymous' }, `{ accounts { edges { node { id } } totalCount } }`);
    expect(list.data).toEqual({ accounts: { edges: [], totalCount: 0 } });
    // Existing and missing ids answer alike, before any look-up.
    const [membership] = await rows<{ id: string }>(harness.orm, `select id from accounts.memberships where account_id = ?`, [user.account.id]);
    for (const id of [membership.id, randomUUID()]) {
      expect(errorCode(await api.gql({ kind: 'anonymous' }, `mutation { removeMember(membershipId: "${id}") }`))).toBe('UNAUTHENTICATED');
      expect(errorCode(await api.gql({ kind: 'anonymous' }, `mutation { changeMemberRole(membershipId: "${id}", role: ADMIN) { id } }`))).toBe('UNAUTHENTICATED');
      expect(errorCode(await api.gql({ kind: 'anonymous' }, `mutation { revokeApiKey(id: "${id}") { id } }`))).toBe('UNAUTHENTICATED');
    }
    expect(errorCode(await api.gql({ kind: 'anonymous' }, CREATE, { input: { name: 'x' } }))).toBe('UNAUTHENTICATED');
  });
});

describe('batching', () => {
  it('50 accounts through _entities cost one role query and one account query', async () => {
    const owner = await seedUser(harness.orm, 'batch');
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push(await createAccount(owner.principal, `Sub ${String(i).padStart(2, '0')}`, owner.account.id));
    harness.queries.length = 0;
    const response = await api.gql(owner.principal, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Account { id name myRole } } }`, {
      r: ids.map((id) => ({ __typename: 'Account', id })),
    });
    expect(response.errors).toBeUndefined();
    expect(response.data!._entities.map((a: { id: string }) => a.id)).toEqual(ids);
    expect(response.data!._entities.every((a: { myRole: string }) => a.myRole === 'OWNER')).toBe(true);
    const statements = harness.queries.map((line) => line.replaceAll(String.fromCharCode(27), '').replace(/\[\d+m/g, '').replace(/^\[query\] /, ''));
    expect(statements).toHaveLength(2);
    expect(statements.every((sql) => sql.startsWith('select'))).toBe(true);
  });
});

describe('access resolver and the /internal/access route', () => {
  it('answers 401 with no data without a valid internal token', async () => {
    const user = await seedUser(harness.orm, 'route-401');
    const response = await api.post('/internal/access', null, { accountIds: [user.account.id] });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'UNAUTHENTICATED' } }] });
    const forged = await fetch(`${harness.baseUrl}/internal/access`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-listbackup-internal': 'eyJhbGciOiJub25lIn0.e30.' },
      body: JSON.stringify({ visible: true }),
    });
    expect(forged.status).toBe(401);
  });

  it('answers roles in order, inherited from ancestors, for the token principal only', async () => {
    const owner = await seedUser(harness.orm, 'route-owner');
    const operator = await seedUser(harness.orm, 'route-op');
    const root = owner.account.id;
    const child = await createAccount(owner.principal, 'Child', root);
    const grandchild = await createAccount(owner.principal, 'Grandchild', child);
    await api.gql(owner.principal, `mutation($i: AddMemberInput!) { addMember(input: $i) { id } }`, { i: { accountId: child, email: operator.email, role: 'OPERATOR' } });

    const ids = [grandchild, root, randomUUID(), child, 'garbage', operator.account.id];
    const asOperator = await api.post('/internal/access', operator.principal, { accountIds: ids });
    expect(asOperator).toEqual({ status: 200, body: { roles: ['operator', null, null, 'operator', null, 'owner'] } });
    const asOwner = await api.post('/internal/access', owner.principal, { accountIds: ids });
    expect(asOwner.body.roles).toEqual(['owner', 'owner', null, 'owner', null, null]);

    const visible = await api.post('/internal/access', operator.principal, { visible: true });
    expect(visible.status).toBe(200);
    expect(new Map(visible.body.visible.map((v: { accountId: string; role: string }) => [v.accountId, v.role]))).toEqual(
      new Map([
        [child, 'operator'],
        [grandchild, 'operator'],
        [operator.account.id, 'owner'],
      ]),
    );

    const bad = await api.post('/internal/access', operator.principal, { accountIds: 'nope' });
    expect(bad.status).toBe(400);
  });

  it('visibleAccounts is one SQL query however many memberships the user has', async () => {
    const owner = await seedUser(harness.orm, 'one-query');
    const a = await createAccount(owner.principal, 'A', owner.account.id);
    const b = await createAccount(owner.principal, 'B', a);
    const resolver = new LocalAccessResolver(harness.orm);
    harness.queries.length = 0;
    const visible = await resolver.visibleAccounts(owner.principal);
    const queries = [...harness.queries];
    expect(visible).toHaveLength(3);
    expect(queries).toHaveLength(1);
    // Each carries its place in the tree, root first: what a parent's roll-up filters on.
    expect(new Map(visible.map((v) => [v.accountId, v.path]))).toEqual(
      new Map([
        [owner.account.id, [owner.account.id]],
        [a, [owner.account.id, a]],
        [b, [owner.account.id, a, b]],
      ]),
    );
  });
});
