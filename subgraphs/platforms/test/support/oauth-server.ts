/**
 * A real OAuth 2 authorization server for the tests: oidc-provider (a certified OpenID Connect /
 * OAuth 2.0 implementation) on a free local port. It validates what a platform validates —
 * client authentication (basic or post), redirect URI, PKCE S256, single-use codes, refresh-token
 * rotation, RFC 7009 revocation — so our client is tested against the protocol, not a mock.
 *
 * The end user's part (log in, approve or decline) is played by `authorizeInBrowser`, which
 * follows the redirects the way a browser does, cookies included, and stops at our callback.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type Adapter, type AdapterPayload, type ClientMetadata } from 'oidc-provider';

export interface TestClient {
  clientId: string;
  clientSecret: string;
  method: 'client_secret_basic' | 'client_secret_post';
}

export interface OAuthServer {
  issuer: string;
  provider: Provider;
  authorizeUrl: string;
  tokenUrl: string;
  revokeUrl: string;
  clients: { basic: TestClient; post: TestClient };
  /** What the next user does at the consent step. */
  decision: 'approve' | 'deny';
  /** The login the user signs in with at the platform. */
  login: string;
  /** Token endpoint calls answered since the last reset, by grant type. */
  grants: { authorization_code: number; refresh_token: number };
  /** Revocation calls answered. */
  revocations: number;
  /** When true, token answers say how long their refresh token lasts (`refresh_token_expires_in`, as GitHub does). */
  announceRefreshTokenLifetime: boolean;
  /** When set, the token endpoint answers every request with this status (an outage at the platform). */
  tokenEndpointStatus: number | null;
  close(): Promise<void>;
}

/** How long the server's refresh tokens last. */
export const REFRESH_TOKEN_TTL_S = 86_400;

export const SCOPES = ['read_api', 'read_user', 'read_repository', 'offline_access', 'accounting.transactions.read', 'com.intuit.quickbooks.accounting'];

/** The provider's storage, in memory and private to one server (its built-in one warns on every start). */
function memoryAdapter() {
  const items = new Map<string, { payload: AdapterPayload; expiresAt?: number }>();
  const live = (key: string) => {
    const item = items.get(key);
    if (item?.expiresAt && item.expiresAt < Date.now()) items.delete(key);
    return items.get(key)?.payload;
  };
  return class MemoryAdapter implements Adapter {
    readonly name: string;
    constructor(name: string) {
      this.name = name;
    }
    async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      items.set(`${this.name}:${id}`, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
    }
    async find(id: string) {
      return live(`${this.name}:${id}`);
    }
    async findByUserCode(userCode: string) {
      return [...items.keys()].map(live).find((payload) => payload?.userCode === userCode);
    }
    async findByUid(uid: string) {
      return [...items.keys()].filter((key) => key.startsWith(`${this.name}:`)).map(live).find((payload) => payload?.uid === uid);
    }
    async consume(id: string) {
      const payload = live(`${this.name}:${id}`);
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      items.delete(`${this.name}:${id}`);
    }
    async revokeByGrantId(grantId: string) {
      for (const [key, item] of items) if (item.payload.grantId === grantId) items.delete(key);
    }
  };
}

export async function startOAuthServer(redirectUri: string): Promise<OAuthServer> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), use: 'sig', alg: 'RS256', kid: 'test' };
  const clients = {
    basic: { clientId: `basic-${randomBytes(4).toString('hex')}`, clientSecret: randomBytes(24).toString('base64url'), method: 'client_secret_basic' as const },
    post: { clientId: `post-${randomBytes(4).toString('hex')}`, clientSecret: randomBytes(24).toString('base64url'), method: 'client_secret_post' as const },
  };
  const metadata = (client: TestClient): ClientMetadata => ({
    client_id: client.clientId,
    client_secret: client.clientSecret,
    token_endpoint_auth_method: client.method,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  });

  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const provider = new Provider(issuer, {
    adapter: memoryAdapter(),
    clients: [metadata(clients.basic), metadata(clients.post)],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    scopes: SCOPES,
    features: {
      devInteractions: { enabled: false },
      // A client may revoke only its own tokens (the library's default rule, stated to silence its notice).
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
    },
    pkce: { required: () => false },
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // Refresh tokens for every code grant, rotated on each use (as Box, Xero, GitLab, Airtable do).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    ttl: { AccessToken: 3600, AuthorizationCode: 60, RefreshToken: REFRESH_TOKEN_TTL_S, Interaction: 600, Session: 600, Grant: 86_400 },
  });
  provider.proxy = false;

  const state: OAuthServer = {
    issuer,
    provider,
    authorizeUrl: `${issuer}/auth`,
    tokenUrl: `${issuer}/token`,
    revokeUrl: `${issuer}/token/revocation`,
    clients,
    decision: 'approve',
    login: 'platform-user',
    grants: { authorization_code: 0, refresh_token: 0 },
    revocations: 0,
    announceRefreshTokenLifetime: false,
    tokenEndpointStatus: null,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  provider.use(async (ctx, next) => {
    if (state.tokenEndpointStatus && ctx.path === '/token') {
      ctx.status = state.tokenEndpointStatus;
      ctx.body = { error: 'temporarily_unavailable' };
      return;
    }
    await next();
    const body = ctx.body as Record<string, unknown> | undefined;
    if (state.announceRefreshTokenLifetime && ctx.path === '/token' && body && typeof body.refresh_token === 'string') body.refresh_token_expires_in = REFRESH_TOKEN_TTL_S;
  });
  provider.on('grant.success', (ctx) => {
    const grantType = (ctx.oidc.params?.grant_type ?? '') as keyof OAuthServer['grants'];
    if (grantType in state.grants) state.grants[grantType]++;
  });
  provider.on('grant.revoked', () => {
    state.revocations++;
  });

  const callback = provider.callback();
  server.on('request', (req, res) => {
    const match = /^\/interaction\/([^/?]+)/.exec(req.url ?? '');
    if (!match) return callback(req, res);
    // The user's part: sign in and approve every requested scope — or decline.
    void (async () => {
      try {
        const details = await provider.interactionDetails(req, res);
        if (state.decision === 'deny') {
          await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'End-User aborted interaction' }, { mergeWithLastSubmission: false });
          return;
        }
        const accountId = details.session?.accountId ?? state.login;
        const grant = details.grantId
          ? (await provider.Grant.find(details.grantId))!
          : new provider.Grant({ accountId, clientId: String(details.params.client_id) });
        grant.addOIDCScope(String(details.params.scope ?? ''));
        const grantId = await grant.save();
        await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
      } catch (error) {
        res.statusCode = 500;
        res.end(String(error));
      }
    })();
  });
  return state;
}

/**
 * What a browser does with an authorization URL: follows the provider's redirects (keeping its
 * cookies) until it is sent to `redirectUri`, and returns that final URL without loading it.
 */
export async function authorizeInBrowser(authorizationUrl: string, redirectUri: string): Promise<URL> {
  const cookies = new Map<string, string>();
  let url = authorizationUrl;
  for (let hop = 0; hop < 10; hop++) {
    const response = await fetch(url, {
      redirect: 'manual',
      headers: cookies.size ? { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') } : {},
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    const location = response.headers.get('location');
    if (!location) throw new Error(`The authorization server stopped at ${url} with HTTP ${response.status}: ${(await response.text()).slice(0, 500)}`);
    await response.body?.cancel();
    const next = new URL(location, url);
    if (next.toString().startsWith(redirectUri)) return next;
    url = next.toString();
  }
  throw new Error('Too many redirects');
}
