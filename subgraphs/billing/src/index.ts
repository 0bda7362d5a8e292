import { openDatabase } from '@listbackup/lib/db';
import { startSubgraph } from '@listbackup/lib/subgraph';
import { subgraphSdl } from '@listbackup/lib/supergraph';
import type { RunningService, ServiceRuntime } from '@listbackup/lib/service';
import type { EventSubscription } from '@listbackup/lib/events/bus';
import { database } from './database.ts';
import { resolvers } from './resolvers/index.ts';
import { extendContext } from './context.ts';
import { syncPlanCatalogue } from './services/plan-service.ts';
import { consumeAccountCreated } from './events/account-created.ts';

export async function startBilling(runtime: ServiceRuntime): Promise<RunningService> {
  const log = runtime.log.child({ service: 'billing' });
  const orm = await openDatabase({ url: runtime.databaseUrl, onQuery: runtime.onQuery, ...database });
  let accountCreated: EventSubscription;
  try {
    await syncPlanCatalogue(orm.em.fork());
    // After the catalogue: the handler needs the Free plan.
    accountCreated = await consumeAccountCreated(orm, runtime.bus, log, runtime.durablePrefix);
  } catch (error) {
    await orm.close();
    throw error;
  }
  const subgraph = await startSubgraph(
    { name: 'billing', typeDefs: subgraphSdl('billing'), resolvers, orm, access: runtime.access, internalTokenSecret: runtime.internalTokenSecret, log, extendContext },
    runtime.port,
    runtime.host,
  ).catch(async (error: unknown) => {
    await accountCreated.unsubscribe();
    await orm.close();
    throw error;
  });
  return {
    name: 'billing',
    url: subgraph.url,
    orm,
    async close() {
      await accountCreated.unsubscribe();
      await subgraph.close();
      await orm.close();
    },
  };
}
