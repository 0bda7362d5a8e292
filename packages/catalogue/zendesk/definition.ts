import { bearer, type PlatformDefinition } from '../platform.ts';

export const definition: PlatformDefinition = {
  slug: 'zendesk',
  name: 'Zendesk',
  category: 'SUPPORT',
  description: 'Zendesk Support tickets, users and help center.',
  websiteUrl: 'https://www.zendesk.com',
  apiBaseUrl: 'https://{subdomain}.zendesk.com/api/v2',
  connectParams: [
    { name: 'subdomain', label: 'Zendesk subdomain', description: 'The part before .zendesk.com, for example acme for acme.zendesk.com.', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
  ],
  oauth2: {
    authorizeUrl: 'https://{subdomain}.zendesk.com/oauth/authorizations/new',
    tokenUrl: 'https://{subdomain}.zendesk.com/oauth/tokens',
    revocation: { style: 'bearer', url: 'https://{subdomain}.zendesk.com/api/v2/oauth/tokens/current.json', method: 'DELETE' },
    // read: everything backed up; tickets:write: what restoring tickets needs.
    scopes: ['read', 'tickets:write'],
    scopeSeparator: ' ',
    pkce: true,
    tokenEndpointAuthMethod: 'client_secret_post',
    tokenRequestFormat: 'json',
    callbackParams: [],
    tokenResponseParams: [],
    refreshTokens: true,
    rotatesRefreshTokens: true,
    credential: bearer,
    identity: { method: 'GET', url: 'https://{subdomain}.zendesk.com/api/v2/users/me.json', idPath: 'user.id', namePath: 'user.email' },
    docsUrl: 'https://support.zendesk.com/hc/en-us/articles/4408845965210',
  },
  rateLimits: [
    { scope: 'per account, by plan', limit: 400, windowSeconds: 60, description: 'Support API: Team 200, Growth and Professional 400, Enterprise 700 requests per minute; 2,500 with High Volume.' },
    { scope: 'incremental exports', limit: 10, windowSeconds: 60, description: 'Incremental export endpoints: 10 requests per minute (30 with High Volume).' },
  ],
  webhooks: {
    // Webhooks subscribed to Zendesk events; their account_id is not the id a connection keeps, so the
    // route names the connection. Zendesk documents no tolerance for the signed timestamp.
    signature: {
      scheme: 'hmac',
      algorithm: 'sha256',
      headers: ['X-Zendesk-Webhook-Signature'],
      encoding: 'base64',
      signed: ['timestamp', 'body'],
      timestamp: { header: 'X-Zendesk-Webhook-Signature-Timestamp', format: 'rfc3339' },
    },
    deliveryId: { path: 'id' },
    eventType: { path: 'type' },
    events: [
      { type: 'zen:event-type:ticket.*', resources: ['tickets'] },
      { type: 'zen:event-type:user.*', resources: ['users'] },
      { type: 'zen:event-type:organization.*', resources: ['organizations'] },
      { type: 'zen:event-type:article.*', resources: ['articles'] },
    ],
    docsUrl: 'https://developer.zendesk.com/documentation/webhooks/verifying/',
  },
};
