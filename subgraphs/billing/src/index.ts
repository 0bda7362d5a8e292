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
import { consumeMeteringEvents } from './events/metering-consumer.ts';
import { type EngineUsageReader, JobsStorageClient, StorageReconciler } from './services/reconciliation.ts';

export interface BillingOptions {
  /** The jobs subgraph's URL: the daily reconciliation reads the backup store's figures there. */
  jobsUrl: string;
  /** Reads the engine's figures; by default through the jobs subgraph's internal route. */
  engine?: EngineUsageReader;
  /** The reconciliation's pass (default hourly; each account is reconciled once a day); false turns it off. */
  reconciliation?: { intervalMs?: number } | false;
}

export interface BillingService extends RunningService {
  reconciler: StorageReconciler;
}

/** Defaults for a subgraph started from the environment: JOBS_URL, BILLING_RECONCILIATION=off. */
export function billingOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): BillingOptions {
  return { jobsUrl: env.JOBS_URL ?? 'http://127.0.0.1:4004', reconciliation: env.BILLING_RECONCILIATION === 'off' ? false : {} };
}

export async function startBilling(runtime: ServiceRuntime, options: BillingOptions = billingOptionsFromEnv()): Promise<BillingService> {
  const log = runtime.log.child({ service: 'billing' });
  const orm = await openDatabase({ url: runtime.databaseUrl, onQuery: runtime.onQuery, ...database });
  const subscriptions: EventSubscription[] = [];
  const reconciler = new StorageReconciler({
    orm,
    engine: options.engine ?? new JobsStorageClient(options.jobsUrl, runtime.internalTokenSecret),
    log,
    intervalMs: options.reconciliation ? options.reconciliation.intervalMs : undefined,
  });
  const stopAll = async () => {
    await reconciler.stop();
    for (const subscription of subscriptions) await subscription.unsubscribe();
    await orm.close();
  };
  try {
    await syncPlanCatalogue(orm.em.fork());
    // After the catalogue: the handler needs the Free plan.
    subscriptions.push(await consumeAccountCreated(orm, runtime.bus, log, runtime.durablePrefix));
    subscriptions.push(...(await consumeMeteringEvents(orm, runtime.bus, log, runtime.durablePrefix)));
    const subgraph = await startSubgraph(
      { name: 'billing', typeDefs: subgraphSdl('billing'), resolvers, orm, access: runtime.access, internalTokenSecret: runtime.internalTokenSecret, log, extendContext },
      runtime.port,
      runtime.host,
    );
    if (options.reconciliation !== false) reconciler.start();
    return {
      name: 'billing',
      url: subgraph.url,
      orm,
      reconciler,
      async close() {
        await subgraph.close();
        await stopAll();
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
