/**
 * A fake of the Stripe API as ListBackup's billing uses it to be paid (the connector's fake,
 * `fake.ts`, serves the list endpoints a backup reads): customers, SetupIntents, invoices, invoice
 * items, finalize and pay. It speaks Stripe's wire format: form-encoded bodies with bracketed keys
 * (`metadata[accountId]=…`), Bearer keys, `{error:{type, code, message, param}}` bodies (402
 * `card_error` for a decline), `Idempotency-Key` (the same key replays the first answer, with other
 * parameters it is a 400 `idempotency_error`), and events delivered to a webhook endpoint signed
 * as Stripe signs them (`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`).
 *
 * Payment methods follow Stripe's test cards: `pm_card_visa` pays, `pm_card_chargeCustomerFail`
 * attaches but every charge is declined. Tests confirm SetupIntents (what Stripe.js does in the
 * browser) and pay invoices on the hosted page through the helpers below.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { FakeServer, tokenOf, type ErrorAnswer, type Failure, type RecordedRequest } from '../testing/fake-server.ts';

export const DECLINING_PAYMENT_METHOD = 'pm_card_chargeCustomerFail';
export const PAYING_PAYMENT_METHOD = 'pm_card_visa';

type Params = Record<string, unknown>;
type StripeObject = Record<string, unknown> & { id: string; object: string };

export interface StripeWebhookEvent {
  id: string;
  object: 'event';
  type: string;
  api_version: string;
  created: number;
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  data: { object: StripeObject };
}

/** Sends one signed event to the endpoint; answers the HTTP status the endpoint gave. */
export type WebhookSender = (body: string, headers: Record<string, string>) => Promise<number>;

/** `a[b][c]=v` form fields as nested objects (Stripe's encoding of parameters). */
export function parseStripeForm(body: string): Params {
  const out: Params = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const path = key.replace(/\]/g, '').split('[');
    let node = out;
    path.forEach((part, i) => {
      if (i === path.length - 1) node[part] = value;
      else node = (node[part] ??= {}) as Params;
    });
  }
  return out;
}

const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

interface StripeErrorBody {
  type: string;
  code?: string;
  message: string;
  param?: string;
  decline_code?: string;
  [key: string]: unknown;
}

class StripeApiError extends Error {
  readonly status: number;
  readonly body: StripeErrorBody;

  constructor(status: number, body: StripeErrorBody) {
    super(body.message);
    this.status = status;
    this.body = body;
  }
}

const missing = (what: string, id: string, param = 'id') => new StripeApiError(404, { type: 'invalid_request_error', code: 'resource_missing', message: `No such ${what}: '${id}'`, param });
const invalid = (message: string, param?: string, code = 'parameter_invalid') => new StripeApiError(400, { type: 'invalid_request_error', code, message, ...(param ? { param } : {}) });

export class FakeStripeBilling extends FakeServer {
  readonly keys = new Set<string>(['sk_test_valid']);
  readonly webhookSecret = `whsec_${randomBytes(16).toString('hex')}`;
  readonly customers = new Map<string, StripeObject>();
  readonly setupIntents = new Map<string, StripeObject>();
  readonly invoices = new Map<string, StripeObject>();
  readonly invoiceItems = new Map<string, StripeObject>();
  /** Every event made, in order, and what the endpoint answered to each delivery. */
  readonly events: StripeWebhookEvent[] = [];
  readonly deliveries: { eventId: string; type: string; status: number }[] = [];
  /** Where events go; none: they are only recorded. */
  sender: WebhookSender | undefined;
  readonly #idempotent = new Map<string, { fingerprint: string; status: number; body: unknown }>();
  #pending: Promise<unknown> = Promise.resolve();
  #invoiceNumber = 0;

  /**
   * The `Stripe-Signature` Stripe would send for `body` at unix time `t` (the real clock: a receiver
   * checks it against its own, whatever `advance` did to the fake's), with this endpoint's secret or another.
   */
  signature(body: string, t = Math.floor(Date.now() / 1000), secret = this.webhookSecret): string {
    return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
  }

  /** Waits until every event made so far was delivered (or failed to be). */
  async settled(): Promise<void> {
    let current: Promise<unknown>;
    do {
      current = this.#pending;
      await current;
    } while (current !== this.#pending);
  }

  /** Delivers an event again, exactly as the first time (Stripe retries a delivery it thinks failed). */
  redeliver(eventId: string): Promise<number> {
    const event = this.events.find((e) => e.id === eventId);
    if (!event) throw new Error(`no event ${eventId}`);
    return this.#deliver(event);
  }

  /** What Stripe.js does when the customer confirms a SetupIntent in the browser. */
  confirmSetupIntent(id: string, paymentMethod: string = PAYING_PAYMENT_METHOD): StripeObject {
    const intent = this.setupIntents.get(id);
    if (!intent) throw new Error(`no SetupIntent ${id}`);
    Object.assign(intent, { status: 'succeeded', payment_method: paymentMethod });
    this.#emit('setup_intent.succeeded', intent);
    return intent;
  }

  /** The customer pays the invoice on Stripe's hosted page with another card. */
  payOnHostedPage(invoiceId: string, paymentMethod: string = PAYING_PAYMENT_METHOD): StripeObject {
    const invoice = this.invoices.get(invoiceId);
    if (!invoice) throw new Error(`no invoice ${invoiceId}`);
    if (invoice.status !== 'open') throw new Error(`invoice ${invoiceId} is not open`);
    this.#attempt(invoice, paymentMethod);
    return invoice;
  }

  /** A subscription of the customer changed at Stripe (made in the Dashboard, say). */
  subscriptionUpdated(customer: string, status: string): StripeWebhookEvent {
    return this.#emit('customer.subscription.updated', { id: newId('sub'), object: 'subscription', customer, status, created: Math.floor(this.now() / 1000), livemode: false, metadata: {} });
  }

  protected errorAnswer(status: number, _failure: Failure): ErrorAnswer {
    const headers = { 'request-id': newId('req') };
    if (status === 429) return { status, headers, body: { error: { code: 'rate_limit', message: 'Request rate limit exceeded.', type: 'rate_limit_error' } } };
    if (status >= 500) return { status, headers: { ...headers, 'stripe-should-retry': 'true' }, body: { error: { message: 'An unknown error occurred', type: 'api_error' } } };
    return { status, headers, body: { error: { message: 'Invalid request', type: 'invalid_request_error' } } };
  }

  protected route(request: RecordedRequest, res: ServerResponse): void {
    const headers: Record<string, string> = { 'request-id': newId('req'), 'stripe-version': String(request.headers['stripe-version'] ?? '2026-11-18.endive') };
    const key = tokenOf(request);
    if (!key || !this.keys.has(key)) {
      const message = key ? `Invalid API Key provided: ${key.slice(0, 8)}****${key.slice(-4)}` : 'You did not provide an API key.';
      this.answer(request, res, 401, { error: { message, type: 'invalid_request_error' } }, headers);
      return;
    }
    const idempotencyKey = request.method === 'POST' ? request.headers['idempotency-key'] : undefined;
    const fingerprint = `${request.method} ${request.path} ${request.body}`;
    if (typeof idempotencyKey === 'string') {
      const seen = this.#idempotent.get(`${key} ${idempotencyKey}`);
      if (seen && seen.fingerprint !== fingerprint) {
        const message = `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`;
        this.answer(request, res, 400, { error: { type: 'idempotency_error', message } }, headers);
        return;
      }
      if (seen) {
        this.answer(request, res, seen.status, seen.body, { ...headers, 'idempotent-replayed': 'true', 'idempotency-key': idempotencyKey });
        return;
      }
    }
    let status = 200;
    let body: unknown;
    try {
      body = this.#handle(request.method, request.path, request.method === 'POST' ? parseStripeForm(request.body) : Object.fromEntries(request.query));
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      status = error.status;
      body = { error: { ...error.body, request_log_url: `https://dashboard.stripe.com/test/logs/${headers['request-id']}` } };
    }
    // Stripe keeps the answer of a key, errors included (but for 5xx, which this fake never makes here).
    if (typeof idempotencyKey === 'string') this.#idempotent.set(`${key} ${idempotencyKey}`, { fingerprint, status, body });
    this.answer(request, res, status, body, typeof idempotencyKey === 'string' ? { ...headers, 'idempotency-key': idempotencyKey } : headers);
  }

  #handle(method: string, path: string, params: Params): unknown {
    const created = Math.floor(this.now() / 1000);
    let match: RegExpExecArray | null;
    if (method === 'POST' && path === '/v1/customers') {
      const customer: StripeObject = {
        id: newId('cus'),
        object: 'customer',
        created,
        livemode: false,
        description: params.description ?? null,
        email: params.email ?? null,
        metadata: params.metadata ?? {},
        invoice_settings: { default_payment_method: null, custom_fields: null, footer: null },
      };
      this.customers.set(customer.id, customer);
      return customer;
    }
    if ((match = /^\/v1\/customers\/([^/]+)$/.exec(path))) {
      const customer = this.customers.get(match[1]!);
      if (!customer) throw missing('customer', match[1]!);
      if (method === 'POST') {
        const settings = params.invoice_settings as Params | undefined;
        if (settings?.default_payment_method !== undefined) {
          const pm = String(settings.default_payment_method);
          if (![...this.setupIntents.values()].some((s) => s.customer === customer.id && s.payment_method === pm)) {
            throw invalid(`No such PaymentMethod: '${pm}'`, 'invoice_settings[default_payment_method]', 'resource_missing');
          }
          (customer.invoice_settings as Params).default_payment_method = pm;
        }
        if (params.metadata) customer.metadata = { ...(customer.metadata as Params), ...(params.metadata as Params) };
      }
      return customer;
    }
    if (method === 'POST' && path === '/v1/setup_intents') {
      const customer = this.#customer(params.customer, 'customer');
      const id = newId('seti');
      const intent: StripeObject = {
        id,
        object: 'setup_intent',
        created,
        livemode: false,
        customer: customer.id,
        client_secret: `${id}_secret_${randomBytes(12).toString('hex')}`,
        status: 'requires_payment_method',
        usage: params.usage ?? 'off_session',
        payment_method: null,
        automatic_payment_methods: params.automatic_payment_methods ? { enabled: true, allow_redirects: (params.automatic_payment_methods as Params).allow_redirects ?? 'always' } : null,
        metadata: params.metadata ?? {},
      };
      this.setupIntents.set(id, intent);
      return intent;
    }
    if (method === 'POST' && path === '/v1/invoices') {
      const customer = this.#customer(params.customer, 'customer');
      const currency = String(params.currency ?? 'usd');
      if (!/^[a-z]{3}$/.test(currency)) throw invalid(`Invalid currency: ${currency}.`, 'currency');
      const invoice: StripeObject = {
        id: newId('in'),
        object: 'invoice',
        created,
        livemode: false,
        customer: customer.id,
        currency,
        status: 'draft',
        number: null,
        collection_method: params.collection_method ?? 'charge_automatically',
        auto_advance: params.auto_advance === 'true',
        description: params.description ?? null,
        metadata: params.metadata ?? {},
        amount_due: 0,
        amount_paid: 0,
        amount_remaining: 0,
        total: 0,
        attempt_count: 0,
        attempted: false,
        hosted_invoice_url: null,
        lines: { object: 'list', data: [], has_more: false, total_count: 0, url: '' },
      };
      (invoice.lines as Params).url = `/v1/invoices/${invoice.id}/lines`;
      this.invoices.set(invoice.id, invoice);
      return invoice;
    }
    if (method === 'POST' && path === '/v1/invoiceitems') {
      const customer = this.#customer(params.customer, 'customer');
      const amount = Number(params.amount);
      if (params.amount === undefined || !Number.isInteger(amount)) throw invalid('Invalid integer: amount', 'amount', 'parameter_invalid_integer');
      const invoiceId = String(params.invoice ?? '');
      const invoice = this.invoices.get(invoiceId);
      if (!invoice) throw missing('invoice', invoiceId, 'invoice');
      if (invoice.customer !== customer.id) throw invalid('The invoice does not belong to this customer.', 'invoice');
      if (invoice.status !== 'draft') throw invalid(`You can only add invoice items to draft invoices; invoice ${invoiceId} is ${invoice.status}.`, 'invoice', 'invoice_not_editable');
      if (params.currency !== invoice.currency) throw invalid(`The currency of the invoice item (${String(params.currency)}) must match the invoice's (${String(invoice.currency)}).`, 'currency');
      const item: StripeObject = { id: newId('ii'), object: 'invoiceitem', date: created, livemode: false, customer: customer.id, invoice: invoiceId, amount, currency: invoice.currency, description: params.description ?? null };
      this.invoiceItems.set(item.id, item);
      const lines = invoice.lines as { data: unknown[]; total_count: number };
      lines.data.push({ id: newId('il'), object: 'line_item', amount, currency: invoice.currency, description: item.description });
      lines.total_count = lines.data.length;
      invoice.total = invoice.amount_due = invoice.amount_remaining = Number(invoice.total) + amount;
      return item;
    }
    if ((match = /^\/v1\/invoices\/([^/]+)(?:\/(finalize|pay))?$/.exec(path))) {
      const invoice = this.invoices.get(match[1]!);
      if (!invoice) throw missing('invoice', match[1]!);
      const action = match[2];
      if (method === 'GET' && !action) return invoice;
      if (method === 'POST' && action === 'finalize') {
        if (invoice.status !== 'draft') throw invalid(`This invoice is already finalized, you can't re-finalize a non-draft invoice.`, undefined, 'invoice_not_editable');
        Object.assign(invoice, { status: 'open', number: `FAKE-${String(++this.#invoiceNumber).padStart(4, '0')}`, hosted_invoice_url: `${this.url}/i/${invoice.id}` });
        if (params.auto_advance !== undefined) invoice.auto_advance = params.auto_advance === 'true';
        this.#emit('invoice.finalized', invoice);
        return invoice;
      }
      if (method === 'POST' && action === 'pay') {
        if (invoice.status === 'paid') throw invalid('Invoice is already paid', undefined, 'invoice_already_paid');
        if (invoice.status !== 'open') throw invalid(`You can only pay open invoices; this invoice is ${invoice.status}.`, undefined, 'invoice_not_open');
        const customer = this.customers.get(String(invoice.customer))!;
        const paymentMethod = (customer.invoice_settings as Params).default_payment_method as string | null;
        if (!paymentMethod) {
          throw invalid('This customer has no attached payment source or default payment method. Please consider adding a default payment method.', undefined, 'invoice_no_customer_line_items');
        }
        if (!this.#attempt(invoice, paymentMethod)) {
          throw new StripeApiError(402, { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.', charge: newId('ch') });
        }
        return invoice;
      }
    }
    throw new StripeApiError(404, { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path}).` });
  }

  /** One charge of an open invoice; answers whether it was paid. */
  #attempt(invoice: StripeObject, paymentMethod: string): boolean {
    invoice.attempt_count = Number(invoice.attempt_count) + 1;
    invoice.attempted = true;
    if (paymentMethod === DECLINING_PAYMENT_METHOD) {
      this.#emit('invoice.payment_failed', invoice);
      return false;
    }
    Object.assign(invoice, { status: 'paid', amount_paid: invoice.amount_due, amount_remaining: 0 });
    this.#emit('invoice.paid', invoice);
    return true;
  }

  #customer(id: unknown, param: string): StripeObject {
    if (typeof id !== 'string') throw invalid(`Missing required param: ${param}.`, param, 'parameter_missing');
    const customer = this.customers.get(id);
    if (!customer) throw missing('customer', id, param);
    return customer;
  }

  #emit(type: string, object: StripeObject): StripeWebhookEvent {
    const event: StripeWebhookEvent = {
      id: newId('evt'),
      object: 'event',
      type,
      api_version: '2026-11-18.endive',
      created: Math.floor(this.now() / 1000),
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      data: { object: structuredClone(object) },
    };
    this.events.push(event);
    // After the answer of the request that caused it, as Stripe delivers.
    this.#pending = this.#pending.then(() => new Promise((resolve) => setImmediate(resolve))).then(() => this.#deliver(event));
    return event;
  }

  async #deliver(event: StripeWebhookEvent): Promise<number> {
    if (!this.sender) return 0;
    const body = JSON.stringify(event, null, 2);
    let status = 0;
    try {
      status = await this.sender(body, { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': this.signature(body), 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' });
    } catch {
      status = 0;
    }
    this.deliveries.push({ eventId: event.id, type: event.type, status });
    return status;
  }
}
