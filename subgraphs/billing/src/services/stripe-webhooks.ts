import type { IncomingMessage, ServerResponse } from 'node:http';
import { LockMode } from '@mikro-orm/core';
import type Stripe from 'stripe';
import type { Em, Orm } from '@listbackup/lib/db';
import { readJson, sendJson } from '@listbackup/lib/http';
import { isUuid } from '@listbackup/lib/ids';
import type { Logger } from '@listbackup/lib/logger';
import type { InternalRoute } from '@listbackup/lib/subgraph';
import { BillingCustomer } from '../entities/billing-customer.ts';
import { Invoice } from '../entities/invoice.ts';
import { InvoiceCollection, StripeEvent } from '../entities/invoice-collection.ts';
import { PlanSubscription } from '../entities/plan-subscription.ts';
import { type DunningPolicy, markPaid, recordFailure } from './dunning.ts';
import type { StripePayments } from './payments.ts';

export const STRIPE_WEBHOOK_ROUTE = '/internal/stripe/webhook';
/** The gateway's public path for it: the endpoint to register at Stripe. */
export const PUBLIC_STRIPE_WEBHOOK_PATH = '/webhooks/stripe';

export type WebhookOutcome = 'applied' | 'duplicate' | 'ignored';

const customerId = (value: string | { id: string } | null | undefined) => (typeof value === 'string' ? value : (value?.id ?? null));

/** Our invoice behind a Stripe invoice, only when the Stripe customer is that invoice's account's. */
async function invoiceOf(tx: Em, object: Stripe.Invoice): Promise<Invoice | null> {
  const invoiceId = object.metadata?.invoiceId;
  const lock = { lockMode: LockMode.PESSIMISTIC_WRITE } as const;
  const byId = invoiceId && isUuid(invoiceId) ? await tx.findOne(Invoice, { id: invoiceId }, lock) : object.id ? await tx.findOne(Invoice, { stripeInvoiceId: object.id }, lock) : null;
  if (!byId) return null;
  const customer = await tx.findOne(BillingCustomer, { accountId: byId.accountId });
  return customer?.stripeCustomerId && customer.stripeCustomerId === customerId(object.customer) ? byId : null;
}

const SUBSCRIPTION_STATUS: Partial<Record<Stripe.Subscription.Status, PlanSubscription['status']>> = {
  active: 'ACTIVE',
  trialing: 'ACTIVE',
  past_due: 'PAST_DUE',
  unpaid: 'PAST_DUE',
  canceled: 'CANCELLED',
  incomplete_expired: 'CANCELLED',
};

/**
 * Applies a verified Stripe event once (its id is recorded in the same transaction as its effect):
 * - `invoice.paid`: the invoice is paid (the dunning ends, `billing.payment_succeeded`);
 * - `invoice.payment_failed`: a failed attempt, counted once with our own (Stripe's attempt_count);
 * - `customer.subscription.updated`: the account's subscription takes the Stripe status;
 * - `setup_intent.succeeded`: its payment method is the one invoices are charged to, and unpaid
 *   invoices are tried again on the next pass.
 * Anything else, or an object of a customer that is not the account's, is recorded and ignored.
 */
export async function applyStripeEvent(orm: Orm, payments: StripePayments, log: Logger, event: Stripe.Event, policy: DunningPolicy, now: Date = new Date()): Promise<WebhookOutcome> {
  const em = orm.em.fork();
  if (await em.findOne(StripeEvent, { id: event.id })) return 'duplicate';
  // The outbound call comes before the transaction; repeating it is harmless (same method, same key).
  let setup: { accountId: string; paymentMethod: string } | null = null;
  if (event.type === 'setup_intent.succeeded') {
    const intent = event.data.object;
    const customer = customerId(intent.customer);
    const paymentMethod = customerId(intent.payment_method);
    const owner = customer ? await em.findOne(BillingCustomer, { stripeCustomerId: customer }) : null;
    if (owner && paymentMethod) {
      await payments.useForInvoices(customer!, paymentMethod);
      setup = { accountId: owner.accountId, paymentMethod };
    }
  }
  return em.transactional(async (tx) => {
    const inserted = await tx.execute(`insert into billing.stripe_events (id, type, received_at) values (?, ?, ?) on conflict (id) do nothing`, [event.id, event.type, now], 'run');
    if ((inserted as unknown as { affectedRows: number }).affectedRows === 0) return 'duplicate';
    // When Stripe says it happened: the dunning's clock is the payments' own.
    const happened = new Date(event.created * 1000);
    switch (event.type) {
      case 'invoice.paid': {
        const invoice = await invoiceOf(tx, event.data.object);
        if (!invoice) break;
        await markPaid(tx, invoice, happened, event.data.object.id ?? null);
        return 'applied';
      }
      case 'invoice.payment_failed': {
        const invoice = await invoiceOf(tx, event.data.object);
        const collection = invoice && (await tx.findOne(InvoiceCollection, { invoiceId: invoice.id }, { lockMode: LockMode.PESSIMISTIC_WRITE }));
        if (!collection) break;
        await recordFailure(tx, collection, event.data.object.attempt_count, happened, 'The payment failed at Stripe', policy);
        return 'applied';
      }
      case 'customer.subscription.updated': {
        const subscription = event.data.object;
        const owner = await tx.findOne(BillingCustomer, { stripeCustomerId: customerId(subscription.customer) ?? '' });
        const status = SUBSCRIPTION_STATUS[subscription.status];
        if (!owner || !status) break;
        await tx.nativeUpdate(PlanSubscription, { accountId: owner.accountId }, { status });
        return 'applied';
      }
      case 'setup_intent.succeeded': {
        if (!setup) break;
        await tx.nativeUpdate(BillingCustomer, { accountId: setup.accountId }, { defaultPaymentMethod: setup.paymentMethod });
        await tx.nativeUpdate(InvoiceCollection, { accountId: setup.accountId }, { nextAttemptAt: now });
        return 'applied';
      }
    }
    log.info({ stripeEvent: event.id, type: event.type }, 'Stripe event ignored');
    return 'ignored';
  });
}

/**
 * Stripe's webhook, as the gateway forwards it: `{payload, signature}`, the request body exactly
 * as Stripe sent it and its `Stripe-Signature` header. A signature that does not verify is a 400
 * and changes nothing; an event already applied is acknowledged and ignored.
 */
export function stripeWebhookRoute(deps: { orm: Orm; payments: StripePayments | null; log: Logger; policy: DunningPolicy }): InternalRoute {
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST') return sendJson(res, 405, { code: 'METHOD_NOT_ALLOWED' }, { allow: 'POST' });
    if (!deps.payments) return sendJson(res, 404, { code: 'PAYMENTS_DISABLED', message: 'Payments are not configured in this deployment' });
    const body = (await readJson(req)) as { payload?: unknown; signature?: unknown } | undefined;
    if (typeof body?.payload !== 'string' || typeof body.signature !== 'string') return sendJson(res, 400, { code: 'BAD_SIGNATURE', message: 'A Stripe-Signature header and a body are required' });
    let event: Stripe.Event;
    try {
      event = deps.payments.stripe.webhooks.constructEvent(body.payload, body.signature, deps.payments.webhookSecret);
    } catch (error) {
      deps.log.warn({ reason: (error as Error).message }, 'Stripe webhook with a signature that does not verify; refused');
      return sendJson(res, 400, { code: 'BAD_SIGNATURE', message: 'The Stripe-Signature does not verify' });
    }
    const outcome = await applyStripeEvent(deps.orm, deps.payments, deps.log, event, deps.policy);
    return sendJson(res, 200, { received: true, outcome });
  };
}
