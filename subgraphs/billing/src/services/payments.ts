import Stripe from 'stripe';
import { AppError } from '@listbackup/lib/errors';
import type { Em } from '@listbackup/lib/db';
import { BillingCustomer } from '../entities/billing-customer.ts';
import type { Invoice } from '../entities/invoice.ts';

export interface StripeSettings {
  secretKey: string;
  /** The signing secret of the webhook endpoint (`whsec_…`). */
  webhookSecret: string;
  /** Another API origin than https://api.stripe.com (a local fake in tests). */
  apiUrl?: string;
}

export class PaymentsDisabledError extends AppError {
  constructor() {
    super('PAYMENTS_DISABLED', 'Payments are not configured in this deployment (no STRIPE_SECRET_KEY); invoices are still computed');
  }
}

export class PaymentProviderError extends AppError {
  constructor(message: string) {
    super('PAYMENT_PROVIDER_ERROR', `Stripe: ${message}`.slice(0, 300));
  }
}

/** How an attempt to charge an invoice ended. */
export type ChargeOutcome =
  | { status: 'paid'; stripeInvoiceId: string }
  /** The customer's side: declined, no payment method. Counts as a failed attempt. */
  | { status: 'declined'; stripeInvoiceId: string | null; message: string }
  /** Stripe's side or the network's: tried again soon, not counted. */
  | { status: 'unavailable'; stripeInvoiceId: string | null; message: string };

/**
 * ListBackup's use of Stripe through the official client: a customer per account, payment methods
 * collected with SetupIntents, and each finalized invoice collected as a Stripe invoice (its lines
 * as invoice items, finalized, then paid off-session). Every write carries an idempotency key
 * derived from our own ids, so a retried call never charges or creates twice.
 */
export class StripePayments {
  readonly stripe: Stripe;
  readonly webhookSecret: string;

  constructor(settings: StripeSettings) {
    const url = settings.apiUrl ? new URL(settings.apiUrl) : null;
    const protocol = url?.protocol === 'http:' ? 'http' : 'https';
    this.stripe = new Stripe(settings.secretKey, {
      ...(url ? { host: url.hostname, port: url.port || (protocol === 'http' ? 80 : 443), protocol } : {}),
      maxNetworkRetries: 2,
      timeout: 20_000,
      telemetry: false,
    });
    this.webhookSecret = settings.webhookSecret;
  }

  /** The account's Stripe customer, created on first use (once, whatever the concurrency: the key is the account). */
  async customerFor(em: Em, accountId: string): Promise<string> {
    const existing = await em.findOne(BillingCustomer, { accountId });
    if (existing?.stripeCustomerId) return existing.stripeCustomerId;
    const customer = await this.#call(() =>
      this.stripe.customers.create({ description: `ListBackup account ${accountId}`, metadata: { accountId } }, { idempotencyKey: `lb-customer-${accountId}` }),
    );
    await em
      .createQueryBuilder(BillingCustomer)
      .insert({ accountId, currency: existing?.currency ?? 'USD', stripeCustomerId: customer.id })
      .onConflict('accountId')
      .merge(['stripeCustomerId'])
      .execute('run');
    return customer.id;
  }

  async setupIntent(customerId: string, accountId: string, requestId: string): Promise<{ id: string; clientSecret: string }> {
    const intent = await this.#call(() =>
      this.stripe.setupIntents.create({ customer: customerId, usage: 'off_session', automatic_payment_methods: { enabled: true, allow_redirects: 'never' }, metadata: { accountId } }, { idempotencyKey: `lb-setup-${requestId}` }),
    );
    return { id: intent.id, clientSecret: intent.client_secret! };
  }

  /** Makes the method of a succeeded SetupIntent the one the customer's invoices are charged to. */
  async useForInvoices(customerId: string, paymentMethod: string): Promise<void> {
    await this.#call(() => this.stripe.customers.update(customerId, { invoice_settings: { default_payment_method: paymentMethod } }, { idempotencyKey: `lb-default-pm-${customerId}-${paymentMethod}` }));
  }

  /**
   * One attempt to collect the invoice: the Stripe invoice is made the first time (lines, finalize),
   * then paid off-session with the customer's default payment method. `attempt` keys the payment.
   */
  async charge(invoice: Invoice, customerId: string, attempt: number): Promise<ChargeOutcome> {
    let stripeInvoiceId: string | null = invoice.stripeInvoiceId ?? null;
    try {
      if (!stripeInvoiceId) {
        const key = `lb-invoice-${invoice.id}`;
        const currency = invoice.currency.toLowerCase();
        const created = await this.stripe.invoices.create(
          {
            customer: customerId,
            currency,
            collection_method: 'charge_automatically',
            auto_advance: false,
            pending_invoice_items_behavior: 'exclude',
            description: `ListBackup invoice ${invoice.number}`,
            metadata: { invoiceId: invoice.id, accountId: invoice.accountId, number: invoice.number },
          },
          { idempotencyKey: key },
        );
        for (const [index, line] of invoice.lines.entries()) {
          if (line.amountCents <= 0) continue;
          await this.stripe.invoiceItems.create({ customer: customerId, invoice: created.id, amount: line.amountCents, currency, description: line.description }, { idempotencyKey: `${key}-line-${index}` });
        }
        await this.stripe.invoices.finalizeInvoice(created.id, { auto_advance: false }, { idempotencyKey: `${key}-finalize` });
        stripeInvoiceId = created.id;
      }
      const paid = await this.stripe.invoices.pay(stripeInvoiceId, { off_session: true }, { idempotencyKey: `lb-invoice-${invoice.id}-pay-${attempt}` });
      if (paid.status === 'paid') return { status: 'paid', stripeInvoiceId };
      return { status: 'declined', stripeInvoiceId, message: `the invoice is ${paid.status} at Stripe` };
    } catch (error) {
      if (error instanceof Stripe.errors.StripeCardError || error instanceof Stripe.errors.StripeInvalidRequestError) {
        return { status: 'declined', stripeInvoiceId, message: (error as Error).message };
      }
      if (error instanceof Stripe.errors.StripeError) return { status: 'unavailable', stripeInvoiceId, message: error.message };
      throw error;
    }
  }

  async #call<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof Stripe.errors.StripeError) throw new PaymentProviderError(error.message);
      throw error;
    }
  }
}
