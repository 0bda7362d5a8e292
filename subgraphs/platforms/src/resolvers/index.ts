import { DateTime } from '@listbackup/lib/scalars';
import { ref } from '@listbackup/lib/federation';
import type { AuthType, Resolvers, TokenEndpointAuthMethod } from '../generated/resolvers.ts';
import type { Platform } from '../entities/platform.ts';
import { findPlatform, getPlatform, listPlatformResources, listPlatforms } from '../services/platform-service.ts';
import {
  createApiKeyConnection,
  getConnection,
  listConnectionResources,
  listConnections,
  renameConnection,
  replaceConnectionApiKey,
  revokeConnection,
  testConnection,
} from '../services/connection-service.ts';
import { completeOAuthConnection, startOAuthConnection } from '../services/oauth-service.ts';

const spec = (platform: Platform) => platform.spec ?? { websiteUrl: '', apiBaseUrl: '', rateLimits: [] };

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    platforms: (_, { category, search }, ctx) => listPlatforms(ctx, { category, search }),
    platform: (_, { id, slug }, ctx) => findPlatform(ctx, { id, slug }),
    connection: (_, { id }, ctx) => getConnection(ctx, id),
  },
  Mutation: {
    startOAuthConnection: (_, { input }, ctx) => startOAuthConnection(ctx, input),
    completeOAuthConnection: (_, { input }, ctx) => completeOAuthConnection(ctx, input.params),
    createApiKeyConnection: (_, { input }, ctx) => createApiKeyConnection(ctx, input),
    testConnection: (_, { id }, ctx) => testConnection(ctx, id),
    renameConnection: (_, { id, name }, ctx) => renameConnection(ctx, id, name),
    replaceConnectionApiKey: (_, { id, apiKey }, ctx) => replaceConnectionApiKey(ctx, id, apiKey),
    revokeConnection: (_, { id }, ctx) => revokeConnection(ctx, id),
  },
  Platform: {
    __resolveReference: ({ id }, ctx) => getPlatform(ctx, id),
    description: (platform) => platform.description ?? '',
    websiteUrl: (platform) => spec(platform).websiteUrl || null,
    authTypes: (platform) => (platform.authTypes ?? []) as AuthType[],
    connectParams: (platform) => spec(platform).connectParams ?? [],
    resources: (platform) => listPlatformResources(platform),
    rateLimits: (platform) => spec(platform).rateLimits,
    oauth: (platform, _, ctx) => {
      const oauth = spec(platform).oauth2;
      if (!oauth) return null;
      return {
        authorizeUrl: oauth.authorizeUrl,
        tokenUrl: oauth.tokenUrl,
        revokeUrl: oauth.revocation?.url ?? null,
        scopes: oauth.scopes,
        pkce: oauth.pkce,
        tokenEndpointAuthMethod: oauth.tokenEndpointAuthMethod.toUpperCase() as TokenEndpointAuthMethod,
        callbackParams: oauth.callbackParams.map((param) => param.name),
        tokenResponseParams: oauth.tokenResponseParams.map((param) => param.name),
        refreshTokens: oauth.refreshTokens,
        rotatesRefreshTokens: oauth.rotatesRefreshTokens,
        configured: Boolean(ctx.platforms.clients[platform.slug]),
        docsUrl: oauth.docsUrl,
      };
    },
    apiKey: (platform) => {
      const apiKey = spec(platform).apiKey;
      if (!apiKey) return null;
      return {
        label: apiKey.label,
        header: 'basicUsername' in apiKey.credential ? 'Authorization' : apiKey.credential.header,
        pattern: apiKey.pattern,
        hint: apiKey.hint,
        docsUrl: apiKey.docsUrl,
      };
    },
  },
  Connection: {
    __resolveReference: ({ id }, ctx) => getConnection(ctx, id),
    account: (connection) => ref(connection.accountId),
    platform: (connection, _, ctx) => getPlatform(ctx, connection.platformId),
    params: (connection) => Object.entries(connection.params ?? {}).map(([name, value]) => ({ name, value })),
    scopes: (connection) => connection.scopes ?? [],
    resources: (connection, _, ctx) => listConnectionResources(ctx, connection),
  },
  Account: {
    connections: ({ id }, { first, after }, ctx) => listConnections(ctx, id, first, after),
  },
};
