import { bearer, type PlatformDefinition } from '../platform.ts';

export const definition: PlatformDefinition = {
  slug: 'intercom',
  name: 'Intercom',
  category: 'SUPPORT',
  description: 'Intercom contacts, companies, conversations and articles.',
  websiteUrl: 'https://www.intercom.com',
  apiBaseUrl: 'https://api.intercom.io',
  apiHeaders: { 'Intercom-Version': '2.11' },
  oauth2: {
    authorizeUrl: 'https://app.intercom.com/oauth',
    tokenUrl: 'https://api.intercom.io/auth/eagle/token',
    // Intercom has no revocation endpoint: workspaces uninstall the app in their settings.
    scopes: [],
    scopeSeparator: ' ',
    pkce: false,
    tokenEndpointAuthMethod: 'client_secret_post',
    tokenRequestFormat: 'form',
    callbackParams: [],
    tokenResponseParams: [],
    refreshTokens: false,
    rotatesRefreshTokens: false,
    credential: bearer,
    identity: { method: 'GET', url: 'https://api.intercom.io/me', headers: { 'Intercom-Version': '2.11' }, idPath: 'app.id_code', namePath: 'app.name' },
    docsUrl: 'https://developers.intercom.com/docs/build-an-integration/learn-more/authentication/setting-up-oauth',
  },
  apiKey: {
    label: 'Access token',
    pattern: '^dG9rOj[A-Za-z0-9+/=_-]{20,}$',
    hint: 'The access token of a private app, from Developer Hub › your app › Authentication (it starts with dG9rOj).',
    credential: bearer,
    identity: { method: 'GET', url: 'https://api.intercom.io/me', headers: { 'Intercom-Version': '2.11' }, idPath: 'app.id_code', namePath: 'app.name' },
    docsUrl: 'https://developers.intercom.com/docs/build-an-integration/learn-more/authentication',
  },
  rateLimits: [
    { scope: 'per app', limit: 10000, windowSeconds: 60, description: '10,000 calls per minute per app, enforced in 10-second windows.' },
    { scope: 'per workspace', limit: 25000, windowSeconds: 60, description: '25,000 calls per minute per workspace.' },
  ],
  webhooks: {
    // Notifications signed with the app's client secret; app_id is the workspace's id code.
    signature: { scheme: 'hmac', algorithm: 'sha1', headers: ['X-Hub-Signature'], prefix: 'sha1=', encoding: 'hex' },
    handshake: { style: 'head' },
    deliveryId: { path: 'id' },
    eventType: { path: 'topic' },
    accountId: { path: 'app_id' },
    events: [
      { type: 'contact.*', resources: ['contacts'] },
      { type: 'conversation.*', resources: ['conversations'] },
      { type: 'conversation_part.*', resources: ['conversations'] },
      { type: 'ticket.*', resources: ['tickets'] },
    ],
    docsUrl: 'https://developers.intercom.com/docs/webhooks/setting-up-webhooks',
  },
};
