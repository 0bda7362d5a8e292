/**
 * Pacing: a request waits *before* it is sent so that the platform's documented limit is never
 * crossed, instead of being sent and answered 429. Two rules, both per credential and API root and
 * shared by every run in the process (two resources of one connection backed up at once share one
 * budget):
 *
 * - a steady rate per bucket: at most `limit` requests in any `intervalMs` (Notion's 3 requests
 *   a second, Slack's per-method tiers, Airtable's 5 a second per base);
 * - a hold the platform's own quota headers ask for (remaining 0 until the reset): no request of
 *   the credential goes out before it ends.
 */
import { createHash } from 'node:crypto';
import { RateLimitedError } from './errors.ts';
import { sleep } from './timing.ts';

/** At most `limit` requests in any window of `intervalMs`, counted per `key` (a method, a base). */
export interface RateSpec {
  key: string;
  limit: number;
  intervalMs: number;
}

/** Margin added to each window against clock jitter between us and the platform. */
const MARGIN_MS = 15;
const MAX_SCOPES = 2000;

interface Bucket {
  /**
   * One slot per request still counting: Infinity while in flight, then the time its answer came.
   * The answer's time, not the send's, starts its window: the platform counted the request
   * somewhere in between, and network delays cannot bunch requests up at its end.
   */
  slots: { at: number }[];
  intervalMs: number;
}

interface Scope {
  buckets: Map<string, Bucket>;
  holdUntil: number;
  lastUsed: number;
}

const scopes = new Map<string, Scope>();

/** The pacing scope of a credential at an API root: a hash, never the credential itself. */
export function pacingScope(baseUrl: string, authHeaders: Record<string, string>): string {
  const digest = createHash('sha256').update(JSON.stringify(authHeaders)).digest('base64url').slice(0, 22);
  return `${baseUrl}|${digest}`;
}

function scopeOf(name: string, now: number): Scope {
  let scope = scopes.get(name);
  if (!scope) {
    if (scopes.size >= MAX_SCOPES) prune(now);
    scope = { buckets: new Map(), holdUntil: 0, lastUsed: now };
    scopes.set(name, scope);
  }
  scope.lastUsed = now;
  return scope;
}

function prune(now: number): void {
  for (const [name, scope] of scopes) {
    const longest = Math.max(0, ...[...scope.buckets.values()].map((b) => b.intervalMs));
    if (scope.lastUsed + longest < now && scope.holdUntil < now) scopes.delete(name);
  }
}

/** How often a request whose bucket is full of requests in flight looks again. */
const POLL_MS = 20;

/**
 * Waits until a request may go out under the scope's hold and the rate of its bucket, then counts
 * it; call the returned function when its answer (or failure) comes. Callers in one process take
 * turns: each sees the requests of those before it.
 */
export async function pace(
  scopeName: string,
  rate: RateSpec | undefined,
  options: { signal?: AbortSignal; maxWaitMs?: number; platform?: string } = {},
): Promise<() => void> {
  for (;;) {
    const now = Date.now();
    const scope = scopeOf(scopeName, now);
    let wait = scope.holdUntil - now;
    let bucket: Bucket | undefined;
    if (rate && rate.limit > 0) {
      bucket = scope.buckets.get(rate.key);
      if (!bucket) {
        bucket = { slots: [], intervalMs: rate.intervalMs };
        scope.buckets.set(rate.key, bucket);
      }
      bucket.intervalMs = rate.intervalMs;
      const window = rate.intervalMs + MARGIN_MS;
      bucket.slots = bucket.slots.filter((slot) => slot.at + window > now);
      if (bucket.slots.length >= rate.limit) {
        const done = bucket.slots.filter((slot) => slot.at !== Number.POSITIVE_INFINITY).map((slot) => slot.at + window - now);
        // the wait until enough slots free up: the k-th earliest end, k = slots - limit + 1
        const need = bucket.slots.length - rate.limit + 1;
        done.sort((a, b) => a - b);
        wait = Math.max(wait, done.length >= need ? done[need - 1] : POLL_MS);
      }
    }
    if (wait <= 0) {
      if (!bucket) return () => {};
      const slot = { at: Number.POSITIVE_INFINITY };
      bucket.slots.push(slot);
      return () => {
        if (slot.at === Number.POSITIVE_INFINITY) slot.at = Date.now();
      };
    }
    if (options.maxWaitMs !== undefined && wait > options.maxWaitMs) {
      throw new RateLimitedError(`${options.platform ?? 'The platform'}: the rate limit is used up for another ${Math.ceil(wait / 1000)} s`, { retryAfterMs: wait });
    }
    await sleep(wait, options.signal);
  }
}

/** No request of the scope goes out for `ms` (the platform's quota is used up until its reset). */
export function holdScope(scopeName: string, ms: number): void {
  if (!(ms > 0)) return;
  const now = Date.now();
  const scope = scopeOf(scopeName, now);
  scope.holdUntil = Math.max(scope.holdUntil, now + ms);
}

/** Forgets every scope (tests that reuse one credential against fresh fakes). */
export function resetPacing(): void {
  scopes.clear();
}
