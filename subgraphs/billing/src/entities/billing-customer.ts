import { defineEntity, p } from '@mikro-orm/core';
import { CURRENCIES } from './invoice.ts';

/** An account as a paying customer: its currency and, once payments are on, its Stripe customer. */
export const BillingCustomerSchema = defineEntity({
  name: 'BillingCustomer',
  tableName: 'billing_customers',
  properties: {
    accountId: p.uuid().primary(),
    currency: p.enum(CURRENCIES).default('USD'),
    stripeCustomerId: p.text().nullable().unique(),
    /** The payment method of the last SetupIntent that succeeded (Stripe charges it off-session). */
    defaultPaymentMethod: p.text().nullable(),
  },
});

export class BillingCustomer extends BillingCustomerSchema.class {}
BillingCustomerSchema.setClass(BillingCustomer);
