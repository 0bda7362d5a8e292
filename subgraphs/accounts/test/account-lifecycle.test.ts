// Account lifecycle: billing's dunning and an operator suspend and resume an account (reads work,
// what costs resources answers ACCOUNT_SUSPENDED, in accounts and in every subgraph asking accounts
// for access); an owner deletes an account, may restore it within 30 days, and after that it is purged.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessChecker, HttpAccessResolver, authorize } from '@listbackup/lib/access';
import { createEvent } from '@listbackup/lib/events/contract';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import type { Principal } from '@listbackup/lib/principal';
import { RECOVERY_WINDOW_MS, purgeDeletedAccounts, resumeAccount, suspendAccount } from '../src/services/account-lifecycle.ts';
import { client, errorCode, rows, SECRET, seedUser, signedIn, startHarness, type GraphQLResponse, type SeededUser, type TenancyHarness } from './tenancy-support.ts';
import { Membership } from '../src/entities/membership.ts';

let harness: TenancyHarness;
let api: ReturnType<typeof client>;
const published: EventEnvelope[] = [];

beforeAll(async () => {
  harness = await startHarness();
  api = client(harness);
  await harness.bus.subscribe('lb.evt.*.account.>', (event) => void published.push(event));
});
afterAll(async () => {
  await harness?.stop();
});

const ok = <T = Record<string, any>>(response: GraphQLResponse<T>): T => {
  expect(response.errors).toBeUndefined();
  return response.data!;
};

const STATUS = `query($id: ID!) { account(id: $id) { id name status suspendedAt suspensionReason deletedAt purgeAfter } }`;
const status = async (principal: Principal, id: string) => ok(await api.gql(principal, STATUS, { id })).account;

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const eventsOf = (type: string, accountId: string) => published.filter((event) => event.type === type && event.accountId === accountId);

async function addAdmin(owner: SeededUser, accountId: string): Promise<Principal> {
  const admin = await seedUser(harness.orm, 'admin');
  const em = harness.orm.em.fork();
  em.create(Membership, { accountId, userId: admin.user.id, email: admin.email, role: 'admin', invitedBy: owner.user.id });
  await em.flush();
  return signedIn(harness.orm, admin.user.id);
}

describe('suspension', () => {
  it('a payment overdue suspends the account and its sub-accounts: reads work, writes answer ACCOUNT_SUSPENDED, a payment resumes it', async () => {
    const owner = await seedUser(harness.orm, 'dunned');
    const child = ok(await api.gql(owner.principal, `mutation($p: ID!) { createAccount(input: {name: "Client", parentId: $p}) { id } }`, { p: owner.account.id })).createAccount.id;
    const overdue = createEvent('billing.payment_overdue', owner.account.id, owner.account.id, { accountId: owner.account.id, invoiceId: null, overdueSince: '2026-11-01T00:00:00.000Z' });
    await harness.bus.publish(overdue);

    const suspended = await eventually(() => status(owner.principal, owner.account.id), (a) => a.status === 'SUSPENDED', 'the suspension');
    expect(suspended.suspensionReason).toContain('2026-11-01');
    expect((await status(owner.principal, child)).status).toBe('SUSPENDED');
    const [event] = await eventually(async () => eventsOf('account.suspended', owner.account.id), (list) => list.length === 1, 'account.suspended');
    expect(event.data).toEqual({ accountId: owner.account.id, accountIds: [owner.account.id, child], by: 'billing', reason: expect.any(String) });

    const before = await rows(harness.orm, 'select id, name, parent_id from accounts.accounts where path && ?::text[] order by id', [`{${owner.account.id}}`]);
    for (const [query, variables] of [
      [`mutation($id: ID!) { renameAccount(id: $id, name: "Renamed") { id } }`, { id: owner.account.id }],
      [`mutation($id: ID!) { renameAccount(id: $id, name: "Renamed") { id } }`, { id: child }],
      [`mutation($p: ID!) { createAccount(input: {name: "Another", parentId: $p}) { id } }`, { p: child }],
    ] as const) {
      expect(errorCode(await api.gql(owner.principal, query, variables))).toBe('ACCOUNT_SUSPENDED');
    }
    expect(await rows(harness.orm, 'select id, name, parent_id from accounts.accounts where path && ?::text[] order by id', [`{${owner.account.id}}`])).toEqual(before);
    // Keys stay revocable and members manageable while suspended.
    ok(await api.gql(owner.principal, `mutation($id: ID!) { addMember(input: {accountId: $id, email: "helper@example.test", role: VIEWER}) { id } }`, { id: owner.account.id }));

    // The same event again (a redelivery) changes nothing.
    await harness.bus.publish(overdue);
    await harness.bus.publish(createEvent('billing.payment_succeeded', owner.account.id, owner.account.id, { accountId: owner.account.id, invoiceId: null }));
    await eventually(() => status(owner.principal, owner.account.id), (a) => a.status === 'ACTIVE', 'the resumption');
    const resumed = await eventually(async () => eventsOf('account.resumed', owner.account.id), (list) => list.length > 0, 'account.resumed');
    expect(resumed.map((e) => e.data)).toEqual([{ accountId: owner.account.id, accountIds: [owner.account.id, child], by: 'billing' }]);
    expect(eventsOf('account.suspended', owner.account.id)).toHaveLength(1);
    ok(await api.gql(owner.principal, `mutation($id: ID!) { renameAccount(id: $id, name: "Paid up") { name } }`, { id: child }));
  });

  it('the status reaches the other subgraphs: what accounts answers for access refuses jobs:run but allows jobs:read', async () => {
    const owner = await seedUser(harness.orm, 'remote');
    await suspendAccount(harness.orm, owner.account.id, { by: 'operator', reason: 'abuse report' });
    const resolver = new HttpAccessResolver(harness.baseUrl, SECRET);
    const ctx = { access: new AccessChecker(owner.principal, resolver) };
    await expect(authorize(ctx, 'jobs:run', owner.account.id)).rejects.toMatchObject({ extensions: { code: 'ACCOUNT_SUSPENDED' } });
    await expect(authorize(ctx, 'sources:manage', owner.account.id)).rejects.toMatchObject({ extensions: { code: 'ACCOUNT_SUSPENDED' } });
    await expect(authorize(ctx, 'jobs:read', owner.account.id)).resolves.toBe('owner');
    expect(await resolver.factsOn(owner.principal, [owner.account.id, randomUUID()])).toEqual([{ role: 'owner', status: 'suspended' }, null]);
  });

  it('billing does not lift an operator’s suspension; an operator does', async () => {
    const owner = await seedUser(harness.orm, 'operated');
    expect(await suspendAccount(harness.orm, owner.account.id, { by: 'operator', reason: 'chargeback' })).toBe(true);
    expect(await resumeAccount(harness.orm, owner.account.id, { by: 'billing' })).toBe(false);
    expect((await status(owner.principal, owner.account.id)).status).toBe('SUSPENDED');
    expect(await resumeAccount(harness.orm, owner.account.id, { by: 'operator' })).toBe(true);
    expect((await status(owner.principal, owner.account.id)).status).toBe('ACTIVE');
  });

  it('another tenant reads nothing of the status, by root field or _entities', async () => {
    const owner = await seedUser(harness.orm, 'private');
    const stranger = await seedUser(harness.orm, 'stranger');
    await suspendAccount(harness.orm, owner.account.id, { by: 'operator', reason: 'secret reason' });
    const missing = await api.gql(stranger.principal, STATUS, { id: randomUUID() });
    const foreign = await api.gql(stranger.principal, STATUS, { id: owner.account.id });
    expect(foreign).toEqual(missing);
    const entities = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Account { id status suspensionReason purgeAfter } } }`;
    const response = await api.gql(stranger.principal, entities, { r: [{ __typename: 'Account', id: owner.account.id }] });
    expect(response.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(JSON.stringify(response)).not.toContain('secret reason');
  });
});

describe('deletion', () => {
  const DELETE = `mutation($id: ID!, $name: String!) { deleteAccount(id: $id, confirmName: $name) { id status deletedAt purgeAfter } }`;
  const RESTORE = `mutation($id: ID!) { restoreAccount(id: $id) { id status deletedAt purgeAfter } }`;

  it('needs the owner and the exact name; a stranger gets NOT_FOUND as for a missing account; nothing changes', async () => {
    const owner = await seedUser(harness.orm, 'careful');
    const admin = await addAdmin(owner, owner.account.id);
    const stranger = await seedUser(harness.orm, 'intruder');
    const name = owner.account.name;
    expect(errorCode(await api.gql(owner.principal, DELETE, { id: owner.account.id, name: `${name}x` }))).toBe('CONFIRMATION_MISMATCH');
    expect(errorCode(await api.gql(admin, DELETE, { id: owner.account.id, name }))).toBe('FORBIDDEN');
    const missing = await api.gql(stranger.principal, DELETE, { id: randomUUID(), name });
    expect(missing.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(await api.gql(stranger.principal, DELETE, { id: owner.account.id, name })).toEqual(missing);
    expect(await api.gql(stranger.principal, RESTORE, { id: owner.account.id })).toEqual(await api.gql(stranger.principal, RESTORE, { id: randomUUID() }));
    expect((await status(owner.principal, owner.account.id)).status).toBe('ACTIVE');
    expect(eventsOf('account.deleted', owner.account.id)).toEqual([]);
  });

  it('a deleted account reads, refuses changes with ACCOUNT_DELETED, and is restored within the window', async () => {
    const owner = await seedUser(harness.orm, 'regretful');
    const deleted = ok(await api.gql(owner.principal, DELETE, { id: owner.account.id, name: owner.account.name })).deleteAccount;
    expect(deleted.status).toBe('DELETED');
    expect(new Date(deleted.purgeAfter).getTime() - new Date(deleted.deletedAt).getTime()).toBe(RECOVERY_WINDOW_MS);
    expect(errorCode(await api.gql(owner.principal, `mutation($id: ID!) { renameAccount(id: $id, name: "x") { id } }`, { id: owner.account.id }))).toBe('ACCOUNT_DELETED');
    const [event] = await eventually(async () => eventsOf('account.deleted', owner.account.id), (list) => list.length === 1, 'account.deleted');
    expect(event.data).toEqual({ accountId: owner.account.id, accountIds: [owner.account.id], name: owner.account.name, purgeAfter: deleted.purgeAfter });

    const restored = ok(await api.gql(owner.principal, RESTORE, { id: owner.account.id })).restoreAccount;
    expect(restored).toEqual({ id: owner.account.id, status: 'ACTIVE', deletedAt: null, purgeAfter: null });
    await eventually(async () => eventsOf('account.restored', owner.account.id), (list) => list.length === 1, 'account.restored');
    // Restored before the window ends: a later purge leaves it alone.
    expect(await purgeDeletedAccounts(harness.orm, new Date(Date.now() + RECOVERY_WINDOW_MS * 2))).not.toContain(owner.account.id);
    ok(await api.gql(owner.principal, `mutation($id: ID!) { renameAccount(id: $id, name: "Kept") { name } }`, { id: owner.account.id }));
  });

  it('after the recovery window the account and its sub-accounts are purged, and account.purged names them all', async () => {
    const owner = await seedUser(harness.orm, 'leaving');
    const other = await seedUser(harness.orm, 'staying');
    const child = ok(await api.gql(owner.principal, `mutation($p: ID!) { createAccount(input: {name: "Dept", parentId: $p}) { id } }`, { p: owner.account.id })).createAccount.id;
    ok(await api.gql(owner.principal, `mutation($id: ID!) { createApiKey(input: {accountId: $id, name: "ci", scopes: [JOBS_READ]}) { secret } }`, { id: child }));
    const deleted = ok(await api.gql(owner.principal, DELETE, { id: owner.account.id, name: owner.account.name })).deleteAccount;
    const purgeAfter = new Date(deleted.purgeAfter);

    expect(await purgeDeletedAccounts(harness.orm, new Date(purgeAfter.getTime() - 60_000))).not.toContain(owner.account.id);
    expect((await status(owner.principal, child)).status).toBe('DELETED');

    const purged = await purgeDeletedAccounts(harness.orm, purgeAfter);
    expect(purged).toEqual(expect.arrayContaining([owner.account.id, child]));
    const ids = `{${owner.account.id},${child}}`;
    expect(await rows(harness.orm, 'select id from accounts.accounts where id = any(?::uuid[])', [ids])).toEqual([]);
    expect(await rows(harness.orm, 'select id from accounts.memberships where account_id = any(?::uuid[])', [ids])).toEqual([]);
    expect(await rows(harness.orm, 'select id from accounts.api_keys where account_id = any(?::uuid[])', [ids])).toEqual([]);
    const [event] = await eventually(async () => eventsOf('account.purged', owner.account.id), (list) => list.length === 1, 'account.purged');
    expect(event.data).toEqual({ accountId: owner.account.id, accountIds: [owner.account.id, child] });
    expect(errorCode(await api.gql(owner.principal, STATUS, { id: owner.account.id }))).toBe('NOT_FOUND');
    // Nothing of another tenant went with it.
    expect((await status(other.principal, other.account.id)).status).toBe('ACTIVE');
  });
});
