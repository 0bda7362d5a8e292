import { bearer, type PlatformDefinition } from '../platform.ts';

export const definition: PlatformDefinition = {
  slug: 'google-drive',
  name: 'Google Drive',
  category: 'FILES',
  description: 'Files, folders and shared drives in Google Drive.',
  websiteUrl: 'https://drive.google.com',
  apiBaseUrl: 'https://www.googleapis.com/drive/v3',
  oauth2: {
    authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    // Its discovery document's issuer; it does not advertise authorization_response_iss_parameter_supported.
    issuer: { identifier: 'https://accounts.google.com', inAuthorizationResponse: false },
    tokenUrl: 'https://oauth2.googleapis.com/token',
    revocation: { style: 'rfc7009', url: 'https://oauth2.googleapis.com/revoke', token: 'refresh_token', clientAuth: 'none' },
    scopes: ['https://www.googleapis.com/auth/drive.readonly'],
    scopeSeparator: ' ',
    pkce: true,
    tokenEndpointAuthMethod: 'client_secret_post',
    tokenRequestFormat: 'form',
    authorizeParams: { access_type: 'offline', prompt: 'consent', include_granted_scopes: 'true' },
    callbackParams: [],
    tokenResponseParams: [],
    refreshTokens: true,
    rotatesRefreshTokens: false,
    credential: bearer,
    identity: { method: 'GET', url: 'https://www.googleapis.com/drive/v3/about?fields=user', idPath: 'user.permissionId', namePath: 'user.emailAddress' },
    docsUrl: 'https://developers.google.com/identity/protocols/oauth2/web-server',
  },
  rateLimits: [
    { scope: 'per project', limit: 12000, windowSeconds: 60, description: '12,000 queries per minute per project (default quota).' },
    { scope: 'per user', limit: 12000, windowSeconds: 60, description: '12,000 queries per minute per user; 750 GB of uploads and copies per day.' },
  ],
};
