import { DateTime } from '@listbackup/lib/scalars';
import { ref } from '@listbackup/lib/federation';
import type { Resolvers } from '../generated/resolvers.ts';
import { getPlatform, listPlatforms } from '../services/platform-service.ts';
import { getConnection, listConnections } from '../services/connection-service.ts';

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    platforms: (_, __, ctx) => listPlatforms(ctx),
    connection: (_, { id }, ctx) => getConnection(ctx, id),
  },
  Platform: {
    __resolveReference: ({ id }, ctx) => getPlatform(ctx, id),
  },
  Connection: {
    __resolveReference: ({ id }, ctx) => getConnection(ctx, id),
    account: (connection) => ref(connection.accountId),
    platform: (connection, _, ctx) => getPlatform(ctx, connection.platformId),
  },
  Account: {
    connections: ({ id }, _, ctx) => listConnections(ctx, id),
  },
};
