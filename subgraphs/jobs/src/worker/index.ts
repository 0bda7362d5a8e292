import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openDatabase, type Orm } from '@listbackup/lib/db';
import type { EventBus } from '@listbackup/lib/events/bus';
import { OutboxRelay } from '@listbackup/lib/events/outbox';
import type { Logger } from '@listbackup/lib/logger';
import { databaseCheck, eventsCheck, type ReadinessCheck } from '@listbackup/lib/readiness';
import { database } from '../database.ts';
import { SourcesClient } from '../clients/sources-client.ts';
import { JobQueue } from '../queue/job-queue.ts';
import { JobWorker, type JobWorkerOptions } from './job-worker.ts';
import { JobHandlerRegistry } from './registry.ts';
import { registerDefaultHandlers } from './handlers.ts';
import type { BackupSettings } from '../backup/settings.ts';
import { assertRetiredStorageKeysUnused } from '../backup/key-rotation.ts';

/** What handler modules get when they register: the services a job needs. */
export interface WorkerDeps {
  orm: Orm;
  /** To queue follow-up work (`enqueueJob(deps.orm.em.fork(), deps.queue, …)`), e.g. a PRUNE after a BACKUP. */
  queue: JobQueue;
  bus: EventBus;
  sources: SourcesClient;
  log: Logger;
  databaseUrl: string;
  /** Storage, keys and credentials for the product's handlers (registerDefaultHandlers registers them only with it). */
  backup?: BackupSettings;
}

/** A module of handlers: `export function register(registry, deps)`. */
export interface HandlerModule {
  register(registry: JobHandlerRegistry, deps: WorkerDeps): void | Promise<void>;
}

export interface WorkerSettings extends Partial<Omit<JobWorkerOptions, 'orm' | 'queue' | 'bus' | 'registry' | 'databaseUrl' | 'log'>> {
  databaseUrl: string;
  bus: EventBus;
  log: Logger;
  internalTokenSecret: string;
  /** Base URL of the sources subgraph (snapshots are recorded there). */
  sourcesUrl: string;
  /** Handlers to run; by default the product's own (registerDefaultHandlers). */
  registry?: JobHandlerRegistry;
  /** Extra handler modules to load, by file path (JOB_HANDLER_MODULES). */
  handlerModules?: string[];
  /** Storage, keys and credentials for the product's handlers. */
  backup?: BackupSettings;
  leaseSeconds?: number;
  superviseIntervalSeconds?: number;
}

export interface RunningWorker {
  worker: JobWorker;
  queue: JobQueue;
  orm: Orm;
  registry: JobHandlerRegistry;
  /** What its /readyz checks: the database, the event bus, the queue and, with backup settings, the object store. */
  readiness: Record<string, ReadinessCheck>;
  close(): Promise<void>;
}

/**
 * The handlers a worker runs: `registry` as given, or the product's own (registerDefaultHandlers),
 * plus those of `handlerModules` (files exporting `register(registry, deps)`).
 */
export async function buildRegistry(deps: WorkerDeps, options: { registry?: JobHandlerRegistry; handlerModules?: string[] } = {}): Promise<JobHandlerRegistry> {
  const registry = options.registry ?? new JobHandlerRegistry();
  if (!options.registry) await registerDefaultHandlers(registry, deps);
  for (const path of options.handlerModules ?? []) {
    const module = (await import(pathToFileURL(resolve(path)).href)) as Partial<HandlerModule>;
    if (typeof module.register !== 'function') throw new Error(`Handler module ${path} exports no register(registry, deps) function`);
    await module.register(registry, deps);
  }
  return registry;
}

/** The worker process: its own ORM on the jobs schema, the queue (with pg-boss's supervisor), an outbox relay. */
export async function startJobWorker(settings: WorkerSettings): Promise<RunningWorker> {
  const log = settings.log.child({ service: 'jobs-worker' });
  const orm = await openDatabase({ url: settings.databaseUrl, ...database });
  let queue: JobQueue | undefined;
  try {
    if (settings.backup) await assertRetiredStorageKeysUnused(orm, settings.backup.keyring);
    queue = await JobQueue.start({ databaseUrl: settings.databaseUrl, log, leaseSeconds: settings.leaseSeconds, supervise: true, superviseIntervalSeconds: settings.superviseIntervalSeconds });
    const deps: WorkerDeps = { orm, queue, bus: settings.bus, sources: new SourcesClient(settings.sourcesUrl, settings.internalTokenSecret), log, databaseUrl: settings.databaseUrl, backup: settings.backup };
    const registry = await buildRegistry(deps, settings);
    const relay = new OutboxRelay({ orm, bus: settings.bus, logger: log });
    relay.start();
    const worker = new JobWorker({ ...settings, orm, queue, registry, log });
    await worker.start();
    const started = queue;
    return {
      worker,
      queue: started,
      orm,
      registry,
      readiness: {
        database: databaseCheck(orm),
        events: eventsCheck(settings.bus),
        queue: () => started.ready(),
        ...(settings.backup ? { store: () => settings.backup!.store.check() } : {}),
      },
      async close() {
        await worker.stop();
        await relay.stop();
        await started.stop();
        await orm.close();
      },
    };
  } catch (error) {
    await queue?.stop();
    await orm.close();
    throw error;
  }
}
