import { bearer, type PlatformDefinition } from '../platform.ts';

export const definition: PlatformDefinition = {
  slug: 'gitlab',
  name: 'GitLab',
  category: 'DEVELOPER',
  description: 'Projects, repositories, issues and merge requests on GitLab.com.',
  websiteUrl: 'https://gitlab.com',
  apiBaseUrl: 'https://gitlab.com/api/v4',
  oauth2: {
    authorizeUrl: 'https://gitlab.com/oauth/authorize',
    // Its discovery document's issuer; it does not advertise authorization_response_iss_parameter_supported.
    issuer: { identifier: 'https://gitlab.com', inAuthorizationResponse: false },
    tokenUrl: 'https://gitlab.com/oauth/token',
    revocation: { style: 'rfc7009', url: 'https://gitlab.com/oauth/revoke', token: 'access_token', clientAuth: 'client_secret_post' },
    scopes: ['read_api', 'read_user', 'read_repository'],
    scopeSeparator: ' ',
    pkce: true,
    tokenEndpointAuthMethod: 'client_secret_post',
    tokenRequestFormat: 'form',
    callbackParams: [],
    tokenResponseParams: [],
    refreshTokens: true,
    rotatesRefreshTokens: true,
    credential: bearer,
    identity: { method: 'GET', url: 'https://gitlab.com/api/v4/user', idPath: 'id', namePath: 'username' },
    docsUrl: 'https://docs.gitlab.com/api/oauth2/',
  },
  apiKey: {
    label: 'Personal access token',
    pattern: '^glpat-[0-9A-Za-z_.-]{20,}$',
    hint: 'A personal access token (glpat-…) with the read_api and read_repository scopes, from Preferences › Access tokens.',
    credential: { header: 'PRIVATE-TOKEN', prefix: '' },
    identity: { method: 'GET', url: 'https://gitlab.com/api/v4/user', idPath: 'id', namePath: 'username' },
    docsUrl: 'https://docs.gitlab.com/user/profile/personal_access_tokens/',
  },
  rateLimits: [{ scope: 'per user (GitLab.com)', limit: 2000, windowSeconds: 60, description: 'Authenticated API traffic: 2,000 requests per minute per user.' }],
};
