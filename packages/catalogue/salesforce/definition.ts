import { bearer, type PlatformDefinition } from '../platform.ts';

export const definition: PlatformDefinition = {
  slug: 'salesforce',
  name: 'Salesforce',
  category: 'CRM',
  description: 'Sales Cloud and Service Cloud records.',
  websiteUrl: 'https://www.salesforce.com',
  apiBaseUrl: '{instance_url}/services/data/v62.0',
  oauth2: {
    authorizeUrl: 'https://login.salesforce.com/services/oauth2/authorize',
    tokenUrl: 'https://login.salesforce.com/services/oauth2/token',
    revocation: { style: 'rfc7009', url: 'https://login.salesforce.com/services/oauth2/revoke', token: 'refresh_token', clientAuth: 'none' },
    scopes: ['api', 'refresh_token'],
    scopeSeparator: ' ',
    pkce: true,
    tokenEndpointAuthMethod: 'client_secret_post',
    tokenRequestFormat: 'form',
    callbackParams: [],
    tokenResponseParams: [
      { name: 'instance_url', path: 'instance_url', pattern: '^https://[A-Za-z0-9.-]+(:[0-9]+)?$' },
      { name: 'identity_url', path: 'id', pattern: '^https://[A-Za-z0-9.-]+(:[0-9]+)?/id/[A-Za-z0-9]+/[A-Za-z0-9]+$' },
    ],
    refreshTokens: true,
    rotatesRefreshTokens: false,
    credential: bearer,
    identity: { method: 'GET', url: '{instance_url}/services/oauth2/userinfo', idPath: 'organization_id', namePath: 'preferred_username' },
    docsUrl: 'https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm',
  },
  rateLimits: [
    { scope: 'per org, rolling 24 hours', limit: 100000, windowSeconds: 86400, description: 'Enterprise Edition: 100,000 requests plus 1,000 per Salesforce user license every 24 hours.' },
    { scope: 'per org', limit: 25, description: 'At most 25 concurrent long-running (over 20 s) requests in production.' },
  ],
};
