import type { Orm } from '@listbackup/lib/db';
import type { Logger } from '@listbackup/lib/logger';
import type { EventBus, EventSubscription } from '@listbackup/lib/events/bus';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import { readEvent } from '@listbackup/lib/events/contract';
import { runIdempotent } from '@listbackup/lib/events/outbox';
import type { Em } from '@listbackup/lib/db';
import { applyAccountDeleted, applyGarbageCollected, applySnapshotsDeleted, applySynced } from '../services/metering.ts';

export const DATA_EVENTS_PATTERN = 'lb.evt.*.data.>';
export const ACCOUNT_DELETED_PATTERN = 'lb.evt.*.account.purged';
/** The consumer name recorded with each applied event id (processed_events). */
export const METERING_CONSUMER = 'billing.metering';

/** The metering step an event calls for, or null for events that change no stored byte (data.exported). */
function meteringStep(event: EventEnvelope): ((tx: Em) => Promise<void>) | null {
  const synced = readEvent(event, 'data.synced');
  if (synced) return (tx) => applySynced(tx, synced);
  const deleted = readEvent(event, 'data.deleted');
  if (deleted) return (tx) => applySnapshotsDeleted(tx, deleted);
  const collected = readEvent(event, 'data.garbage_collected');
  if (collected) return (tx) => applyGarbageCollected(tx, collected);
  const accountDeleted = readEvent(event, 'account.purged');
  if (accountDeleted) return (tx) => applyAccountDeleted(tx, accountDeleted);
  return null;
}

const METERED_TYPES = new Set(['data.synced', 'data.deleted', 'data.garbage_collected', 'account.purged']);

/** Applies one event to the metering ledger, once per event id. Returns whether it changed anything. */
export async function handleMeteringEvent(orm: Orm, log: Logger, event: EventEnvelope): Promise<boolean> {
  if (!METERED_TYPES.has(event.type)) return false;
  const step = meteringStep(event);
  const tenant = (event.data as { accountId?: unknown } | null)?.accountId;
  if (!step || tenant !== event.accountId || Number.isNaN(new Date(event.time).getTime())) {
    // Retrying cannot fix it; throwing would redeliver it for ever.
    log.error({ eventId: event.id, type: event.type }, 'metering event off its contract (or for another tenant than its subject says); ignored');
    return false;
  }
  return runIdempotent(orm.em.fork(), METERING_CONSUMER, event, step);
}

/** Two durable subscriptions (NATS 2.9 filters one subject per consumer), shared by every billing replica. */
export async function consumeMeteringEvents(orm: Orm, bus: EventBus, log: Logger, durablePrefix = 'lb'): Promise<EventSubscription[]> {
  const handler = (event: EventEnvelope) => handleMeteringEvent(orm, log, event).then(() => undefined);
  const data = await bus.subscribe(DATA_EVENTS_PATTERN, handler, { durable: `${durablePrefix}-billing-metering-data` });
  try {
    const accounts = await bus.subscribe(ACCOUNT_DELETED_PATTERN, handler, { durable: `${durablePrefix}-billing-metering-accounts` });
    return [data, accounts];
  } catch (error) {
    await data.unsubscribe();
    throw error;
  }
}
