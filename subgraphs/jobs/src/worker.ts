// `npm run worker`: a jobs worker as its own process. Runs the handlers registered by
// src/worker/handlers.ts, plus any modules named in JOB_HANDLER_MODULES (comma-separated paths).
import { z } from 'zod';
import { commonEnv, parseConfig, port, runMain } from '@listbackup/lib/config';
import { createLogger } from '@listbackup/lib/logger';
import { startTracing } from '@listbackup/lib/tracing';
import { connectNatsBus } from '@listbackup/lib/events/connect';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { onShutdown } from '@listbackup/lib/process';
import { startMetricsServer } from '@listbackup/lib/metrics';
import { startJobWorker } from './worker/index.ts';
import { backupSettingsFromEnv } from './backup/settings.ts';

const Config = z.object({
  ...commonEnv,
  /** Prometheus `/metrics` (and `/healthz`) of this process; 0 picks a free port. */
  METRICS_PORT: port(9464),
  SOURCES_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:4003'),
  JOB_HANDLER_MODULES: z.string().optional(),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
  /** A job whose worker stopped renewing its lease for this long is retried elsewhere (at least 10). */
  JOB_LEASE_SECONDS: z.coerce.number().int().min(10).max(3600).default(30),
  JOB_SUPERVISE_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(15),
  JOB_POLL_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(2_000),
  JOB_RETRY_BASE_DELAY_MS: z.coerce.number().int().min(1).optional(),
  /** The platforms subgraph: connections' credentials come from its internal route. */
  PLATFORMS_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:4002'),
  /** Without STORAGE_KEYS, a key kept in <DATA_DIR>/storage-keys (the single-machine default). */
  DATA_DIR: z.string().optional(),
});

await runMain(async () => {
  const config = parseConfig(Config);
  const log = createLogger('jobs-worker', config.LOG_LEVEL);
  const tracing = await startTracing('jobs-worker');
  if (!config.NATS_URL) log.warn('NATS_URL is not set: events stay in this process (the outbox keeps durable ones until a relay with NATS sends them)');
  const bus = config.NATS_URL ? await connectNatsBus(config.NATS_URL, config.EVENTS_NAMESPACE, log) : new InProcessEventBus();
  // Storage and keys (STORAGE_KEYS, STORAGE_DIR or STORAGE_S3_*; see backup/settings.ts).
  const backup = await backupSettingsFromEnv(process.env, {
    internalTokenSecret: config.INTERNAL_TOKEN_SECRET,
    platformsUrl: config.PLATFORMS_URL,
    dataDir: config.DATA_DIR,
    localKeyFile: config.DATA_DIR ? `${config.DATA_DIR}/storage-keys` : undefined,
  });
  log.info({ storage: backup.description }, 'backup storage');
  const running = await startJobWorker({
    backup,
    databaseUrl: config.DATABASE_URL,
    bus,
    log,
    internalTokenSecret: config.INTERNAL_TOKEN_SECRET,
    sourcesUrl: config.SOURCES_URL,
    handlerModules: config.JOB_HANDLER_MODULES?.split(',').map((path) => path.trim()).filter(Boolean),
    concurrency: config.WORKER_CONCURRENCY,
    leaseSeconds: config.JOB_LEASE_SECONDS,
    superviseIntervalSeconds: config.JOB_SUPERVISE_INTERVAL_SECONDS,
    pollIntervalMs: config.JOB_POLL_INTERVAL_MS,
    ...(config.JOB_RETRY_BASE_DELAY_MS ? { retryPolicy: { baseDelayMs: config.JOB_RETRY_BASE_DELAY_MS } } : {}),
  });
  const metricsServer = await startMetricsServer(config.METRICS_PORT, { readiness: running.readiness });
  log.info({ metrics: metricsServer.url }, 'worker ready');
  onShutdown(async () => tracing?.shutdown(), () => bus.close(), () => running.close(), () => metricsServer.close());
});
