import { openDatabase } from '@listbackup/lib/db';
import { startSubgraph } from '@listbackup/lib/subgraph';
import { subgraphSdl } from '@listbackup/lib/supergraph';
import type { RunningService, ServiceRuntime } from '@listbackup/lib/service';
import { database } from './database.ts';
import { resolvers } from './resolvers/index.ts';
import { extendContext } from './context.ts';

export async function startSources(runtime: ServiceRuntime): Promise<RunningService> {
  const log = runtime.log.child({ service: 'sources' });
  const orm = await openDatabase({ url: runtime.databaseUrl, onQuery: runtime.onQuery, ...database });
  const subgraph = await startSubgraph(
    { name: 'sources', typeDefs: subgraphSdl('sources'), resolvers, orm, access: runtime.access, internalTokenSecret: runtime.internalTokenSecret, log, extendContext },
    runtime.port,
    runtime.host,
  );
  return {
    name: 'sources',
    url: subgraph.url,
    orm,
    async close() {
      await subgraph.close();
      await orm.close();
    },
  };
}
