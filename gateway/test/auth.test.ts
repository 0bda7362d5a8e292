import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { SignJWT, UnsecuredJWT, base64url } from 'jose';
import pino from 'pino';
import { AuthenticationError, AuthenticationUnavailableError, Authenticator, type AuthenticatorOptions } from '../src/auth.ts';
import { issueAccessToken, newSigningKey, startFakeAccounts, type FakeAccounts, type SigningKey } from './support/fake-accounts.ts';

const secret = randomBytes(32).toString('hex');
const log = pino({ level: 'silent' });
let accounts: FakeAccounts;
let key: SigningKey;
let clock: number;

function authenticator(options: Partial<AuthenticatorOptions> = {}): Authenticator {
  return new Authenticator({ accountsUrl: accounts.url, internalTokenSecret: secret, log, now: () => clock, ...options });
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  key = await newSigningKey();
  accounts = await startFakeAccounts(secret, [key]);
});
afterAll(() => accounts.close());
beforeEach(() => {
  clock = 1_000_000;
  accounts.keys = [key];
  accounts.failWith = undefined;
  accounts.apiKeys.clear();
  accounts.endedSessions.clear();
  accounts.calls = { jwks: 0, verify: 0, facts: 0, rejected: 0 };
});

describe('access tokens', () => {
  it('verifies a token signed by an accounts key into a user principal', async () => {
    const token = await issueAccessToken({ key, userId: 'u-42', sessionId: 's-7' });
    expect(await authenticator().authenticate(`Bearer ${token}`, 'r1')).toEqual({ kind: 'user', userId: 'u-42', sessionId: 's-7' });
    expect(accounts.calls.rejected).toBe(0);
  });

  it('treats a request without an Authorization header as anonymous', async () => {
    expect(await authenticator().authenticate(undefined, 'r1')).toEqual({ kind: 'anonymous' });
    expect(accounts.calls.jwks).toBe(0);
  });

  it('fetches the JWKS once and reuses it for later tokens', async () => {
    const auth = authenticator();
    for (const userId of ['a', 'b', 'c']) await auth.authenticate(`Bearer ${await issueAccessToken({ key, userId })}`, 'r');
    expect(accounts.calls.jwks).toBe(1);
  });

  const cases: [string, () => Promise<string>, RegExp][] = [
    ['a header that is not Bearer', async () => `Basic ${Buffer.from('a:b').toString('base64')}`, /must be "Bearer/],
    ['an empty Bearer', async () => 'Bearer ', /must be "Bearer/],
    ['a malformed token', async () => 'Bearer not-a-jwt', /malformed/],
    ['three dots of garbage', async () => 'Bearer a.b.c', /malformed/],
    ['an expired token', async () => `Bearer ${await issueAccessToken({ key, expiresAt: Math.floor(Date.now() / 1000) - 60 })}`, /expired/],
    ['a token signed by another key under a known kid', async () => `Bearer ${await issueAccessToken({ key: { ...(await newSigningKey(key.kid)), kid: key.kid } })}`, /signature is invalid/],
    ['a token signed by an unknown key', async () => `Bearer ${await issueAccessToken({ key: await newSigningKey() })}`, /unknown key/],
    ['an alg none token', async () => `Bearer ${new UnsecuredJWT({ sid: 's' }).setSubject('user-1').setIssuer('listbackup').setAudience('listbackup-api').setExpirationTime('5m').encode()}`, /algorithm is not allowed/],
    [
      'an HS256 token keyed with the public key',
      async () =>
        `Bearer ${await new SignJWT({ sid: 's' })
          .setProtectedHeader({ alg: 'HS256', kid: key.kid })
          .setSubject('user-1')
          .setIssuer('listbackup')
          .setAudience('listbackup-api')
          .setExpirationTime('5m')
          .sign(base64url.decode(key.publicJwk.x!))}`,
      /algorithm is not allowed/,
    ],
    ['a token for another audience', async () => `Bearer ${await issueAccessToken({ key, audience: 'accounts' })}`, /"aud"/],
    ['a token from another issuer', async () => `Bearer ${await issueAccessToken({ key, issuer: 'someone-else' })}`, /"iss"/],
    ['a token without a session', async () => `Bearer ${await issueAccessToken({ key, sessionId: null })}`, /subject or session/],
  ];
  it.each(cases)('rejects %s as UNAUTHENTICATED', async (_name, header, message) => {
    const error = await rejection(authenticator().authenticate(await header(), 'r1'));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as AuthenticationError).code).toBe('UNAUTHENTICATED');
    expect(error.message).toMatch(message);
  });

  it('picks up a rotated-in key, refetching the JWKS at most once per cooldown', async () => {
    const auth = authenticator({ jwksRefetchCooldownMs: 30_000 });
    await auth.authenticate(`Bearer ${await issueAccessToken({ key })}`, 'r');
    const rotated = await newSigningKey();
    accounts.keys = [key, rotated];
    const token = await issueAccessToken({ key: rotated, userId: 'rotated' });

    // Within the cooldown, unknown kids do not reach accounts however many arrive.
    for (let i = 0; i < 5; i++) expect((await rejection(auth.authenticate(`Bearer ${token}`, 'r'))).message).toMatch(/unknown key/);
    expect(accounts.calls.jwks).toBe(1);

    clock += 30_000;
    expect(await auth.authenticate(`Bearer ${token}`, 'r')).toMatchObject({ userId: 'rotated' });
    expect(accounts.calls.jwks).toBe(2);
    const forged = await issueAccessToken({ key: await newSigningKey() });
    expect((await rejection(auth.authenticate(`Bearer ${forged}`, 'r'))).message).toMatch(/unknown key/);
    expect(accounts.calls.jwks).toBe(2);
  });

  it('answers "unavailable", not "unauthenticated", when accounts cannot serve the JWKS', async () => {
    accounts.failWith = 500;
    const error = await rejection(authenticator().authenticate(`Bearer ${await issueAccessToken({ key })}`, 'r'));
    expect(error).toBeInstanceOf(AuthenticationUnavailableError);
  });

  it('keeps verifying with the keys (and the facts) it has while accounts is down', async () => {
    const auth = authenticator({ jwksMaxAgeMs: 1_000 });
    await auth.authenticate(`Bearer ${await issueAccessToken({ key, userId: 'still' })}`, 'r');
    accounts.failWith = 503;
    clock += 5_000;
    expect(await auth.authenticate(`Bearer ${await issueAccessToken({ key, userId: 'still' })}`, 'r')).toMatchObject({ userId: 'still' });
    // A caller it has no facts for cannot be checked: unavailable, not anonymous and not let through.
    expect(await rejection(auth.authenticate(`Bearer ${await issueAccessToken({ key, userId: 'new' })}`, 'r'))).toBeInstanceOf(AuthenticationUnavailableError);
  });

  it('serves only the public members of the keys', async () => {
    accounts.keys = [{ ...key, publicJwk: { ...key.publicJwk, d: 'private-part-that-must-not-leak' } }];
    const jwks = await authenticator().publicJwks('r');
    expect(jwks.keys).toEqual([{ kty: 'OKP', crv: 'Ed25519', x: key.publicJwk.x, kid: key.kid, alg: 'EdDSA', use: 'sig' }]);
  });
});

describe('API keys', () => {
  const apiSecret = () => `lbk_${randomBytes(16).toString('hex')}`;

  it('verifies a key with accounts into an apiKey principal', async () => {
    const s = apiSecret();
    accounts.apiKeys.set(s, { apiKeyId: 'k1', accountId: 'acc-1', scopes: ['jobs:read'] });
    expect(await authenticator().authenticate(`Bearer ${s}`, 'r')).toEqual({ kind: 'apiKey', apiKeyId: 'k1', accountId: 'acc-1', scopes: ['jobs:read'] });
    expect(accounts.calls).toMatchObject({ verify: 1, rejected: 0, jwks: 0 });
  });

  it('refuses an unknown key', async () => {
    const error = await rejection(authenticator().authenticate(`Bearer ${apiSecret()}`, 'r'));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.message).toMatch(/API key is invalid or has been revoked/);
  });

  it('reuses a verdict and its facts; a revoked key stops at once on its event, else at the facts TTL (15 s)', async () => {
    const s = apiSecret();
    accounts.apiKeys.set(s, { apiKeyId: 'k2', accountId: 'acc-1', scopes: [] });
    const auth = authenticator();
    await Promise.all([1, 2, 3].map(() => auth.authenticate(`Bearer ${s}`, 'r')));
    expect(accounts.calls).toMatchObject({ verify: 1, facts: 1 });

    accounts.apiKeys.get(s)!.revoked = true;
    clock += 14_999;
    await auth.authenticate(`Bearer ${s}`, 'r');
    clock += 1;
    expect((await rejection(auth.authenticate(`Bearer ${s}`, 'r'))).message).toBe('API key is invalid or has been revoked');
    expect(accounts.calls).toMatchObject({ verify: 1, facts: 2 });

    const other = apiSecret();
    accounts.apiKeys.set(other, { apiKeyId: 'k4', accountId: 'acc-1', scopes: [] });
    await auth.authenticate(`Bearer ${other}`, 'r');
    accounts.apiKeys.get(other)!.revoked = true;
    auth.accessChanged({ apiKeyIds: ['k4'] });
    expect(await rejection(auth.authenticate(`Bearer ${other}`, 'r'))).toBeInstanceOf(AuthenticationError);
  });

  it('a signed-out session is refused at once on its event, and only that session', async () => {
    const auth = authenticator();
    const [ended, kept] = [await issueAccessToken({ key, userId: 'u', sessionId: 's-ended' }), await issueAccessToken({ key, userId: 'u', sessionId: 's-kept' })];
    for (const token of [ended, kept]) await auth.authenticate(`Bearer ${token}`, 'r');
    accounts.endedSessions.add('s-ended');
    // Without an event the cached facts still hold (until the TTL)...
    expect(await auth.authenticate(`Bearer ${ended}`, 'r')).toMatchObject({ sessionId: 's-ended' });
    auth.accessChanged({ sessionIds: ['s-ended'] });
    expect((await rejection(auth.authenticate(`Bearer ${ended}`, 'r'))).message).toBe('This session has ended. Sign in again.');
    expect(await auth.authenticate(`Bearer ${kept}`, 'r')).toMatchObject({ sessionId: 's-kept' });
    expect(accounts.calls.facts).toBe(3);
  });

  it('does not cache a failure of accounts itself', async () => {
    const s = apiSecret();
    accounts.apiKeys.set(s, { apiKeyId: 'k3', accountId: 'acc-1', scopes: [] });
    accounts.failWith = 500;
    const auth = authenticator();
    expect(await rejection(auth.authenticate(`Bearer ${s}`, 'r'))).toBeInstanceOf(AuthenticationUnavailableError);
    accounts.failWith = undefined;
    expect(await auth.authenticate(`Bearer ${s}`, 'r')).toMatchObject({ apiKeyId: 'k3' });
  });

  it('calls accounts with an internal token it accepts', async () => {
    await rejection(authenticator().authenticate(`Bearer ${apiSecret()}`, 'r'));
    expect(accounts.calls).toMatchObject({ verify: 1, rejected: 0 });
    await rejection(authenticator({ internalTokenSecret: randomBytes(32).toString('hex') }).authenticate(`Bearer ${apiSecret()}`, 'r'));
    expect(accounts.calls.rejected).toBe(1);
  });
});
