/**
 * A fake of the Stripe API for list endpoints: /v1/customers, charges, invoices, subscriptions,
 * products and events. List objects `{object:'list', data, has_more, url}`, newest first,
 * `limit` (1..100, default 10), `starting_after`, `created[gte|gt|lte|lt]`, `type` with `*`
 * wildcards for events; subscriptions hide canceled ones unless `status=all`. Errors as Stripe
 * sends them: `{error:{type, code?, message, param?}}`, 401 for a bad key, 429 with no Retry-After.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { FakeServer, tokenOf, type ErrorAnswer, type Failure, type RecordedRequest } from '../testing/fake-server.ts';

export const STRIPE_TYPES = {
  customers: { prefix: 'cus', object: 'customer', event: 'customer' },
  charges: { prefix: 'ch', object: 'charge', event: 'charge' },
  invoices: { prefix: 'in', object: 'invoice', event: 'invoice' },
  subscriptions: { prefix: 'sub', object: 'subscription', event: 'customer.subscription' },
  products: { prefix: 'prod', object: 'product', event: 'product' },
} as const;
export type StripeListName = keyof typeof STRIPE_TYPES;

export interface StripeObject {
  id: string;
  object: string;
  created: number;
  livemode: false;
  [key: string]: unknown;
}

interface StripeEvent {
  id: string;
  object: 'event';
  type: string;
  created: number;
  api_version: string;
  livemode: false;
  data: { object: StripeObject; previous_attributes?: Record<string, unknown> };
}

export class FakeStripe extends FakeServer {
  readonly keys = new Set<string>(['sk_test_valid']);
  readonly objects: Record<StripeListName, StripeObject[]> = { customers: [], charges: [], invoices: [], subscriptions: [], products: [] };
  readonly events: StripeEvent[] = [];

  add(list: StripeListName, fields: Record<string, unknown> = {}): StripeObject {
    const { prefix, object } = STRIPE_TYPES[list];
    const defaults: Record<StripeListName, Record<string, unknown>> = {
      customers: { email: `c${this.objects.customers.length}@example.com`, name: `Customer ${this.objects.customers.length}`, balance: 0, metadata: {} },
      charges: { amount: 1000 + this.objects.charges.length, currency: 'usd', status: 'succeeded', paid: true, refunded: false, metadata: {} },
      invoices: { number: `INV-${this.objects.invoices.length}`, status: 'paid', total: 5000, currency: 'usd', lines: { object: 'list', data: [], has_more: false, url: '/v1/invoices/lines' } },
      subscriptions: { status: 'active', items: { object: 'list', data: [], has_more: false }, metadata: {} },
      products: { name: `Product ${this.objects.products.length}`, active: true, metadata: {} },
    };
    const item: StripeObject = { id: `${prefix}_${randomBytes(7).toString('hex')}`, object, created: Math.floor(this.now() / 1000), livemode: false, ...defaults[list], ...fields };
    this.objects[list].push(item);
    this.#event(`${STRIPE_TYPES[list].event}.created`, item);
    return item;
  }

  update(list: StripeListName, id: string, patch: Record<string, unknown>): StripeObject {
    const item = this.objects[list].find((o) => o.id === id)!;
    const previous = Object.fromEntries(Object.keys(patch).map((k) => [k, item[k]]));
    Object.assign(item, patch);
    this.#event(`${STRIPE_TYPES[list].event}.updated`, item, previous);
    return item;
  }

  #event(type: string, object: StripeObject, previous?: Record<string, unknown>): void {
    this.events.push({
      id: `evt_${randomBytes(7).toString('hex')}`,
      object: 'event',
      type,
      created: Math.floor(this.now() / 1000),
      api_version: '2024-06-20',
      livemode: false,
      data: { object: structuredClone(object), ...(previous ? { previous_attributes: previous } : {}) },
    });
  }

  protected errorAnswer(status: number, _failure: Failure): ErrorAnswer {
    const headers = { 'request-id': `req_${randomBytes(7).toString('hex')}` };
    if (status === 429) {
      return { status, headers, body: { error: { code: 'rate_limit', message: 'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.', type: 'rate_limit_error' } } };
    }
    if (status === 401) return { status, headers, body: { error: { message: 'Invalid API Key provided: sk_test_****alid', type: 'invalid_request_error' } } };
    if (status >= 500) return { status, headers: { ...headers, 'stripe-should-retry': 'true' }, body: { error: { message: 'An unknown error occurred', type: 'api_error' } } };
    return { status, headers, body: { error: { message: 'Invalid request', type: 'invalid_request_error' } } };
  }

  protected route(request: RecordedRequest, res: ServerResponse): void {
    const headers = { 'request-id': `req_${randomBytes(7).toString('hex')}`, 'stripe-version': '2024-06-20' };
    const key = tokenOf(request);
    if (!key) {
      this.answer(request, res, 401, { error: { message: "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').", type: 'invalid_request_error' } }, headers);
      return;
    }
    if (!this.keys.has(key)) {
      this.answer(request, res, 401, { error: { message: `Invalid API Key provided: ${key.slice(0, 8)}****${key.slice(-4)}`, type: 'invalid_request_error' } }, headers);
      return;
    }
    const match = /^\/v1\/(customers|charges|invoices|subscriptions|products|events)$/.exec(request.path);
    if (request.method !== 'GET' || !match) {
      this.answer(request, res, 404, { error: { message: `Unrecognized request URL (${request.method}: ${request.path}).`, type: 'invalid_request_error' } }, headers);
      return;
    }
    const name = match[1] as StripeListName | 'events';
    const invalid = (message: string, param: string) => this.answer(request, res, 400, { error: { code: 'parameter_invalid_integer', message, param, type: 'invalid_request_error' } }, headers);

    const limitText = request.query.get('limit') ?? '10';
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      invalid('This value must be greater than or equal to 1 and less than or equal to 100.', 'limit');
      return;
    }
    let all: StripeObject[] = name === 'events' ? (this.events as unknown as StripeObject[]) : this.objects[name];
    all = all.map((o, index) => ({ o, index })).sort((a, b) => b.o.created - a.o.created || b.index - a.index).map(({ o }) => o);
    for (const [op, test] of [
      ['gte', (a: number, b: number) => a >= b],
      ['gt', (a: number, b: number) => a > b],
      ['lte', (a: number, b: number) => a <= b],
      ['lt', (a: number, b: number) => a < b],
    ] as const) {
      const value = request.query.get(`created[${op}]`);
      if (value !== null) all = all.filter((o) => test(o.created, Number(value)));
    }
    if (name === 'subscriptions') {
      const status = request.query.get('status');
      if (status !== 'all') all = all.filter((o) => (status ? o.status === status : o.status !== 'canceled'));
    }
    if (name === 'events') {
      const types = [...request.query.getAll('types[]'), ...request.query.getAll('type')];
      if (types.length) all = all.filter((e) => types.some((t) => new RegExp(`^${t.replace(/\./g, '\\.').replace(/\*/g, '.*')}$`).test((e as unknown as StripeEvent).type)));
    }
    const after = request.query.get('starting_after');
    if (after !== null) {
      const at = all.findIndex((o) => o.id === after);
      if (at < 0) {
        this.answer(request, res, 400, { error: { code: 'resource_missing', message: `No such ${name.replace(/s$/, '')}: '${after}'`, param: 'starting_after', type: 'invalid_request_error' } }, headers);
        return;
      }
      all = all.slice(at + 1);
    }
    this.answer(request, res, 200, { object: 'list', data: all.slice(0, limit), has_more: all.length > limit, url: `/v1/${name}` }, headers);
  }
}
