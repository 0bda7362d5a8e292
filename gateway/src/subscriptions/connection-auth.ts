import { decodeJwt } from 'jose';
import type { Logger } from '@listbackup/lib/logger';
import type { Principal } from '@listbackup/lib/principal';
import { principalFields } from '@listbackup/lib/subgraph';
import { API_KEY_PREFIX, AuthenticationError, type Authenticator } from '../auth.ts';

/** The caller of one websocket, verified from its connection_init payload. */
export interface SocketSession {
  principal: Principal;
  /** When the access token stops being valid (ms since epoch); API keys have none. */
  expiresAt?: number;
  /** The `Authorization` value, to check it again while the socket lives (an API key may be revoked). */
  authorization: string;
  log: Logger;
}

/** Thrown when connection_init carries no credential or one that does not hold: the socket closes with 4403. */
export class ConnectionRefused extends Error {
  override name = 'ConnectionRefused';
}

const CREDENTIAL_KEYS = ['Authorization', 'authorization', 'authToken', 'token', 'accessToken', 'apiKey', 'x-api-key'];

/**
 * The credential in a connection_init payload, as an `Authorization` header value. Accepts what the
 * usual clients send: `{ Authorization: "Bearer …" }` (GraphQL Playground sends its HTTP headers),
 * `{ authorization }`, `{ headers: { Authorization } }`, `{ authToken }` or `{ apiKey }` (bare token or key).
 */
export function authorizationFrom(payload: unknown): string | undefined {
  if (!payload || typeof payload !== 'object') return undefined;
  const params = payload as Record<string, unknown>;
  const nested = params.headers && typeof params.headers === 'object' ? (params.headers as Record<string, unknown>) : {};
  for (const source of [params, nested]) {
    for (const key of CREDENTIAL_KEYS) {
      const value = source[key];
      if (typeof value !== 'string' || !value.trim()) continue;
      const trimmed = value.trim();
      return /^bearer\s/i.test(trimmed) ? trimmed : `Bearer ${trimmed}`;
    }
  }
  return undefined;
}

export async function authenticateConnection(authenticator: Authenticator, payload: unknown, requestId: string, log: Logger): Promise<SocketSession> {
  const authorization = authorizationFrom(payload);
  if (!authorization) throw new ConnectionRefused('connection_init must carry a credential: { "Authorization": "Bearer <access token or API key>" }');
  let principal: Principal;
  try {
    principal = await authenticator.authenticate(authorization, requestId);
  } catch (error) {
    if (error instanceof AuthenticationError) throw new ConnectionRefused(error.message);
    throw error;
  }
  if (principal.kind === 'anonymous') throw new ConnectionRefused('connection_init must carry a credential');
  const token = authorization.replace(/^bearer\s+/i, '');
  let expiresAt: number | undefined;
  if (!token.startsWith(API_KEY_PREFIX)) {
    const exp = decodeJwt(token).exp;
    if (typeof exp === 'number') expiresAt = exp * 1000;
  }
  return { principal, expiresAt, authorization, log: log.child(principalFields(principal)) };
}

/** Null while the socket's credential holds, else why not (checked at each subscribe; answered from the cache). */
export async function credentialProblem(session: SocketSession, authenticator: Authenticator): Promise<string | null> {
  try {
    await authenticator.authenticate(session.authorization, 'websocket-subscribe');
    return null;
  } catch (error) {
    if (error instanceof AuthenticationError) return error.message;
    throw error;
  }
}

export interface SessionWatchOptions {
  authenticator: Authenticator;
  /** How often the credential is checked again without an event (the fallback for a lost one). */
  recheckMs: number;
  now?: () => number;
}

/**
 * Ends the socket when its credential stops holding: at the access token's expiry, as soon as an
 * event says its session was signed out or its key revoked (or its user's password changed), and
 * when a periodic re-check fails. Returns the function that stops watching.
 */
export function watchSession(session: SocketSession, options: SessionWatchOptions, end: (reason: string) => void): () => void {
  const now = options.now ?? Date.now;
  const timers: NodeJS.Timeout[] = [];
  let ended = false;
  const finish = (reason: string) => {
    if (ended) return;
    ended = true;
    stop();
    end(reason);
  };
  const recheck = async () => {
    try {
      await options.authenticator.authenticate(session.authorization, 'websocket-recheck');
    } catch (error) {
      if (error instanceof AuthenticationError) finish(`Forbidden: ${error.message}`);
    }
  };
  if (session.expiresAt !== undefined) {
    const delay = Math.max(0, Math.min(session.expiresAt - now(), 2 ** 31 - 1));
    timers.push(setTimeout(() => finish('Forbidden: the access token has expired; reconnect with a fresh one'), delay).unref());
  }
  timers.push(setInterval(recheck, options.recheckMs).unref());
  const principal = session.principal;
  const unlisten = options.authenticator.onAccessChange((change) => {
    const touched =
      (principal.kind === 'user' && (change.userIds?.includes(principal.userId) || change.sessionIds?.includes(principal.sessionId))) ||
      (principal.kind === 'apiKey' && change.apiKeyIds?.includes(principal.apiKeyId));
    if (touched) void recheck();
  });
  function stop() {
    unlisten();
    for (const timer of timers) clearTimeout(timer);
  }
  return stop;
}
