import { describe, expect, it } from 'vitest';
import {
  ANON,
  GOOD_PASSWORD,
  LOG_IN,
  errorOf,
  ok,
  principalOf,
  rows,
  uniqueEmail,
  type AuthPayload,
  useIdentityHarness,
} from './identity-support.ts';

const api = useIdentityHarness();

const signUp = (email = uniqueEmail('ended')) => api.signUp('Ended Session', email);

const ME = '{ me { id email } }';
const CREATE_ACCOUNT = 'mutation ($name: String!) { createAccount(input: { name: $name }) { id name myRole } }';

async function accountsNamed(name: string) {
  return rows(api.harness.orm, 'select id from accounts.accounts where name = ?', [name]);
}

describe('a session that has ended is refused at once, by every operation of the person', () => {
  it('me: answers while the session lives, UNAUTHENTICATED after logOut with the same token', async () => {
    const payload = await signUp();
    const principal = principalOf(payload.accessToken);
    expect(ok(await api.gql(principal, ME)).me.id).toBe(payload.user.id);
    ok(await api.gql(principal, 'mutation { logOut }'));
    const refused = await api.gql(principal, ME);
    expect(errorOf(refused).code).toBe('UNAUTHENTICATED');
    expect(refused.data?.me ?? null).toBeNull();
  });

  it('createAccount: refused after logOut, and nothing is stored', async () => {
    const payload = await signUp();
    const principal = principalOf(payload.accessToken);
    ok(await api.gql(principal, 'mutation { logOut }'));
    const name = `After sign-out ${payload.user.id}`;
    expect(errorOf(await api.gql(principal, CREATE_ACCOUNT, { name })).code).toBe('UNAUTHENTICATED');
    expect(await accountsNamed(name)).toEqual([]);
  });

  it('changePassword: the other sessions’ tokens are refused by me and createAccount', async () => {
    const email = uniqueEmail('ended-change');
    const here = await signUp(email);
    const elsewhere = principalOf(ok(await api.gql<{ logIn: AuthPayload }>(ANON, LOG_IN, { input: { email, password: GOOD_PASSWORD } })).logIn.accessToken);
    expect(ok(await api.gql(elsewhere, ME)).me.id).toBe(here.user.id);
    const change = 'mutation ($current: String!, $next: String!) { changePassword(currentPassword: $current, newPassword: $next) }';
    ok(await api.gql(principalOf(here.accessToken), change, { current: GOOD_PASSWORD, next: 'another long passphrase 31' }));
    expect(errorOf(await api.gql(elsewhere, ME)).code).toBe('UNAUTHENTICATED');
    expect(errorOf(await api.gql(elsewhere, CREATE_ACCOUNT, { name: `Elsewhere ${here.user.id}` })).code).toBe('UNAUTHENTICATED');
    expect(ok(await api.gql(principalOf(here.accessToken), ME)).me.id).toBe(here.user.id); // the session that changed it lives on
  });
});

describe('createAccount returns what it created', () => {
  it('with myRole selected: the account, its owner role, and exactly one stored account', async () => {
    const payload = await signUp();
    const name = `With my role ${payload.user.id}`;
    const created = ok(await api.gql<{ createAccount: { id: string; name: string; myRole: string } }>(principalOf(payload.accessToken), CREATE_ACCOUNT, { name })).createAccount;
    expect(created).toMatchObject({ name, myRole: 'OWNER' });
    expect(await accountsNamed(name)).toEqual([{ id: created.id }]);
  });
});
