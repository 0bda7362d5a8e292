import type { Orm } from '@listbackup/lib/db';
import type { Logger } from '@listbackup/lib/logger';
import type { EventBus, EventSubscription } from '@listbackup/lib/events/bus';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import { readEvent } from '@listbackup/lib/events/contract';
import { runIdempotent } from '@listbackup/lib/events/outbox';
import { startFreePlan } from '../services/subscription-service.ts';
import { isUuid } from '@listbackup/lib/ids';

export const ACCOUNT_CREATED_PATTERN = 'lb.evt.*.account.created';
/** The consumer name recorded with each applied event id (processed_events). */
export const FREE_PLAN_CONSUMER = 'billing.free-plan';


/**
 * Gives a new account the Free plan. The new account is the event's `subject` (the entity the
 * event is about). Applied once per event id, and at most one subscription per account.
 */
export async function handleAccountCreated(orm: Orm, log: Logger, event: EventEnvelope): Promise<void> {
  const accountId = event.subject;
  if (!readEvent(event, 'account.created') || !isUuid(accountId)) {
    // Retrying cannot fix it; throwing would redeliver it forever.
    log.error({ eventId: event.id, subject: event.subject }, 'account.created event off its contract or without an account id as subject; ignored');
    return;
  }
  const time = new Date(event.time);
  const startedAt = Number.isNaN(time.getTime()) ? new Date() : time;
  await runIdempotent(orm.em.fork(), FREE_PLAN_CONSUMER, event, async (tx) => {
    const created = await startFreePlan(tx, accountId, startedAt);
    log.info({ eventId: event.id, accountId, created }, created ? 'account started on the Free plan' : 'account already has a subscription');
  });
}

export function durableName(prefix: string | undefined): string {
  return `${prefix ?? 'lb'}-billing-account-created`;
}

export function consumeAccountCreated(orm: Orm, bus: EventBus, log: Logger, durablePrefix?: string): Promise<EventSubscription> {
  return bus.subscribe(ACCOUNT_CREATED_PATTERN, (event) => handleAccountCreated(orm, log, event), { durable: durableName(durablePrefix) });
}
