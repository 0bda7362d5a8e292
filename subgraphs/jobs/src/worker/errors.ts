import { randomUUID } from 'node:crypto';
import { FAILURE_TYPES, type FailureType } from '../entities/job.ts';

/**
 * An expected failure of a job attempt. AUTH and CONFIG are never retried; TRANSIENT and RATE_LIMITED are,
 * with backoff (and not before `retryAfterMs` when the platform said so); INTERNAL is not.
 * Errors from elsewhere (engine, connectors) are understood too when they carry `failureType`
 * (and optionally `retryAfterMs` or `retryAfterSeconds`).
 */
export class JobFailure extends Error {
  readonly failureType: FailureType;
  readonly retryAfterMs?: number;
  /** The job is deferred rather than failed (see ClassifiedFailure.deferred). */
  readonly deferred?: boolean;
  /** Stored on the job when this failure ends it (ClassifiedFailure.result). */
  readonly result?: Record<string, unknown>;

  constructor(failureType: FailureType, message: string, options: { retryAfterMs?: number; cause?: unknown; deferred?: boolean; result?: Record<string, unknown> } = {}) {
    super(message, { cause: options.cause });
    this.name = 'JobFailure';
    this.failureType = failureType;
    this.retryAfterMs = options.retryAfterMs;
    if (options.deferred) this.deferred = true;
    if (options.result) this.result = options.result;
  }
}

export interface ClassifiedFailure {
  type: FailureType;
  /** Shown to the account's members. */
  reason: string;
  retryAfterMs?: number;
  /** For INTERNAL failures: the id under which the details went to the service log. */
  reference?: string;
  /**
   * The platform is taken as unavailable (a connector's circuit breaker is open): the job waits
   * `retryAfterMs` in the queue without spending its retry budget.
   */
  deferred?: boolean;
  /** What the attempt found before it failed (a VERIFY's report), stored on the job when the failure ends it. */
  result?: Record<string, unknown>;
}

export function classifyFailure(error: unknown): ClassifiedFailure {
  const candidate = error as { failureType?: unknown; message?: unknown; retryAfterMs?: unknown; retryAfterSeconds?: unknown; deferred?: unknown } | null;
  const type = candidate?.failureType;
  if (typeof type === 'string' && (FAILURE_TYPES as readonly string[]).includes(type) && type !== 'INTERNAL') {
    const retryAfterMs =
      typeof candidate!.retryAfterMs === 'number' ? candidate!.retryAfterMs : typeof candidate!.retryAfterSeconds === 'number' ? candidate!.retryAfterSeconds * 1000 : undefined;
    const reason = typeof candidate!.message === 'string' && candidate!.message ? candidate!.message : type;
    const deferred = type === 'TRANSIENT' && candidate!.deferred === true && retryAfterMs !== undefined;
    const result = error instanceof JobFailure ? error.result : undefined;
    return {
      type: type as FailureType,
      reason,
      ...(retryAfterMs !== undefined && retryAfterMs >= 0 ? { retryAfterMs } : {}),
      ...(deferred ? { deferred } : {}),
      ...(result ? { result } : {}),
    };
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
