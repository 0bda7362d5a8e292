import { openDatabase } from '@listbackup/lib/db';
import { OutboxRelay } from '@listbackup/lib/events/outbox';
import { eventsCheck } from '@listbackup/lib/readiness';
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
import { assertRetiredStorageKeysUnused } from './backup/key-rotation.ts';
import { createRepository } from './backup/engine-runtime.ts';
import { DOWNLOAD_PATH, downloadRoute } from './backup/downloads.ts';
import { STORAGE_USAGE_PATH, storageUsageRoute } from './backup/storage-usage.ts';
import { SnapshotLookup } from './backup/snapshot-lookup.ts';
import { PlatformsClient } from '@listbackup/lib/platforms-client';
import { consumeAnalyticsEvents } from './events/analytics-consumer.ts';
import { consumeMaintenanceEvents } from './events/maintenance-consumer.ts';
import { consumeStorageStanding } from './events/quota-consumer.ts';
import { DEFAULT_GC_DELAY_MS, forgetFinishedPurges, scheduleMaintenance } from './services/maintenance.ts';
import type { EventSubscription } from '@listbackup/lib/events/bus';

export interface JobsOptions {
  /** Base URL of the sources subgraph (triggerSync asks it about the source). */
  sourcesUrl: string;
  /** Base URL of the platforms subgraph: triggerSync and a PLATFORM restore check their connection there before queueing (without it, backups are queued unchecked and such restores are unavailable). */
  platformsUrl?: string;
  /**
   * Backup storage, keys and connection credentials (see backup/settings.ts). With them the embedded
   * worker runs the product's handlers, exports are downloadable and export/restore/verify
   * mutations work; without them those mutations answer BACKUPS_UNAVAILABLE.
   */
  backup?: BackupSettings;
  /** The public origin (the gateway) that download links point at. Default http://localhost:4000. */
  publicUrl?: string;
  /** How often due scheduled maintenance (daily GC and TIER, weekly VERIFY) is looked for (default 10 minutes; 0: never, for tests that queue it themselves). */
  maintenanceIntervalMs?: number;
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

/** Defaults for a subgraph started from the environment (`SOURCES_URL`, `PLATFORMS_URL`, else their default ports). */
export function jobsOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): JobsOptions {
  return { sourcesUrl: env.SOURCES_URL ?? 'http://127.0.0.1:4003', platformsUrl: env.PLATFORMS_URL ?? 'http://127.0.0.1:4002' };
}

export async function startJobs(runtime: ServiceRuntime, options: JobsOptions = jobsOptionsFromEnv()): Promise<JobsService> {
  const log = runtime.log.child({ service: 'jobs' });
  const orm = await openDatabase({ url: runtime.databaseUrl, onQuery: runtime.onQuery, ...database });
  let queue: JobQueue;
  try {
    if (options.backup) await assertRetiredStorageKeysUnused(orm, options.backup.keyring);
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
  let standing: EventSubscription | null = null;
  const sources = new SourcesClient(options.sourcesUrl, runtime.internalTokenSecret);
  const backup = options.backup && { ...options.backup, repository: options.backup.repository ?? createRepository(options.backup) };
  const snapshotJobs = backup && {
    lookup: new SnapshotLookup(options.sourcesUrl, runtime.internalTokenSecret),
    repository: backup.repository,
    downloadKeys: backup.downloadKeys,
    publicUrl: options.publicUrl ?? 'http://localhost:4000',
  };
  const connections = options.platformsUrl ? new PlatformsClient(options.platformsUrl, runtime.internalTokenSecret) : undefined;
  let worker: JobWorker | null = null;
  let maintenance: EventSubscription[] = [];
  let scheduled: NodeJS.Timeout | null = null;
  const stopAll = async () => {
    if (scheduled) clearInterval(scheduled);
    for (const subscription of [...analytics, ...maintenance]) await subscription.unsubscribe();
    await standing?.unsubscribe();
    await worker?.stop();
    await relay.stop();
    await queue.stop();
    await orm.close();
  };
  try {
    analytics = await consumeAnalyticsEvents(orm, runtime.bus, log, runtime.durablePrefix);
    standing = await consumeStorageStanding(orm, runtime.bus, log, runtime.durablePrefix);
    if (backup) {
      maintenance = await consumeMaintenanceEvents(orm, queue, runtime.bus, log, backup.gcDelayMs ?? DEFAULT_GC_DELAY_MS, runtime.durablePrefix);
      const every = options.maintenanceIntervalMs ?? 10 * 60 * 1000;
      let ticking = false;
      const tick = async () => {
        if (ticking) return;
        ticking = true;
        try {
          await scheduleMaintenance(orm, queue);
          await forgetFinishedPurges(orm);
        } catch (error) {
          log.error({ err: error }, 'queueing the scheduled maintenance jobs failed');
        } finally {
          ticking = false;
        }
      };
      if (every > 0) {
        scheduled = setInterval(() => void tick(), every);
        scheduled.unref();
      }
    }
    const subgraph = await startSubgraph(
      {
        name: 'jobs',
        typeDefs: subgraphSdl('jobs'),
        resolvers,
        orm,
        access: runtime.access,
        internalTokenSecret: runtime.internalTokenSecret,
        log,
        extendContext: contextExtender({ queue, sources, connections, snapshotJobs }),
        readiness: { events: eventsCheck(runtime.bus), queue: () => queue.ready(), ...(backup ? { store: () => backup.store.check() } : {}) },
        internalRoutes: {
          ...jobsInternalRoutes(orm, queue),
          ...(backup
            ? {
                [DOWNLOAD_PATH]: downloadRoute({ orm, repository: backup.repository, keys: backup.downloadKeys, access: runtime.access, log }),
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
