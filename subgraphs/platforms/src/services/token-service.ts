import { createHash } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import type { Em, Orm } from '@listbackup/lib/db';
import { NotFoundError } from '@listbackup/lib/errors';
import { enqueueEvent } from '@listbackup/lib/events/outbox';
import { isUuid } from '@listbackup/lib/ids';
import { Connection, type ConnectionStatus } from '../entities/connection.ts';
import { ConnectionSecret } from '../entities/connection-secret.ts';
import { Platform } from '../entities/platform.ts';
import { credentialHeaders, describeFailure, fillTemplate, requestTokens, type Failure } from '../oauth/http.ts';
import { findDefinition, type AuthType, type PlatformDefinition } from '@listbackup/catalogue';
import { effectiveApiKey, effectiveOAuth, type PlatformsRuntime } from '../runtime.ts';
import { CODES, ConnectionError, clearError, connectionEvent, recordError } from './connection-state.ts';
import type { Credentials } from './credential-vault.ts';

/** What a worker needs to call a platform for a connection. Keep it in memory only. */
export interface AccessToken {
  connectionId: string;
  accountId: string;
  platform: string;
  authType: AuthType;
  /** The access token, or the API key. */
  token: string;
  /** Ready to send: the credential header and the platform's API version headers. */
  headers: Record<string, string>;
  /** When the access token stops working; null when the platform does not say (or for API keys). */
  expiresAt: Date | null;
  params: Record<string, string>;
  /** The API root with the connection's parameters filled in. */
  apiBaseUrl: string | null;
}

export interface AccessTokenOptions {
  /** Refresh when the token expires within this time. Default one minute. */
  minValidityMs?: number;
  /** Refresh even if the token looks valid (the platform just answered 401 to it). */
  forceRefresh?: boolean;
}

/** Why no token could be had. `transient` failures may succeed later; the others need a person. */
export class AccessTokenError extends ConnectionError {
  readonly transient: boolean;
  constructor(code: ConstructorParameters<typeof ConnectionError>[0], message: string, transient = false) {
    super(code, message);
    this.transient = transient;
  }
}

// Grant errors that mean "this refresh token is dead": authorize again. Anything else (a bad
// client secret, a malformed request) is our problem and must not expire users' connections.
const DEAD_GRANT = new Set(['invalid_grant', 'invalid_refresh_token', 'token_expired', 'expired_token', 'token_revoked']);
const isDeadGrant = (failure: Failure) => failure.kind === 'refused' && (failure.error ? DEAD_GRANT.has(failure.error) : failure.status === 400 || failure.status === 401);

/**
 * A valid access token for a connection of `accountId`, refreshed first when it expires within a
 * minute. Concurrent callers, in this process or another, serialize on the connection's row lock
 * (`SELECT … FOR UPDATE`), so one refreshes and the others read its result. A rotated refresh token
 * is saved in the same transaction; a refused refresh marks the connection EXPIRED and emits
 * `connection.failed` (status EXPIRED) through the outbox.
 */
export async function getAccessToken(
  runtime: PlatformsRuntime,
  db: Orm | Em,
  ref: { accountId: string; connectionId: string },
  options: AccessTokenOptions = {},
): Promise<AccessToken> {
  if (!isUuid(ref.connectionId) || !isUuid(ref.accountId)) throw new NotFoundError('Connection');
  const em = 'em' in db ? db.em.fork() : db.fork();
  const outcome = await em.transactional((tx) => obtainToken(runtime, tx, ref, options, ['AUTHORIZED']));
  if ('error' in outcome) throw outcome.error;
  return outcome.token;
}

export type TokenOutcome = { token: AccessToken; connection: Connection; definition: PlatformDefinition } | { error: NotFoundError | AccessTokenError; connection?: Connection };

/** The locked read-refresh-save at the heart of `getAccessToken`; runs inside the caller's transaction. */
export async function obtainToken(
  runtime: PlatformsRuntime,
  tx: Em,
  ref: { accountId: string; connectionId: string },
  options: AccessTokenOptions,
  usable: ConnectionStatus[],
): Promise<TokenOutcome> {
  const connection = await tx.findOne(Connection, { id: ref.connectionId, accountId: ref.accountId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!connection) return { error: new NotFoundError('Connection') };
  const refuse = (code: ConstructorParameters<typeof AccessTokenError>[0], message: string, transient = false) => ({ error: new AccessTokenError(code, message, transient), connection });
  if (!usable.includes(connection.status)) {
    if (connection.status === 'REVOKED') return refuse(CODES.CONNECTION_REVOKED, 'This connection was revoked.');
    if (connection.status === 'EXPIRED') return refuse(CODES.CONNECTION_EXPIRED, 'The platform no longer accepts this connection’s authorization: authorize it again.');
    return refuse(CODES.CONNECTION_NOT_AUTHORIZED, `This connection is ${connection.status.toLowerCase()}, not authorized.`);
  }
  const platform = await tx.findOneOrFail(Platform, { id: connection.platformId });
  const definition = findDefinition(platform.slug);
  if (!definition) return refuse(CODES.UNKNOWN_PLATFORM, `${platform.name} is no longer supported.`);
  const secret = await tx.findOne(ConnectionSecret, { connectionId: connection.id, accountId: connection.accountId });
  const credentials = secret ? runtime.vault.openCredentials(secret) : null;
  if (!secret || !credentials) return refuse(CODES.CONNECTION_NOT_AUTHORIZED, 'This connection has no credentials: authorize it first.');

  const params = connection.params ?? {};
  const token = (value: string, authType: AuthType, expiresAt: Date | null): TokenOutcome => {
    const spec = authType === 'API_KEY' ? definition.apiKey! : definition.oauth2!;
    // A database's key is its connection string, used to log in; a defined API's key travels as its
    // definition says (the connector sends it): neither goes in a fixed header.
    const headers = 'method' in spec.identity ? credentialHeaders(spec.credential, value) : {};
    let apiBaseUrl: string | null = null;
    try {
      apiBaseUrl = fillTemplate(definition.apiBaseUrl, params);
    } catch {
      // A parameter the platform has not given yet (older connection): the worker will see null.
    }
    return {
      connection,
      definition,
      token: {
        connectionId: connection.id,
        accountId: connection.accountId,
        platform: definition.slug,
        authType,
        token: value,
        headers: { ...definition.apiHeaders, ...headers },
        expiresAt,
        params: { ...params },
        apiBaseUrl,
      },
    };
  };

  if (credentials.kind === 'apiKey') {
    if (!effectiveApiKey(runtime, definition)) return refuse(CODES.WRONG_AUTH_TYPE, `${definition.name} no longer takes API keys.`);
    return token(credentials.apiKey, 'API_KEY', null);
  }
  const spec = effectiveOAuth(runtime, definition);
  if (!spec) return refuse(CODES.WRONG_AUTH_TYPE, `${definition.name} no longer offers OAuth.`);
  const now = runtime.now();
  const expiresAt = connection.accessTokenExpiresAt;
  const fresh = !expiresAt || expiresAt.getTime() - now > (options.minValidityMs ?? 60_000);
  if (fresh && !options.forceRefresh) return token(credentials.accessToken, 'OAUTH2', expiresAt ?? null);

  const at = new Date(now);
  const expire = (message: string): TokenOutcome => {
    connection.status = 'EXPIRED';
    connection.accessTokenExpiresAt = null;
    recordError(connection, CODES.TOKEN_REFRESH_REFUSED, message, at);
    enqueueEvent(tx, connectionEvent('connection.failed', connection, definition.slug, { code: CODES.TOKEN_REFRESH_REFUSED, message }));
    return refuse(CODES.TOKEN_REFRESH_REFUSED, message);
  };
  if (!credentials.refreshToken) return expire(`The access token expired and ${definition.name} gave no refresh token: authorize the connection again.`);
  const client = runtime.clients[definition.slug];
  if (!client) return refuse(CODES.PLATFORM_NOT_CONFIGURED, `OAuth for ${definition.name} is not configured on this ListBackup.`);

  const refreshed = await requestTokens(spec, fillTemplate(spec.tokenUrl, params), client, { grant_type: 'refresh_token', refresh_token: credentials.refreshToken }, runtime.httpTimeoutMs);
  if (!refreshed.ok) {
    const reason = describeFailure(refreshed.failure);
    if (isDeadGrant(refreshed.failure)) return expire(`${definition.name} refused to refresh the access (${reason}): authorize the connection again.`);
    connection.refreshFailingSince ??= at;
    if (refreshed.failure.kind === 'unavailable') return refuse(CODES.TOKEN_REFRESH_UNAVAILABLE, `Could not refresh the access token: ${reason}.`, true);
    if (refreshed.failure.kind === 'target') return refuse(refreshed.failure.code, `Could not refresh the access token: ${reason}.`, refreshed.failure.code === 'TARGET_UNREACHABLE');
    recordError(connection, CODES.TOKEN_REFRESH_FAILED, `Refreshing the access token failed: ${reason}.`, at);
    return refuse(CODES.TOKEN_REFRESH_FAILED, `Refreshing the access token failed: ${reason}.`);
  }
  const { tokens } = refreshed;
  const next: Credentials = {
    kind: 'oauth2',
    accessToken: tokens.accessToken,
    // Rotating platforms send a new refresh token and void the old one; the others send none.
    refreshToken: tokens.refreshToken ?? credentials.refreshToken,
    tokenType: tokens.tokenType ?? credentials.tokenType,
  };
  runtime.vault.seal(secret, 'credentials', next);
  connection.accessTokenExpiresAt = tokens.expiresIn ? new Date(now + tokens.expiresIn * 1000) : null;
  // A rotated refresh token comes with its own lifetime; one kept keeps the lifetime it had.
  if (tokens.refreshToken) connection.credentialExpiresAt = tokens.refreshTokenExpiresIn ? new Date(now + tokens.refreshTokenExpiresIn * 1000) : null;
  connection.refreshFailingSince = null;
  if (tokens.scope) connection.scopes = splitScopes(tokens.scope);
  connection.updatedAt = at;
  if (connection.lastErrorCode?.startsWith('TOKEN_REFRESH')) clearError(connection);
  return token(tokens.accessToken, 'OAUTH2', connection.accessTokenExpiresAt ?? null);
}

/** SHA-256 (hex) of a credential: how a worker names the one a platform refused without sending it. */
export function credentialFingerprint(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * The platform refused a connection's credential even after a refresh (a worker saw a 401, Slack's
 * `token_revoked`, …): the connection is EXPIRED, needing authorization again, with the platform's
 * answer as its error and `connection.failed` in the outbox. `fingerprint` names the credential that
 * was refused; when the connection holds another one by now (it was refreshed or authorized again
 * since), nothing changes. Answers whether the connection was marked.
 */
export async function markCredentialRefused(
  runtime: PlatformsRuntime,
  db: Orm | Em,
  ref: { accountId: string; connectionId: string },
  refusal: { fingerprint: string; message: string },
): Promise<boolean> {
  if (!isUuid(ref.connectionId) || !isUuid(ref.accountId)) throw new NotFoundError('Connection');
  const em = 'em' in db ? db.em.fork() : db.fork();
  return em.transactional(async (tx) => {
    const connection = await tx.findOne(Connection, { id: ref.connectionId, accountId: ref.accountId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!connection) throw new NotFoundError('Connection');
    if (connection.status !== 'AUTHORIZED') return false;
    const secret = await tx.findOne(ConnectionSecret, { connectionId: connection.id, accountId: connection.accountId });
    const credentials = secret ? runtime.vault.openCredentials(secret) : null;
    const held = credentials ? (credentials.kind === 'apiKey' ? credentials.apiKey : credentials.accessToken) : null;
    if (held === null || credentialFingerprint(held) !== refusal.fingerprint) return false;
    const platform = await tx.findOneOrFail(Platform, { id: connection.platformId });
    const message = `${platform.name} refused the connection’s credentials (${refusal.message.slice(0, 300)}): authorize the connection again.`;
    connection.status = 'EXPIRED';
    connection.accessTokenExpiresAt = null;
    recordError(connection, CODES.CREDENTIALS_REFUSED, message, new Date(runtime.now()));
    enqueueEvent(tx, connectionEvent('connection.failed', connection, platform.slug, { code: CODES.CREDENTIALS_REFUSED, message }));
    return true;
  });
}

export function splitScopes(scope: string): string[] {
  return scope.split(/[\s,]+/).filter(Boolean);
}
