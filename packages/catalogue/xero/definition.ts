import { bearer, type PlatformDefinition } from '../platform.ts';

export const definition: PlatformDefinition = {
  slug: 'xero',
  name: 'Xero',
  category: 'ACCOUNTING',
  description: 'Contacts, invoices, payments, journals and the chart of accounts in Xero.',
  websiteUrl: 'https://www.xero.com',
  apiBaseUrl: 'https://api.xero.com/api.xro/2.0',
  oauth2: {
    authorizeUrl: 'https://login.xero.com/identity/connect/authorize',
    // Its discovery document's issuer, compared with a callback's `iss` when one comes; it does not require one.
    issuer: { identifier: 'https://identity.xero.com', inAuthorizationResponse: false },
    tokenUrl: 'https://identity.xero.com/connect/token',
    revocation: { style: 'rfc7009', url: 'https://identity.xero.com/connect/revocation', token: 'refresh_token', clientAuth: 'client_secret_basic' },
    scopes: ['offline_access', 'accounting.transactions.read', 'accounting.contacts.read', 'accounting.settings.read', 'accounting.reports.read', 'accounting.attachments.read'],
    scopeSeparator: ' ',
    pkce: true,
    tokenEndpointAuthMethod: 'client_secret_basic',
    tokenRequestFormat: 'form',
    callbackParams: [],
    tokenResponseParams: [],
    refreshTokens: true,
    rotatesRefreshTokens: true,
    credential: bearer,
    identity: {
      method: 'GET',
      url: 'https://api.xero.com/connections',
      idPath: '0.tenantId',
      namePath: '0.tenantName',
      params: { tenantId: '0.tenantId' },
    },
    docsUrl: 'https://developer.xero.com/documentation/guides/oauth2/auth-flow',
  },
  rateLimits: [
    { scope: 'per tenant', limit: 60, windowSeconds: 60, description: '60 calls per minute and 5,000 per day per organisation; 5 concurrent calls.' },
    { scope: 'per app', limit: 10000, windowSeconds: 60, description: '10,000 calls per minute across all tenants.' },
  ],
};
