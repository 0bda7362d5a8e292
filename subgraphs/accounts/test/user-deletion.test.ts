/**
 * Self-deletion (`deleteMe`): the user's sessions, keys, memberships, settings and profile go;
 * an account they leave without an owner is deleted with them and purged with its data; accounts
 * that keep another owner stay as they are; `user.deleted` is published.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import { hashPassword } from '@listbackup/lib/passwords';
import { purgeDeletedAccounts } from '../src/services/account-lifecycle.ts';
import { client, errorCode, rows, seedUser, startHarness, type SeededUser, type TenancyHarness } from './tenancy-support.ts';

const PASSWORD = 'a long and unguessable passphrase 7';
const DELETE_ME = 'mutation ($p: String!) { deleteMe(currentPassword: $p) }';

let harness: TenancyHarness;
let api: ReturnType<typeof client>;
let alice: SeededUser;
let bob: SeededUser;
/** Alice and Bob both own it. */
let shared: string;
const events: EventEnvelope[] = [];

async function addMember(by: SeededUser, accountId: string, email: string, role: string) {
  const added = await api.gql(by.principal, 'mutation ($i: AddMemberInput!) { addMember(input: $i) { id } }', { i: { accountId, email, role } });
  expect(added.errors).toBeUndefined();
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  harness = await startHarness();
  api = client(harness);
  await harness.bus.subscribe('lb.evt.>', async (event) => {
    events.push(event);
  });
  [alice, bob] = await Promise.all([seedUser(harness.orm, 'alice'), seedUser(harness.orm, 'bob')]);
  await rows(harness.orm, 'update accounts.users set password_hash = ? where id = ?', [await hashPassword(PASSWORD), alice.user.id]);
  const created = await api.gql(bob.principal, 'mutation { createAccount(input: { name: "Shared" }) { id } }');
  shared = created.data!.createAccount.id;
  await addMember(bob, shared, alice.email, 'OWNER');
  await addMember(bob, bob.account.id, alice.email, 'VIEWER');
  // A sub-account of Alice's own account: it has no owner but Alice either.
  await api.gql(alice.principal, `mutation { createAccount(input: { name: "Alice's client", parentId: "${alice.account.id}" }) { id } }`);
  const key = await api.gql(alice.principal, `mutation { createApiKey(input: { accountId: "${shared}", name: "ci", scopes: [ACCOUNT_READ] }) { apiKey { id } } }`);
  expect(key.errors).toBeUndefined();
});
afterAll(async () => {
  await harness?.stop();
});

const count = async (sql: string, params: unknown[]) => Number((await rows<{ n: string }>(harness.orm, `select count(*) as n from ${sql}`, params))[0].n);

describe('deleteMe', () => {
  it('refuses a wrong password with INVALID_CREDENTIALS and changes nothing', async () => {
    const response = await api.gql(alice.principal, DELETE_ME, { p: 'not the password' });
    expect(errorCode(response)).toBe('INVALID_CREDENTIALS');
    expect(await count('accounts.users where id = ?', [alice.user.id])).toBe(1);
    expect(await count('accounts.memberships where user_id = ?', [alice.user.id])).toBe(3);
  });

  it('is only for a signed-in person: an API key or an anonymous caller is refused', async () => {
    const [{ id: keyId }] = await rows<{ id: string }>(harness.orm, 'select id from accounts.api_keys where created_by = ?', [alice.user.id]);
    expect(errorCode(await api.gql({ kind: 'apiKey', apiKeyId: keyId, accountId: shared, scopes: ['account:read'] }, DELETE_ME, { p: PASSWORD }))).toBe('UNAUTHENTICATED');
    expect(errorCode(await api.gql({ kind: 'anonymous' }, DELETE_ME, { p: PASSWORD }))).toBe('UNAUTHENTICATED');
    expect(await count('accounts.users where id = ?', [alice.user.id])).toBe(1);
  });

  it('erases the user, deletes the accounts left without an owner, and leaves the others', async () => {
    const bobsBefore = await rows(harness.orm, 'select id, role from accounts.memberships where user_id = ? order by id', [bob.user.id]);
    const answer = await api.gql(alice.principal, DELETE_ME, { p: PASSWORD });
    expect(answer.errors).toBeUndefined();
    expect(answer.data).toEqual({ deleteMe: true });

    for (const table of ['users where id = ?', 'sessions where user_id = ?', 'memberships where user_id = ?', 'api_keys where created_by = ?', 'user_tokens where user_id = ?']) {
      expect(await count(`accounts.${table}`, [alice.user.id]), table).toBe(0);
    }
    // Her personal account (its sub-account with it) had no other owner: deleted, due for purge now.
    const own = await rows<{ id: string; due: boolean }>(harness.orm, 'select id, purge_after <= now() as due from accounts.accounts where path @> array[?::text] order by id', [alice.account.id]);
    expect(own).toHaveLength(2);
    expect(own.find((account) => account.id === alice.account.id)?.due).toBe(true);
    // Shared keeps Bob as owner; Bob's account keeps Bob; nothing of Bob's changed.
    expect(await count('accounts.accounts where id in (?, ?) and deleted_at is null', [shared, bob.account.id])).toBe(2);
    expect(await rows(harness.orm, 'select id, role from accounts.memberships where user_id = ? order by id', [bob.user.id])).toEqual(bobsBefore);

    await until('user.deleted', () => events.some((event) => event.type === 'user.deleted'));
    const deleted = events.find((event) => event.type === 'user.deleted')!;
    expect(deleted).toMatchObject({ subject: alice.user.id, data: { userId: alice.user.id } });
    expect([...(deleted.data.accountIds as string[])].sort()).toEqual(own.map((account) => account.id));
    const removed = events.filter((event) => event.type === 'member.removed').map((event) => event.accountId);
    expect(removed.sort()).toEqual([alice.account.id, shared, bob.account.id].sort());
    expect(events.filter((event) => event.type === 'apikey.revoked').map((event) => event.accountId)).toEqual([shared]);

    // The session is gone: the same principal is refused.
    expect(errorCode(await api.gql(alice.principal, '{ me { id } }'))).toBe('UNAUTHENTICATED');
  });

  it('purges the deleted accounts with their rows at the next pass, and frees the address', async () => {
    const purged = await purgeDeletedAccounts(harness.orm);
    expect(purged).toContain(alice.account.id);
    expect(await count('accounts.accounts where path @> array[?::text]', [alice.account.id])).toBe(0);
    await until('account.purged', () => events.some((event) => event.type === 'account.purged' && event.accountId === alice.account.id));
    const again = await api.gql({ kind: 'anonymous' }, 'mutation ($i: SignUpInput!) { signUp(input: $i) { user { email } } }', { i: { email: alice.email, password: PASSWORD, name: 'Alice again' } });
    expect(again.errors).toBeUndefined();
    expect(again.data?.signUp.user.email).toBe(alice.email);
  });
});
