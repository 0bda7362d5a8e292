import { openDatabase } from '@listbackup/lib/db';
import { startSubgraph } from '@listbackup/lib/subgraph';
import { subgraphSdl } from '@listbackup/lib/supergraph';
import { OutboxRelay } from '@listbackup/lib/events/outbox';
import type { RunningService, ServiceRuntime } from '@listbackup/lib/service';
import { database } from './database.ts';
import { resolvers } from './resolvers/index.ts';
import { extendContext } from './context.ts';
import { LocalAccessResolver, accessInternalRoutes } from './services/access.ts';
import { identityInternalRoutes } from './services/auth-service.ts';

/** Accounts answers access questions itself, so unlike the other subgraphs it takes no resolver. */
export async function startAccounts(runtime: Omit<ServiceRuntime, 'access'>): Promise<RunningService> {
  const log = runtime.log.child({ service: 'accounts' });
  const orm = await openDatabase({ url: runtime.databaseUrl, onQuery: runtime.onQuery, ...database });
  const relay = new OutboxRelay({ orm, bus: runtime.bus, logger: log });
  relay.start();
  const subgraph = await startSubgraph(
    {
      name: 'accounts',
      typeDefs: subgraphSdl('accounts'),
      resolvers,
      orm,
      access: new LocalAccessResolver(orm),
      internalTokenSecret: runtime.internalTokenSecret,
      log,
      extendContext,
      internalRoutes: { ...accessInternalRoutes(orm), ...identityInternalRoutes(orm) },
    },
    runtime.port,
    runtime.host,
  );
  return {
    name: 'accounts',
    url: subgraph.url,
    orm,
    async close() {
      await subgraph.close();
      await relay.stop();
      await orm.close();
    },
  };
}
