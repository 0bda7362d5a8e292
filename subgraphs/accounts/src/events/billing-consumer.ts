import type { Orm } from '@listbackup/lib/db';
import type { EventBus, EventSubscription } from '@listbackup/lib/events/bus';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import { readEvent } from '@listbackup/lib/events/contract';
import { runIdempotent } from '@listbackup/lib/events/outbox';
import { isUuid } from '@listbackup/lib/ids';
import type { Logger } from '@listbackup/lib/logger';
import { NotFoundError } from '@listbackup/lib/errors';
import { resumeAccount, suspendAccount } from '../services/account-lifecycle.ts';

export const BILLING_PATTERN = 'lb.evt.*.billing.>';
/** The consumer name recorded with each applied event id (processed_events). */
export const SUSPENSION_CONSUMER = 'accounts.suspension';

export const suspensionDurableName = (prefix: string | undefined) => `${prefix ?? 'lb'}-accounts-suspension`;

/** Billing's dunning suspends an account whose payment is overdue, and a payment resumes it: once per event. */
export async function handleBillingEvent(orm: Orm, log: Logger, event: EventEnvelope): Promise<void> {
  const overdue = readEvent(event, 'billing.payment_overdue');
  const paid = readEvent(event, 'billing.payment_succeeded');
  const accountId = overdue?.data.accountId ?? paid?.data.accountId;
  if (!accountId) return;
  if (!isUuid(accountId)) {
    log.error({ eventId: event.id, accountId }, 'billing event without a valid account id; ignored');
    return;
  }
  try {
    await runIdempotent(orm.em.fork(), SUSPENSION_CONSUMER, event, async (tx) => {
      const changed = overdue
        ? await suspendAccount(tx, accountId, { by: 'billing', reason: `Payment overdue since ${overdue.data.overdueSince}` })
        : await resumeAccount(tx, accountId, { by: 'billing' });
      log.info({ eventId: event.id, accountId, changed }, overdue ? 'account suspended for non-payment' : 'account resumed after payment');
    });
  } catch (error) {
    // An account deleted since: nothing to suspend, and retrying cannot change that.
    if (error instanceof NotFoundError) return void log.warn({ eventId: event.id, accountId }, 'billing event for an unknown account; ignored');
    throw error;
  }
}

export function consumeBillingEvents(orm: Orm, bus: EventBus, log: Logger, durablePrefix?: string): Promise<EventSubscription> {
  return bus.subscribe(BILLING_PATTERN, (event) => handleBillingEvent(orm, log, event), { durable: suspensionDurableName(durablePrefix) });
}
