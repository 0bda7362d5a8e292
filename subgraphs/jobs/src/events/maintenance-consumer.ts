import type { Orm } from '@listbackup/lib/db';
import type { Logger } from '@listbackup/lib/logger';
import type { EventBus, EventSubscription } from '@listbackup/lib/events/bus';
import { readEvent } from '@listbackup/lib/events/contract';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import { snapshotIdOf } from '../backup/engine-runtime.ts';
import type { JobQueue } from '../queue/job-queue.ts';
import { deleteAccountData, requestGc } from '../services/maintenance.ts';

export const DATA_DELETED_PATTERN = 'lb.evt.*.data.deleted';
export const ACCOUNT_PURGED_PATTERN = 'lb.evt.*.account.purged';

/**
 * Snapshots the catalogue deleted (`data.deleted`: a source deleted with its snapshots, retention)
 * get a GC of their account, which forgets them in the store and frees their data; a purged account
 * (`account.purged`) loses its jobs and their analytics at once and gets a GC that deletes
 * everything it stored (`forgetFinishedPurges` removes that run once it succeeded). Redelivery is
 * harmless: the same event makes the same job (its id is the job's idempotency key), and
 * forgetting or deleting twice is a no-op.
 */
export async function handleMaintenanceEvent(orm: Orm, queue: JobQueue, event: EventEnvelope, delayMs: number): Promise<void> {
  const deleted = readEvent(event, 'data.deleted');
  if (deleted) {
    const { accountId } = deleted.data;
    const forget = deleted.data.snapshots.map((s) => snapshotIdOf(accountId, s.manifestKey)).filter((id): id is string => id !== null);
    if (forget.length) await requestGc(orm.em, queue, { accountId, forget, trigger: { kind: 'SYSTEM' }, idempotencyKey: `gc-after:${event.id}`, delayMs });
    return;
  }
  const purged = readEvent(event, 'account.purged');
  if (purged) {
    await deleteAccountData(orm, purged.data.accountIds);
    for (const accountId of purged.data.accountIds) {
      await requestGc(orm.em, queue, { accountId, purge: true, trigger: { kind: 'SYSTEM' }, idempotencyKey: `gc-purge:${event.id}:${accountId}` });
    }
  }
}

/** Two durable subscriptions shared by every jobs replica (NATS 2.9 filters one subject per consumer). */
export async function consumeMaintenanceEvents(orm: Orm, queue: JobQueue, bus: EventBus, log: Logger, delayMs: number, durablePrefix = 'lb'): Promise<EventSubscription[]> {
  const handle = (event: EventEnvelope) => handleMaintenanceEvent(orm, queue, event, delayMs);
  const deleted = await bus.subscribe(DATA_DELETED_PATTERN, handle, { durable: `${durablePrefix}-jobs-maintenance-deleted` });
  try {
    const purged = await bus.subscribe(ACCOUNT_PURGED_PATTERN, handle, { durable: `${durablePrefix}-jobs-maintenance-purged` });
    log.debug('maintenance consumer started');
    return [deleted, purged];
  } catch (error) {
    await deleted.unsubscribe();
    throw error;
  }
}
