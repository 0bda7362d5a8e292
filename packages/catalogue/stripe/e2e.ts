import { randomBytes } from 'node:crypto';
import { apiRootAt, definitionOf, json, type E2EPlatform } from '../testing/e2e.ts';
import { FakeAccount } from '../testing/fake-account.ts';
import { FakeStripe } from './fake.ts';

export default {
  slug: 'stripe',
  async start() {
    const definition = definitionOf('stripe');
    const stripe = await new FakeStripe().start();
    const apiKey = `sk_test_${randomBytes(12).toString('hex')}`;
    stripe.keys.add(apiKey);
    stripe.account = new FakeAccount({ definition, identity: () => ({ id: 'acct_1E2E', object: 'account', settings: { dashboard: { display_name: 'E2E Co' } } }), accept: (token) => stripe.keys.add(token) });
    stripe.account.apiKeys.add(apiKey);
    // More customers than one page of 100, made a second apart as a shop's are (not all at once).
    for (let i = 0; i < 105; i++) {
      stripe.add('customers');
      stripe.advance(1_000);
    }
    for (const list of ['charges', 'invoices', 'subscriptions', 'products'] as const) for (let i = 0; i < 3; i++) stripe.add(list);
    return {
      apiRoot: apiRootAt(definition, stripe.url),
      account: stripe.account,
      origin: stripe.url,
      connect: { kind: 'apiKey', apiKey },
      served: () => new Map(Object.entries(stripe.objects).flatMap(([list, objects]) => objects.map((object) => [`${list}/${object.id}.json`, json(object)] as const))),
      incremental: {
        resource: 'customers',
        // The listing, and the Events API that names what changed.
        read: () => stripe.recordsServed(/^\/v1\/(customers|events)$/, (body) => body?.data),
        change() {
          stripe.advance(120_000);
          const customer = stripe.objects.customers[0];
          stripe.update('customers', customer.id, { name: 'Renamed' });
          return `customers/${customer.id}.json`;
        },
      },
      close: () => stripe.close(),
    };
  },
} satisfies E2EPlatform;
