import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { INTERNAL_TOKEN_HEADER, signInternalToken } from '@listbackup/lib/internal-token';
import { rotateSigningKey } from '../src/services/tokens.ts';
import {
  ANON,
  GOOD_PASSWORD,
  LOG_IN,
  SECRET,
  SIGN_UP,
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

const signUp = (email?: string, name = 'Ada Lovelace', password?: string) => api.signUp(name, email, password);

async function fetchJwks(): Promise<JSONWebKeySet> {
  const token = await signInternalToken(SECRET, 'accounts', { principal: ANON, requestId: randomUUID() });
  const response = await fetch(`${api.harness.baseUrl}/internal/jwks`, { headers: { [INTERNAL_TOKEN_HEADER]: token } });
  expect(response.status).toBe(200);
  return (await response.json()) as JSONWebKeySet;
}

describe('signUp', () => {
  it('creates the user and a personal account they own, signs them in, and `me` answers with the user', async () => {
    const email = uniqueEmail('ada');
    const payload = await signUp(`  ${email.toUpperCase()} `, 'Ada Lovelace');
    expect(payload.user).toMatchObject({ email, name: 'Ada Lovelace', totpEnabled: false });
    expect(payload.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Date(payload.accessTokenExpiresAt).getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);

    const me = ok(await api.gql(principalOf(payload.accessToken), '{ me { id email name totpEnabled memberships { edges { node { role pending account { name } } } } } }'));
    expect(me.me).toMatchObject({ id: payload.user.id, email, name: 'Ada Lovelace', totpEnabled: false });
    expect(me.me.memberships.edges).toEqual([{ node: { role: 'OWNER', pending: false, account: { name: expect.stringContaining('Ada Lovelace') } } }]);

    const [user] = await rows(api.harness.orm, 'select email, password_hash from accounts.users where id = ?', [payload.user.id]);
    expect(user.email).toBe(email);
    expect(user.password_hash).toMatch(/^\$argon2id\$/);
    const sessions = await rows(api.harness.orm, 'select refresh_token_hash from accounts.sessions where user_id = ?', [payload.user.id]);
    expect(sessions).toHaveLength(1);
    expect(sessions[0].refresh_token_hash).not.toContain(payload.refreshToken); // stored hashed
  });

  it('answers nested fields of the payload as the new user', async () => {
    const response = await api.gql(ANON, `mutation ($input: SignUpInput!) { signUp(input: $input) { user { memberships { edges { node { role account { name myRole } } } } } } }`, {
      input: { email: uniqueEmail('nested'), password: GOOD_PASSWORD, name: 'Grace Hopper' },
    });
    expect(ok(response).signUp.user.memberships.edges).toEqual([{ node: { role: 'OWNER', account: { name: expect.stringContaining('Grace Hopper'), myRole: 'OWNER' } } }]);
  });

  it('writes user.created and account.created to the outbox in the same transaction, filed under the personal account', async () => {
    const payload = await signUp(uniqueEmail('events'));
    const [membership] = await rows(api.harness.orm, `select account_id from accounts.memberships where user_id = ? and role = 'owner'`, [payload.user.id]);
    const events = await rows(api.harness.orm, 'select type, account_id, subject, data from accounts.outbox_events where account_id = ? order by type', [membership.account_id]);
    expect(events).toEqual([
      { type: 'account.created', account_id: membership.account_id, subject: membership.account_id, data: expect.any(Object) },
      { type: 'user.created', account_id: membership.account_id, subject: payload.user.id, data: expect.objectContaining({ userId: payload.user.id }) },
    ]);
    // and the relay publishes them
    await expect.poll(() => api.harness.published.filter((event) => event.accountId === membership.account_id).map((event) => event.type).sort()).toEqual([
      'account.created',
      'user.created',
    ]);
  });

  it('gives a pending invitation to the person who signs up with that address (any case), once they verified it', async () => {
    const inviter = await signUp(uniqueEmail('inviter'));
    const [{ account_id: accountId }] = await rows(api.harness.orm, 'select account_id from accounts.memberships where user_id = ?', [inviter.user.id]);
    const invitee = uniqueEmail('invitee');
    await rows(
      api.harness.orm,
      `insert into accounts.memberships (id, account_id, user_id, email, role, invited_by, created_at) values (?, ?, null, ?, 'viewer', ?, now())`,
      [randomUUID(), accountId, invitee, inviter.user.id],
    );
    const payload = await signUp(invitee.toUpperCase());
    expect(await rows(api.harness.orm, 'select role from accounts.memberships where user_id = ?', [payload.user.id])).toEqual([{ role: 'owner' }]);
    const [mail] = await rows<{ text: string }>(api.harness.orm, 'select text from accounts.notification_deliveries where recipient = ?', [invitee]);
    const token = /lbt_[A-Za-z0-9_-]+/.exec(mail.text)![0];
    expect(ok(await api.gql(ANON, 'mutation ($t: String!) { verifyEmail(token: $t) { emailVerified } }', { t: token }))).toEqual({ verifyEmail: { emailVerified: true } });
    const memberships = await rows(api.harness.orm, 'select account_id, role from accounts.memberships where user_id = ? order by role', [payload.user.id]);
    expect(memberships).toEqual([
      { account_id: expect.any(String), role: 'owner' },
      { account_id: accountId, role: 'viewer' },
    ]);
  });

  it.each([
    ['not-an-email'],
    ['two@@example.com'],
    ['spaces in@example.com'],
    ['nodomain@'],
    ['@example.com'],
    ['user@localhost'],
    [''],
  ])('refuses the invalid email %j with INVALID_EMAIL and writes nothing', async (email) => {
    const before = await tableCounts(api.harness.orm);
    const error = errorOf(await api.gql(ANON, SIGN_UP, { input: { email, password: GOOD_PASSWORD, name: 'Someone' } }));
    expect(error.code).toBe('INVALID_EMAIL');
    expect(error.message).toMatch(/valid email address/);
    expect(await tableCounts(api.harness.orm)).toEqual(before);
  });

  it.each([
    ['short1!', 'too_short', /at least 10 characters/],
    ['password123', 'common', /too common/],
    ['Password123!', 'common', /too common/],
    ['aaaaaaaaaaaa', 'repetitive', /different characters/],
  ])('refuses the weak password %j with WEAK_PASSWORD listing the problem, and writes nothing', async (password, problem, message) => {
    const before = await tableCounts(api.harness.orm);
    const error = errorOf(await api.gql(ANON, SIGN_UP, { input: { email: uniqueEmail('weak'), password, name: 'Someone' } }));
    expect(error.code).toBe('WEAK_PASSWORD');
    expect(error.message).toMatch(message);
    expect(error.extensions.problems).toContain(problem);
    expect(await tableCounts(api.harness.orm)).toEqual(before);
  });

  it('refuses a password built from the email address', async () => {
    const email = uniqueEmail('margaret');
    const local = email.split('@')[0];
    const error = errorOf(await api.gql(ANON, SIGN_UP, { input: { email, password: `${local}2024!`, name: 'Margaret' } }));
    expect(error.code).toBe('WEAK_PASSWORD');
    expect(error.extensions.problems).toContain('contains_email');
  });

  it('refuses an empty name with BAD_USER_INPUT on the name field', async () => {
    const before = await tableCounts(api.harness.orm);
    const error = errorOf(await api.gql(ANON, SIGN_UP, { input: { email: uniqueEmail(), password: GOOD_PASSWORD, name: '   ' } }));
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', extensions: { field: 'name' } });
    expect(await tableCounts(api.harness.orm)).toEqual(before);
  });

  it('refuses an email that is taken, whatever its case, with EMAIL_TAKEN and writes nothing', async () => {
    const email = uniqueEmail('taken');
    await signUp(email);
    const before = await tableCounts(api.harness.orm);
    const error = errorOf(await api.gql(ANON, SIGN_UP, { input: { email: email.toUpperCase(), password: GOOD_PASSWORD, name: 'Other' } }));
    expect(error.code).toBe('EMAIL_TAKEN');
    expect(await tableCounts(api.harness.orm)).toEqual(before);
  });

  it('lets only one of two simultaneous sign-ups with one address through', async () => {
    const email = uniqueEmail('race');
    const before = await tableCounts(api.harness.orm);
    const results = await Promise.all(
      [1, 2, 3].map(() => api.gql(ANON, SIGN_UP, { input: { email, password: GOOD_PASSWORD, name: 'Racer' } })),
    );
    expect(results.filter((result) => result.data?.signUp)).toHaveLength(1);
    expect(results.filter((result) => result.errors).map((result) => errorOf(result).code)).toEqual(['EMAIL_TAKEN', 'EMAIL_TAKEN']);
    const after = await tableCounts(api.harness.orm);
    expect(after.users - before.users).toBe(1);
    expect(after.accounts - before.accounts).toBe(1);
  });
});

describe('logIn', () => {
  it('signs in with the right password (email in any case) and writes user.login to the outbox', async () => {
    const email = uniqueEmail('login');
    const signedUp = await signUp(email);
    const payload = ok(await api.gql<{ logIn: AuthPayload }>(ANON, LOG_IN, { input: { email: email.toUpperCase(), password: GOOD_PASSWORD } })).logIn;
    expect(payload.user.id).toBe(signedUp.user.id);
    expect(principalOf(payload.accessToken)).not.toEqual(principalOf(signedUp.accessToken)); // a new session

    const [membership] = await rows(api.harness.orm, `select account_id from accounts.memberships where user_id = ?`, [signedUp.user.id]);
    const logins = await rows(api.harness.orm, `select account_id, subject, data from accounts.outbox_events where type = 'user.login' and subject = ?`, [signedUp.user.id]);
    expect(logins).toEqual([{ account_id: membership.account_id, subject: signedUp.user.id, data: expect.objectContaining({ method: 'password' }) }]);
    expect(await rows(api.harness.orm, 'select id from accounts.sessions where user_id = ?', [signedUp.user.id])).toHaveLength(2);
  });

  it('answers a wrong password and an unknown email with the same error, and starts no session; the known user\'s log shows the attempt', async () => {
    const email = uniqueEmail('known');
    const known = await signUp(email);
    const before = await tableCounts(api.harness.orm);
    const wrongPassword = errorOf(await api.gql(ANON, LOG_IN, { input: { email, password: 'not the password at all' } }));
    const unknownEmail = errorOf(await api.gql(ANON, LOG_IN, { input: { email: uniqueEmail('nobody'), password: GOOD_PASSWORD } }));
    const malformedEmail = errorOf(await api.gql(ANON, LOG_IN, { input: { email: 'nonsense', password: GOOD_PASSWORD } }));
    for (const error of [wrongPassword, unknownEmail, malformedEmail]) {
      expect(error).toEqual({ code: 'INVALID_CREDENTIALS', message: 'Email or password is incorrect.', extensions: { code: 'INVALID_CREDENTIALS' } });
    }
    // Only the failed sign-in of the existing user is an event (unknown addresses belong to no account).
    expect(await tableCounts(api.harness.orm)).toEqual({ ...before, outbox_events: before.outbox_events + 1 });
    const failures = await rows(api.harness.orm, `select data, actor from accounts.outbox_events where type = 'user.login_failed' and subject = ?`, [known.user.id]);
    expect(failures).toEqual([{ data: { userId: known.user.id, reason: 'password' }, actor: expect.objectContaining({ kind: 'anonymous' }) }]);
  });
});

describe('me', () => {
  it('is UNAUTHENTICATED for an anonymous caller', async () => {
    expect(errorOf(await api.gql(ANON, '{ me { id } }')).code).toBe('UNAUTHENTICATED');
  });

  it('is UNAUTHENTICATED for an API key, saying why', async () => {
    const error = errorOf(await api.gql({ kind: 'apiKey', apiKeyId: randomUUID(), accountId: randomUUID(), scopes: ['account:read'] }, '{ me { id } }'));
    expect(error.code).toBe('UNAUTHENTICATED');
    expect(error.message).toMatch(/API key/);
  });
});

describe('User entity references', () => {
  const ENTITIES = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id email } } }`;

  it('resolves the caller and members of accounts the caller can read, and nobody else', async () => {
    const owner = await signUp(uniqueEmail('owner'));
    const colleague = await signUp(uniqueEmail('colleague'));
    const stranger = await signUp(uniqueEmail('stranger'));
    const [{ account_id: accountId }] = await rows(api.harness.orm, 'select account_id from accounts.memberships where user_id = ?', [owner.user.id]);
    await rows(
      api.harness.orm,
      `insert into accounts.memberships (id, account_id, user_id, email, role, invited_by, created_at) values (?, ?, ?, ?, 'viewer', ?, now())`,
      [randomUUID(), accountId, colleague.user.id, colleague.user.email, owner.user.id],
    );

    const asOwner = principalOf(owner.accessToken);
    const mine = ok(await api.gql(asOwner, ENTITIES, { reps: [{ __typename: 'User', id: owner.user.id }, { __typename: 'User', id: colleague.user.id }] }));
    expect(mine._entities).toEqual([
      { id: owner.user.id, email: owner.user.email },
      { id: colleague.user.id, email: colleague.user.email },
    ]);

    for (const id of [stranger.user.id, randomUUID(), 'not-a-uuid']) {
      const response = await api.gql(asOwner, ENTITIES, { reps: [{ __typename: 'User', id }] });
      expect(errorOf(response)).toMatchObject({ code: 'NOT_FOUND', message: 'User not found' });
    }
  });
});

describe('access tokens', () => {
  it('are EdDSA JWTs for 15 minutes, with sub, sid, iss and aud, verifiable with the JWKS route', async () => {
    const payload = await signUp(uniqueEmail('jwt'));
    const jwks = await fetchJwks();
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig', kid: expect.any(String) });
      expect(key).not.toHaveProperty('d'); // never the private half
    }
    const header = decodeProtectedHeader(payload.accessToken);
    expect(header).toMatchObject({ alg: 'EdDSA', kid: jwks.keys[0].kid });
    const { payload: claims } = await jwtVerify(payload.accessToken, createLocalJWKSet(jwks), {
      algorithms: ['EdDSA'],
      issuer: 'listbackup',
      audience: 'listbackup-api',
    });
    expect(claims.sub).toBe(payload.user.id);
    expect(claims.sid).toEqual(expect.any(String));
    expect(claims.exp! - claims.iat!).toBe(15 * 60);
    const [session] = await rows(api.harness.orm, 'select id from accounts.sessions where id = ? and user_id = ?', [claims.sid, payload.user.id]);
    expect(session).toBeDefined();
  });

  it('keeps one signing key in the database across restarts of the process cache', async () => {
    await signUp(uniqueEmail('keys'));
    const keys = await rows(api.harness.orm, 'select kid from accounts.signing_keys where retired_at is null');
    expect(keys).toHaveLength(1);
  });

  it('still verify after a key rotation, while new tokens use the new key', async () => {
    const before = await signUp(uniqueEmail('rotation'));
    const newKid = await rotateSigningKey(api.harness.orm.em.fork());
    const after = await signUp(uniqueEmail('rotation'));
    expect(decodeProtectedHeader(after.accessToken).kid).toBe(newKid);
    expect(decodeProtectedHeader(before.accessToken).kid).not.toBe(newKid);
    const jwks = createLocalJWKSet(await fetchJwks());
    for (const token of [before.accessToken, after.accessToken]) {
      await expect(jwtVerify(token, jwks, { issuer: 'listbackup', audience: 'listbackup-api' })).resolves.toBeDefined();
    }
  });

  it('the JWKS route answers only callers holding an internal token', async () => {
    const response = await fetch(`${api.harness.baseUrl}/internal/jwks`);
    expect(response.status).toBe(401);
    const body = await response.json();
    expect(body).not.toHaveProperty('keys');
  });
});

describe('password reset and profile', () => {
  const tokenIn = async (address: string, subject: string) => {
    const found = await rows<{ text: string }>(api.harness.orm, 'select text from accounts.notification_deliveries where recipient = ? and subject like ? order by created_at desc limit 1', [address, `%${subject}%`]);
    return /lbt_[A-Za-z0-9_-]+/.exec(found[0].text)![0];
  };

  it('resets a password with the emailed single-use token and ends every session', async () => {
    const email = uniqueEmail('reset');
    const signedUp = await signUp(email);
    const unknown = await api.gql(ANON, 'mutation ($e: String!) { requestPasswordReset(email: $e) }', { e: uniqueEmail('nobody') });
    expect(ok(unknown)).toEqual({ requestPasswordReset: true });
    expect(ok(await api.gql(ANON, 'mutation ($e: String!) { requestPasswordReset(email: $e) }', { e: email }))).toEqual({ requestPasswordReset: true });
    const token = await tokenIn(email, 'Reset your password');
    const reset = (t: string, password: string) => api.gql(ANON, 'mutation ($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }', { t, p: password });
    expect(errorOf(await reset(token, 'short')).code).toBe('WEAK_PASSWORD');
    expect(errorOf(await reset('lbt_forged', 'an entirely new passphrase 7')).code).toBe('INVALID_TOKEN');
    expect(ok(await reset(token, 'an entirely new passphrase 7'))).toEqual({ resetPassword: true });
    expect(errorOf(await reset(token, 'yet another new passphrase 8')).code).toBe('INVALID_TOKEN');
    const sessions = await rows<{ revoked_reason: string | null }>(api.harness.orm, 'select revoked_reason from accounts.sessions where user_id = ?', [signedUp.user.id]);
    expect(sessions.every((session) => session.revoked_reason === 'password_reset')).toBe(true);
    expect(ok(await api.gql(ANON, LOG_IN, { input: { email, password: 'an entirely new passphrase 7' } })).logIn.user.id).toBe(signedUp.user.id);
  });

  it('edits the profile with user.updated naming before and after; refuses bad values with a code', async () => {
    const signedUp = await signUp(uniqueEmail('profile'));
    const principal = principalOf(signedUp.accessToken);
    const update = (input: Record<string, unknown>) => api.gql(principal, 'mutation ($i: UpdateProfileInput!) { updateProfile(input: $i) { name timeZone locale avatarUrl } }', { i: input });
    expect(ok(await update({ name: 'Ada King', timeZone: 'Europe/London', locale: 'en-gb', avatarUrl: 'https://example.com/ada.png' })).updateProfile).toEqual({
      name: 'Ada King',
      timeZone: 'Europe/London',
      locale: 'en-GB',
      avatarUrl: 'https://example.com/ada.png',
    });
    expect(errorOf(await update({ timeZone: 'Mars/Olympus' })).code).toBe('BAD_USER_INPUT');
    expect(errorOf(await update({ avatarUrl: 'javascript:alert(1)' })).code).toBe('BAD_USER_INPUT');
    const [event] = await rows<{ data: any }>(api.harness.orm, `select data from accounts.outbox_events where type = 'user.updated' and subject = ?`, [signedUp.user.id]);
    expect(event.data).toMatchObject({ changed: ['name', 'avatarUrl', 'timeZone', 'locale'], before: { name: 'Ada Lovelace', timeZone: null }, after: { name: 'Ada King', timeZone: 'Europe/London' } });
  });
});
