import { randomUUID } from 'node:crypto';
import { FAILURE_TYPES, type FailureType } from '../entities/job.ts';

/**
 * An expected failure of a job attempt. CONFIG is never retried; TRANSIENT and RATE_LIMITED are,
 * with backoff (and not before `retryAfterMs` when the platform said so); INTERNAL is not.
 * Errors from elsewhere (engine, connectors) are understood too when they carry `failureType`
 * (and optionally `retryAfterMs` or `retryAfterSeconds`).
 */
export class JobFailure extends Error {
  readonly failureType: FailureType;
  readonly retryAfterMs?: number;

  constructor(failureType: FailureType, message: string, options: { retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'JobFailure';
    this.failureType = failureType;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export interface ClassifiedFailure {
  type: FailureType;
  /** Shown to the account's members. */
  reason: string;
  retryAfterMs?: number;
  /** For INTERNAL failures: the id under which the details went to the service log. */
  reference?: string;
}

export function classifyFailure(error: unknown): ClassifiedFailure {
  const candidate = error as { failureType?: unknown; message?: unknown; retryAfterMs?: unknown; retryAfterSeconds?: unknown } | null;
  const type = candidate?.failureType;
  if (typeof type === 'string' && (FAILURE_TYPES as readonly string[]).includes(type) && type !== 'INTERNAL') {
    const retryAfterMs =
      typeof candidate!.retryAfterMs === 'number' ? candidate!.retryAfterMs : typeof candidate!.retryAfterSeconds === 'number' ? candidate!.retryAfterSeconds * 1000 : undefined;
    const reason = typeof candidate!.message === 'string' && candidate!.message ? candidate!.message : type;
    return { type: type as FailureType, reason, ...(retryAfterMs !== undefined && retryAfterMs >= 0 ? { retryAfterMs } : {}) };
  }
  const reference = randomUUID();
  return { type: 'INTERNAL', reason: `An internal error stopped this attempt (reference ${reference})`, reference };
}

/** Why a worker aborted a handler's signal. */
export type AbortCause = 'cancelled' | 'shutdown' | 'lease-lost';

export class JobAbort extends Error {
  readonly kind: AbortCause;
  constructor(kind: AbortCause) {
    super(`job aborted: ${kind}`);
    this.name = 'AbortError';
    this.kind = kind;
  }
}

export const abortCauseOf = (signal: AbortSignal): AbortCause | null => (signal.aborted && signal.reason instanceof JobAbort ? signal.reason.kind : null);
