import { bearer, type PlatformDefinition } from '../platform.ts';

export const definition: PlatformDefinition = {
  slug: 'quickbooks',
  name: 'QuickBooks Online',
  category: 'ACCOUNTING',
  description: 'Intuit QuickBooks Online accounting.',
  websiteUrl: 'https://quickbooks.intuit.com',
  apiBaseUrl: 'https://quickbooks.api.intuit.com/v3/company/{realmId}',
  oauth2: {
    authorizeUrl: 'https://appcenter.intuit.com/connect/oauth2',
    tokenUrl: 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer',
    revocation: { style: 'json', url: 'https://developer.api.intuit.com/v2/oauth2/tokens/revoke', token: 'refresh_token' },
    scopes: ['com.intuit.quickbooks.accounting'],
    scopeSeparator: ' ',
    pkce: false,
    tokenEndpointAuthMethod: 'client_secret_basic',
    tokenRequestFormat: 'form',
    callbackParams: [
      { name: 'realmId', label: 'Company id', description: 'The QuickBooks company (realm) the user connected.', pattern: '^[0-9]{1,32}$', required: true },
    ],
    tokenResponseParams: [],
    refreshTokens: true,
    rotatesRefreshTokens: true,
    credential: bearer,
    identity: {
      method: 'GET',
      url: 'https://quickbooks.api.intuit.com/v3/company/{realmId}/companyinfo/{realmId}',
      headers: { Accept: 'application/json' },
      idPath: 'CompanyInfo.Id',
      namePath: 'CompanyInfo.CompanyName',
    },
    docsUrl: 'https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0',
  },
  rateLimits: [
    { scope: 'per company (realm)', limit: 500, windowSeconds: 60, description: '500 requests per minute per company.' },
    { scope: 'per company (realm)', limit: 10, description: 'At most 10 concurrent requests per company; batch: 40 requests per minute.' },
  ],
};
