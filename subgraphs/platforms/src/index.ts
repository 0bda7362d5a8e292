import { openDatabase } from '@listbackup/lib/db';
import { startSubgraph } from '@listbackup/lib/subgraph';
import { subgraphSdl } from '@listbackup/lib/supergraph';
import type { RunningService, ServiceRuntime } from '@listbackup/lib/service';
import { database } from './database.ts';
import { resolvers } from './resolvers/index.ts';
import { extendContext } from './context.ts';
import { syncPlatformCatalogue } from './services/platform-service.ts';

export async function startPlatforms(runtime: ServiceRuntime): Promise<RunningService> {
  const log = runtime.log.child({ service: 'platforms' });
  const orm = await openDatabase({ url: runtime.databaseUrl, onQuery: runtime.onQuery, ...database });
  try {
    await syncPlatformCatalogue(orm.em.fork());
  } catch (error) {
    await orm.close();
    throw error;
  }
  const subgraph = await startSubgraph(
    { name: 'platforms', typeDefs: subgraphSdl('platforms'), resolvers, orm, access: runtime.access, internalTokenSecret: runtime.internalTokenSecret, log, extendContext },
    runtime.port,
    runtime.host,
  );
  return {
    name: 'platforms',
    url: subgraph.url,
    orm,
    async close() {
      await subgraph.close();
      await orm.close();
    },
  };
}
