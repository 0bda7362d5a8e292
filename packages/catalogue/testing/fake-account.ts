/**
 * The account side of a fake platform, driven by the platform's definition: its OAuth 2
 * authorization server (the authorize redirect, the token endpoint for the code and refresh grants,
 * revocation) and its identity endpoint, at the paths the definition names. It checks what the
 * platform checks: the registered client and redirect URI, the client authentication and request
 * format the definition says, single-use codes that expire, PKCE S256 where the platform takes it,
 * rotating refresh tokens where it rotates them, and signs its redirect where the platform does
 * (Shopify's `hmac`). Tests only.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { CallbackSignature, CredentialHeader, HttpIdentity, OAuth2Spec, PlatformDefinition } from '../platform.ts';
import { ORIGIN } from './e2e.ts';
import type { RecordedRequest } from './fake-server.ts';

export interface FakeAccountOptions {
  definition: PlatformDefinition;
  /** Values of the placeholders in the definition's URL templates at this fake (`{cloudId}`). */
  params?: Record<string, string>;
  /** What the identity endpoint answers for a valid credential; without it the fake's API serves the endpoint. */
  identity?: () => unknown;
  /** Makes the fake's API accept an access token (one this server issued). */
  accept: (token: string) => void;
  /** Makes the fake's API refuse an access token (refreshed or revoked). */
  refuse?: (token: string) => void;
  /** The platform's own fields of a token answer (Slack's `team`, Notion's `workspace_id`). */
  tokenFields?: () => Record<string, unknown>;
  /** Parameters the platform adds to its redirect back (Shopify's `shop`). */
  callbackParams?: () => Record<string, string>;
  /** How issued access tokens start (`xoxb-`, `sl.`). */
  tokenPrefix?: string;
}

type Reply = (status: number, body: unknown, headers?: Record<string, string>) => undefined;

interface Grant {
  clientId: string;
  redirectUri: string;
  scope: string;
  challenge?: string;
  expiresAt: number;
  used: boolean;
}

const CODE_LIFETIME_MS = 60_000;
const ACCESS_TOKEN_SECONDS = 3600;

const pathOf = (url: string) => url.replace(ORIGIN, '').split('?')[0] || '/';
const pathPattern = (path: string) => new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[A-Za-z_]+\}/g, '[^/]+')}$`);

export class FakeAccount {
  readonly definition: PlatformDefinition;
  readonly client = { clientId: `client-${randomBytes(6).toString('hex')}`, clientSecret: randomBytes(24).toString('base64url') };
  /** The redirect URI registered for the client. */
  redirectUri = 'http://localhost:4000/oauth/callback';
  /** API keys the identity endpoint accepts (the platform's key check). */
  readonly apiKeys = new Set<string>();
  /** Token endpoint answers given, by grant type. */
  readonly grants = { authorization_code: 0, refresh_token: 0 };
  revocations = 0;
  readonly #options: FakeAccountOptions;
  readonly #codes = new Map<string, Grant>();
  readonly #accessTokens = new Set<string>();
  readonly #refreshTokens = new Map<string, string>();

  constructor(options: FakeAccountOptions) {
    this.definition = options.definition;
    this.#options = options;
  }

  #fill(template: string): string {
    return template.replace(/\{([A-Za-z_]+)\}/g, (whole, name: string) => this.#options.params?.[name] ?? whole);
  }

  /** The access tokens issued so far expire: the API refuses them, their refresh tokens still work. */
  expireAccessTokens(): void {
    const refuse = this.#refuser();
    for (const token of this.#accessTokens) refuse(token);
    this.#accessTokens.clear();
  }

  /** The user takes the app's access away at the platform: no token issued so far works, nor refreshes. */
  revokeAll(): void {
    this.expireAccessTokens();
    this.#refreshTokens.clear();
  }

  #refuser(): (token: string) => void {
    if (!this.#options.refuse) throw new Error(`${this.definition.slug}: the fake account was given no refuse(), so its API cannot be made to refuse a token`);
    return this.#options.refuse;
  }

  /** The endpoint URLs at a fake's origin, as the platforms subgraph's overrides take them. */
  endpoints(origin: string): { authorizeUrl?: string; tokenUrl?: string; revokeUrl?: string; identityUrl?: string } {
    const oauth = this.definition.oauth2;
    const identity = (oauth?.identity ?? this.definition.apiKey?.identity) as HttpIdentity | undefined;
    const at = (url: string) => `${origin}${this.#fill(url.replace(ORIGIN, ''))}`;
    return {
      ...(oauth && { authorizeUrl: at(oauth.authorizeUrl), tokenUrl: at(oauth.tokenUrl) }),
      ...(oauth?.revocation && { revokeUrl: at(oauth.revocation.url) }),
      ...(identity?.url && { identityUrl: at(identity.url) }),
    };
  }

  /** Answers the request when it is one of the account endpoints; false otherwise. */
  route(request: RecordedRequest, reply: Reply): boolean {
    const oauth = this.definition.oauth2;
    const is = (url: string | undefined) => url !== undefined && pathPattern(this.#fill(pathOf(url))).test(request.path);
    let answer: ((reply: Reply) => undefined) | undefined;
    if (oauth && request.method === 'GET' && is(oauth.authorizeUrl)) answer = (r) => this.#authorize(oauth, request, r);
    else if (oauth && request.method === 'POST' && is(oauth.tokenUrl)) answer = (r) => this.#token(oauth, request, r);
    else if (oauth?.revocation && is(oauth.revocation.url)) {
      answer = (r) => {
        this.revocations++;
        return r(200, {});
      };
    }
    for (const identity of this.#options.identity ? [oauth?.identity, this.definition.apiKey?.identity] : []) {
      if (!answer && identity && 'url' in identity && request.method === identity.method && is(identity.url)) answer = (r) => this.#identity(request, r);
    }
    answer?.(reply);
    return answer !== undefined;
  }

  #authorize(oauth: OAuth2Spec, request: RecordedRequest, reply: Reply): undefined {
    const query = request.query;
    const redirectUri = query.get('redirect_uri');
    // A wrong client or redirect URI is never redirected to (RFC 6749 §4.1.2.1).
    if (query.get('client_id') !== this.client.clientId || redirectUri !== this.redirectUri) {
      return reply(400, 'The client or its redirect URI is not registered.');
    }
    const back = new URL(redirectUri);
    const state = query.get('state');
    if (state) back.searchParams.set('state', state);
    const challenge = query.get('code_challenge') ?? undefined;
    if (query.get('response_type') !== 'code' || (oauth.pkce && (!challenge || query.get('code_challenge_method') !== 'S256'))) {
      back.searchParams.set('error', 'invalid_request');
      return reply(302, '', { location: back.toString() });
    }
    const code = randomBytes(16).toString('base64url');
    this.#codes.set(code, { clientId: this.client.clientId, redirectUri, scope: query.get('scope') ?? '', challenge: oauth.pkce ? challenge : undefined, expiresAt: Date.now() + CODE_LIFETIME_MS, used: false });
    back.searchParams.set('code', code);
    for (const [name, value] of Object.entries(this.#options.callbackParams?.() ?? {})) back.searchParams.set(name, value);
    if (oauth.callbackSignature) back.searchParams.set(oauth.callbackSignature.param, this.#sign(oauth.callbackSignature, back.searchParams));
    return reply(302, '', { location: back.toString() });
  }

  #sign(signature: CallbackSignature, params: URLSearchParams): string {
    const signed = [...params].filter(([name]) => name !== signature.param && name !== 'signature').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return createHmac('sha256', this.client.clientSecret).update(new URLSearchParams(signed).toString()).digest('hex');
  }

  #token(oauth: OAuth2Spec, request: RecordedRequest, reply: Reply): undefined {
    const error = (status: number, code: string, description: string) => reply(status, { error: code, error_description: description });
    const type = String(request.headers['content-type'] ?? '');
    const json = type.startsWith('application/json');
    if (json !== (oauth.tokenRequestFormat === 'json')) return error(400, 'invalid_request', `The token request must be ${oauth.tokenRequestFormat === 'json' ? 'JSON' : 'form-encoded'}.`);
    let fields: Record<string, string>;
    try {
      fields = json ? JSON.parse(request.body) : Object.fromEntries(new URLSearchParams(request.body));
    } catch {
      return error(400, 'invalid_request', 'The body could not be read.');
    }
    if (!this.#clientAuthenticated(oauth, request, fields)) return error(401, 'invalid_client', 'Client authentication failed.');
    if (fields.grant_type === 'authorization_code') {
      const grant = this.#codes.get(fields.code ?? '');
      if (!grant || grant.used || grant.expiresAt < Date.now()) return error(400, 'invalid_grant', 'The authorization code is invalid, expired or used.');
      grant.used = true;
      if (fields.redirect_uri !== grant.redirectUri) return error(400, 'invalid_grant', 'The redirect URI does not match the authorization request.');
      if (grant.challenge && createHash('sha256').update(fields.code_verifier ?? '').digest('base64url') !== grant.challenge) return error(400, 'invalid_grant', 'The PKCE verifier does not match the challenge.');
      this.grants.authorization_code++;
      return reply(200, this.#issue(oauth, grant.scope));
    }
    if (fields.grant_type === 'refresh_token' && oauth.refreshTokens) {
      const previous = this.#refreshTokens.get(fields.refresh_token ?? '');
      if (previous === undefined) return error(400, 'invalid_grant', 'The refresh token is invalid.');
      if (oauth.rotatesRefreshTokens) this.#refreshTokens.delete(fields.refresh_token!);
      this.#accessTokens.delete(previous);
      this.#options.refuse?.(previous);
      this.grants.refresh_token++;
      return reply(200, this.#issue(oauth, '', oauth.rotatesRefreshTokens ? undefined : fields.refresh_token));
    }
    return error(400, 'unsupported_grant_type', `grant_type ${fields.grant_type ?? '(none)'} is not supported.`);
  }

  #clientAuthenticated(oauth: OAuth2Spec, request: RecordedRequest, fields: Record<string, string>): boolean {
    if (oauth.tokenEndpointAuthMethod === 'client_secret_basic') {
      const [scheme, value] = String(request.headers.authorization ?? '').split(' ', 2);
      if (scheme !== 'Basic' || !value) return false;
      const [id, secret] = Buffer.from(value, 'base64').toString('utf8').split(':').map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
      return id === this.client.clientId && secret === this.client.clientSecret;
    }
    return fields.client_id === this.client.clientId && fields.client_secret === this.client.clientSecret;
  }

  #issue(oauth: OAuth2Spec, scope: string, keepRefresh?: string): Record<string, unknown> {
    const accessToken = `${this.#options.tokenPrefix ?? ''}${randomBytes(18).toString('base64url')}`;
    this.#accessTokens.add(accessToken);
    this.#options.accept(accessToken);
    const answer: Record<string, unknown> = { access_token: accessToken, token_type: 'bearer', ...(scope ? { scope } : {}) };
    if (oauth.refreshTokens) {
      const refreshToken = keepRefresh ?? randomBytes(24).toString('base64url');
      this.#refreshTokens.set(refreshToken, accessToken);
      Object.assign(answer, { refresh_token: refreshToken, expires_in: ACCESS_TOKEN_SECONDS });
    }
    return { ...answer, ...this.#options.tokenFields?.() };
  }

  #identity(request: RecordedRequest, reply: Reply): undefined {
    const given = [this.definition.oauth2?.credential, this.definition.apiKey?.credential].map((credential) => credential && credentialOf(credential, request)).find(Boolean);
    if (!given || !(this.#accessTokens.has(given) || this.apiKeys.has(given))) return reply(401, { error: 'invalid_token', message: 'The credential is not valid.' });
    return reply(200, this.#options.identity?.());
  }
}

/** The credential a request carries the way the platform takes it. */
function credentialOf(credential: CredentialHeader, request: RecordedRequest): string | undefined {
  const header = request.headers[credential.header.toLowerCase()];
  if (typeof header !== 'string') return undefined;
  if ('basicUsername' in credential) {
    if (!header.startsWith('Basic ')) return undefined;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    return decoded.slice(decoded.indexOf(':') + 1);
  }
  return header.startsWith(credential.prefix) ? header.slice(credential.prefix.length) : undefined;
}
