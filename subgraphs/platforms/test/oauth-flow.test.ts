// OAuth connections end to end against a real OAuth 2 authorization server (oidc-provider) on a
// local port: authorize with PKCE, the public callback, code exchange, refresh with rotation,
// revocation, and every way the flow can fail.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTERNAL_TOKEN_HEADER, signInternalToken } from '@listbackup/lib/internal-token';
import type { Principal } from '@listbackup/lib/principal';
import { Connection } from '../src/entities/connection.ts';
import { ConnectionSecret } from '../src/entities/connection-secret.ts';
import { pkceChallenge, signState } from '../src/oauth/state.ts';
import { AccessTokenError } from '../src/services/token-service.ts';
import { PlatformsCredentials } from '../../jobs/src/backup/credentials.ts';
import { errorCodes, newUser } from '../../jobs/test/support/subgraph-harness.ts';
import { authorizeInBrowser } from './support/oauth-server.ts';
import { REDIRECT_URI, START, startPlatformsHarness, type PlatformsHarness } from './support/platforms-harness.ts';

const CONNECTION = `query($id: ID!) { connection(id: $id) {
  id name status authType scopes externalAccountId externalAccountName lastError lastErrorCode lastErrorAt authorizedAt
  params { name value } platform { slug }
} }`;
const COMPLETE = `mutation($params: [ConnectionParamInput!]!) { completeOAuthConnection(input: { params: $params }) { id status } }`;
const TEST = `mutation($id: ID!) { testConnection(id: $id) { ok errorCode message connection { id status lastErrorCode externalAccountName } } }`;
const REVOKE = `mutation($id: ID!) { revokeConnection(id: $id) { revokedAtPlatform message connection { id status revokedAt } } }`;

const paramsOf = (url: URL) => [...url.searchParams].map(([name, value]) => ({ name, value }));

describe('OAuth 2 connections against a real authorization server', () => {
  let h: PlatformsHarness;
  let alice: Principal;
  let bob: Principal;
  const accountA = randomUUID();
  const accountB = randomUUID();

  beforeAll(async () => {
    h = await startPlatformsHarness();
    alice = newUser();
    bob = newUser();
    h.subgraph.access.grant(alice, accountA, 'admin').grant(bob, accountB, 'owner');
    // More connections than the Free plan allows (plan-limits.test.ts covers the limit).
    await h.putOnPlan('business', accountA, accountB);
  });
  afterAll(async () => {
    await h?.close();
  });

  const em = () => h.service.orm.em.fork();
  const row = (id: string) => em().findOneOrFail(Connection, { id });
  const secretRow = (id: string) => em().findOne(ConnectionSecret, { connectionId: id });
  const credentialsOf = async (id: string) => {
    const secret = await secretRow(id);
    return secret ? h.service.runtime.vault.openCredentials(secret) : null;
  };
  const connect = async (principal: Principal, input: Record<string, unknown>) => {
    const { connectionId, redirect } = await h.approve(principal, input);
    const page = await h.callback(redirect);
    expect(page.outcome).toBe('AUTHORIZED');
    return connectionId;
  };

  describe('startOAuthConnection', () => {
    it('returns the platform’s authorization URL with PKCE S256 and a signed state, and a PENDING connection', async () => {
      const before = Date.now();
      const result = await h.subgraph.query(alice, START, { input: { accountId: accountA, platformSlug: 'gitlab', name: 'Our GitLab' } });
      expect(result.errors).toBeUndefined();
      const { authorizationUrl, expiresAt, connection } = result.data!.startOAuthConnection;
      expect(connection).toMatchObject({ name: 'Our GitLab', status: 'PENDING', authType: 'OAUTH2' });
      const url = new URL(authorizationUrl);
      expect(url.origin + url.pathname).toBe(h.oauth.authorizeUrl);
      expect(Object.fromEntries(url.searchParams)).toMatchObject({
        response_type: 'code',
        client_id: h.oauth.clients.post.clientId,
        redirect_uri: REDIRECT_URI,
        scope: 'read_api read_user read_repository',
        code_challenge_method: 'S256',
      });
      expect(url.searchParams.get('state')).toMatch(/^[\w-]+\.[\w-]{43}$/);
      const expires = new Date(expiresAt).getTime();
      expect(expires).toBeGreaterThanOrEqual(before + 10 * 60_000 - 1000);
      expect(expires).toBeLessThanOrEqual(Date.now() + 10 * 60_000);

      // The verifier behind the challenge is sealed in the vault, and only there.
      const secret = await secretRow(connection.id);
      const verifier = h.service.runtime.vault.openPkceVerifier(secret!)!;
      expect(pkceChallenge(verifier)).toBe(url.searchParams.get('code_challenge'));
      expect(Buffer.from(secret!.pkceVerifier!).includes(verifier)).toBe(false);
      expect(secret!.credentials).toBeNull();

      const event = await h.waitForEvent('connection.created', connection.id);
      expect(event).toMatchObject({ accountId: accountA, data: { platform: 'gitlab', status: 'PENDING', authType: 'OAUTH2' } });
    });

    it('sends no PKCE to a platform that does not take it, and fills the shop into Shopify’s URL', async () => {
      const result = await h.subgraph.query(alice, START, { input: { accountId: accountA, platformSlug: 'shopify', params: [{ name: 'shop', value: 'acme-store.myshopify.com' }] } });
      expect(result.errors).toBeUndefined();
      const url = new URL(result.data!.startOAuthConnection.authorizationUrl);
      // The test points Shopify's `https://{shop}/admin/oauth/authorize` at a local stand-in, under the shop's name.
      expect(url.origin + url.pathname).toBe(`${h.api.url}/acme-store.myshopify.com/admin/oauth/authorize`);
      expect(url.searchParams.get('scope')).toContain('read_products,read_orders');
      expect(url.searchParams.has('code_challenge')).toBe(false);
      expect(result.data!.startOAuthConnection.connection.name).toBe('Shopify (acme-store.myshopify.com)');
    });
  });

  describe('the callback', () => {
    it('exchanges the code (client_secret_post, PKCE), seals the tokens and marks the connection AUTHORIZED', async () => {
      const codeGrants = h.oauth.grants.authorization_code;
      const { connectionId, redirect } = await h.approve(alice, { accountId: accountA, platformSlug: 'gitlab' });
      expect(redirect.searchParams.get('code')).toBeTruthy();
      const page = await h.callback(redirect);
      expect(page.status).toBe(200);
      expect(page.outcome).toBe('AUTHORIZED');
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(page.html).toContain('GitLab is connected');
      expect(page.html).not.toContain(redirect.searchParams.get('code')!);
      expect(h.oauth.grants.authorization_code).toBe(codeGrants + 1);

      const connection = (await h.subgraph.query(alice, CONNECTION, { id: connectionId })).data!.connection;
      expect(connection).toMatchObject({ status: 'AUTHORIZED', externalAccountId: '4242', externalAccountName: 'platform-user', lastError: null, lastErrorCode: null });
      expect(connection.authorizedAt).toBeTruthy();

      const credentials = await credentialsOf(connectionId);
      expect(credentials).toMatchObject({ kind: 'oauth2', accessToken: expect.any(String), refreshToken: expect.any(String) });
      const secret = (await secretRow(connectionId))!;
      expect(secret.pkceVerifier).toBeNull();
      expect(Buffer.from(secret.credentials!).includes((credentials as { accessToken: string }).accessToken)).toBe(false);

      const event = await h.waitForEvent('connection.authorized', connectionId);
      expect(event.data).toMatchObject({ platform: 'gitlab', status: 'AUTHORIZED', externalAccountId: '4242' });
      expect(JSON.stringify(event)).not.toContain((credentials as { accessToken: string }).accessToken);
    });

    it('works with client_secret_basic (Xero) and keeps the tenant the identity endpoint names', async () => {
      const id = await connect(alice, { accountId: accountA, platformSlug: 'xero' });
      const connection = (await h.subgraph.query(alice, CONNECTION, { id })).data!.connection;
      expect(connection).toMatchObject({ status: 'AUTHORIZED', externalAccountName: 'Acme Xero Org' });
      expect(connection.params).toContainEqual({ name: 'tenantId', value: '0a1b2c3d-0000-4000-8000-000000000001' });
    });

    it('keeps QuickBooks’ realmId from the callback, and a callback without it changes nothing', async () => {
      const { connectionId, redirect } = await h.approve(alice, { accountId: accountA, platformSlug: 'quickbooks' });
      const missing = await h.callback(redirect);
      expect(missing).toMatchObject({ status: 400, outcome: 'CALLBACK_MISSING_PARAMS' });
      expect(missing.html).toContain('realmId');
      expect(await row(connectionId)).toMatchObject({ status: 'PENDING', lastError: null });

      const complete = new URL(redirect);
      complete.searchParams.set('realmId', '9130350465873456');
      expect((await h.callback(complete)).outcome).toBe('AUTHORIZED');
      const connection = (await h.subgraph.query(alice, CONNECTION, { id: connectionId })).data!.connection;
      expect(connection.params).toContainEqual({ name: 'realmId', value: '9130350465873456' });
      // The identity URL was filled with it: /v3/company/{realmId}/companyinfo/{realmId}.
      expect(connection.externalAccountName).toBe('Acme Books Ltd');
      expect(h.api.requests.some((request) => request.path === '/v3/company/9130350465873456/companyinfo/9130350465873456')).toBe(true);
    });

    it('accepts Shopify’s redirect only with its valid hmac; a forged, altered or unsigned one changes nothing', async () => {
      const shop = 'hmac-store.myshopify.com';
      const { connectionId, redirect } = await h.approve(alice, { accountId: accountA, platformSlug: 'shopify', params: [{ name: 'shop', value: shop }] });
      expect(redirect.searchParams.get('hmac')).toMatch(/^[0-9a-f]{64}$/);
      const variant = (change: (url: URL) => void) => {
        const url = new URL(redirect);
        change(url);
        return url;
      };
      const signedWith = (secret: string, url: URL) => {
        const rest = [...url.searchParams].filter(([name]) => name !== 'hmac').sort(([a], [b]) => (a < b ? -1 : 1));
        url.searchParams.set('hmac', createHmac('sha256', secret).update(new URLSearchParams(rest).toString()).digest('hex'));
      };
      const refused = [
        variant((url) => url.searchParams.delete('hmac')),
        variant((url) => url.searchParams.set('code', 'f'.repeat(32))),
        variant((url) => url.searchParams.set('timestamp', '1')),
        variant((url) => url.searchParams.set('hmac', 'not-hex')),
        variant((url) => signedWith('another-app-secret', url)),
        // A forged refusal would otherwise mark the connection FAILED.
        variant((url) => {
          url.searchParams.delete('code');
          url.searchParams.set('error', 'access_denied');
        }),
      ];
      for (const url of refused) {
        const page = await h.callback(url);
        expect(page, url.search).toMatchObject({ status: 400, outcome: 'CALLBACK_SIGNATURE_INVALID' });
        expect(page.html).toContain('Shopify');
      }
      expect(await row(connectionId)).toMatchObject({ status: 'PENDING', lastError: null });

      // The genuine redirect still completes: the refused ones used up nothing.
      expect((await h.callback(redirect)).outcome).toBe('AUTHORIZED');
      const connection = (await h.subgraph.query(alice, CONNECTION, { id: connectionId })).data!.connection;
      expect(connection).toMatchObject({ status: 'AUTHORIZED', externalAccountId: '548380009', externalAccountName: 'Acme Store' });
      expect(await credentialsOf(connectionId)).toMatchObject({ kind: 'oauth2', accessToken: expect.stringMatching(/^shpat_/) });
    });

    it('accepts a redirect only from the issuer the flow was started at (RFC 9207 iss): another, or none from a server that always sends it, changes nothing', async () => {
      const codeGrants = h.oauth.grants.authorization_code;
      const { connectionId, redirect } = await h.approve(alice, { accountId: accountA, platformSlug: 'gitlab' });
      expect(redirect.searchParams.get('iss')).toBe(h.oauth.issuer);
      const refused = [
        (url: URL) => url.searchParams.delete('iss'),
        (url: URL) => url.searchParams.set('iss', 'https://gitlab.attacker.example'),
        (url: URL) => url.searchParams.set('iss', `${h.oauth.issuer}/`),
        // A forged refusal would otherwise mark the connection FAILED.
        (url: URL) => {
          url.searchParams.delete('code');
          url.searchParams.set('error', 'access_denied');
          url.searchParams.set('iss', 'https://gitlab.attacker.example');
        },
      ];
      for (const change of refused) {
        const url = new URL(redirect);
        change(url);
        const page = await h.callback(url);
        expect(page, url.search).toMatchObject({ status: 400, outcome: 'CALLBACK_ISSUER_MISMATCH' });
        expect(page.html).toContain('GitLab');
      }
      expect(await row(connectionId)).toMatchObject({ status: 'PENDING', lastError: null });
      expect(await credentialsOf(connectionId)).toBeNull();
      expect(h.oauth.grants.authorization_code).toBe(codeGrants);

      // The genuine redirect still completes: the refused ones used up nothing.
      expect((await h.callback(redirect)).outcome).toBe('AUTHORIZED');
      expect(h.oauth.grants.authorization_code).toBe(codeGrants + 1);
    });

    it('marks the connection FAILED when the user declines (access_denied)', async () => {
      h.oauth.decision = 'deny';
      try {
        const { connectionId, redirect } = await h.approve(alice, { accountId: accountA, platformSlug: 'gitlab' });
        expect(redirect.searchParams.get('error')).toBe('access_denied');
        const page = await h.callback(redirect);
        expect(page).toMatchObject({ status: 400, outcome: 'OAUTH_ACCESS_DENIED' });
        expect(page.html).toContain('You declined access in GitLab');
        const connection = (await h.subgraph.query(alice, CONNECTION, { id: connectionId })).data!.connection;
        expect(connection).toMatchObject({ status: 'FAILED', lastErrorCode: 'OAUTH_ACCESS_DENIED' });
        expect(connection.lastError).toContain('declined');
        expect(connection.lastErrorAt).toBeTruthy();
        expect(await credentialsOf(connectionId)).toBeNull();
        expect((await h.waitForEvent('connection.failed', connectionId)).data).toMatchObject({ code: 'OAUTH_ACCESS_DENIED', status: 'FAILED' });
      } finally {
        h.oauth.decision = 'approve';
      }
    });

    it('refuses an unknown or forged state without changing anything', async () => {
      const { connectionId, redirect } = await h.approve(alice, { accountId: accountA, platformSlug: 'gitlab' });
      const state = redirect.searchParams.get('state')!;
      const [payload] = state.split('.');
      const forged = `${payload}.${createHmac('sha256', randomBytes(32)).update(payload).digest('base64url')}`;
      const other = signState(randomBytes(32), { connectionId, accountId: accountA, nonce: 'x', expiresAt: Date.now() + 60_000 });
      await h.waitForEvent('connection.created', connectionId);
      const eventsBefore = h.events.length;
      for (const bad of ['garbage', forged, other, `${state}x`]) {
        const url = new URL(redirect);
        url.searchParams.set('state', bad);
        const page = await h.callback(url);
        expect(page).toMatchObject({ status: 400, outcome: 'OAUTH_STATE_INVALID' });
      }
      // A well-signed state for a connection that does not exist.
      const ghost = new URL(redirect);
      ghost.searchParams.set('state', signState(h.service.runtime.stateKey, { connectionId: randomUUID(), accountId: accountA, nonce: 'n', expiresAt: Date.now() + 60_000 }));
      expect((await h.callback(ghost)).outcome).toBe('OAUTH_STATE_INVALID');
      expect(await row(connectionId)).toMatchObject({ status: 'PENDING', lastError: null });
      expect(h.events.length).toBe(eventsBefore);
      // The genuine state still completes the flow.
      expect((await h.callback(redirect)).outcome).toBe('AUTHORIZED');
    });

    it('marks the connection FAILED when the state has expired (10 minutes)', async () => {
      const { connectionId, redirect } = await h.approve(alice, { accountId: accountA, platformSlug: 'gitlab' });
      h.clock.offsetMs = 10 * 60_000 + 1_000;
      try {
        const page = await h.callback(redirect);
        expect(page).toMatchObject({ status: 400, outcome: 'OAUTH_STATE_EXPIRED' });
        expect(page.html).toContain('expired');
      } finally {
        h.clock.offsetMs = 0;
      }
      expect(await row(connectionId)).toMatchObject({ status: 'FAILED', lastErrorCode: 'OAUTH_STATE_EXPIRED' });
      expect(await credentialsOf(connectionId)).toBeNull();
    });

    it('accepts a state once: a replayed callback changes nothing and exchanges no code', async () => {
      const { connectionId, redirect } = await h.approve(alice, { accountId: accountA, platformSlug: 'gitlab' });
      expect((await h.callback(redirect)).outcome).toBe('AUTHORIZED');
      const grants = h.oauth.grants.authorization_code;
      const credentials = await credentialsOf(connectionId);
      const replay = await h.callback(redirect);
      expect(replay).toMatchObject({ status: 409, outcome: 'OAUTH_STATE_USED' });
      expect(h.oauth.grants.authorization_code).toBe(grants);
      expect(await row(connectionId)).toMatchObject({ status: 'AUTHORIZED', lastError: null });
      expect(await credentialsOf(connectionId)).toEqual(credentials);
    });

    it('marks the connection FAILED when the server rejects the code: tampered, or minted for another flow (PKCE)', async () => {
      const tampered = await h.approve(alice, { accountId: accountA, platformSlug: 'gitlab' });
      const url = new URL(tampered.redirect);
      url.searchParams.set('code', `${url.searchParams.get('code')}x`);
      const page = await h.callback(url);
      expect(page).toMatchObject({ status: 400, outcome: 'OAUTH_CODE_REJECTED' });
      expect(await row(tampered.connectionId)).toMatchObject({ status: 'FAILED', lastErrorCode: 'OAUTH_CODE_REJECTED' });
      expect((await row(tampered.connectionId)).lastError).toContain('invalid_grant');

      // The code of flow X presented with the state of flow Y: Y's PKCE verifier does not match.
      const x = await h.approve(alice, { accountId: accountA, platformSlug: 'gitlab' });
      const y = await h.approve(alice, { accountId: accountA, platformSlug: 'gitlab' });
      const mixed = new URL(y.redirect);
      mixed.searchParams.set('code', x.redirect.searchParams.get('code')!);
      expect((await h.callback(mixed)).outcome).toBe('OAUTH_CODE_REJECTED');
      expect(await row(y.connectionId)).toMatchObject({ status: 'FAILED', lastErrorCode: 'OAUTH_CODE_REJECTED' });
      expect(await credentialsOf(y.connectionId)).toBeNull();
    });

    it('answers a callback missing its parameters with CALLBACK_MISSING_PARAMS and stores nothing', async () => {
      const { connectionId, redirect } = await h.approve(alice, { accountId: accountA, platformSlug: 'gitlab' });
      await h.waitForEvent('connection.created', connectionId);
      const countBefore = await em().count(Connection, {});
      const eventsBefore = h.events.length;
      const noState = new URL(redirect);
      noState.searchParams.delete('state');
      const noCode = new URL(redirect);
      noCode.searchParams.delete('code');
      for (const url of [new URL(REDIRECT_URI), noState, noCode]) {
        const page = await h.callback(url);
        expect(page).toMatchObject({ status: 400, outcome: 'CALLBACK_MISSING_PARAMS' });
        expect(page.html).not.toMatch(/\bat [\w.]+ \(|node:internal|\.ts:\d+/);
      }
      expect(await em().count(Connection, {})).toBe(countBefore);
      expect(await row(connectionId)).toMatchObject({ status: 'PENDING', lastError: null });
      expect(h.events.length).toBe(eventsBefore);
    });

    it('answers an unexpected failure with a plain error page, never a stack trace', async () => {
      const { connectionId, redirect } = await h.approve(alice, { accountId: accountA, platformSlug: 'gitlab' });
      // Corrupt the sealed PKCE verifier: the vault refuses it, which nothing expects.
      await em().nativeUpdate(ConnectionSecret, { connectionId }, { pkceVerifier: randomBytes(60) });
      const page = await h.callback(redirect);
      expect(page).toMatchObject({ status: 500, outcome: 'INTERNAL_ERROR' });
      expect(page.html).toContain('Something went wrong on our side');
      expect(page.html).not.toMatch(/VaultError|Decryption|\bat [\w.]+ \(|node:internal|\.ts:\d+/);
    });

    it('is only served with the gateway’s internal token, and only to GET', async () => {
      const origin = new URL(h.subgraph.url).origin;
      const bare = await fetch(`${origin}/oauth/callback?state=x&code=y`);
      expect(bare.status).toBe(401);
      const forged = await fetch(`${origin}/oauth/callback?state=x&code=y`, { headers: { [INTERNAL_TOKEN_HEADER]: 'not-a-token' } });
      expect(forged.status).toBe(401);
      const post = await fetch(`${origin}/oauth/callback`, {
        method: 'POST',
        headers: { [INTERNAL_TOKEN_HEADER]: await signInternalToken(h.subgraph.secret, 'platforms', { principal: { kind: 'anonymous' }, requestId: 'r' }) },
      });
      expect(post.status).toBe(405);
    });
  });

  describe('completeOAuthConnection (a web app forwarding the redirect)', () => {
    it('completes the flow for a member of the account', async () => {
      const { connectionId, redirect } = await h.approve(alice, { accountId: accountA, platformSlug: 'gitlab' });
      const result = await h.subgraph.query(alice, COMPLETE, { params: paramsOf(redirect) });
      expect(result.errors).toBeUndefined();
      expect(result.data!.completeOAuthConnection).toEqual({ id: connectionId, status: 'AUTHORIZED' });
    });

    it('refuses a state of another account: the flow fails and nothing is stored', async () => {
      const { connectionId, redirect } = await h.approve(alice, { accountId: accountA, platformSlug: 'gitlab' });
      const grants = h.oauth.grants.authorization_code;
      const result = await h.subgraph.query(bob, COMPLETE, { params: paramsOf(redirect) });
      expect(result.data).toBeNull();
      expect(errorCodes(result)).toEqual(['OAUTH_STATE_ACCOUNT_MISMATCH']);
      expect(h.oauth.grants.authorization_code).toBe(grants);
      expect(await row(connectionId)).toMatchObject({ status: 'FAILED', lastErrorCode: 'OAUTH_STATE_ACCOUNT_MISMATCH' });
      expect(await credentialsOf(connectionId)).toBeNull();
      // Through the public route with a signed-in principal, the same rule applies.
      const again = await h.approve(alice, { accountId: accountA, platformSlug: 'gitlab' });
      expect((await h.callback(again.redirect, bob)).outcome).toBe('OAUTH_STATE_ACCOUNT_MISMATCH');
      // And the code was never exchanged: alice cannot finish it with the used state either.
      expect((await h.subgraph.query(alice, COMPLETE, { params: paramsOf(again.redirect) })).errors![0].extensions!.code).toBe('OAUTH_STATE_USED');
    });

    it('refuses an anonymous caller', async () => {
      const { redirect } = await h.approve(alice, { accountId: accountA, platformSlug: 'gitlab' });
      expect(errorCodes(await h.subgraph.query({ kind: 'anonymous' }, COMPLETE, { params: paramsOf(redirect) }))).toEqual(['UNAUTHENTICATED']);
    });
  });

  describe('access tokens for workers (getAccessToken)', () => {
    it('refreshes a token about to expire and saves the rotated refresh token', async () => {
      const id = await connect(alice, { accountId: accountA, platformSlug: 'gitlab' });
      const first = await h.service.getAccessToken(accountA, id);
      expect(first).toMatchObject({ platform: 'gitlab', authType: 'OAUTH2', apiBaseUrl: 'https://gitlab.com/api/v4' });
      expect(first.headers.Authorization).toBe(`Bearer ${first.token}`);
      const before = (await credentialsOf(id)) as { refreshToken: string };
      const refreshes = h.oauth.grants.refresh_token;

      // Still valid for more than a minute: no refresh.
      expect((await h.service.getAccessToken(accountA, id)).token).toBe(first.token);
      expect(h.oauth.grants.refresh_token).toBe(refreshes);

      h.clock.offsetMs = first.expiresAt!.getTime() - Date.now() - 30_000;
      try {
        const second = await h.service.getAccessToken(accountA, id);
        expect(second.token).not.toBe(first.token);
        expect(h.oauth.grants.refresh_token).toBe(refreshes + 1);
        const after = (await credentialsOf(id)) as { refreshToken: string };
        expect(after.refreshToken).not.toBe(before.refreshToken);
        // The old refresh token is spent at the server; the saved one works.
        expect(await h.oauth.provider.RefreshToken.find(before.refreshToken)).toMatchObject({ consumed: expect.anything() });
        const third = await h.service.getAccessToken(accountA, id, { forceRefresh: true });
        expect(third.token).not.toBe(second.token);
        expect((await h.subgraph.query(alice, TEST, { id })).data!.testConnection.ok).toBe(true);
      } finally {
        h.clock.offsetMs = 0;
      }
    });

    it('refreshes once when many callers ask at the same time', async () => {
      const id = await connect(alice, { accountId: accountA, platformSlug: 'gitlab' });
      const { expiresAt } = await h.service.getAccessToken(accountA, id);
      const refreshes = h.oauth.grants.refresh_token;
      h.clock.offsetMs = expiresAt!.getTime() - Date.now() + 1_000;
      try {
        const tokens = await Promise.all(Array.from({ length: 8 }, () => h.service.getAccessToken(accountA, id)));
        expect(new Set(tokens.map((token) => token.token)).size).toBe(1);
        expect(h.oauth.grants.refresh_token).toBe(refreshes + 1);
        expect(await row(id)).toMatchObject({ status: 'AUTHORIZED' });
      } finally {
        h.clock.offsetMs = 0;
      }
    });

    it('marks the connection EXPIRED when the server refuses the refresh, emits an event, and can be authorized again', async () => {
      const id = await connect(alice, { accountId: accountA, platformSlug: 'gitlab' });
      const { refreshToken } = (await credentialsOf(id)) as { refreshToken: string };
      await (await h.oauth.provider.RefreshToken.find(refreshToken))!.destroy();

      const refused = await h.service.getAccessToken(accountA, id, { forceRefresh: true }).catch((error) => error);
      expect(refused).toBeInstanceOf(AccessTokenError);
      expect(refused).toMatchObject({ code: 'TOKEN_REFRESH_REFUSED', transient: false });
      const connection = await row(id);
      expect(connection).toMatchObject({ status: 'EXPIRED', lastErrorCode: 'TOKEN_REFRESH_REFUSED' });
      expect(connection.lastError).toContain('invalid_grant');
      const event = await h.waitForEvent('connection.failed', id);
      expect(event.data).toMatchObject({ status: 'EXPIRED', code: 'TOKEN_REFRESH_REFUSED' });
      await expect(h.service.getAccessToken(accountA, id)).rejects.toMatchObject({ code: 'CONNECTION_EXPIRED' });

      // Authorizing the same connection again brings it back, with its id.
      const again = await h.approve(alice, { accountId: accountA, connectionId: id });
      expect(again.connectionId).toBe(id);
      expect((await h.callback(again.redirect)).outcome).toBe('AUTHORIZED');
      expect(await row(id)).toMatchObject({ status: 'AUTHORIZED', lastError: null });
      expect((await h.service.getAccessToken(accountA, id)).token).toBeTruthy();
    });

    it('marks the connection EXPIRED when a worker reports its token refused after a refresh, and the worker then fails as AUTH', async () => {
      const id = await connect(alice, { accountId: accountA, platformSlug: 'gitlab' });
      const worker = new PlatformsCredentials(h.subgraph.url, h.subgraph.secret);
      const { credentials } = await worker.get(accountA, id);

      // Another account's id, an older token (refreshed since) and a malformed report change nothing.
      await worker.refused(accountB, id, credentials, '401 Unauthorized');
      const refreshed = (await worker.get(accountA, id, { forceRefresh: true })).credentials;
      await worker.refused(accountA, id, credentials, '401 Unauthorized');
      expect(await row(id)).toMatchObject({ status: 'AUTHORIZED', lastErrorCode: null });
      await expect(worker.refused(accountA, 'not-an-id', refreshed, 'x')).rejects.toThrow(/HTTP 400/);

      await worker.refused(accountA, id, refreshed, 'GitLab answered 401: invalid_token');
      const connection = await row(id);
      expect(connection).toMatchObject({ status: 'EXPIRED', lastErrorCode: 'CREDENTIALS_REFUSED' });
      expect(connection.lastError).toContain('invalid_token');
      expect((await h.waitForEvent('connection.failed', id)).data).toMatchObject({ status: 'EXPIRED', code: 'CREDENTIALS_REFUSED' });
      await expect(worker.get(accountA, id)).rejects.toMatchObject({ failureType: 'AUTH', message: expect.stringMatching(/authorize it again/) });
    });
  });

  describe('revokeConnection', () => {
    it('revokes the tokens at the server (RFC 7009), erases them, and the old token stops working', async () => {
      const id = await connect(alice, { accountId: accountA, platformSlug: 'gitlab' });
      const { token } = await h.service.getAccessToken(accountA, id);
      expect(await h.oauth.provider.AccessToken.find(token)).toBeDefined();

      const result = await h.subgraph.query(alice, REVOKE, { id });
      expect(result.errors).toBeUndefined();
      expect(result.data!.revokeConnection).toMatchObject({ revokedAtPlatform: true, connection: { id, status: 'REVOKED' } });
      expect(await h.oauth.provider.AccessToken.find(token)).toBeUndefined();
      expect(await secretRow(id)).toBeNull();
      expect((await h.waitForEvent('connection.revoked', id)).data).toMatchObject({ revokedAtPlatform: true, status: 'REVOKED' });
      await expect(h.service.getAccessToken(accountA, id)).rejects.toMatchObject({ code: 'CONNECTION_REVOKED' });
      expect(errorCodes(await h.subgraph.query(alice, TEST, { id }))).toEqual(['CONNECTION_REVOKED']);
      // Revoking again is harmless.
      expect((await h.subgraph.query(alice, REVOKE, { id })).data!.revokeConnection).toMatchObject({ revokedAtPlatform: false, connection: { status: 'REVOKED' } });
      expect(errorCodes(await h.subgraph.query(alice, START, { input: { accountId: accountA, connectionId: id } }))).toEqual(['CONNECTION_REVOKED']);
    });

    it('uses the platform’s own revocation call: Intuit’s JSON body with Basic client authentication', async () => {
      const { connectionId, redirect } = await h.approve(alice, { accountId: accountA, platformSlug: 'quickbooks' });
      redirect.searchParams.set('realmId', '123456');
      expect((await h.callback(redirect)).outcome).toBe('AUTHORIZED');
      const { refreshToken } = (await credentialsOf(connectionId)) as { refreshToken: string };
      const result = await h.subgraph.query(alice, REVOKE, { id: connectionId });
      expect(result.data!.revokeConnection.revokedAtPlatform).toBe(true);
      const request = h.api.requests.findLast((candidate) => candidate.path === '/revoke/intuit')!;
      expect(request.method).toBe('POST');
      expect(request.headers['content-type']).toBe('application/json');
      expect(JSON.parse(request.body)).toEqual({ token: refreshToken });
      const basic = Buffer.from(h.oauth.clients.basic.clientId + ':' + h.oauth.clients.basic.clientSecret).toString('base64');
      expect(request.headers.authorization).toBe(`Basic ${basic}`);
    });
  });

  it('never logs, stores in clear or returns a credential during a whole flow', async () => {
    const secrets = new Set<string>([h.oauth.clients.post.clientSecret, h.oauth.clients.basic.clientSecret]);
    const responses: unknown[] = [];
    const ask = async (query: string, variables: Record<string, unknown>) => {
      const result = await h.subgraph.query(alice, query, variables);
      responses.push(result);
      return result;
    };
    const started = await ask(START, { input: { accountId: accountA, platformSlug: 'gitlab', name: 'Log check' } });
    const id = started.data!.startOAuthConnection.connection.id as string;
    secrets.add(h.service.runtime.vault.openPkceVerifier((await secretRow(id))!)!);
    const redirect = await authorizeInBrowser(started.data!.startOAuthConnection.authorizationUrl, REDIRECT_URI);
    secrets.add(redirect.searchParams.get('code')!);
    responses.push(await h.callback(redirect));
    const first = (await credentialsOf(id)) as { accessToken: string; refreshToken: string };
    secrets.add(first.accessToken).add(first.refreshToken);
    await ask(TEST, { id });
    await ask(CONNECTION, { id });
    const refreshed = await h.service.getAccessToken(accountA, id, { forceRefresh: true });
    const second = (await credentialsOf(id)) as { accessToken: string; refreshToken: string };
    secrets.add(refreshed.token).add(second.refreshToken);
    await ask(REVOKE, { id });

    // The capture is real: the flow's own log lines are there.
    const logText = h.logs.join('\n');
    expect(logText).toContain('OAuth callback handled');
    expect(logText).toContain(id);
    const sqlText = h.subgraph.queries.join('\n');
    expect(sqlText).toContain('connection_secrets');
    const responseText = JSON.stringify(responses);
    const eventText = JSON.stringify(h.events);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(10);
      expect(logText.includes(secret), 'a credential in the logs').toBe(false);
      expect(sqlText.includes(secret), 'a credential in the SQL log').toBe(false);
      expect(responseText.includes(secret), 'a credential in an API response').toBe(false);
      expect(eventText.includes(secret), 'a credential in an event').toBe(false);
    }
  });
});
