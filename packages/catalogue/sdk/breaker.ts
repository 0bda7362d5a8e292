/**
 * Circuit breakers around a platform's HTTP calls: one per connection and one per platform (API
 * root), shared by every run in the process, like pacing. A breaker opens after `threshold`
 * transient failures in a row (5xx, 408, network errors, timeouts; never 4xx, 429 or an auth
 * failure), refuses calls for `coolDownMs`, then lets one call through (half-open): its success
 * closes the breaker, its failure opens it again. The state machine is cockatiel's.
 */
import { BrokenCircuitError, CircuitState, circuitBreaker, ConsecutiveBreaker, type CircuitBreakerPolicy, handleWhenResult } from 'cockatiel';
import { metrics } from '@listbackup/lib/metrics';
import { TransientError } from './errors.ts';

export interface BreakerPolicy {
  /** Transient failures in a row of one connection that open its breaker. */
  breakerThreshold: number;
  /** Transient failures in a row across all connections of a platform that open the platform's breaker. */
  platformBreakerThreshold: number;
  /** How long an open breaker refuses calls before it lets one through. */
  breakerCoolDownMs: number;
}

export const DEFAULT_BREAKER_POLICY: BreakerPolicy = {
  breakerThreshold: 10,
  platformBreakerThreshold: 20,
  breakerCoolDownMs: 60_000,
};

/** What a call through a breaker gives back; `counted` marks a transient failure. */
export interface BreakerOutcome {
  counted: boolean;
}

/** A breaker refused the call: the platform (or the connection) is taken as unavailable until `retryAfterMs` passes. */
export class UnavailableError extends TransientError {
  /** The job runtime defers the job (back to the queue, no retry budget spent) instead of failing the attempt. */
  readonly deferred = true;
}

interface Breaker {
  policy: CircuitBreakerPolicy;
  coolDownMs: number;
  threshold: number;
  openedAt: number;
  lastFailure: string;
}

const MAX_BREAKERS = 2000;
const breakers = new Map<string, Breaker>();

function breakerFor(key: string, platform: string, scope: 'platform' | 'connection', threshold: number, coolDownMs: number): Breaker {
  const breaker = breakers.get(key);
  if (breaker) return breaker;
  if (breakers.size >= MAX_BREAKERS) {
    for (const [name, b] of breakers) if (b.policy.state === CircuitState.Closed) breakers.delete(name);
  }
  const policy = circuitBreaker(
    handleWhenResult((result) => (result as BreakerOutcome).counted),
    { halfOpenAfter: coolDownMs, breaker: new ConsecutiveBreaker(threshold) },
  );
  const created: Breaker = { policy, coolDownMs, threshold, openedAt: 0, lastFailure: '' };
  policy.onBreak(() => {
    created.openedAt = Date.now();
  });
  policy.onStateChange((state) => {
    const name = state === CircuitState.Open ? 'open' : state === CircuitState.HalfOpen ? 'half_open' : state === CircuitState.Closed ? 'closed' : 'isolated';
    metrics.circuitTransitions.inc({ platform, scope, state: name });
  });
  breakers.set(key, created);
  return created;
}

/**
 * Runs one HTTP attempt through the connection's breaker inside the platform's. `attempt` never
 * throws for a failure the breakers should count: it answers `{ counted: true, ... }` and a
 * `describe` of it instead.
 */
export async function throughBreakers<R extends BreakerOutcome>(
  names: { platform: string; apiRoot: string; connection: string },
  policy: BreakerPolicy,
  attempt: () => Promise<R>,
  describe: (outcome: R) => string,
): Promise<R> {
  const platform = breakerFor(`platform|${names.apiRoot}`, names.platform, 'platform', policy.platformBreakerThreshold, policy.breakerCoolDownMs);
  const connection = breakerFor(`connection|${names.apiRoot}|${names.connection}`, names.platform, 'connection', policy.breakerThreshold, policy.breakerCoolDownMs);
  let refusedBy: Breaker = platform;
  try {
    // Refused before the platform's breaker sees the call, which would count it as a success.
    if (connection.policy.state === CircuitState.Open && Date.now() - connection.openedAt < connection.coolDownMs) {
      refusedBy = connection;
      throw new BrokenCircuitError();
    }
    return await platform.policy.execute(async () => {
      refusedBy = connection;
      const outcome = await connection.policy.execute(attempt);
      if (outcome.counted) connection.lastFailure = platform.lastFailure = describe(outcome);
      return outcome;
    });
  } catch (error) {
    if (!(error instanceof BrokenCircuitError)) throw error;
    const retryAt = new Date(Math.max(Date.now() + 1000, refusedBy.openedAt + refusedBy.coolDownMs));
    const who = refusedBy === platform ? names.platform : `${names.platform} (for this connection)`;
    throw new UnavailableError(
      `${who} is unavailable: ${refusedBy.threshold} requests in a row failed (last: ${refusedBy.lastFailure || 'unknown'}); retrying at ${retryAt.toISOString()}`,
      { retryAfterMs: retryAt.getTime() - Date.now() },
    );
  }
}
