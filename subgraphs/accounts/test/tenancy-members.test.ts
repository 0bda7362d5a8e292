import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTERNAL_TOKEN_HEADER, signInternalToken } from '@listbackup/lib/internal-token';
import { SECRET, client, errorCode, rows, seedUser, signedIn, startHarness, type SeededUser, type TenancyHarness } from './tenancy-support.ts';

let harness: TenancyHarness;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  harness = await startHarness();
  api = client(harness);
});
afterAll(async () => {
  await harness?.stop();
});

const ADD = `mutation($i: AddMemberInput!) { addMember(input: $i) { id email role pending user { id } account { id } } }`;
const CHANGE = `mutation($id: ID!, $role: Role!) { changeMemberRole(membershipId: $id, role: $role) { id role } }`;
const REMOVE = `mutation($id: ID!) { removeMember(membershipId: $id) }`;
const MEMBERS = `query($id: ID!) { account(id: $id) { members { edges { node { id email role pending user { id } } } } } }`;

async function addMember(by: SeededUser, accountId: string, email: string, role: string): Promise<string> {
  const response = await api.gql(by.principal, ADD, { i: { accountId, email, role } });
  expect(response.errors).toBeUndefined();
  return response.data!.addMember.id;
}

async function membershipsOf(accountId: string) {
  return rows<{ id: string; email: string; role: string; user_id: string | null }>(
    harness.orm,
    `select id, email, role, user_id from accounts.memberships where account_id = ? order by created_at, id`,
    [accountId],
  );
}

describe('adding members', () => {
  it('gives an existing user the role at once, matching the email case-insensitively', async () => {
    const owner = await seedUser(harness.orm, 'add-owner');
    const bob = await seedUser(harness.orm, 'add-bob');
    const response = await api.gql(owner.principal, ADD, { i: { accountId: owner.account.id, email: `  ${bob.email.toUpperCase()} `, role: 'ADMIN' } });
    expect(response.errors).toBeUndefined();
    expect(response.data!.addMember).toMatchObject({ email: bob.email, role: 'ADMIN', pending: false, user: { id: bob.user.id }, account: { id: owner.account.id } });

    const asBob = await api.gql(bob.principal, `{ account(id: "${owner.account.id}") { myRole } }`);
    expect(asBob.data?.account).toEqual({ myRole: 'ADMIN' });
    const list = await api.gql(bob.principal, MEMBERS, { id: owner.account.id });
    expect(list.data!.account.members.edges.map((edge: { node: unknown }) => edge.node)).toEqual([
      { id: expect.any(String), email: owner.email, role: 'OWNER', pending: false, user: { id: owner.user.id } },
      { id: response.data!.addMember.id, email: bob.email, role: 'ADMIN', pending: false, user: { id: bob.user.id } },
    ]);
  });

  it('invites an unknown address as pending; signing up with it claims nothing until the address is verified', async () => {
    const owner = await seedUser(harness.orm, 'signup-owner');
    const email = `signup-${randomUUID().slice(0, 8)}@example.test`;
    const invited = await api.gql(owner.principal, ADD, { i: { accountId: owner.account.id, email: email.toUpperCase(), role: 'ADMIN' } });
    expect(invited.data!.addMember).toMatchObject({ email, role: 'ADMIN', pending: true, user: null });
    const signUp = await api.gql(
      { kind: 'anonymous' },
      `mutation($i: SignUpInput!) { signUp(input: $i) { user { id emailVerified memberships { edges { node { role pending account { id } } } } } } }`,
      { i: { email, password: 'correct horse battery staple 42', name: 'New person' } },
    );
    expect(signUp.errors).toBeUndefined();
    const user = signUp.data!.signUp.user;
    // Whoever signs up first with an invited address gets no role by it: only their own account.
    expect(user).toMatchObject({ emailVerified: false, memberships: { edges: [{ node: { role: 'OWNER', pending: false, account: { id: expect.any(String) } } }] } });
    const session = await signedIn(harness.orm, user.id);
    expect((await api.post('/internal/access', session, { accountIds: [owner.account.id] })).body).toEqual({ roles: [null] });
    expect((await membershipsOf(owner.account.id)).find((m) => m.email === email)).toMatchObject({ user_id: null });

    // The address's owner follows the emailed link (single use).
    const [mail] = await rows<{ text: string }>(harness.orm, `select text from accounts.notification_deliveries where recipient = ? and subject like '%Confirm your email%'`, [email]);
    const token = /lbt_[A-Za-z0-9_-]+/.exec(mail.text)![0];
    expect(mail.text).toContain(`/verify-email?token=${token}`);
    const follow = (value: string) => fetch(`${harness.baseUrl}/internal/verify-email?token=${value}`, { headers: { [INTERNAL_TOKEN_HEADER]: internalToken } });
    const internalToken = await signInternalToken(SECRET, 'accounts', { principal: { kind: 'anonymous' }, requestId: randomUUID() });
    expect((await follow(`${token}x`)).status).toBe(410);
    expect((await follow(token)).status).toBe(200);
    expect((await follow(token)).status).toBe(410);
    expect((await api.post('/internal/access', session, { accountIds: [owner.account.id] })).body).toEqual({ roles: ['admin'] });
    const me = await api.gql(session, '{ me { emailVerified memberships { edges { node { role account { id } } } } } }');
    expect(me.data!.me.emailVerified).toBe(true);
    expect(me.data!.me.memberships.edges).toEqual(expect.arrayContaining([{ node: { role: 'ADMIN', account: { id: owner.account.id } } }]));
    expect(errorCode(await api.gql({ kind: 'anonymous' }, 'mutation ($t: String!) { verifyEmail(token: $t) { id } }', { t: token }))).toBe('INVALID_TOKEN');
  });

  it('a pending invitation grants nothing', async () => {
    const owner = await seedUser(harness.orm, 'pending-owner');
    const email = `nobody-${randomUUID().slice(0, 8)}@example.test`;
    await addMember(owner, owner.account.id, email, 'ADMIN');
    const roles = await api.post('/internal/access', { kind: 'user', userId: randomUUID(), sessionId: randomUUID() }, { accountIds: [owner.account.id] });
    expect(roles.body).toEqual({ roles: [null] });
  });

  it('refuses a duplicate with ALREADY_MEMBER, whether user or pending invitation', async () => {
    const owner = await seedUser(harness.orm, 'dup-owner');
    const bob = await seedUser(harness.orm, 'dup-bob');
    const pending = `dup-${randomUUID().slice(0, 8)}@example.test`;
    await addMember(owner, owner.account.id, bob.email, 'VIEWER');
    await addMember(owner, owner.account.id, pending, 'VIEWER');
    const before = await membershipsOf(owner.account.id);
    for (const email of [bob.email, pending.toUpperCase(), owner.email]) {
      const response = await api.gql(owner.principal, ADD, { i: { accountId: owner.account.id, email, role: 'ADMIN' } });
      expect(errorCode(response)).toBe('ALREADY_MEMBER');
    }
    expect(await membershipsOf(owner.account.id)).toEqual(before);
  });

  it('refuses an invalid email, a role that does not exist, and an unknown account; nothing written', async () => {
    const owner = await seedUser(harness.orm, 'bad-input');
    const before = await membershipsOf(owner.account.id);
    const invalidEmail = await api.gql(owner.principal, ADD, { i: { accountId: owner.account.id, email: 'not an email', role: 'VIEWER' } });
    expect(errorCode(invalidEmail)).toBe('BAD_USER_INPUT');
    expect(invalidEmail.errors![0].extensions?.field).toBe('email');

    // Enum values are checked by GraphQL before any resolver runs: a variable → BAD_USER_INPUT,
    // an inline literal → GRAPHQL_VALIDATION_FAILED.
    const badVariable = await api.gql(owner.principal, ADD, { i: { accountId: owner.account.id, email: 'x@example.test', role: 'SUPERUSER' } });
    expect(errorCode(badVariable)).toBe('BAD_USER_INPUT');
    expect(badVariable.errors![0].message).toContain('SUPERUSER');
    const badLiteral = await api.gql(owner.principal, `mutation { addMember(input: {accountId: "${owner.account.id}", email: "x@example.test", role: SUPERUSER}) { id } }`);
    expect(errorCode(badLiteral)).toBe('GRAPHQL_VALIDATION_FAILED');
    const lowerCase = await api.gql(owner.principal, ADD, { i: { accountId: owner.account.id, email: 'x@example.test', role: 'viewer' } });
    expect(errorCode(lowerCase)).toBe('BAD_USER_INPUT');

    const unknown = await api.gql(owner.principal, ADD, { i: { accountId: randomUUID(), email: 'x@example.test', role: 'VIEWER' } });
    expect(errorCode(unknown)).toBe('NOT_FOUND');
    expect(await membershipsOf(owner.account.id)).toEqual(before);
    expect(await rows(harness.orm, `select 1 from accounts.memberships where email = 'x@example.test'`)).toEqual([]);
  });

  it('only an owner grants OWNER; viewers and operators cannot manage members', async () => {
    const owner = await seedUser(harness.orm, 'grant-owner');
    const admin = await seedUser(harness.orm, 'grant-admin');
    const viewer = await seedUser(harness.orm, 'grant-viewer');
    await addMember(owner, owner.account.id, admin.email, 'ADMIN');
    await addMember(owner, owner.account.id, viewer.email, 'VIEWER');
    const before = await membershipsOf(owner.account.id);

    const byAdmin = await api.gql(admin.principal, ADD, { i: { accountId: owner.account.id, email: 'new-owner@example.test', role: 'OWNER' } });
    expect(errorCode(byAdmin)).toBe('FORBIDDEN');
    const byViewer = await api.gql(viewer.principal, ADD, { i: { accountId: owner.account.id, email: 'new-viewer@example.test', role: 'VIEWER' } });
    expect(errorCode(byViewer)).toBe('FORBIDDEN');
    expect(await membershipsOf(owner.account.id)).toEqual(before);

    const adminAdds = await api.gql(admin.principal, ADD, { i: { accountId: owner.account.id, email: 'new-op@example.test', role: 'OPERATOR' } });
    expect(adminAdds.errors).toBeUndefined();
  });
});

describe('changing roles', () => {
  it('changes a role; only owners touch OWNER; the last owner cannot be demoted', async () => {
    const owner = await seedUser(harness.orm, 'change-owner');
    const admin = await seedUser(harness.orm, 'change-admin');
    const adminMembership = await addMember(owner, owner.account.id, admin.email, 'ADMIN');
    const [ownerMembership] = (await membershipsOf(owner.account.id)).filter((m) => m.role === 'owner');

    const demote = await api.gql(owner.principal, CHANGE, { id: adminMembership, role: 'OPERATOR' });
    expect(demote.data?.changeMemberRole).toEqual({ id: adminMembership, role: 'OPERATOR' });
    const rolesNow = await api.post('/internal/access', admin.principal, { accountIds: [owner.account.id] });
    expect(rolesNow.body.roles).toEqual(['operator']);

    const lastOwner = await api.gql(owner.principal, CHANGE, { id: ownerMembership.id, role: 'ADMIN' });
    expect(errorCode(lastOwner)).toBe('LAST_OWNER');
    expect((await membershipsOf(owner.account.id)).find((m) => m.id === ownerMembership.id)?.role).toBe('owner');

    // An admin can neither promote to owner nor change an owner.
    await api.gql(owner.principal, CHANGE, { id: adminMembership, role: 'ADMIN' });
    const selfPromote = await api.gql(admin.principal, CHANGE, { id: adminMembership, role: 'OWNER' });
    expect(errorCode(selfPromote)).toBe('FORBIDDEN');
    const demoteOwner = await api.gql(admin.principal, CHANGE, { id: ownerMembership.id, role: 'VIEWER' });
    expect(errorCode(demoteOwner)).toBe('FORBIDDEN');

    // With a second owner, the first may step down.
    const promote = await api.gql(owner.principal, CHANGE, { id: adminMembership, role: 'OWNER' });
    expect(promote.data?.changeMemberRole.role).toBe('OWNER');
    const stepDown = await api.gql(owner.principal, CHANGE, { id: ownerMembership.id, role: 'ADMIN' });
    expect(stepDown.data?.changeMemberRole.role).toBe('ADMIN');
    expect((await membershipsOf(owner.account.id)).map((m) => m.role)).toEqual(['admin', 'owner']);
  });

  it('unknown membership ids are NOT_FOUND, and an invalid role is rejected by GraphQL', async () => {
    const owner = await seedUser(harness.orm, 'change-bad');
    const [own] = await membershipsOf(owner.account.id);
    const unknown = await api.gql(owner.principal, CHANGE, { id: randomUUID(), role: 'ADMIN' });
    expect(errorCode(unknown)).toBe('NOT_FOUND');
    expect(unknown.errors![0].message).toBe('Membership not found');
    const invalid = await api.gql(owner.principal, CHANGE, { id: own.id, role: 'GOD' });
    expect(errorCode(invalid)).toBe('BAD_USER_INPUT');
    expect(await membershipsOf(owner.account.id)).toEqual([own]);
  });
});

describe('removing members', () => {
  it('removes a member; a member may leave; the last owner can never be removed', async () => {
    const owner = await seedUser(harness.orm, 'rm-owner');
    const admin = await seedUser(harness.orm, 'rm-admin');
    const viewer = await seedUser(harness.orm, 'rm-viewer');
    const adminMembership = await addMember(owner, owner.account.id, admin.email, 'ADMIN');
    const viewerMembership = await addMember(owner, owner.account.id, viewer.email, 'VIEWER');
    const [ownerMembership] = await membershipsOf(owner.account.id);

    // The viewer can neither remove someone else nor the owner...
    const byViewer = await api.gql(viewer.principal, REMOVE, { id: adminMembership });
    expect(errorCode(byViewer)).toBe('FORBIDDEN');
    // ...nor can an admin remove an owner, and the sole owner cannot remove themself.
    expect(errorCode(await api.gql(admin.principal, REMOVE, { id: ownerMembership.id }))).toBe('FORBIDDEN');
    const ownerLeaves = await api.gql(owner.principal, REMOVE, { id: ownerMembership.id });
    expect(errorCode(ownerLeaves)).toBe('LAST_OWNER');
    expect(await membershipsOf(owner.account.id)).toHaveLength(3);

    // But the viewer may leave, and the admin may remove members.
    expect((await api.gql(viewer.principal, REMOVE, { id: viewerMembership })).data).toEqual({ removeMember: true });
    expect(errorCode(await api.gql(viewer.principal, `{ account(id: "${owner.account.id}") { id } }`))).toBe('NOT_FOUND');
    expect((await api.gql(admin.principal, REMOVE, { id: adminMembership })).data).toEqual({ removeMember: true });
    expect((await membershipsOf(owner.account.id)).map((m) => m.id)).toEqual([ownerMembership.id]);
  });

  it('owners inherited from a parent count: a sub-account may lose its last direct owner', async () => {
    const owner = await seedUser(harness.orm, 'rm-inherit');
    const other = await seedUser(harness.orm, 'rm-inherit-other');
    const child = await api.gql(owner.principal, `mutation { createAccount(input: {name: "Sub", parentId: "${owner.account.id}"}) { id } }`);
    const childId = child.data!.createAccount.id;
    const direct = await addMember(owner, childId, other.email, 'OWNER');
    expect((await api.gql(owner.principal, REMOVE, { id: direct })).data).toEqual({ removeMember: true });
    // The parent's only owner still cannot leave it.
    const [rootOwner] = await membershipsOf(owner.account.id);
    expect(errorCode(await api.gql(owner.principal, REMOVE, { id: rootOwner.id }))).toBe('LAST_OWNER');
  });

  it('two owners demoting each other at once leave one owner', async () => {
    const first = await seedUser(harness.orm, 'race-a');
    const second = await seedUser(harness.orm, 'race-b');
    const secondMembership = await addMember(first, first.account.id, second.email, 'OWNER');
    const [firstMembership] = await membershipsOf(first.account.id);
    const results = await Promise.all([
      api.gql(first.principal, CHANGE, { id: secondMembership, role: 'VIEWER' }),
      api.gql(second.principal, CHANGE, { id: firstMembership.id, role: 'VIEWER' }),
    ]);
    const codes = results.map((r) => r.errors?.[0]?.extensions?.code ?? 'OK').sort();
    // The loser either hits LAST_OWNER or, demoted first, no longer may touch owners.
    expect(['FORBIDDEN', 'LAST_OWNER']).toContain(codes[0]);
    expect(codes[1]).toBe('OK');
    const owners = (await membershipsOf(first.account.id)).filter((m) => m.role === 'owner');
    expect(owners).toHaveLength(1);
  });
});

describe('User.memberships', () => {
  it('shows all of my memberships, and of another member only those on accounts I may see the members of', async () => {
    const owner = await seedUser(harness.orm, 'um-owner');
    const bob = await seedUser(harness.orm, 'um-bob');
    // The owner also owns a second root account that bob knows nothing about.
    const secret = await api.gql(owner.principal, `mutation { createAccount(input: {name: "Secret org"}) { id } }`);
    expect(secret.errors).toBeUndefined();
    await addMember(owner, owner.account.id, bob.email, 'VIEWER');

    const response = await api.gql(bob.principal, `query($id: ID!) { account(id: $id) { members { edges { node { email user { id memberships { edges { node { role account { id } } } totalCount } } } } } } }`, {
      id: owner.account.id,
    });
    expect(response.errors).toBeUndefined();
    const byEmail = new Map(response.data!.account.members.edges.map(({ node: m }: { node: { email: string; user: unknown } }) => [m.email, m.user]));
    expect(byEmail.get(bob.email)).toEqual({
      id: bob.user.id,
      memberships: {
        edges: [{ node: { role: 'OWNER', account: { id: bob.account.id } } }, { node: { role: 'VIEWER', account: { id: owner.account.id } } }],
        totalCount: 2,
      },
    });
    // The owner's second root account is neither listed nor counted to bob.
    expect(byEmail.get(owner.email)).toEqual({ id: owner.user.id, memberships: { edges: [{ node: { role: 'OWNER', account: { id: owner.account.id } } }], totalCount: 1 } });
  });
});
