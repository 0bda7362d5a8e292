import { LockMode } from '@mikro-orm/core';
import type { Orm } from '@listbackup/lib/db';
import { enqueueEvent } from '@listbackup/lib/events/outbox';
import { Connection } from '../entities/connection.ts';
import { Platform } from '../entities/platform.ts';
import { connectionEvent } from './connection-state.ts';

const DAY_MS = 24 * 60 * 60_000;

export interface ExpiryPolicy {
  /** How long before a credential's expiry the account is told. */
  warnBeforeMs: number;
  /** How long refreshing must have kept failing before the account is told. */
  failingForMs: number;
}

export const DEFAULT_EXPIRY_POLICY: ExpiryPolicy = { warnBeforeMs: 7 * DAY_MS, failingForMs: DAY_MS };

/**
 * Announces `connection.expiring` for every authorized connection whose credential expires within
 * `warnBeforeMs` or whose refresh has failed for `failingForMs`, once per expiry (a new refresh
 * token with a new lifetime, or a new run of failures, is announced again). Rows are claimed with
 * SKIP LOCKED, so replicas running it at once announce each once. Returns how many were announced.
 */
export async function announceExpiringConnections(orm: Orm, now: Date, policy: ExpiryPolicy = DEFAULT_EXPIRY_POLICY, batch = 100): Promise<number> {
  const horizon = new Date(now.getTime() + policy.warnBeforeMs);
  const failingSince = new Date(now.getTime() - policy.failingForMs);
  let announced = 0;
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const claimed = await orm.em.fork().transactional(async (tx) => {
      const due = await tx.find(
        Connection,
        {
          id: { $gt: after },
          status: 'AUTHORIZED',
          $or: [{ credentialExpiresAt: { $gt: now, $lte: horizon } }, { refreshFailingSince: { $lte: failingSince } }],
        },
        { orderBy: { id: 'asc' }, limit: batch, lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE },
      );
      if (due.length === 0) return null;
      const platforms = new Map((await tx.find(Platform, { id: { $in: [...new Set(due.map((c) => c.platformId))] } })).map((p) => [p.id, p]));
      for (const connection of due) {
        const notice = noticeOf(connection, now, horizon, failingSince);
        if (!notice || connection.expiryNotice === notice.key) continue;
        connection.expiryNotice = notice.key;
        enqueueEvent(tx, connectionEvent('connection.expiring', connection, platforms.get(connection.platformId)?.slug ?? 'unknown', notice.data));
        announced++;
      }
      return due.at(-1)!.id;
    });
    if (!claimed) return announced;
    after = claimed;
  }
}

function noticeOf(connection: Connection, now: Date, horizon: Date, failingSince: Date) {
  const expires = connection.credentialExpiresAt;
  if (expires && expires > now && expires <= horizon) {
    return {
      key: `CREDENTIAL_EXPIRES:${expires.toISOString()}`,
      data: { reason: 'CREDENTIAL_EXPIRES' as const, expiresAt: expires.toISOString(), message: 'The platform limits how long this authorization lasts.' },
    };
  }
  const failing = connection.refreshFailingSince;
  if (failing && failing <= failingSince) {
    return {
      key: `REFRESH_FAILING:${failing.toISOString()}`,
      data: {
        reason: 'REFRESH_FAILING' as const,
        expiresAt: expires?.toISOString() ?? null,
        message: `Refreshing it has failed since ${failing.toUTCString()}${connection.lastError ? ` (${connection.lastError})` : ''}.`,
      },
    };
  }
  return null;
}
