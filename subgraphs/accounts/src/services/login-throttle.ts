import { LockMode } from '@mikro-orm/core';
import type { Em } from '@listbackup/lib/db';
import { AppError } from '@listbackup/lib/errors';
import { LoginThrottle } from '../entities/login-attempt.ts';

/**
 * Failed sign-ins are counted per email and per client IP. Past a number of free failures within
 * the window (15 minutes without a failure or a block forgets them), each further failure blocks
 * the key for twice as long as the one before (1 s, 2 s, 4 s, …, at most 15 minutes). A success clears the email's count, never the IP's: one valid
 * account must not reset the limit on guessing others.
 */
export const THROTTLE_WINDOW_MS = 15 * 60_000;
export const MAX_BLOCK_MS = 15 * 60_000;
/** An IP is shared by everyone behind one NAT (an office), so it gets more free failures than an email. */
export const FREE_FAILURES = { email: 5, ip: 20 } as const;

/** The clock the throttle reads; tests move it instead of waiting. */
export const throttleClock = { now: (): number => Date.now() };

export class TooManyAttemptsError extends AppError {
  constructor(retryAfterSeconds: number) {
    super('TOO_MANY_ATTEMPTS', `Too many failed sign-in attempts. Try again in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}.`, {
      retryAfterSeconds,
    });
  }
}

export interface ThrottleKey {
  key: string;
  freeFailures: number;
}

/**
 * The client address the gateway forwarded, if it looks like one: the first entry of a
 * comma-separated list, an IPv4 or IPv6 literal. Anything else is ignored rather than stored.
 */
export function clientAddress(raw: string | undefined): string | undefined {
  const first = raw?.split(',')[0]?.trim().toLowerCase();
  return first && first.length <= 45 && /^[0-9a-f:.]+$/.test(first) ? first : undefined;
}

export function throttleKeys(email: string, clientIp: string | undefined): ThrottleKey[] {
  const keys: ThrottleKey[] = [{ key: `email:${email.slice(0, 240)}`, freeFailures: FREE_FAILURES.email }];
  const ip = clientAddress(clientIp);
  if (ip) keys.push({ key: `ip:${ip}`, freeFailures: FREE_FAILURES.ip });
  return keys;
}

/** Throws TOO_MANY_ATTEMPTS while any of the keys is blocked. */
export async function assertNotThrottled(em: Em, keys: ThrottleKey[]): Promise<void> {
  const now = throttleClock.now();
  const rows = await em.fork().find(LoginThrottle, { key: { $in: keys.map((k) => k.key) }, blockedUntil: { $gt: new Date(now) } });
  const until = Math.max(0, ...rows.map((row) => row.blockedUntil!.getTime()));
  if (until > now) throw new TooManyAttemptsError(Math.ceil((until - now) / 1000));
}

/** Counts one failure against every key (committed on its own, whatever the caller does next). */
export async function recordFailure(em: Em, keys: ThrottleKey[]): Promise<void> {
  const now = throttleClock.now();
  await em.fork().transactional(async (tx) => {
    for (const { key, freeFailures } of keys) {
      await tx
        .createQueryBuilder(LoginThrottle)
        .insert({ key, failures: 0, lastFailureAt: new Date(now), blockedUntil: null })
        .onConflict('key')
        .ignore()
        .execute('run');
      const row = await tx.findOneOrFail(LoginThrottle, { key }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      // The window runs from the last failure or the end of the block, whichever is later: waiting
      // out a long block must not wipe the slate, or the free failures would come back every cycle.
      const quietSince = Math.max(row.lastFailureAt.getTime(), row.blockedUntil?.getTime() ?? 0);
      const inWindow = now - quietSince < THROTTLE_WINDOW_MS;
      row.failures = inWindow ? row.failures + 1 : 1;
      row.lastFailureAt = new Date(now);
      row.blockedUntil = row.failures >= freeFailures ? new Date(now + blockMs(row.failures - freeFailures)) : null;
    }
  });
  // Now and then, forget keys whose failures have aged out, so the table stays small.
  if (Math.random() < PRUNE_PROBABILITY) await pruneThrottles(em);
}

const PRUNE_PROBABILITY = 0.02;

export async function pruneThrottles(em: Em): Promise<number> {
  const expired = new Date(throttleClock.now() - THROTTLE_WINDOW_MS);
  return em.fork().nativeDelete(LoginThrottle, {
    lastFailureAt: { $lt: expired },
    $or: [{ blockedUntil: null }, { blockedUntil: { $lt: expired } }],
  });
}

function blockMs(excess: number): number {
  return Math.min(MAX_BLOCK_MS, 1000 * 2 ** Math.min(excess, 30));
}

export async function clearFailures(em: Em, key: string): Promise<void> {
  await em.fork().nativeDelete(LoginThrottle, { key });
}
