import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ANON,
  GOOD_PASSWORD,
  LOG_IN,
  REFRESH,
  errorOf,
  ok,
  principalOf,
  rows,
  tableCounts,
  uniqueEmail,
  type AuthPayload,
  useIdentityHarness,
} from './identity-support.ts';

const api = useIdentityHarness();

const signUp = (email?: string) => api.signUp('Session Tester', email);

async function logIn(email: string, password = GOOD_PASSWORD): Promise<AuthPayload> {
  return ok(await api.gql<{ logIn: AuthPayload }>(ANON, LOG_IN, { input: { email, password } })).logIn;
}

function refresh(token: string) {
  return api.gql<{ refreshSession: AuthPayload }>(ANON, REFRESH, { token });
}

async function sessionRow(sessionId: string) {
  const [row] = await rows(api.harness.orm, 'select * from accounts.sessions where id = ?', [sessionId]);
  return row;
}

describe('refreshSession', () => {
  it('rotates: a new refresh token and a new access token for the same session', async () => {
    const first = await signUp();
    const second = ok(await refresh(first.refreshToken)).refreshSession;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.user.id).toBe(first.user.id);
    expect(principalOf(second.accessToken)).toEqual(principalOf(first.accessToken)); // same user, same session
    const third = ok(await refresh(second.refreshToken)).refreshSession;
    expect(third.refreshToken).not.toBe(second.refreshToken);
    const session = await sessionRow(principalOf(first.accessToken).sessionId);
    expect(session.revoked_at).toBeNull();
    expect(session.rotated_token_hashes).toHaveLength(2);
  });

  it('revokes the whole session when a rotated token is presented again', async () => {
    const first = await signUp();
    const { sessionId } = principalOf(first.accessToken);
    const second = ok(await refresh(first.refreshToken)).refreshSession;

    expect(errorOf(await refresh(first.refreshToken)).code).toBe('INVALID_REFRESH_TOKEN'); // the reuse
    const session = await sessionRow(sessionId);
    expect(session.revoked_at).not.toBeNull();
    expect(session.revoked_reason).toBe('refresh_token_reused');
    // the latest token of the family is dead too, and reuse keeps failing
    expect(errorOf(await refresh(second.refreshToken)).code).toBe('INVALID_REFRESH_TOKEN');
    expect(errorOf(await refresh(first.refreshToken)).code).toBe('INVALID_REFRESH_TOKEN');
  });

  it('leaves other sessions of the user alone when one family is revoked', async () => {
    const email = uniqueEmail('families');
    const a = await signUp(email);
    const b = await logIn(email);
    ok(await refresh(a.refreshToken));
    errorOf(await refresh(a.refreshToken));
    expect(ok(await refresh(b.refreshToken)).refreshSession.user.id).toBe(a.user.id);
  });

  it('lets only one of several concurrent refreshes with one token succeed', async () => {
    const first = await signUp();
    const results = await Promise.all(Array.from({ length: 5 }, () => refresh(first.refreshToken)));
    const succeeded = results.filter((result) => result.data?.refreshSession);
    expect(succeeded).toHaveLength(1);
    for (const failed of results.filter((result) => result.errors)) expect(errorOf(failed).code).toBe('INVALID_REFRESH_TOKEN');
  });

  it.each([
    ['an unknown token', () => randomBytes(32).toString('base64url')],
    ['a malformed token', () => 'not a token'],
    ['an empty token', () => ''],
    ['an access token', () => 'eyJhbGciOiJFZERTQSJ9.e30.sig'],
  ])('answers %s with INVALID_REFRESH_TOKEN and writes nothing', async (_, token) => {
    const before = await tableCounts(api.harness.orm);
    expect(errorOf(await refresh(token())).code).toBe('INVALID_REFRESH_TOKEN');
    expect(await tableCounts(api.harness.orm)).toEqual(before);
  });

  it('refuses the token of an expired session', async () => {
    const first = await signUp();
    const { sessionId } = principalOf(first.accessToken);
    await rows(api.harness.orm, `update accounts.sessions set expires_at = now() - interval '1 second' where id = ?`, [sessionId]);
    expect(errorOf(await refresh(first.refreshToken)).code).toBe('INVALID_REFRESH_TOKEN');
  });
});

describe('logOut', () => {
  it('ends the current session only: its refresh token stops working', async () => {
    const email = uniqueEmail('logout');
    const a = await signUp(email);
    const b = await logIn(email);
    expect(ok(await api.gql(principalOf(a.accessToken), 'mutation { logOut }')).logOut).toBe(true);
    expect(errorOf(await refresh(a.refreshToken)).code).toBe('INVALID_REFRESH_TOKEN');
    expect(ok(await refresh(b.refreshToken)).refreshSession.user.id).toBe(a.user.id);
    const session = await sessionRow(principalOf(a.accessToken).sessionId);
    expect(session.revoked_reason).toBe('logged_out');
    // again: nothing left to end, still fine
    expect(ok(await api.gql(principalOf(a.accessToken), 'mutation { logOut }')).logOut).toBe(true);

    // The ended session's access token is still signed, but holds no role anywhere; the other session does.
    const [{ node: membership }] = ok(await api.gql(principalOf(b.accessToken), '{ me { memberships { edges { node { account { id myRole } } } } } }')).me.memberships.edges;
    expect(membership.account.myRole).toBe('OWNER');
    const ended = await api.gql(principalOf(a.accessToken), 'query ($id: ID!) { account(id: $id) { id myRole } }', { id: membership.account.id });
    expect(errorOf(ended).code).toBe('NOT_FOUND');
  });

  it('is UNAUTHENTICATED without a signed-in user', async () => {
    expect(errorOf(await api.gql(ANON, 'mutation { logOut }')).code).toBe('UNAUTHENTICATED');
  });
});

describe('changePassword', () => {
  const CHANGE = 'mutation ($current: String!, $next: String!) { changePassword(currentPassword: $current, newPassword: $next) }';
  const NEW_PASSWORD = 'a brand new passphrase 77';

  it('needs the current password, applies the policy to the new one, and then ends every other session', async () => {
    const email = uniqueEmail('changer');
    const here = await signUp(email);
    const elsewhere = await logIn(email);
    const asHere = principalOf(here.accessToken);
    const [{ password_hash: hashBefore }] = await rows(api.harness.orm, 'select password_hash from accounts.users where id = ?', [here.user.id]);

    const wrong = errorOf(await api.gql(asHere, CHANGE, { current: 'not my password', next: NEW_PASSWORD }));
    expect(wrong).toMatchObject({ code: 'INVALID_CREDENTIALS', message: 'The current password is incorrect.' });
    const weak = errorOf(await api.gql(asHere, CHANGE, { current: GOOD_PASSWORD, next: 'password1' }));
    expect(weak.code).toBe('WEAK_PASSWORD');
    const [{ password_hash: hashUnchanged }] = await rows(api.harness.orm, 'select password_hash from accounts.users where id = ?', [here.user.id]);
    expect(hashUnchanged).toBe(hashBefore);
    expect(ok(await refresh(elsewhere.refreshToken)).refreshSession).toBeDefined(); // nothing revoked yet

    const sessionsBefore = await rows(api.harness.orm, 'select id from accounts.sessions where user_id = ? and revoked_at is null', [here.user.id]);
    expect(sessionsBefore).toHaveLength(2);
    expect(ok(await api.gql(asHere, CHANGE, { current: GOOD_PASSWORD, next: NEW_PASSWORD })).changePassword).toBe(true);

    const alive = await rows(api.harness.orm, 'select id from accounts.sessions where user_id = ? and revoked_at is null', [here.user.id]);
    expect(alive.map((row) => row.id)).toEqual([asHere.sessionId]);
    expect(errorOf(await api.gql(ANON, LOG_IN, { input: { email, password: GOOD_PASSWORD } })).code).toBe('INVALID_CREDENTIALS');
    expect((await logIn(email, NEW_PASSWORD)).user.id).toBe(here.user.id);
    expect(ok(await refresh(here.refreshToken)).refreshSession).toBeDefined(); // this session lives on
  });

  it('is refused from a session that has ended', async () => {
    const payload = await signUp();
    const principal = principalOf(payload.accessToken);
    ok(await api.gql(principal, 'mutation { logOut }'));
    const error = errorOf(await api.gql(principal, CHANGE, { current: GOOD_PASSWORD, next: NEW_PASSWORD }));
    expect(error.code).toBe('UNAUTHENTICATED');
  });
});
