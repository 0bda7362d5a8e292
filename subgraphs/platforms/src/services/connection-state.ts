import { AppError } from '@listbackup/lib/errors';
import type { Actor } from '@listbackup/lib/events/envelope';
import { createEvent, type EventDataInput, type EventOf } from '@listbackup/lib/events/contract';
import type { Connection, ConnectionStatus } from '../entities/connection.ts';

/** Stable codes of expected failures, in `extensions.code`, `lastErrorCode` and result pages. */
export const CODES = {
  UNKNOWN_PLATFORM: 'UNKNOWN_PLATFORM',
  WRONG_AUTH_TYPE: 'WRONG_AUTH_TYPE',
  INVALID_API_KEY_FORMAT: 'INVALID_API_KEY_FORMAT',
  PLATFORM_NOT_CONFIGURED: 'PLATFORM_NOT_CONFIGURED',
  API_KEY_REJECTED: 'API_KEY_REJECTED',
  /** A replacement key that belongs to another account at the platform than the connection's. */
  API_KEY_OTHER_ACCOUNT: 'API_KEY_OTHER_ACCOUNT',
  PLATFORM_UNAVAILABLE: 'PLATFORM_UNAVAILABLE',
  CREDENTIALS_REFUSED: 'CREDENTIALS_REFUSED',
  CONNECTION_NOT_AUTHORIZED: 'CONNECTION_NOT_AUTHORIZED',
  CONNECTION_EXPIRED: 'CONNECTION_EXPIRED',
  CONNECTION_REVOKED: 'CONNECTION_REVOKED',
  CALLBACK_MISSING_PARAMS: 'CALLBACK_MISSING_PARAMS',
  CALLBACK_PARAM_MISMATCH: 'CALLBACK_PARAM_MISMATCH',
  /** The platform signs its redirect (Shopify's `hmac`) and this one's signature is missing or wrong. */
  CALLBACK_SIGNATURE_INVALID: 'CALLBACK_SIGNATURE_INVALID',
  /** The redirect's `iss` (RFC 9207) names another authorization server than the platform's, or is missing where it always comes. */
  CALLBACK_ISSUER_MISMATCH: 'CALLBACK_ISSUER_MISMATCH',
  OAUTH_STATE_INVALID: 'OAUTH_STATE_INVALID',
  OAUTH_STATE_EXPIRED: 'OAUTH_STATE_EXPIRED',
  OAUTH_STATE_USED: 'OAUTH_STATE_USED',
  OAUTH_STATE_ACCOUNT_MISMATCH: 'OAUTH_STATE_ACCOUNT_MISMATCH',
  OAUTH_ACCESS_DENIED: 'OAUTH_ACCESS_DENIED',
  OAUTH_PROVIDER_ERROR: 'OAUTH_PROVIDER_ERROR',
  OAUTH_CODE_REJECTED: 'OAUTH_CODE_REJECTED',
  OAUTH_TOKEN_ENDPOINT_UNAVAILABLE: 'OAUTH_TOKEN_ENDPOINT_UNAVAILABLE',
  TOKEN_REFRESH_REFUSED: 'TOKEN_REFRESH_REFUSED',
  TOKEN_REFRESH_FAILED: 'TOKEN_REFRESH_FAILED',
  TOKEN_REFRESH_UNAVAILABLE: 'TOKEN_REFRESH_UNAVAILABLE',
  /** The platform's address is internal (loopback, private, metadata, ...): ListBackup does not connect there. */
  TARGET_NOT_ALLOWED: 'TARGET_NOT_ALLOWED',
  /** Nothing could be reached at the platform's address (no such host, nothing listening, network down). */
  TARGET_UNREACHABLE: 'TARGET_UNREACHABLE',
} as const;
export type Code = (typeof CODES)[keyof typeof CODES];

/** Codes after which a connection works again only once someone authorizes it again. */
export const NEEDS_AUTHORIZATION: ReadonlySet<string> = new Set([CODES.TOKEN_REFRESH_REFUSED, CODES.CONNECTION_EXPIRED, CODES.CONNECTION_NOT_AUTHORIZED, CODES.CREDENTIALS_REFUSED]);

export class ConnectionError extends AppError {
  readonly code: Code;
  constructor(code: Code, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, extensions);
    this.code = code;
  }
}

export function recordError(connection: Connection, code: string, message: string, at: Date): void {
  connection.lastError = message;
  connection.lastErrorCode = code;
  connection.lastErrorAt = at;
  connection.updatedAt = at;
}

export function clearError(connection: Connection): void {
  connection.lastError = null;
  connection.lastErrorCode = null;
  connection.lastErrorAt = null;
}

type ConnectionEventType = 'connection.created' | 'connection.authorized' | 'connection.failed' | 'connection.expiring' | 'connection.revoked' | 'connection.webhook_received';
type ConnectionBase = 'connectionId' | 'platformId' | 'platform' | 'name' | 'authType' | 'status';

/** The event of a connection's state change; the data never holds a credential. */
export function connectionEvent<T extends ConnectionEventType>(
  type: T,
  connection: Connection,
  platformSlug: string,
  extra: Omit<EventDataInput<T>, ConnectionBase>,
  actor?: Actor,
): EventOf<T> {
  const data = {
    connectionId: connection.id,
    platformId: connection.platformId,
    platform: platformSlug,
    name: connection.name,
    authType: connection.authType,
    status: connection.status satisfies ConnectionStatus,
    ...extra,
  } as EventDataInput<T>;
  return createEvent(type, connection.accountId, connection.id, data, { actor });
}
