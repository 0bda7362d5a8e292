import type { PlatformDefinition } from '../platform.ts';

export const definition: PlatformDefinition = {
  slug: 'shopify',
  name: 'Shopify',
  category: 'COMMERCE',
  description: 'Online stores: products, orders, customers and content.',
  websiteUrl: 'https://www.shopify.com',
  apiBaseUrl: 'https://{shop}/admin/api/2025-07',
  connectParams: [
    {
      name: 'shop',
      label: 'Shop domain',
      description: 'The store’s permanent myshopify.com domain, for example acme.myshopify.com.',
      pattern: '^[a-z0-9][a-z0-9-]*\\.myshopify\\.com$',
    },
  ],
  oauth2: {
    authorizeUrl: 'https://{shop}/admin/oauth/authorize',
    tokenUrl: 'https://{shop}/admin/oauth/access_token',
    revocation: { style: 'bearer', url: 'https://{shop}/admin/api_permissions/current.json', method: 'DELETE' },
    scopes: ['read_products', 'read_orders', 'read_customers', 'read_inventory', 'read_fulfillments', 'read_content', 'read_discounts', 'read_locations'],
    scopeSeparator: ',',
    pkce: false,
    tokenEndpointAuthMethod: 'client_secret_post',
    tokenRequestFormat: 'json',
    callbackParams: [
      { name: 'shop', label: 'Shop domain', description: 'The shop that installed the app; must be the one the flow started for.', pattern: '^[a-z0-9][a-z0-9-]*\\.myshopify\\.com$', required: true },
      { name: 'host', label: 'Host', description: 'Base64 of the admin host, for embedded apps.', pattern: '^[A-Za-z0-9+/=_-]{1,512}$', required: false },
    ],
    callbackSignature: { scheme: 'hmac-sha256-sorted-query', param: 'hmac' },
    tokenResponseParams: [],
    refreshTokens: false,
    rotatesRefreshTokens: false,
    credential: { header: 'X-Shopify-Access-Token', prefix: '' },
    identity: { method: 'GET', url: 'https://{shop}/admin/api/2025-07/shop.json', idPath: 'shop.id', namePath: 'shop.name' },
    docsUrl: 'https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant',
  },
  rateLimits: [
    { scope: 'per app per store (REST Admin API)', limit: 40, description: 'Leaky bucket of 40 requests, leaking 2 per second (Shopify Plus: 400 and 20).' },
    { scope: 'per app per store (GraphQL Admin API)', limit: 1000, description: 'Bucket of 1,000 cost points, restored at 50 points per second (Plus: 100).' },
  ],
  webhooks: {
    signature: { scheme: 'hmac', algorithm: 'sha256', headers: ['X-Shopify-Hmac-Sha256'], encoding: 'base64' },
    deliveryId: { header: 'X-Shopify-Webhook-Id' },
    eventType: { header: 'X-Shopify-Topic' },
    accountId: { header: 'X-Shopify-Shop-Domain' },
    accountParam: 'shop',
    events: [
      { type: 'products/*', resources: ['products'] },
      { type: 'orders/*', resources: ['orders'] },
      { type: 'customers/*', resources: ['customers'] },
      { type: 'inventory_levels/*', resources: ['inventory_levels'] },
      { type: 'collections/*', resources: ['collections'] },
    ],
    docsUrl: 'https://shopify.dev/docs/apps/build/webhooks/subscribe/https',
  },
};
