import { bearer, type PlatformDefinition } from '../platform.ts';

export const definition: PlatformDefinition = {
  slug: 'notion',
  name: 'Notion',
  category: 'PRODUCTIVITY',
  description: 'Pages, databases and comments of a Notion workspace.',
  websiteUrl: 'https://www.notion.so',
  apiBaseUrl: 'https://api.notion.com/v1',
  apiHeaders: { 'Notion-Version': '2022-06-28' },
  oauth2: {
    authorizeUrl: 'https://api.notion.com/v1/oauth/authorize',
    tokenUrl: 'https://api.notion.com/v1/oauth/token',
    revocation: { style: 'json', url: 'https://api.notion.com/v1/oauth/revoke', token: 'access_token' },
    // Notion has no scopes: the integration's capabilities and the pages the user shares decide.
    scopes: [],
    scopeSeparator: ' ',
    pkce: false,
    tokenEndpointAuthMethod: 'client_secret_basic',
    tokenRequestFormat: 'json',
    authorizeParams: { owner: 'user' },
    callbackParams: [],
    tokenResponseParams: [
      { name: 'workspace_id', path: 'workspace_id', pattern: '^[0-9a-f-]{32,36}$' },
      { name: 'workspace_name', path: 'workspace_name', pattern: '^.{1,200}$' },
    ],
    refreshTokens: false,
    rotatesRefreshTokens: false,
    credential: bearer,
    identity: { method: 'GET', url: 'https://api.notion.com/v1/users/me', headers: { 'Notion-Version': '2022-06-28' }, idPath: 'id', namePath: 'bot.workspace_name' },
    docsUrl: 'https://developers.notion.com/docs/authorization',
  },
  apiKey: {
    label: 'Internal integration secret',
    pattern: '^(secret_|ntn_)[A-Za-z0-9]{40,60}$',
    hint: 'An internal integration secret (ntn_… or secret_…) from notion.so/my-integrations; share the pages to back up with the integration.',
    credential: bearer,
    identity: { method: 'GET', url: 'https://api.notion.com/v1/users/me', headers: { 'Notion-Version': '2022-06-28' }, idPath: 'id', namePath: 'bot.workspace_name' },
    docsUrl: 'https://developers.notion.com/docs/create-a-notion-integration',
  },
  rateLimits: [{ scope: 'per integration', limit: 3, windowSeconds: 1, description: 'An average of 3 requests per second, with short bursts allowed.' }],
};
