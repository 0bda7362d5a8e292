import type { FailureType } from '../entities/job.ts';

/**
 * When a failed attempt is tried again. Only TRANSIENT and RATE_LIMITED failures are. Two budgets:
 * attempts in a row that made no progress run out first (a job stuck on the same error stops
 * soon), attempts that got somewhere may go on longer (a big backup through a flaky network).
 */
export interface RetryPolicy {
  /** Failed attempts in a row without progress before the job fails. */
  maxFailuresWithoutProgress: number;
  /** Failed attempts in all before the job fails. */
  maxFailures: number;
  /** First delay; doubles with each failure, with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A platform's Retry-After beyond this is not waited for: the attempt fails. */
  maxRetryAfterMs: number;
  /**
   * How long a job waits, deferral after deferral, on a platform whose circuit breaker stays open
   * (counted from the first deferral since an attempt last made progress); then it fails UNAVAILABLE.
   */
  maxDeferralMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxFailuresWithoutProgress: 3,
  maxFailures: 10,
  baseDelayMs: 15_000,
  maxDelayMs: 15 * 60_000,
  maxRetryAfterMs: 6 * 3600_000,
  maxDeferralMs: 6 * 3600_000,
};

export type RetryDecision = { retry: true; delayMs: number } | { retry: false; why: string };

export function decideRetry(
  policy: RetryPolicy,
  failure: { type: FailureType; retryAfterMs?: number },
  counts: { failures: number; failuresWithoutProgress: number },
  random: () => number = Math.random,
): RetryDecision {
  if (failure.type !== 'TRANSIENT' && failure.type !== 'RATE_LIMITED') return { retry: false, why: 'not retryable' };
  if (counts.failuresWithoutProgress >= policy.maxFailuresWithoutProgress) {
    return { retry: false, why: `${counts.failuresWithoutProgress} attempts in a row made no progress` };
  }
  if (counts.failures >= policy.maxFailures) return { retry: false, why: `${counts.failures} attempts failed` };
  if (failure.retryAfterMs !== undefined && failure.retryAfterMs > policy.maxRetryAfterMs) {
    return { retry: false, why: `the platform asked to wait ${Math.round(failure.retryAfterMs / 1000)} s` };
  }
  return { retry: true, delayMs: backoffMs(policy, counts.failures, failure.retryAfterMs, random) };
}

/** Exponential backoff with "equal jitter" (half fixed, half random), never sooner than Retry-After. */
export function backoffMs(policy: RetryPolicy, failures: number, retryAfterMs: number | undefined, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failures - 1));
  const delay = ceiling / 2 + random() * (ceiling / 2);
  return Math.round(Math.max(delay, retryAfterMs ?? 0));
}
