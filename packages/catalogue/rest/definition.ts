import { parseRestDefinition, RestDefinitionError } from '@listbackup/lib/rest-definition';
import { bearer, type PlatformDefinition } from '../platform.ts';

export const definition: PlatformDefinition = {
  slug: 'rest',
  name: 'REST API',
  category: 'OTHER',
  description: 'Any JSON API over HTTP: describe its base URL, how it takes the key, and for each resource its path, where the items are and how it pages.',
  websiteUrl: '',
  apiBaseUrl: '',
  connectParams: [
    {
      name: 'definition',
      label: 'API definition',
      description:
        'JSON: {"name", "baseUrl", "auth": {"type": "bearer" | "header" (with "name", "prefix") | "basic" | "none"}, "resources": [{"name", "path", "items" (JSON pointer to the list), "idField", "pagination": {"style": "none" | "cursor" | "page" | "link", …}, "incremental": {"param", "field"}}]}',
      pattern: '^\\{[\\s\\S]{0,65534}\\}$',
      check: checkDefinition,
    },
  ],
  apiKey: {
    label: 'API key',
    // Empty for an API without authentication; one that needs a key refuses an empty one.
    pattern: '^[\\x21-\\x7e]{0,4096}$',
    hint: 'The key or token the API takes, without spaces; the definition says how it is sent (auth). Leave it empty for an API without authentication (auth: none).',
    // Sent as the definition's `auth` says, not by this header.
    credential: bearer,
    identity: { strategy: 'definition' },
    // The definition finds items and ids with JSON Pointers.
    docsUrl: 'https://www.rfc-editor.org/rfc/rfc6901',
  },
  rateLimits: [{ scope: 'per API', description: 'Whatever the API announces: Retry-After and the X-RateLimit-Reset family of headers are honoured.' }],
};

function checkDefinition(value: string): string | null {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return 'The API definition is not JSON';
  }
  try {
    parseRestDefinition(json);
    return null;
  } catch (error) {
    if (error instanceof RestDefinitionError) return error.message;
    throw error;
  }
}
