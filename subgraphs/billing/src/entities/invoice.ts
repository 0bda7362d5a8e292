import { defineEntity, p } from '@mikro-orm/core';

export const CURRENCIES = ['USD', 'EUR', 'GBP'] as const;
export type Currency = (typeof CURRENCIES)[number];
export const INVOICE_STATUSES = ['OPEN', 'PAID'] as const;

/** One line of an invoice, as stored (and shown) once it is finalized. */
export interface InvoiceLine {
  kind: 'BASE' | 'STORAGE';
  description: string;
  /** The plan of the period the line covers. */
  plan: string;
  periodStart: string;
  periodEnd: string;
  /** BASE: months of the plan billed (trial days excluded); STORAGE: GB-months stored over the period. */
  quantity: number;
  /** STORAGE: GB-months the plan includes over the period; null for BASE. */
  includedQuantity: number | null;
  /** Per month (BASE) or per GB-month above the included ones (STORAGE). */
  unitPriceCents: number;
  amountCents: number;
}

/**
 * A finalized monthly invoice. Immutable once written: a trigger refuses any change but the record
 * of its payment (OPEN to PAID) and the Stripe invoice that collects it, and refuses deletion.
 */
export const InvoiceSchema = defineEntity({
  name: 'Invoice',
  tableName: 'invoices',
  uniques: [{ properties: ['accountId', 'periodStart'] }],
  indexes: [{ properties: ['accountId', 'createdAt', 'id'] }],
  checks: [{ name: 'invoices_total_cents_check', expression: 'total_cents >= 0' }],
  // Declared so the schema comparison knows it (its function, and the truncate trigger, which
  // PostgreSQL does not list among a table's triggers, come from migration 0006).
  triggers: [
    {
      name: 'invoices_immutable',
      timing: 'before',
      events: ['update', 'delete'],
      expression: 'create trigger "invoices_immutable" before update or delete on "invoices" for each row execute function "billing"."invoices_immutable"();',
    },
  ],
  properties: {
    id: p.uuid().primary(),
    accountId: p.uuid(),
    /** `<issuer>-<year>-<6 digits>`, gapless per issuer and year. */
    number: p.text().unique(),
    periodStart: p.datetime(),
    periodEnd: p.datetime(),
    currency: p.text(),
    lines: p.json<InvoiceLine[]>(),
    totalCents: p.integer(),
    status: p.enum(INVOICE_STATUSES),
    /** When it was finalized. */
    createdAt: p.datetime(),
    paidAt: p.datetime().nullable(),
    stripeInvoiceId: p.text().nullable().unique(),
  },
});

export class Invoice extends InvoiceSchema.class {}
InvoiceSchema.setClass(Invoice);

/** The last number given per issuer and year: the row lock makes numbers gapless (see nextInvoiceNumber). */
export const InvoiceNumberSchema = defineEntity({
  name: 'InvoiceNumber',
  tableName: 'invoice_numbers',
  properties: {
    issuer: p.text().primary(),
    year: p.integer().primary(),
    last: p.integer(),
  },
});

export class InvoiceNumber extends InvoiceNumberSchema.class {}
InvoiceNumberSchema.setClass(InvoiceNumber);
