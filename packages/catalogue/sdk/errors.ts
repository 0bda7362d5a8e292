/**
 * Connector failures, typed by what the job runtime should do about them:
 * AUTH (the platform refuses the credential even after a refresh: the user must authorize the
 * connection again; no retry), CONFIG (the user must fix something else: no retry), TRANSIENT
 * (retry with backoff), RATE_LIMITED (retry after `retryAfterMs`), INTERNAL (our bug or an answer
 * we do not understand).
 */
export const FAILURE_TYPES = ['AUTH', 'CONFIG', 'TRANSIENT', 'RATE_LIMITED', 'INTERNAL'] as const;
export type FailureType = (typeof FAILURE_TYPES)[number];

export interface ConnectorErrorDetails {
  /** HTTP status of the platform's answer, when there was one. */
  status?: number;
  /** The platform's own error code or type (`rate_limit_error`, `userRateLimitExceeded`, a SQLSTATE, ...). */
  platformCode?: string;
  /** How long the platform asked us to wait before trying again. */
  retryAfterMs?: number;
  /** How many attempts were made before giving up. */
  attempts?: number;
  cause?: unknown;
}

export class ConnectorError extends Error {
  readonly failureType: FailureType;
  readonly status?: number;
  readonly platformCode?: string;
  readonly retryAfterMs?: number;
  readonly attempts?: number;

  constructor(failureType: FailureType, message: string, details: ConnectorErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.failureType = failureType;
    this.status = details.status;
    this.platformCode = details.platformCode;
    this.retryAfterMs = details.retryAfterMs;
    this.attempts = details.attempts;
  }

  /** Whether the job runtime may retry the work that failed. */
  get retryable(): boolean {
    return this.failureType === 'TRANSIENT' || this.failureType === 'RATE_LIMITED';
  }
}

/** Credentials were refused even after one refresh: the connection must be re-authorized. */
export class AuthError extends ConnectorError {
  constructor(message: string, details: ConnectorErrorDetails = {}) {
    super('AUTH', message, details);
  }
}

/** Something the user configured is wrong or missing (permission, resource, setting). */
export class ConfigError extends ConnectorError {
  constructor(message: string, details: ConnectorErrorDetails = {}) {
    super('CONFIG', message, details);
  }
}

/** The platform or the network failed in a way that may heal; attempts are exhausted. */
export class TransientError extends ConnectorError {
  constructor(message: string, details: ConnectorErrorDetails = {}) {
    super('TRANSIENT', message, details);
  }
}

/** The platform keeps rate limiting us, or asks for a wait longer than we are willing to sleep. */
export class RateLimitedError extends ConnectorError {
  constructor(message: string, details: ConnectorErrorDetails = {}) {
    super('RATE_LIMITED', message, details);
  }
}

/** The platform refused the request in a way that says our request was wrong (a 400, a 422, ...). */
export class PlatformError extends ConnectorError {
  constructor(message: string, details: ConnectorErrorDetails = {}) {
    super('INTERNAL', message, details);
  }
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError') && !(error instanceof ConnectorError);
}

/** The failure type of anything a connector threw; unknown errors are INTERNAL. */
export function failureTypeOf(error: unknown): FailureType {
  return error instanceof ConnectorError ? error.failureType : 'INTERNAL';
}
