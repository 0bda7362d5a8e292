// A user connects a platform through the real gateway: sign up at accounts, start the OAuth flow
// with the access token, approve at the (local) platform, come back through the callback, and see
// the connection under their account, with roles answered by the accounts subgraph over HTTP. A
// token endpoint whose name resolves to an internal address is refused for exchange and refresh.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpAccessResolver } from '@listbackup/lib/access';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { createLogger } from '@listbackup/lib/logger';
import { OutboundPolicy, outboundPolicy, setOutboundPolicy } from '@listbackup/lib/outbound';
import type { RunningService } from '@listbackup/lib/service';
import { readSupergraph } from '@listbackup/lib/supergraph';
import { Keyring, generateKek } from '@listbackup/lib/vault';
import { startAccounts } from '../../accounts/src/index.ts';
import { startGateway, type RunningGateway } from '../../../gateway/src/index.ts';
import { startPlatforms } from '../src/index.ts';
import { Connection } from '../src/entities/connection.ts';
import { createTestDatabase } from '../../jobs/test/support/subgraph-harness.ts';
import { authorizeInBrowser, startOAuthServer, type OAuthServer } from './support/oauth-server.ts';
import { startPlatformApi, type PlatformApi } from './support/platform-api.ts';

const REDIRECT_URI = 'http://localhost:4000/oauth/callback';
/** The token endpoint's host: a name, resolved by the tests' resolver to whatever address a test sets. */
const TOKEN_HOST = 'oauth.gitlab.test';

describe('connecting a platform through the gateway', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let oauth: OAuthServer;
  let api: PlatformApi;
  let accounts: RunningService;
  let platforms: RunningService;
  let gateway: RunningGateway;
  const bus = new InProcessEventBus();
  const secret = randomBytes(32).toString('base64url');
  const tokenHost = { address: '127.0.0.1', family: 4 };
  const resolve = async (hostname: string) => (hostname === TOKEN_HOST ? [tokenHost] : [{ address: '127.0.0.1', family: 4 }]);
  // As the tests run (their fakes on loopback allowed), and as a deployment runs, with no allow-list.
  const testing = new OutboundPolicy({ allow: ['127.0.0.0/8', '::1'], resolve });
  const deployed = new OutboundPolicy({ resolve });
  let previousPolicy: OutboundPolicy;
  /** Every request that reached the token endpoint (exchange, refresh, revocation). */
  const tokenCalls: string[] = [];

  const graphql = async (query: string, variables: Record<string, unknown> = {}, token?: string) => {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
  };
  /** What the gateway's `GET /oauth/callback` does: the same query, to platforms, with an anonymous internal token. */
  // The browser comes back to the gateway's public callback route.
  const proxyCallback = async (redirect: URL) => {
    const response = await fetch(`${new URL(gateway.url).origin}/oauth/callback${redirect.search}`);
    return { status: response.status, outcome: response.headers.get('x-listbackup-outcome'), html: await response.text() };
  };

  beforeAll(async () => {
    previousPolicy = outboundPolicy();
    setOutboundPolicy(testing);
    database = await createTestDatabase();
    oauth = await startOAuthServer(REDIRECT_URI);
    const tokenOrigin = `http://${TOKEN_HOST}:${new URL(oauth.tokenUrl).port}`;
    oauth.provider.use(async (ctx, next) => {
      if (ctx.path.startsWith('/token')) tokenCalls.push(ctx.path);
      await next();
    });
    api = await startPlatformApi(oauth);
    const log = createLogger('e2e', 'silent');
    const runtime = { databaseUrl: database.url, bus, internalTokenSecret: secret, log, port: 0 };
    accounts = await startAccounts(runtime);
    platforms = await startPlatforms(
      { ...runtime, access: new HttpAccessResolver(accounts.url, secret) },
      {
        vault: new Keyring([generateKek()]),
        oauthRedirectUrl: REDIRECT_URI,
        oauthClients: { gitlab: { clientId: oauth.clients.post.clientId, clientSecret: oauth.clients.post.clientSecret } },
        endpointOverrides: {
          gitlab: { authorizeUrl: oauth.authorizeUrl, tokenUrl: `${tokenOrigin}/token`, revokeUrl: `${tokenOrigin}/token/revocation`, identityUrl: `${api.url}/api/v4/user` },
        },
      },
    );
    const unused = 'http://127.0.0.1:9/graphql';
    gateway = await startGateway({
      port: 0,
      supergraphSdl: readSupergraph(),
      subgraphUrls: { accounts: accounts.url, platforms: platforms.url, sources: unused, jobs: unused, billing: unused },
      accountsUrl: accounts.url,
      internalTokenSecret: secret,
      log,
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await platforms?.close();
    await accounts?.close();
    await bus.close();
    await api?.close();
    await oauth?.close();
    await database?.drop();
    await testing.close();
    await deployed.close();
    setOutboundPolicy(previousPolicy);
  });

  const signUp = async () => {
    const result = await graphql(`mutation($input: SignUpInput!) { signUp(input: $input) { accessToken user { memberships { edges { node { account { id } } } } } } }`, {
      input: { email: `e2e-${randomUUID()}@example.com`, password: `correct horse battery ${randomBytes(4).toString('hex')}`, name: 'E2E' },
    });
    expect(result.errors).toBeUndefined();
    return { token: result.data.signUp.accessToken as string, accountId: result.data.signUp.user.memberships.edges[0].node.account.id as string };
  };

  it('takes a signed-up user from the catalogue to an authorized connection listed under their account', async () => {
    const { token, accountId } = await signUp();
    const catalogue = await graphql(`{ platform(slug: "gitlab") { id name oauth { configured pkce } } }`);
    expect(catalogue.data.platform).toMatchObject({ name: 'GitLab', oauth: { configured: true, pkce: true } });

    const started = await graphql(
      `mutation($input: StartOAuthConnectionInput!) { startOAuthConnection(input: $input) { authorizationUrl connection { id status } } }`,
      { input: { accountId, platformId: catalogue.data.platform.id, name: 'Team GitLab' } },
      token,
    );
    expect(started.errors).toBeUndefined();
    const { authorizationUrl, connection } = started.data.startOAuthConnection;
    expect(connection.status).toBe('PENDING');

    const page = await proxyCallback(await authorizeInBrowser(authorizationUrl, REDIRECT_URI));
    expect(page).toMatchObject({ status: 200, outcome: 'AUTHORIZED' });

    const mine = await graphql(`{ me { memberships { edges { node { account { id connections { edges { node { id name status externalAccountName platform { slug } } } } } } } } } }`, {}, token);
    expect(mine.errors).toBeUndefined();
    expect(mine.data.me.memberships.edges[0].node.account.connections.edges.map((edge: { node: unknown }) => edge.node)).toEqual([
      { id: connection.id, name: 'Team GitLab', status: 'AUTHORIZED', externalAccountName: 'platform-user', platform: { slug: 'gitlab' } },
    ]);
    const tested = await graphql(`mutation($id: ID!) { testConnection(id: $id) { ok } }`, { id: connection.id }, token);
    expect(tested.data.testConnection.ok).toBe(true);
  });

  it('keeps another user out of it, and anonymous callers out of connections', async () => {
    const owner = await signUp();
    const started = await graphql(
      `mutation($input: StartOAuthConnectionInput!) { startOAuthConnection(input: $input) { connection { id } } }`,
      { input: { accountId: owner.accountId, platformSlug: 'gitlab' } },
      owner.token,
    );
    const id = started.data.startOAuthConnection.connection.id;
    const stranger = await signUp();
    for (const query of [`query($id: ID!) { connection(id: $id) { id } }`, `mutation($id: ID!) { revokeConnection(id: $id) { revokedAtPlatform } }`]) {
      const result = await graphql(query, { id }, stranger.token);
      expect(result.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    }
    const anonymous = await graphql(
      `mutation($input: StartOAuthConnectionInput!) { startOAuthConnection(input: $input) { authorizationUrl } }`,
      { input: { accountId: owner.accountId, platformSlug: 'gitlab' } },
    );
    expect(anonymous.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  /** Runs `body` as a deployment would, with the token endpoint's name resolving to `address`. */
  const asDeployed = async (address: string, body: () => Promise<void>) => {
    Object.assign(tokenHost, { address, family: address.includes(':') ? 6 : 4 });
    setOutboundPolicy(deployed);
    try {
      await body();
    } finally {
      setOutboundPolicy(testing);
      Object.assign(tokenHost, { address: '127.0.0.1', family: 4 });
    }
  };
  // Loopback (where the real token endpoint listens), a private range, cloud metadata, IPv6 loopback.
  const INTERNAL = ['127.0.0.1', '10.0.0.5', '169.254.169.254', '::1'];
  // Anything that would tell the caller what is at the address: the address, the name, a status, a socket error, the server's words.
  const REVEALING = /127\.0|10\.0\.0|169\.254|::1|oauth\.gitlab\.test|HTTP \d|ECONN|refused the|invalid_|oidc/i;
  const START = `mutation($input: StartOAuthConnectionInput!) { startOAuthConnection(input: $input) { authorizationUrl connection { id } } }`;
  const CONNECTION = `query($id: ID!) { connection(id: $id) { status lastError lastErrorCode } }`;

  it('refuses to exchange the code at a token endpoint whose name resolves to an internal address, and says only that', async () => {
    const { token, accountId } = await signUp();
    const messages = new Set<string>();
    for (const address of INTERNAL) {
      await asDeployed(address, async () => {
        const started = await graphql(START, { input: { accountId, platformSlug: 'gitlab' } }, token);
        expect(started.errors, address).toBeUndefined();
        const { authorizationUrl, connection } = started.data.startOAuthConnection;
        const calls = tokenCalls.length;
        const page = await proxyCallback(await authorizeInBrowser(authorizationUrl, REDIRECT_URI));
        expect(page.outcome, address).toBe('TARGET_NOT_ALLOWED');
        expect(page.html, address).not.toMatch(REVEALING);
        expect(tokenCalls.length, address).toBe(calls);
        const after = await graphql(CONNECTION, { id: connection.id }, token);
        expect(after.data.connection, address).toMatchObject({ status: 'FAILED', lastErrorCode: 'TARGET_NOT_ALLOWED' });
        messages.add(after.data.connection.lastError);
      });
    }
    expect([...messages]).toEqual(['Could not complete the authorization with GitLab: its address is not one ListBackup may connect to.']);
  });

  it('refuses to refresh at a token endpoint whose name resolves to an internal address, says only that, and keeps the connection', async () => {
    const { token, accountId } = await signUp();
    const started = await graphql(START, { input: { accountId, platformSlug: 'gitlab' } }, token);
    const { authorizationUrl, connection } = started.data.startOAuthConnection;
    expect(await proxyCallback(await authorizeInBrowser(authorizationUrl, REDIRECT_URI))).toMatchObject({ outcome: 'AUTHORIZED' });
    await platforms.orm.em.fork().nativeUpdate(Connection, { id: connection.id }, { accessTokenExpiresAt: new Date() });

    const TEST = `mutation($id: ID!) { testConnection(id: $id) { ok errorCode message } }`;
    for (const address of INTERNAL) {
      await asDeployed(address, async () => {
        const calls = tokenCalls.length;
        const tested = await graphql(TEST, { id: connection.id }, token);
        expect(tested.errors?.map((error) => error.extensions?.code), address).toEqual(['TARGET_NOT_ALLOWED']);
        expect(tested.errors![0].message, address).toBe('Could not refresh the access token: its address is not one ListBackup may connect to.');
        expect(tokenCalls.length, address).toBe(calls);
      });
    }
    // Nothing was lost: the stored refresh token still works where the endpoint may be reached.
    expect((await graphql(CONNECTION, { id: connection.id }, token)).data.connection.status).toBe('AUTHORIZED');
    const refreshes = oauth.grants.refresh_token;
    expect((await graphql(TEST, { id: connection.id }, token)).data.testConnection.ok).toBe(true);
    expect(oauth.grants.refresh_token).toBe(refreshes + 1);
  });
});
