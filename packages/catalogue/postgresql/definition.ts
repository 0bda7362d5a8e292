import type { PlatformDefinition } from '../platform.ts';

export const definition: PlatformDefinition = {
  slug: 'postgresql',
  name: 'PostgreSQL',
  category: 'DATABASE',
  description: 'A PostgreSQL database: every table, with its rows.',
  websiteUrl: 'https://www.postgresql.org',
  apiBaseUrl: '',
  apiKey: {
    label: 'Connection string',
    pattern: '^postgres(ql)?://[^\\s/?#]+(/[^\\s?#]*)?(\\?[^\\s#]*)?$',
    hint: 'A connection URL, postgres://user:password@host:5432/database (postgresql:// works too; add ?sslmode=require for TLS), of a role that can read the tables to back up.',
    // Not sent in any header: the connection string is the credential, used to log in to the server.
    credential: { header: 'Authorization', prefix: '' },
    identity: { strategy: 'postgresql' },
    docsUrl: 'https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS',
  },
  rateLimits: [{ scope: 'per database', description: 'None documented: bounded by the server’s max_connections and the role’s connection limit; a backup holds one connection.' }],
};
