import { bearer, type PlatformDefinition } from '../platform.ts';

export const definition: PlatformDefinition = {
  slug: 'box',
  name: 'Box',
  category: 'FILES',
  description: 'Files, folders and collaborations in Box.',
  websiteUrl: 'https://www.box.com',
  apiBaseUrl: 'https://api.box.com/2.0',
  oauth2: {
    authorizeUrl: 'https://account.box.com/api/oauth2/authorize',
    tokenUrl: 'https://api.box.com/oauth2/token',
    revocation: { style: 'rfc7009', url: 'https://api.box.com/oauth2/revoke', token: 'access_token', clientAuth: 'client_secret_post' },
    // Read-only access to every file and folder the user can reach.
    scopes: ['root_readonly'],
    scopeSeparator: ' ',
    pkce: false,
    tokenEndpointAuthMethod: 'client_secret_post',
    tokenRequestFormat: 'form',
    callbackParams: [],
    tokenResponseParams: [],
    refreshTokens: true,
    rotatesRefreshTokens: true,
    credential: bearer,
    identity: { method: 'GET', url: 'https://api.box.com/2.0/users/me', idPath: 'id', namePath: 'login' },
    docsUrl: 'https://developer.box.com/guides/authentication/oauth2/',
  },
  rateLimits: [
    { scope: 'per user', limit: 1000, windowSeconds: 60, description: '1,000 API requests per minute per user.' },
    { scope: 'per user (uploads)', limit: 240, windowSeconds: 60, description: '240 file uploads per minute per user.' },
  ],
  webhooks: {
    // V2 webhooks: the body then the delivery timestamp, signed with the app's primary and secondary
    // keys; either valid. The payload names the item and who changed it, not the connection.
    signature: {
      scheme: 'hmac',
      algorithm: 'sha256',
      headers: ['BOX-SIGNATURE-PRIMARY', 'BOX-SIGNATURE-SECONDARY'],
      encoding: 'base64',
      signed: ['body', 'timestamp'],
      timestamp: { header: 'BOX-DELIVERY-TIMESTAMP', format: 'rfc3339', toleranceSeconds: 600 },
    },
    deliveryId: { path: 'id' },
    eventType: { path: 'trigger' },
    events: [
      { type: 'FILE.*', resources: ['files'] },
      { type: 'FOLDER.*', resources: ['files'] },
    ],
    docsUrl: 'https://developer.box.com/guides/webhooks/v2/signatures-v2',
  },
};
