// A user connects a platform through the real gateway: sign up at accounts, start the OAuth flow
// with the access token, approve at the (local) platform, come back through the callback, and see
// the connection under their account, with roles answered by the accounts subgraph over HTTP.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpAccessResolver } from '@listbackup/lib/access';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { createLogger } from '@listbackup/lib/logger';
import type { RunningService } from '@listbackup/lib/service';
import { readSupergraph } from '@listbackup/lib/supergraph';
import { Keyring, generateKek } from '@listbackup/lib/vault';
import { startAccounts } from '../../accounts/src/index.ts';
import { startGateway, type RunningGateway } from '../../../gateway/src/index.ts';
import { startPlatforms } from '../src/index.ts';
import { createTestDatabase } from '../../jobs/test/support/subgraph-harness.ts';
import { authorizeInBrowser, startOAuthServer, type OAuthServer } from './support/oauth-server.ts';
import { startPlatformApi, type PlatformApi } from './support/platform-api.ts';

const REDIRECT_URI = 'http://localhost:4000/oauth/callback';

describe('connecting a platform through the gateway', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let oauth: OAuthServer;
  let api: PlatformApi;
  let accounts: RunningService;
  let platforms: RunningService;
  let gateway: RunningGateway;
  const bus = new InProcessEventBus();
  const secret = randomBytes(32).toString('base64url');

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
    database = await createTestDatabase();
    oauth = await startOAuthServer(REDIRECT_URI);
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
        endpointOverrides: { gitlab: { authorizeUrl: oauth.authorizeUrl, tokenUrl: oauth.tokenUrl, revokeUrl: oauth.revokeUrl, identityUrl: `${api.url}/api/v4/user` } },
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
  });

  const signUp = async () => {
    const result = await graphql(`mutation($input: SignUpInput!) { signUp(input: $input) { accessToken user { memberships { account { id } } } } }`, {
      input: { email: `e2e-${randomUUID()}@example.com`, password: `correct horse battery ${randomBytes(4).toString('hex')}`, name: 'E2E' },
    });
    expect(result.errors).toBeUndefined();
    return { token: result.data.signUp.accessToken as string, accountId: result.data.signUp.user.memberships[0].account.id as string };
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

    const mine = await graphql(`{ me { memberships { account { id connections { edges { node { id name status externalAccountName platform { slug } } } } } } } }`, {}, token);
    expect(mine.errors).toBeUndefined();
    expect(mine.data.me.memberships[0].account.connections.edges.map((edge: { node: unknown }) => edge.node)).toEqual([
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
});
