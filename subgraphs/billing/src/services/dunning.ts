import { LockMode } from '@mikro-orm/core';
import type { Em, Orm } from '@listbackup/lib/db';
import { createEvent, systemActor } from '@listbackup/lib/events/contract';
import { enqueueEvent } from '@listbackup/lib/events/outbox';
import type { Logger } from '@listbackup/lib/logger';
import { Invoice } from '../entities/invoice.ts';
import { InvoiceCollection } from '../entities/invoice-collection.ts';
import { PlanSubscription } from '../entities/plan-subscription.ts';
import type { StripePayments } from './payments.ts';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * When a declined invoice is tried again, and when the account is told and then suspended. The
 * defaults: tried on the day it is finalized, then 1, 3 and 7 days later; after the fourth
 * failure the account is notified and it is tried weekly; 14 days after the first failure the
 * payment is overdue (accounts suspends the account) until it is paid.
 */
export interface DunningPolicy {
  /** Days from one failed attempt to the next, in order; the last repeats. */
  retryDelaysDays: number[];
  /** Failed attempts after which the account is notified. */
  notifyAfterAttempts: number;
  /** Days from the first failure to `billing.payment_overdue`. */
  graceDays: number;
}

export const DEFAULT_DUNNING: DunningPolicy = { retryDelaysDays: [1, 2, 4, 7], notifyAfterAttempts: 4, graceDays: 14 };

const actor = systemActor('billing');

/** Records the payment of an open invoice, once: the dunning ends and the account may resume. */
export async function markPaid(tx: Em, invoice: Invoice, at: Date, stripeInvoiceId: string | null): Promise<boolean> {
  if (invoice.status === 'PAID') return false;
  invoice.status = 'PAID';
  invoice.paidAt = at;
  if (stripeInvoiceId && !invoice.stripeInvoiceId) invoice.stripeInvoiceId = stripeInvoiceId;
  await tx.nativeDelete(InvoiceCollection, { invoiceId: invoice.id });
  const stillOverdue = await tx.count(InvoiceCollection, { accountId: invoice.accountId, overdueAt: { $ne: null } });
  if (stillOverdue === 0) await tx.nativeUpdate(PlanSubscription, { accountId: invoice.accountId, status: 'PAST_DUE' }, { status: 'ACTIVE' });
  enqueueEvent(tx, createEvent('billing.payment_succeeded', invoice.accountId, invoice.id, { accountId: invoice.accountId, invoiceId: invoice.id }, { actor, time: at }));
  await tx.flush();
  return true;
}

/**
 * Records failed attempt number `attempt` of the invoice (from our own charge or Stripe's
 * `invoice.payment_failed`, whichever comes first: the same attempt is counted once), schedules
 * the next, and tells the account once the retries are spent.
 */
export async function recordFailure(tx: Em, collection: InvoiceCollection, attempt: number, at: Date, message: string, policy: DunningPolicy): Promise<boolean> {
  if (attempt <= collection.attempts) return false;
  collection.attempts = attempt;
  collection.firstFailedAt ??= at;
  collection.lastError = message.slice(0, 500);
  const delays = policy.retryDelaysDays;
  collection.nextAttemptAt = new Date(at.getTime() + delays[Math.min(attempt, delays.length) - 1]! * DAY_MS);
  if (attempt >= policy.notifyAfterAttempts && !collection.notifiedAt) {
    collection.notifiedAt = at;
    enqueueEvent(
      tx,
      createEvent(
        'billing.payment_failed',
        collection.accountId,
        collection.invoiceId,
        { accountId: collection.accountId, invoiceId: collection.invoiceId, attempts: attempt, reason: collection.lastError, overdueAt: new Date(collection.firstFailedAt.getTime() + policy.graceDays * DAY_MS).toISOString() },
        { actor, time: at },
      ),
    );
  }
  await tx.flush();
  return true;
}

export interface DunningPassResult {
  paid: number;
  declined: number;
  unavailable: number;
  overdue: number;
}

/**
 * One pass of collection: every invoice whose attempt is due is charged (claimed first, so two
 * replicas never charge the same one at once), then every invoice past its grace period is made
 * overdue. `now` is injected so tests can move the clock.
 */
export async function runDunning(orm: Orm, payments: StripePayments, log: Logger, now: Date, policy: DunningPolicy = DEFAULT_DUNNING, batch = 100): Promise<DunningPassResult> {
  const result: DunningPassResult = { paid: 0, declined: 0, unavailable: 0, overdue: 0 };
  const em = orm.em.fork();
  // The claim: the next attempt moves an hour on, so a replica that dies mid-charge leaves it to a later pass.
  const claimed = await em.execute<{ invoice_id: string }[]>(
    `update billing.invoice_collections set next_attempt_at = ? where invoice_id in (
       select invoice_id from billing.invoice_collections where next_attempt_at <= ? order by next_attempt_at limit ? for update skip locked)
     returning invoice_id`,
    [new Date(now.getTime() + HOUR_MS), now, batch],
  );
  for (const { invoice_id: invoiceId } of claimed) {
    const work = orm.em.fork();
    const invoice = await work.findOne(Invoice, { id: invoiceId });
    const collection = await work.findOne(InvoiceCollection, { invoiceId });
    if (!invoice || !collection || invoice.status === 'PAID') continue;
    const attempt = collection.attempts + 1;
    let outcome: Awaited<ReturnType<StripePayments['charge']>>;
    try {
      const customer = await payments.customerFor(work, invoice.accountId);
      outcome = await payments.charge(invoice, customer, attempt);
    } catch (error) {
      log.warn({ err: error, invoiceId }, 'invoice payment could not be attempted; tried again in an hour');
      result.unavailable++;
      continue;
    }
    await work.transactional(async (tx) => {
      const locked = await tx.findOneOrFail(Invoice, { id: invoiceId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (outcome.stripeInvoiceId && !locked.stripeInvoiceId) locked.stripeInvoiceId = outcome.stripeInvoiceId;
      if (outcome.status === 'paid') {
        await markPaid(tx, locked, now, outcome.stripeInvoiceId);
        result.paid++;
        return;
      }
      const row = await tx.findOne(InvoiceCollection, { invoiceId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!row) return;
      if (outcome.status === 'declined') {
        // Stripe's invoice.payment_failed for this attempt may have counted it already.
        await recordFailure(tx, row, attempt, now, outcome.message, policy);
        result.declined++;
      } else {
        row.lastError = outcome.message.slice(0, 500);
        result.unavailable++;
      }
      await tx.flush();
    });
    log.info({ invoiceId, accountId: invoice.accountId, outcome: outcome.status }, 'invoice payment attempted');
  }
  result.overdue = await markOverdue(orm, now, policy);
  return result;
}

/** Publishes `billing.payment_overdue` once per invoice whose grace period ran out unpaid. */
export async function markOverdue(orm: Orm, now: Date, policy: DunningPolicy): Promise<number> {
  return orm.em.fork().transactional(async (tx) => {
    const due = await tx.find(
      InvoiceCollection,
      { overdueAt: null, firstFailedAt: { $lte: new Date(now.getTime() - policy.graceDays * DAY_MS) } },
      { limit: 500, lockMode: LockMode.PESSIMISTIC_WRITE },
    );
    for (const collection of due) {
      collection.overdueAt = now;
      await tx.nativeUpdate(PlanSubscription, { accountId: collection.accountId, status: 'ACTIVE' }, { status: 'PAST_DUE' });
      enqueueEvent(
        tx,
        createEvent(
          'billing.payment_overdue',
          collection.accountId,
          collection.invoiceId,
          { accountId: collection.accountId, invoiceId: collection.invoiceId, overdueSince: collection.firstFailedAt!.toISOString() },
          { actor, time: now },
        ),
      );
    }
    await tx.flush();
    return due.length;
  });
}
