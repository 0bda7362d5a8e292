import { DateTime } from '@listbackup/lib/scalars';
import { ref } from '@listbackup/lib/federation';
import type { Resolvers } from '../generated/resolvers.ts';
import { getSource, listSources } from '../services/source-service.ts';

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    source: (_, { id }, ctx) => getSource(ctx, id),
  },
  Source: {
    __resolveReference: ({ id }, ctx) => getSource(ctx, id),
    account: (source) => ref(source.accountId),
    connection: (source) => ref(source.connectionId),
  },
  Account: {
    sources: ({ id }, _, ctx) => listSources(ctx, id),
  },
};
