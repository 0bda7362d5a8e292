import { bearer, type PlatformDefinition } from '../platform.ts';

export const definition: PlatformDefinition = {
  slug: 'slack',
  name: 'Slack',
  category: 'COMMUNICATION',
  description: 'Channels, messages and files of a Slack workspace.',
  websiteUrl: 'https://slack.com',
  apiBaseUrl: 'https://slack.com/api',
  oauth2: {
    authorizeUrl: 'https://slack.com/oauth/v2/authorize',
    // Its discovery document's issuer; it does not advertise authorization_response_iss_parameter_supported.
    issuer: { identifier: 'https://slack.com', inAuthorizationResponse: false },
    tokenUrl: 'https://slack.com/api/oauth.v2.access',
    revocation: { style: 'bearer', url: 'https://slack.com/api/auth.revoke', method: 'POST' },
    scopes: ['channels:read', 'channels:history', 'groups:read', 'groups:history', 'users:read', 'files:read', 'team:read'],
    scopeSeparator: ',',
    pkce: false,
    tokenEndpointAuthMethod: 'client_secret_basic',
    tokenRequestFormat: 'form',
    callbackParams: [],
    tokenResponseParams: [
      { name: 'team_id', path: 'team.id', pattern: '^T[A-Z0-9]+$' },
      { name: 'team_name', path: 'team.name', pattern: '^.{1,200}$' },
    ],
    // Only with token rotation turned on in the app's settings.
    refreshTokens: true,
    rotatesRefreshTokens: true,
    credential: bearer,
    identity: { method: 'POST', url: 'https://slack.com/api/auth.test', idPath: 'team_id', namePath: 'team', okField: 'ok' },
    docsUrl: 'https://docs.slack.dev/authentication/installing-with-oauth',
  },
  rateLimits: [
    { scope: 'per method per workspace (Tier 3)', limit: 50, windowSeconds: 60, description: 'conversations.history and conversations.replies: Tier 3, about 50 per minute (lower for non-Marketplace apps).' },
    { scope: 'per method per workspace (Tier 2)', limit: 20, windowSeconds: 60, description: 'conversations.list, users.list, files.list: Tier 2, about 20 per minute.' },
  ],
  webhooks: {
    // The Events API: every request, the url_verification handshake included, signed with the app's signing secret.
    signature: {
      scheme: 'hmac',
      algorithm: 'sha256',
      headers: ['X-Slack-Signature'],
      prefix: 'v0=',
      encoding: 'hex',
      signed: [{ text: 'v0:' }, 'timestamp', { text: ':' }, 'body'],
      timestamp: { header: 'X-Slack-Request-Timestamp', format: 'unix-seconds', toleranceSeconds: 300 },
    },
    handshake: { style: 'body-challenge', typePath: 'type', type: 'url_verification', challengePath: 'challenge' },
    deliveryId: { path: 'event_id' },
    eventType: { path: 'event.type' },
    accountId: { path: 'team_id' },
    events: [
      { type: 'message', resources: ['messages'] },
      { type: 'file_shared', resources: ['files'] },
      { type: 'file_created', resources: ['files'] },
    ],
    docsUrl: 'https://api.slack.com/authentication/verifying-requests-from-slack',
  },
};
