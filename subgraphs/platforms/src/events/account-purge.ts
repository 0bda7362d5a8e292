import type { Orm } from '@listbackup/lib/db';
import type { Logger } from '@listbackup/lib/logger';
import type { EventBus, EventSubscription } from '@listbackup/lib/events/bus';
import { readEvent, systemActor } from '@listbackup/lib/events/contract';
import { deleteAccountRows } from '@listbackup/lib/events/account-purge';
import { runIdempotent } from '@listbackup/lib/events/outbox';
import { isUuid } from '@listbackup/lib/ids';
import { Connection } from '../entities/connection.ts';
import type { PlatformsRuntime } from '../runtime.ts';
import { revokeAndErase } from '../services/connection-service.ts';

export const ACCOUNT_PURGED_PATTERN = 'lb.evt.*.account.purged';
export const ACCOUNT_PURGE_CONSUMER = 'platforms.account-purge';

/** What platforms keeps of an account: its connections, their sealed credentials, its plan. */
const PURGED_TABLES = ['connection_secrets', 'connections', 'account_plans'] as const;

/**
 * A purged account's connections are revoked at their platform where it can be done (as
 * `revokeConnection` does), then they and their credentials go, once per event.
 */
export function consumeAccountPurges(orm: Orm, runtime: PlatformsRuntime, bus: EventBus, log: Logger, durablePrefix = 'lb'): Promise<EventSubscription> {
  return bus.subscribe(
    ACCOUNT_PURGED_PATTERN,
    async (event) => {
      const purged = readEvent(event, 'account.purged');
      if (!purged) return;
      const ids = purged.data.accountIds.filter(isUuid);
      for (const connection of await orm.em.fork().find(Connection, { accountId: { $in: ids }, status: { $ne: 'REVOKED' } })) {
        const { revokedAtPlatform } = await revokeAndErase(runtime, orm.em, connection, systemActor('platforms'));
        log.info({ connectionId: connection.id, revokedAtPlatform }, 'connection of a purged account revoked');
      }
      await runIdempotent(orm.em.fork(), ACCOUNT_PURGE_CONSUMER, event, (tx) => deleteAccountRows(tx, PURGED_TABLES, ids));
    },
    { durable: `${durablePrefix}-platforms-account-purge` },
  );
}
