import { bearer, type PlatformDefinition } from '../platform.ts';

export const definition: PlatformDefinition = {
  slug: 'airtable',
  name: 'Airtable',
  category: 'PRODUCTIVITY',
  description: 'Airtable bases, tables and records.',
  websiteUrl: 'https://airtable.com',
  apiBaseUrl: 'https://api.airtable.com/v0',
  oauth2: {
    authorizeUrl: 'https://airtable.com/oauth2/v1/authorize',
    tokenUrl: 'https://airtable.com/oauth2/v1/token',
    // Reading what is backed up; data.records:write is what restoring records needs.
    scopes: ['data.records:read', 'data.records:write', 'schema.bases:read', 'user.email:read'],
    scopeSeparator: ' ',
    pkce: true,
    tokenEndpointAuthMethod: 'client_secret_basic',
    tokenRequestFormat: 'form',
    callbackParams: [],
    tokenResponseParams: [],
    refreshTokens: true,
    rotatesRefreshTokens: true,
    credential: bearer,
    identity: { method: 'GET', url: 'https://api.airtable.com/v0/meta/whoami', idPath: 'id', namePath: 'email' },
    docsUrl: 'https://airtable.com/developers/web/guides/oauth-integrations',
  },
  apiKey: {
    label: 'Personal access token',
    pattern: '^pat[A-Za-z0-9]{14}\\.[0-9a-f]{64}$',
    hint: 'A personal access token (pat….…) with the data.records:read and schema.bases:read scopes (and data.records:write to restore), from airtable.com/create/tokens.',
    credential: bearer,
    identity: { method: 'GET', url: 'https://api.airtable.com/v0/meta/whoami', idPath: 'id', namePath: 'email' },
    docsUrl: 'https://airtable.com/developers/web/guides/personal-access-tokens',
  },
  rateLimits: [
    { scope: 'per base', limit: 5, windowSeconds: 1, description: '5 requests per second per base; 30 seconds of back-off after a 429.' },
    { scope: 'per user or service account', limit: 50, windowSeconds: 1, description: '50 requests per second for all traffic of one personal access token owner.' },
  ],
};
