import { describe, expect, it } from 'vitest';
import { backoffMs, decideRetry, DEFAULT_RETRY_POLICY, type RetryPolicy } from '../src/worker/retry-policy.ts';
import { classifyFailure, JobFailure } from '../src/worker/errors.ts';

const policy: RetryPolicy = { maxFailuresWithoutProgress: 3, maxFailures: 8, baseDelayMs: 1_000, maxDelayMs: 60_000, maxRetryAfterMs: 3_600_000, maxDeferralMs: 3_600_000 };

describe('retry policy', () => {
  it('retries only transient and rate-limited failures', () => {
    const counts = { failures: 1, failuresWithoutProgress: 1 };
    expect(decideRetry(policy, { type: 'TRANSIENT' }, counts).retry).toBe(true);
    expect(decideRetry(policy, { type: 'RATE_LIMITED' }, counts).retry).toBe(true);
    expect(decideRetry(policy, { type: 'CONFIG' }, counts)).toEqual({ retry: false, why: 'not retryable' });
    expect(decideRetry(policy, { type: 'INTERNAL' }, counts)).toEqual({ retry: false, why: 'not retryable' });
  });

  it('stops sooner when attempts make no progress than when they do', () => {
    expect(decideRetry(policy, { type: 'TRANSIENT' }, { failures: 3, failuresWithoutProgress: 3 })).toEqual({ retry: false, why: '3 attempts in a row made no progress' });
    expect(decideRetry(policy, { type: 'TRANSIENT' }, { failures: 7, failuresWithoutProgress: 0 }).retry).toBe(true);
    expect(decideRetry(policy, { type: 'TRANSIENT' }, { failures: 8, failuresWithoutProgress: 0 })).toEqual({ retry: false, why: '8 attempts failed' });
  });

  it('doubles the delay per failure up to a cap, with jitter in the upper half', () => {
    for (const [failures, ceiling] of [[1, 1_000], [2, 2_000], [3, 4_000], [10, 60_000]] as const) {
      expect(backoffMs(policy, failures, undefined, () => 0)).toBe(ceiling / 2);
      expect(backoffMs(policy, failures, undefined, () => 0.999999)).toBeLessThanOrEqual(ceiling);
      expect(backoffMs(policy, failures, undefined, () => 0.999999)).toBeGreaterThan(ceiling * 0.99);
    }
  });

  it('never retries sooner than the platform’s Retry-After, and gives up when it asks for too long', () => {
    expect(backoffMs(policy, 1, 30_000, () => 0.5)).toBe(30_000);
    expect(decideRetry(policy, { type: 'RATE_LIMITED', retryAfterMs: 45_000 }, { failures: 1, failuresWithoutProgress: 1 })).toEqual({ retry: true, delayMs: 45_000 });
    expect(decideRetry(policy, { type: 'RATE_LIMITED', retryAfterMs: 7_200_000 }, { failures: 1, failuresWithoutProgress: 1 })).toEqual({ retry: false, why: 'the platform asked to wait 7200 s' });
    expect(DEFAULT_RETRY_POLICY.maxFailuresWithoutProgress).toBeLessThan(DEFAULT_RETRY_POLICY.maxFailures);
  });
});

describe('failure classification', () => {
  it('reads the failure type (and Retry-After) from JobFailure and from any error carrying them', () => {
    expect(classifyFailure(new JobFailure('RATE_LIMITED', 'Too many requests', { retryAfterMs: 2_000 }))).toEqual({ type: 'RATE_LIMITED', reason: 'Too many requests', retryAfterMs: 2_000 });
    const connectorError = Object.assign(new Error('503 from the platform'), { failureType: 'TRANSIENT', retryAfterSeconds: 3 });
    expect(classifyFailure(connectorError)).toEqual({ type: 'TRANSIENT', reason: '503 from the platform', retryAfterMs: 3_000 });
    expect(classifyFailure(Object.assign(new Error('token revoked'), { failureType: 'CONFIG' }))).toEqual({ type: 'CONFIG', reason: 'token revoked' });
  });

  it('treats anything else as INTERNAL and keeps its message out of the reason', () => {
    const failure = classifyFailure(new Error('password=hunter2 in a stack'));
    expect(failure.type).toBe('INTERNAL');
    expect(failure.reason).not.toContain('hunter2');
    expect(failure.reason).toContain(failure.reference!);
    expect(classifyFailure(Object.assign(new Error('x'), { failureType: 'NOT_A_TYPE' })).type).toBe('INTERNAL');
  });
});
