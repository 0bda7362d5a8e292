import { bearer, type PlatformDefinition } from '../platform.ts';

export const definition: PlatformDefinition = {
  slug: 'dropbox',
  name: 'Dropbox',
  category: 'FILES',
  description: 'Files and folders in Dropbox.',
  websiteUrl: 'https://www.dropbox.com',
  apiBaseUrl: 'https://api.dropboxapi.com/2',
  oauth2: {
    authorizeUrl: 'https://www.dropbox.com/oauth2/authorize',
    // Its discovery document's issuer; it does not advertise authorization_response_iss_parameter_supported.
    issuer: { identifier: 'https://www.dropbox.com', inAuthorizationResponse: false },
    tokenUrl: 'https://api.dropboxapi.com/oauth2/token',
    revocation: { style: 'bearer', url: 'https://api.dropboxapi.com/2/auth/token/revoke', method: 'POST' },
    scopes: ['account_info.read', 'files.metadata.read', 'files.content.read', 'sharing.read'],
    scopeSeparator: ' ',
    pkce: true,
    tokenEndpointAuthMethod: 'client_secret_basic',
    tokenRequestFormat: 'form',
    authorizeParams: { token_access_type: 'offline' },
    callbackParams: [],
    tokenResponseParams: [{ name: 'account_id', path: 'account_id', pattern: '^dbid:[A-Za-z0-9_-]+$' }],
    refreshTokens: true,
    rotatesRefreshTokens: false,
    credential: bearer,
    identity: {
      method: 'POST',
      url: 'https://api.dropboxapi.com/2/users/get_current_account',
      headers: { 'Content-Type': 'application/json' },
      body: 'null',
      idPath: 'account_id',
      namePath: 'email',
    },
    docsUrl: 'https://developers.dropbox.com/oauth-guide',
  },
  rateLimits: [{ scope: 'per user and per app', description: 'Not published; Dropbox answers 429 with Retry-After when exceeded.' }],
  webhooks: {
    // A notification lists the accounts whose files changed, nothing more; verified once with the app secret.
    signature: { scheme: 'hmac', algorithm: 'sha256', headers: ['X-Dropbox-Signature'], encoding: 'hex' },
    handshake: { style: 'query-challenge', param: 'challenge' },
    batch: 'list_folder.accounts',
    eventType: { value: 'list_folder' },
    accountId: { path: '' },
    events: [{ type: 'list_folder', resources: ['files'] }],
    docsUrl: 'https://www.dropbox.com/developers/reference/webhooks',
  },
};
