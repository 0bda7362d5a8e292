import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, TransientError } from '../sdk/index.ts';
import { createStripeConnector } from './connector.ts';
import { FakeStripe } from './fake.ts';
import { collect, json, tokenCredentials } from '../testing/connector-run.ts';

describe('Stripe connector', () => {
  const stripe = new FakeStripe();
  let connector: ReturnType<typeof createStripeConnector>;
  const key = () => tokenCredentials('apiKey', 'sk_test_valid');

  beforeAll(async () => {
    await stripe.start();
    connector = createStripeConnector({ baseUrl: `${stripe.url}/v1` });
    for (let i = 0; i < 250; i++) {
      if (i % 50 === 0) stripe.advance(1000);
      stripe.add('customers');
    }
    for (let i = 0; i < 30; i++) stripe.add('charges');
    for (let i = 0; i < 12; i++) stripe.add('invoices');
    for (let i = 0; i < 5; i++) stripe.add('subscriptions', { status: i === 0 ? 'canceled' : 'active' });
    for (let i = 0; i < 3; i++) stripe.add('products');
  });
  afterAll(() => stripe.close());

  it('pages through a list with limit=100 and starting_after the last id', async () => {
    stripe.requests.length = 0;
    const { items } = await collect(connector, 'customers', key());
    expect(items).toHaveLength(250);
    expect(new Set(items.map((i) => i.id)).size).toBe(250);
    const pages = stripe.requestsTo('/v1/customers');
    expect(pages).toHaveLength(3);
    expect(pages.every((r) => r.query.get('limit') === '100' && r.headers.authorization === 'Bearer sk_test_valid')).toBe(true);
    expect(pages.map((r) => r.query.get('starting_after'))).toEqual([null, items[99].id, items[199].id]);
    const newest = stripe.objects.customers.at(-1)!;
    expect(items[0].path).toBe(`customers/${newest.id}.json`);
    expect(json(items[0])).toEqual(newest);
  });

  it('fetches charges, invoices, products and subscriptions of every status', async () => {
    const counts: Record<string, number> = {};
    for (const resource of ['charges', 'invoices', 'subscriptions', 'products']) counts[resource] = (await collect(connector, resource, key())).items.length;
    expect(counts).toEqual({ charges: 30, invoices: 12, subscriptions: 5, products: 3 });
    expect(stripe.requestsTo('/v1/subscriptions').at(-1)!.query.get('status')).toBe('all');
  });

  it('a second run fetches new objects (created[gte]) and changed ones (events), and a third run nothing', async () => {
    const first = await collect(connector, 'customers', key());
    stripe.advance(10_000);
    const old = stripe.objects.customers[3];
    stripe.update('customers', old.id, { email: 'changed@example.com' });
    const added = [stripe.add('customers'), stripe.add('customers')];
    const subscription = stripe.update('subscriptions', stripe.objects.subscriptions[1].id, { status: 'past_due' });
    stripe.requests.length = 0;

    const second = await collect(connector, 'customers', { ...key(), cursor: first.cursor });
    expect(second.items.map((i) => i.id).sort()).toEqual([old.id, ...added.map((a) => a.id)].sort());
    expect(json(second.items.find((i) => i.id === old.id)!).email).toBe('changed@example.com');
    const [listing] = stripe.requestsTo('/v1/customers');
    expect(listing.query.get('created[gte]')).toBe(String((first.cursor as { created: { at: number } }).created.at));
    expect(stripe.requestsTo('/v1/events')[0].query.get('type')).toBe('customer.*');
    // the subscription's event is a customer.* event too, but not a customer
    expect(second.items.some((i) => i.id === subscription.id)).toBe(false);

    const third = await collect(connector, 'customers', { ...key(), cursor: second.cursor });
    expect(third.items).toEqual([]);

    stripe.advance(5_000);
    const subscriptions = await collect(connector, 'subscriptions', { ...key(), cursor: (await collect(connector, 'subscriptions', key())).cursor });
    expect(subscriptions.items).toEqual([]);
    stripe.advance(5_000);
    stripe.update('subscriptions', subscription.id, { status: 'canceled' });
    const changedSubs = await collect(connector, 'subscriptions', { ...key(), cursor: subscriptions.cursor });
    expect(changedSubs.items.map((i) => [i.id, json(i).status])).toEqual([[subscription.id, 'canceled']]);
  });

  it('backs off on a 429 that names no Retry-After, then succeeds', async () => {
    stripe.requests.length = 0;
    stripe.failNext({ status: 429, times: 2 });
    const { items } = await collect(connector, 'products', key());
    expect(items).toHaveLength(3);
    expect(stripe.requests.map((r) => r.status)).toEqual([429, 429, 200]);
    expect(stripe.requests[0].headers['retry-after']).toBeUndefined();
  });

  it('survives a 503 storm; a 500 that never ends is a TransientError after bounded attempts', async () => {
    stripe.requests.length = 0;
    stripe.failNext({ status: 503, times: 5 });
    expect((await collect(connector, 'products', key())).items).toHaveLength(3);
    expect(stripe.requests.map((r) => r.status)).toEqual([503, 503, 503, 503, 503, 200]);

    stripe.requests.length = 0;
    stripe.failNext({ status: 500, times: 100 });
    const error = await collect(connector, 'products', key()).catch((e: unknown) => e);
    stripe.clearFailures();
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ failureType: 'TRANSIENT', status: 500, attempts: 6, platformCode: 'api_error' });
    expect(stripe.requests).toHaveLength(6);
  });

  it('an invalid key is an AuthError (CONFIG) carrying Stripe\'s message, after one refresh', async () => {
    stripe.requests.length = 0;
    const credentials = tokenCredentials('apiKey', 'sk_test_rolled_key');
    const error = await collect(connector, 'customers', credentials).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ failureType: 'AUTH', status: 401, platformCode: 'invalid_request_error' });
    expect((error as Error).message).toMatch(/Stripe answered 401: Invalid API Key provided: sk_test_\*\*\*\*_key/);
    expect(credentials.state.refreshes).toBe(1);
    expect(stripe.requests).toHaveLength(2);
  });
});
