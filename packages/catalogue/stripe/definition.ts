import { bearer, type PlatformDefinition } from '../platform.ts';

export const definition: PlatformDefinition = {
  slug: 'stripe',
  name: 'Stripe',
  category: 'PAYMENTS',
  description: 'Payments, billing and subscriptions.',
  websiteUrl: 'https://stripe.com',
  apiBaseUrl: 'https://api.stripe.com/v1',
  apiKey: {
    label: 'Secret or restricted key',
    pattern: '^(sk|rk)_(live|test)_[0-9A-Za-z]{10,247}$',
    hint: 'A Stripe secret key (sk_live_… or sk_test_…) or, better, a read-only restricted key (rk_live_… or rk_test_…) from Developers › API keys.',
    credential: bearer,
    identity: { method: 'GET', url: 'https://api.stripe.com/v1/account', idPath: 'id', namePath: 'settings.dashboard.display_name' },
    docsUrl: 'https://docs.stripe.com/keys',
  },
  rateLimits: [
    { scope: 'per account, live mode', limit: 100, windowSeconds: 1, description: '100 read and 100 write operations per second in live mode.' },
    { scope: 'per account, test mode', limit: 25, windowSeconds: 1, description: '25 read and 25 write operations per second in test mode.' },
  ],
  webhooks: {
    // An endpoint the account registers with its own whsec_ secret; its events carry no account of a
    // connected platform (that is Connect's `account`), so the route names the connection.
    signature: { scheme: 'stripe', header: 'Stripe-Signature', toleranceSeconds: 300 },
    deliveryId: { path: 'id' },
    eventType: { path: 'type' },
    events: [
      { type: 'customer.created', resources: ['customers'] },
      { type: 'customer.updated', resources: ['customers'] },
      { type: 'customer.deleted', resources: ['customers'] },
      { type: 'customer.subscription.*', resources: ['subscriptions'] },
      { type: 'charge.*', resources: ['charges'] },
      { type: 'invoice.*', resources: ['invoices'] },
      { type: 'product.*', resources: ['products'] },
    ],
    docsUrl: 'https://docs.stripe.com/webhooks#verify-events',
  },
};
