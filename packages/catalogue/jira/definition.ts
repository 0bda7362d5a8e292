import { bearer, type PlatformDefinition } from '../platform.ts';

export const definition: PlatformDefinition = {
  slug: 'jira',
  name: 'Jira',
  category: 'PRODUCTIVITY',
  description: 'Jira Cloud projects, issues and comments (Atlassian).',
  websiteUrl: 'https://www.atlassian.com/software/jira',
  apiBaseUrl: 'https://api.atlassian.com/ex/jira/{cloudId}/rest/api/3',
  oauth2: {
    authorizeUrl: 'https://auth.atlassian.com/authorize',
    tokenUrl: 'https://auth.atlassian.com/oauth/token',
    // Atlassian has no revocation endpoint for 3LO: users remove the app under Connected apps.
    // write:jira-work is what restoring issues needs.
    scopes: ['read:jira-work', 'write:jira-work', 'read:jira-user', 'offline_access'],
    scopeSeparator: ' ',
    pkce: false,
    tokenEndpointAuthMethod: 'client_secret_post',
    tokenRequestFormat: 'json',
    authorizeParams: { audience: 'api.atlassian.com', prompt: 'consent' },
    callbackParams: [],
    tokenResponseParams: [],
    refreshTokens: true,
    rotatesRefreshTokens: true,
    credential: bearer,
    identity: {
      method: 'GET',
      url: 'https://api.atlassian.com/oauth/token/accessible-resources',
      idPath: '0.id',
      namePath: '0.name',
      params: { cloudId: '0.id' },
    },
    docsUrl: 'https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/',
  },
  rateLimits: [{ scope: 'per app per site', description: 'Cost-based budget per app and site; 429 with Retry-After and X-RateLimit headers when exceeded.' }],
  webhooks: {
    // Webhooks an OAuth 2.0 app registers (POST /rest/api/3/webhook) carry a JWT signed with the app's
    // client secret; their body does not name the site, so the route names the connection.
    signature: { scheme: 'jwt-hs256', header: 'Authorization' },
    deliveryId: { header: 'X-Atlassian-Webhook-Identifier' },
    eventType: { path: 'webhookEvent' },
    events: [
      { type: 'jira:issue_*', resources: ['issues', 'attachments'] },
      { type: 'comment_*', resources: ['issues'] },
    ],
    docsUrl: 'https://developer.atlassian.com/cloud/jira/platform/webhooks/#webhooks-authentication-for-oauth-2-0-apps',
  },
};
