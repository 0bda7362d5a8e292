import { openDatabase } from '@listbackup/lib/db';
import { OutboxRelay } from '@listbackup/lib/events/outbox';
import { startSubgraph } from '@listbackup/lib/subgraph';
import { subgraphSdl } from '@listbackup/lib/supergraph';
import type { RunningService, ServiceRuntime } from '@listbackup/lib/service';
import { database } from './database.ts';
import { resolvers } from './resolvers/index.ts';
import { contextExtender } from './context.ts';
import { SourcesClient } from './clients/sources-client.ts';
import { JobQueue } from './queue/job-queue.ts';
import { jobsInternalRoutes } from './internal-routes.ts';
import { SNAPSHOT_ITEMS_PATH, snapshotItemsRoute } from './backup/items-reader.ts';
import { JobWorker, type JobWorkerOptions } from './worker/job-worker.ts';
import type { JobHandlerRegistry } from './worker/registry.ts';
import { buildRegistry } from './worker/index.ts';
import type { BackupSettings } from './backup/settings.ts';
import { createRepository } from './backup/engine-runtime.ts';
import { DOWNLOAD_PATH, downloadRoute } from './backup/downloads.ts';
import { STORAGE_USAGE_PATH, storageUsageRoute } from './backup/storage-usage.ts';
import { SnapshotLookup } from './backup/snapshot-lookup.ts';
import { consumeAnalyticsEvents } from './events/analytics-consumer.ts';
import type { EventSubscription } from '@listbackup/lib/events/bus';

export interface JobsOptions {
  /** Base URL of the sources subgraph (triggerSync asks it about the source). */
  sourcesUrl: string;
  /**
   * Backup storage, keys and connection credentials (see backup/settings.ts). With them the embedded
   * worker runs the product's handlers, exports are downloadable and export/restore/verify
   * mutations work; without them those mutations answer BACKUPS_UNAVAILABLE.
   */
  backup?: BackupSettings;
  /** The public origin (the gateway) that download links point at. Default http://localhost:4000. */
  publicUrl?: string;
  /** See JobQueueOptions.leaseSeconds. */
  leaseSeconds?: number;
  superviseIntervalSeconds?: number;
  /**
   * Runs a worker inside this process too (`npm start`'s single-process mode), sharing the
   * subgraph's database pool and queue. Separate processes use `npm run worker` instead.
   */
  worker?: Partial<Omit<JobWorkerOptions, 'orm' | 'queue' | 'bus' | 'databaseUrl' | 'log' | 'registry'>> & {
    /** Default: the product's handlers (registerDefaultHandlers). */
    registry?: JobHandlerRegistry;
    handlerModules?: string[];
  };
}

export interface JobsService extends RunningService {
  queue: JobQueue;
  /** The embedded worker, when `options.worker` asked for one. */
  worker: JobWorker | null;
}

/** Defaults for a subgraph started from the environment (`SOURCES_URL`, else sources' default port). */
export function jobsOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): JobsOptions {
  return { sourcesUrl: env.SOURCES_URL ?? 'http://127.0.0.1:4003' };
}

export async function startJobs(runtime: ServiceRuntime, options: JobsOptions = jobsOptionsFromEnv()): Promise<JobsService> {
  const log = runtime.log.child({ service: 'jobs' });
  const orm = await openDatabase({ url: runtime.databaseUrl, onQuery: runtime.onQuery, ...database });
  let queue: JobQueue;
  try {
    queue = await JobQueue.start({
      databaseUrl: runtime.databaseUrl,
      log,
      leaseSeconds: options.leaseSeconds,
      supervise: Boolean(options.worker),
      superviseIntervalSeconds: options.superviseIntervalSeconds,
    });
  } catch (error) {
    await orm.close();
    throw error;
  }
  const relay = new OutboxRelay({ orm, bus: runtime.bus, logger: log });
  relay.start();
  let analytics: EventSubscription[] = [];
  const sources = new SourcesClient(options.sourcesUrl, runtime.internalTokenSecret);
  const backup = options.backup && { ...options.backup, repository: options.backup.repository ?? createRepository(options.backup) };
  const snapshotJobs = backup && {
    lookup: new SnapshotLookup(options.sourcesUrl, runtime.internalTokenSecret),
    downloadKey: backup.downloadKey,
    publicUrl: options.publicUrl ?? 'http://localhost:4000',
  };
  let worker: JobWorker | null = null;
  const stopAll = async () => {
    for (const subscription of analytics) await subscription.unsubscribe();
    await worker?.stop();
    await relay.stop();
    await queue.stop();
    await orm.close();
  };
  try {
    analytics = await consumeAnalyticsEvents(orm, runtime.bus, log, runtime.durablePrefix);
    const subgraph = await startSubgraph(
      {
        name: 'jobs',
        typeDefs: subgraphSdl('jobs'),
        resolvers,
        orm,
        access: runtime.access,
        internalTokenSecret: runtime.internalTokenSecret,
        log,
        extendContext: contextExtender({ queue, sources, snapshotJobs }),
        internalRoutes: {
          ...jobsInternalRoutes(orm, queue),
          ...(backup
            ? {
                [DOWNLOAD_PATH]: downloadRoute({ orm, repository: backup.repository, key: backup.downloadKey, access: runtime.access, log }),
                [SNAPSHOT_ITEMS_PATH]: snapshotItemsRoute(backup.repository),
                [STORAGE_USAGE_PATH]: storageUsageRoute(backup.repository),
              }
            : {}),
        },
      },
      runtime.port,
      runtime.host,
    );
    if (options.worker) {
      try {
        const registry = await buildRegistry({ orm, queue, bus: runtime.bus, sources, log, databaseUrl: runtime.databaseUrl, backup }, options.worker);
        const embedded = new JobWorker({ ...options.worker, registry, orm, queue, bus: runtime.bus, databaseUrl: runtime.databaseUrl, log });
        await embedded.start();
        worker = embedded;
      } catch (error) {
        await subgraph.close();
        throw error;
      }
    }
    return {
      name: 'jobs',
      url: subgraph.url,
      orm,
      queue,
      worker,
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
