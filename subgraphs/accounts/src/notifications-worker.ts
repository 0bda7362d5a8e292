// `npm run notifications:worker`: the notifications worker as its own process: it turns events into
// notifications and delivers them (email over SMTP_URL, signed webhooks, Slack). `npm start` runs one inside.
import { z } from 'zod';
import { commonEnv, parseConfig, port, runMain } from '@listbackup/lib/config';
import { createLogger } from '@listbackup/lib/logger';
import { startTracing } from '@listbackup/lib/tracing';
import { databaseCheck, eventsCheck } from '@listbackup/lib/readiness';
import { connectNatsBus } from '@listbackup/lib/events/connect';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { openDatabase } from '@listbackup/lib/db';
import { onShutdown } from '@listbackup/lib/process';
import { startMetricsServer } from '@listbackup/lib/metrics';
import { database } from './database.ts';
import { NotificationWorker } from './delivery/worker.ts';
import { outboundFetch } from '@listbackup/lib/outbound';

const Config = z.object({
  ...commonEnv,
  /** Prometheus `/metrics` (and `/healthz`) of this process; 0 picks a free port. */
  METRICS_PORT: port(9465),
  /** Where mail goes: `smtp://user:pass@host:587` or `smtps://…:465`. */
  SMTP_URL: z.url({ protocol: /^smtps?$/ }),
  MAIL_FROM: z.string().min(3).default('ListBackup <notifications@listbackup.localhost>'),
  NOTIFICATIONS_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  /** A delivery taken by a worker that then died is tried again after this long. */
  NOTIFICATIONS_LEASE_SECONDS: z.coerce.number().int().min(5).max(3600).default(60),
  NOTIFICATIONS_POLL_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
});

await runMain(async () => {
  const config = parseConfig(Config);
  const log = createLogger('notifications-worker', config.LOG_LEVEL);
  const tracing = await startTracing('notifications-worker');
  if (!config.NATS_URL) log.warn('NATS_URL is not set: this worker sees only events published in this process');
  const bus = config.NATS_URL ? await connectNatsBus(config.NATS_URL, config.EVENTS_NAMESPACE, log) : new InProcessEventBus();
  const orm = await openDatabase({ url: config.DATABASE_URL, ...database });
  const worker = new NotificationWorker({
    orm,
    bus,
    log,
    mailer: { smtpUrl: config.SMTP_URL, from: config.MAIL_FROM },
    fetch: outboundFetch,
    concurrency: config.NOTIFICATIONS_CONCURRENCY,
    leaseMs: config.NOTIFICATIONS_LEASE_SECONDS * 1000,
    pollIntervalMs: config.NOTIFICATIONS_POLL_INTERVAL_MS,
    durablePrefix: config.EVENTS_NAMESPACE,
  });
  await worker.start();
  const metricsServer = await startMetricsServer(config.METRICS_PORT, { readiness: { database: databaseCheck(orm), events: eventsCheck(bus) } });
  log.info({ metrics: metricsServer.url }, 'notifications worker ready');
  onShutdown(
    async () => tracing?.shutdown(),
    () => metricsServer.close(),
    () => bus.close(),
    () => orm.close(),
    () => worker.stop(),
  );
});
