/**
 * The calls ListBackup makes to platforms while connecting: token endpoint, identity endpoint,
 * revocation. Real HTTP with a timeout; every answer is classified as success, `refused` (the
 * platform said no: the credential or code is bad) or `unavailable` (network, 5xx, 429: try later).
 * Nothing here logs, and no failure carries a credential.
 */
import { OutboundError, outboundFetch, type OutboundErrorCode } from '@listbackup/lib/outbound';
import type { OAuthClient } from '../config.ts';
import type { CredentialHeader, HttpIdentity, OAuth2Spec, Revocation, TokenEndpointAuthMethod } from '@listbackup/catalogue';
import type { Credentials } from '../services/credential-vault.ts';

export type Failure =
  | { kind: 'refused'; status?: number; error?: string; description?: string }
  | { kind: 'unavailable'; status?: number; reason: string }
  /** The address is refused (internal) or nothing could be reached there; says nothing more. */
  | { kind: 'target'; code: OutboundErrorCode };

export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  expiresIn?: number;
  /** Seconds until the refresh token stops working, when the platform says. */
  refreshTokenExpiresIn?: number;
  scope?: string;
  tokenType?: string;
  /** The whole answer, to read platform-specific fields from (instance_url, team.id). */
  body: Record<string, unknown>;
}

export type Result<T> = ({ ok: true } & T) | { ok: false; failure: Failure };

export class MissingParameterError extends Error {
  override name = 'MissingParameterError';
}

/** Fills `{name}` placeholders. Values come from validated parameters (patterns in the catalogue). */
export function fillTemplate(template: string, values: Record<string, string | undefined>): string {
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined || value === '') throw new MissingParameterError(`The connection has no "${name}" parameter`);
    return value;
  });
}

/** `a.0.b` into nested objects and arrays. */
export function dig(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

export function credentialHeaders(credential: CredentialHeader, token: string): Record<string, string> {
  if ('basicUsername' in credential) {
    return { Authorization: `Basic ${Buffer.from(`${credential.basicUsername}:${token}`).toString('base64')}` };
  }
  return { [credential.header]: `${credential.prefix}${token}` };
}

// RFC 6749 §2.3.1: client id and secret are form-encoded before they are joined and base64-encoded.
const formEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
const basicClientAuth = (client: OAuthClient) => `Basic ${Buffer.from(`${formEncode(client.clientId)}:${formEncode(client.clientSecret)}`).toString('base64')}`;

interface RawAnswer {
  status: number;
  body: unknown;
}

async function send(url: string, init: RequestInit, timeoutMs: number): Promise<Result<{ answer: RawAnswer }>> {
  let response: Response;
  try {
    response = await outboundFetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    if (error instanceof OutboundError) return { ok: false, failure: { kind: 'target', code: error.code } };
    const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : 'could not reach the platform';
    return { ok: false, failure: { kind: 'unavailable', reason } };
  }
  const text = await response.text().catch(() => '');
  const type = response.headers.get('content-type') ?? '';
  let body: unknown = text;
  if (type.includes('application/x-www-form-urlencoded')) body = Object.fromEntries(new URLSearchParams(text));
  else if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { ok: true, answer: { status: response.status, body } };
}

// A platform's error text could quote what it was sent; long token-like runs are cut out.
const scrub = (text: string) => text.slice(0, 300).replace(/[A-Za-z0-9+/=_.-]{24,}/g, '…');

/** Classifies an answer: OAuth `error` (even with HTTP 200, as GitHub does), Slack's `ok: false`, then the status. */
function classify(answer: RawAnswer): Failure | null {
  const body = answer.body && typeof answer.body === 'object' ? (answer.body as Record<string, unknown>) : {};
  const error = typeof body.error === 'string' ? body.error : undefined;
  const description = typeof body.error_description === 'string' ? scrub(body.error_description) : undefined;
  if (answer.status === 429 || answer.status >= 500) return { kind: 'unavailable', status: answer.status, reason: `the platform answered HTTP ${answer.status}` };
  if (error || body.ok === false) return { kind: 'refused', status: answer.status, error: error ?? 'not_ok', description };
  if (answer.status >= 300) return { kind: 'refused', status: answer.status };
  return null;
}

function tokenRequest(
  method: TokenEndpointAuthMethod | 'none',
  format: 'form' | 'json',
  client: OAuthClient,
  params: Record<string, string>,
): RequestInit {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const fields = { ...params };
  if (method === 'client_secret_basic') headers.Authorization = basicClientAuth(client);
  else if (method === 'client_secret_post') Object.assign(fields, { client_id: client.clientId, client_secret: client.clientSecret });
  else fields.client_id = client.clientId;
  if (format === 'json') {
    headers['Content-Type'] = 'application/json';
    return { method: 'POST', headers, body: JSON.stringify(fields) };
  }
  headers['Content-Type'] = 'application/x-www-form-urlencoded';
  return { method: 'POST', headers, body: new URLSearchParams(fields).toString() };
}

/**
 * Sends a request that authenticates the client with its secret, and during a rollover sends it
 * again with each older secret while the platform refuses the client itself (`invalid_client`, or
 * a bare 401): nothing was granted or spent then, so asking again is safe.
 */
async function sendAsClient(client: OAuthClient, request: (client: OAuthClient) => { url: string; init: RequestInit }, timeoutMs: number): Promise<Result<{ answer: RawAnswer }>> {
  const secrets = [client.clientSecret, ...(client.previousClientSecrets ?? [])];
  let sent: Result<{ answer: RawAnswer }> | undefined;
  for (const clientSecret of secrets) {
    const { url, init } = request({ ...client, clientSecret });
    sent = await send(url, init, timeoutMs);
    const failure = sent.ok ? classify(sent.answer) : null;
    if (!(failure?.kind === 'refused' && (failure.error === 'invalid_client' || (failure.status === 401 && !failure.error)))) break;
  }
  return sent!;
}

/** POSTs a grant (authorization_code, refresh_token) to the token endpoint. */
export async function requestTokens(
  spec: OAuth2Spec,
  tokenUrl: string,
  client: OAuthClient,
  grant: Record<string, string>,
  timeoutMs: number,
): Promise<Result<{ tokens: TokenSet }>> {
  const sent = await sendAsClient(client, (asClient) => ({ url: tokenUrl, init: tokenRequest(spec.tokenEndpointAuthMethod, spec.tokenRequestFormat, asClient, grant) }), timeoutMs);
  if (!sent.ok) return sent;
  const failure = classify(sent.answer);
  if (failure) return { ok: false, failure };
  const body = sent.answer.body as Record<string, unknown>;
  if (!body || typeof body !== 'object' || typeof body.access_token !== 'string' || !body.access_token) {
    return { ok: false, failure: { kind: 'unavailable', status: sent.answer.status, reason: 'the token endpoint answered without an access token' } };
  }
  const expiresIn = Number(body.expires_in);
  // How long the refresh token lasts, where the platform says: GitHub's `refresh_token_expires_in`, Intuit's `x_refresh_token_expires_in`.
  const refreshExpiresIn = Number(body.refresh_token_expires_in ?? body.x_refresh_token_expires_in);
  return {
    ok: true,
    tokens: {
      accessToken: body.access_token,
      refreshToken: typeof body.refresh_token === 'string' && body.refresh_token ? body.refresh_token : undefined,
      expiresIn: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : undefined,
      refreshTokenExpiresIn: Number.isFinite(refreshExpiresIn) && refreshExpiresIn > 0 ? refreshExpiresIn : undefined,
      scope: typeof body.scope === 'string' ? body.scope : undefined,
      tokenType: typeof body.token_type === 'string' ? body.token_type : undefined,
      body,
    },
  };
}

export interface Identity {
  id: string;
  name?: string;
  params: Record<string, string>;
}

const IDENTITY_PARAM = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Asks the platform who the credential belongs to. */
export async function fetchIdentity(
  identity: HttpIdentity,
  url: string,
  credential: CredentialHeader,
  token: string,
  apiHeaders: Record<string, string> | undefined,
  timeoutMs: number,
): Promise<Result<{ identity: Identity }>> {
  const headers: Record<string, string> = { Accept: 'application/json', ...apiHeaders, ...identity.headers, ...credentialHeaders(credential, token) };
  const sent = await send(url, { method: identity.method, headers, body: identity.body }, timeoutMs);
  if (!sent.ok) return sent;
  const failure = classify(sent.answer);
  if (failure) return { ok: false, failure };
  const body = sent.answer.body;
  if (identity.okField && dig(body, identity.okField) !== true) return { ok: false, failure: { kind: 'refused', status: sent.answer.status, error: 'not_ok' } };
  const id = dig(body, identity.idPath);
  if (typeof id !== 'string' && typeof id !== 'number') {
    return { ok: false, failure: { kind: 'unavailable', status: sent.answer.status, reason: 'the identity endpoint answered without an account id' } };
  }
  const name = identity.namePath ? dig(body, identity.namePath) : undefined;
  const params: Record<string, string> = {};
  for (const [param, path] of Object.entries(identity.params ?? {})) {
    const value = dig(body, path);
    if ((typeof value === 'string' || typeof value === 'number') && IDENTITY_PARAM.test(String(value))) params[param] = String(value);
  }
  return { ok: true, identity: { id: String(id), name: typeof name === 'string' || typeof name === 'number' ? String(name).slice(0, 200) : undefined, params } };
}

/** GETs `url` and classifies the answer as the identity check does: any 2xx is fine. */
export async function probe(url: string, headers: Record<string, string>, timeoutMs: number): Promise<Result<object>> {
  const sent = await send(url, { method: 'GET', headers: { Accept: 'application/json', ...headers } }, timeoutMs);
  if (!sent.ok) return sent;
  const failure = classify(sent.answer);
  return failure ? { ok: false, failure } : { ok: true };
}

/** Takes the credentials back at the platform, the way it documents. */
export async function revokeTokens(
  revocation: Revocation,
  url: string,
  client: OAuthClient,
  credentials: Extract<Credentials, { kind: 'oauth2' }>,
  credential: CredentialHeader,
  timeoutMs: number,
): Promise<Result<object>> {
  const pick = (which: 'access_token' | 'refresh_token') =>
    which === 'refresh_token' && credentials.refreshToken
      ? { token: credentials.refreshToken, hint: 'refresh_token' }
      : { token: credentials.accessToken, hint: 'access_token' };
  const build = (client: OAuthClient): { url: string; init: RequestInit } => {
    switch (revocation.style) {
      case 'rfc7009': {
        const { token, hint } = pick(revocation.token);
        return { url, init: tokenRequest(revocation.clientAuth, 'form', client, { token, token_type_hint: hint }) };
      }
      case 'json': {
        const { token } = pick(revocation.token);
        return {
          url,
          init: { method: 'POST', headers: { Accept: 'application/json', 'Content-Type': 'application/json', Authorization: basicClientAuth(client) }, body: JSON.stringify({ token }) },
        };
      }
      case 'bearer':
        return { url, init: { method: revocation.method, headers: { Accept: 'application/json', ...credentialHeaders(credential, credentials.accessToken) } } };
      case 'token-in-path': {
        const { token } = pick(revocation.token);
        return { url: url.replace('{token}', encodeURIComponent(token)), init: { method: 'DELETE', headers: { Accept: 'application/json' } } };
      }
      case 'github-grant':
        return {
          url: url.replace('{client_id}', encodeURIComponent(client.clientId)),
          init: {
            method: 'DELETE',
            headers: { Accept: 'application/vnd.github+json', 'Content-Type': 'application/json', Authorization: basicClientAuth(client) },
            body: JSON.stringify({ access_token: credentials.accessToken }),
          },
        };
    }
  };
  // Bearer and token-in-path revocations do not authenticate the client: there is no other secret to try.
  const clientless = revocation.style === 'bearer' || revocation.style === 'token-in-path';
  const plain = clientless ? build(client) : undefined;
  const sent = plain ? await send(plain.url, plain.init, timeoutMs) : await sendAsClient(client, build, timeoutMs);
  if (!sent.ok) return sent;
  const failure = classify(sent.answer);
  return failure ? { ok: false, failure } : { ok: true };
}

/** A sentence for a failure, for `lastError` and result pages: never a credential, never a stack. */
export function describeFailure(failure: Failure): string {
  if (failure.kind === 'unavailable') return failure.reason;
  if (failure.kind === 'target') return failure.code === 'TARGET_NOT_ALLOWED' ? 'its address is not one ListBackup may connect to' : 'its address could not be reached';
  const parts = [failure.error ? `error "${failure.error}"` : undefined, failure.status ? `HTTP ${failure.status}` : undefined].filter(Boolean);
  return `the platform refused${parts.length ? ` (${parts.join(', ')})` : ''}${failure.description ? `: ${failure.description}` : ''}`;
}
