import { AppError } from '@listbackup/lib/errors';
import type { Resolvers } from '../generated/resolvers.ts';

/**
 * `jobUpdated` and `jobEvents` are executed by the gateway from job events ("Live job status" in docs/architecture.md); the
 * subgraph only declares them so they compose into the supergraph. Reaching them here is a mistake.
 */
const servedByGateway = () => {
  throw new AppError('BAD_REQUEST', 'Subscriptions are served by the gateway over its websocket at /graphql');
};

export const subscriptionResolvers: Pick<Resolvers, 'Subscription'> = {
  Subscription: {
    jobUpdated: { subscribe: servedByGateway },
    jobEvents: { subscribe: servedByGateway },
  },
};
