import { openDatabase } from '@listbackup/lib/db';
import { startSubgraph } from '@listbackup/lib/subgraph';
import { subgraphSdl } from '@listbackup/lib/supergraph';
import type { RunningService, ServiceRuntime } from '@listbackup/lib/service';
import { database } from './database.ts';
import { resolvers } from './resolvers/index.ts';
import { extendContext } from './context.ts';

export async function startJobs(runtime: ServiceRuntime): Promise<RunningService> {
  const log = runtime.log.child({ service: 'jobs' });
  const orm = await openDatabase({ url: runtime.databaseUrl, onQuery: runtime.onQuery, ...database });
  const subgraph = await startSubgraph(
    { name: 'jobs', typeDefs: subgraphSdl('jobs'), resolvers, orm, access: runtime.access, internalTokenSecret: runtime.internalTokenSecret, log, extendContext },
    runtime.port,
    runtime.host,
  );
  return {
    name: 'jobs',
    url: subgraph.url,
    orm,
    async close() {
      await subgraph.close();
      await orm.close();
    },
  };
}
