import { bearer, type PlatformDefinition } from '../platform.ts';

/**
 * No connector yet: until one is added beside this file, the platform can be connected but offers
 * nothing to back up. What its connector is to back up, as first surveyed:
 * - `Invoices`: Sales invoices and bills. Incremental by If-Modified-Since.
 * - `Contacts`: Customers and suppliers. Incremental by If-Modified-Since.
 * - `Accounts`: Chart of accounts. Incremental by If-Modified-Since.
 * - `BankTransactions`: Spend and receive money. Incremental by If-Modified-Since.
 * - `Payments`: Payments. Incremental by If-Modified-Since.
 * - `CreditNotes`: Credit notes. Incremental by If-Modified-Since.
 * - `ManualJournals`: Manual journals. Incremental by If-Modified-Since.
 * - `Items`: Inventory items. Incremental by If-Modified-Since.
 * - `Reports`: Balance sheet and profit and loss (point-in-time).
 */
export const definition: PlatformDefinition = {
  slug: 'xero',
  name: 'Xero',
  category: 'ACCOUNTING',
  description: 'Xero accounting.',
  websiteUrl: 'https://www.xero.com',
  apiBaseUrl: 'https://api.xero.com/api.xro/2.0',
  oauth2: {
    authorizeUrl: 'https://login.xero.com/identity/connect/authorize',
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
