import { bearer, type PlatformDefinition } from '../platform.ts';

export const definition: PlatformDefinition = {
  slug: 'hubspot',
  name: 'HubSpot',
  category: 'CRM',
  description: 'CRM, marketing and service hub.',
  websiteUrl: 'https://www.hubspot.com',
  apiBaseUrl: 'https://api.hubapi.com',
  oauth2: {
    authorizeUrl: 'https://app.hubspot.com/oauth/authorize',
    tokenUrl: 'https://api.hubapi.com/oauth/v1/token',
    revocation: { style: 'token-in-path', url: 'https://api.hubapi.com/oauth/v1/refresh-tokens/{token}', token: 'refresh_token' },
    // The two write scopes are what restoring contacts and companies needs.
    scopes: ['oauth', 'crm.objects.contacts.read', 'crm.objects.contacts.write', 'crm.objects.companies.read', 'crm.objects.companies.write', 'crm.objects.deals.read', 'crm.objects.owners.read', 'tickets', 'e-commerce'],
    scopeSeparator: ' ',
    pkce: false,
    tokenEndpointAuthMethod: 'client_secret_post',
    tokenRequestFormat: 'form',
    callbackParams: [],
    tokenResponseParams: [],
    refreshTokens: true,
    rotatesRefreshTokens: false,
    credential: bearer,
    identity: { method: 'GET', url: 'https://api.hubapi.com/account-info/v3/details', idPath: 'portalId', namePath: 'uiDomain' },
    docsUrl: 'https://developers.hubspot.com/docs/api/oauth-quickstart-guide',
  },
  rateLimits: [
    { scope: 'per installed account (public OAuth app)', limit: 110, windowSeconds: 10, description: '110 requests every 10 seconds per HubSpot account.' },
    { scope: 'search API', limit: 5, windowSeconds: 1, description: 'CRM search endpoints: 5 requests per second per account.' },
  ],
  webhooks: {
    // v3 signature; a delivery is an array of up to 100 events. Their eventId is not guaranteed unique,
    // so the delivery id is the hash of the signed content (which includes the timestamp).
    signature: {
      scheme: 'hmac',
      algorithm: 'sha256',
      headers: ['X-HubSpot-Signature-v3'],
      encoding: 'base64',
      signed: ['method', 'url', 'body', 'timestamp'],
      timestamp: { header: 'X-HubSpot-Request-Timestamp', format: 'unix-milliseconds', toleranceSeconds: 300 },
      decodeUrl: ['%3A', '%2F', '%3F', '%40', '%21', '%24', '%27', '%28', '%29', '%2A', '%2C', '%3B'],
    },
    batch: '',
    eventType: { path: 'subscriptionType' },
    accountId: { path: 'portalId' },
    events: [
      { type: 'contact.*', resources: ['contacts'] },
      { type: 'company.*', resources: ['companies'] },
      { type: 'deal.*', resources: ['deals'] },
      { type: 'ticket.*', resources: ['tickets'] },
      { type: 'product.*', resources: ['products'] },
      { type: 'line_item.*', resources: ['products'] },
    ],
    docsUrl: 'https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation',
  },
};
