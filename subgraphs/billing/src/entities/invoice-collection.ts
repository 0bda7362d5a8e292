import { defineEntity, p } from '@mikro-orm/core';

/**
 * The collection of an open invoice: its payment attempts and where its dunning stands. Removed
 * once the invoice is paid.
 */
export const InvoiceCollectionSchema = defineEntity({
  name: 'InvoiceCollection',
  tableName: 'invoice_collections',
  properties: {
    invoiceId: p.uuid().primary(),
    accountId: p.uuid().index(),
    attempts: p.integer().default(0),
    /** When the next attempt is due; null: none is scheduled (payments off). */
    nextAttemptAt: p.datetime().nullable().index(),
    firstFailedAt: p.datetime().nullable(),
    lastError: p.text().nullable(),
    /** When the account was told that the retries failed. */
    notifiedAt: p.datetime().nullable(),
    /** When `billing.payment_overdue` was published (the grace period ran out). */
    overdueAt: p.datetime().nullable(),
  },
});

export class InvoiceCollection extends InvoiceCollectionSchema.class {}
InvoiceCollectionSchema.setClass(InvoiceCollection);

/** A Stripe webhook event applied: a redelivery of the same id is ignored. */
export const StripeEventSchema = defineEntity({
  name: 'StripeEvent',
  tableName: 'stripe_events',
  properties: {
    id: p.text().primary(),
    type: p.text(),
    receivedAt: p.datetime(),
  },
});

export class StripeEvent extends StripeEventSchema.class {}
StripeEventSchema.setClass(StripeEvent);
