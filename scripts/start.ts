// `npm start`: the whole product in one process tree on this machine. Uses DATABASE_URL and NATS_URL
// when set; otherwise an embedded PostgreSQL under .data/ and the in-process event bus.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { commonEnv, internalTokenSecret, outboundEnv, parseConfig, runMain, port } from '@listbackup/lib/config';
import { createLogger } from '@listbackup/lib/logger';
import { startTracing } from '@listbackup/lib/tracing';
import { onShutdown } from '@listbackup/lib/process';
import { HttpAccessResolver } from '@listbackup/lib/access';
import { startEmbeddedPostgres } from '@listbackup/lib/embedded-postgres';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { connectNatsBus } from '@listbackup/lib/events/connect';
import type { EventBus } from '@listbackup/lib/events/bus';
import { readSupergraph } from '@listbackup/lib/supergraph';
import { GATEWAY_PORT, SUBGRAPHS, type SubgraphName } from '@listbackup/lib/subgraphs';
import type { RunningService, ServiceRuntime } from '@listbackup/lib/service';
import { startAccounts } from '../subgraphs/accounts/src/index.ts';
import { startDevMailbox } from '../subgraphs/accounts/src/delivery/dev-mailbox.ts';
import { NotificationWorker } from '../subgraphs/accounts/src/delivery/worker.ts';
import { outboundFetch } from '@listbackup/lib/outbound';
import { startPlatforms } from '../subgraphs/platforms/src/index.ts';
import { platformsOptionsFromEnv } from '../subgraphs/platforms/src/config.ts';
import { sourcesOptionsFromEnv, startSources } from '../subgraphs/sources/src/index.ts';
import { startJobs } from '../subgraphs/jobs/src/index.ts';
import { billingOptionsFromEnv, startBilling } from '../subgraphs/billing/src/index.ts';
import { startGateway } from '../gateway/src/index.ts';
import { limitsEnv, limitsFromEnv } from '../gateway/src/limits.ts';
import { rateLimitsEnv, rateLimitsFromEnv } from '../gateway/src/rate-limits.ts';
import { subscriptionLimitsEnv, subscriptionLimitsFromEnv } from '../gateway/src/subscriptions/caps.ts';
import { trustedDocumentsEnv, trustedDocumentsFromEnv } from '../gateway/src/trusted-documents.ts';
import { backupSettingsFromEnv } from '../subgraphs/jobs/src/backup/settings.ts';
import { createRepository } from '../subgraphs/jobs/src/backup/engine-runtime.ts';

const subgraphPort = (name: SubgraphName) => SUBGRAPHS.find((subgraph) => subgraph.name === name)!.port;

const Config = z.object({
  ...limitsEnv,
  ...rateLimitsEnv,
  ...subscriptionLimitsEnv,
  ...trustedDocumentsEnv,
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  NATS_URL: z.url({ protocol: /^(nats|tls)$/ }).optional(),
  EVENTS_NAMESPACE: commonEnv.EVENTS_NAMESPACE,
  INTERNAL_TOKEN_SECRET: internalTokenSecret().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
  PORT: port(GATEWAY_PORT),
  /** The subgraphs' ports on 127.0.0.1 (4001–4005 by default), for a second copy beside the first. */
  ACCOUNTS_PORT: port(subgraphPort('accounts')),
  PLATFORMS_PORT: port(subgraphPort('platforms')),
  SOURCES_PORT: port(subgraphPort('sources')),
  JOBS_PORT: port(subgraphPort('jobs')),
  BILLING_PORT: port(subgraphPort('billing')),
  /** As the gateway's (docs/operations.md): continue callers' W3C traces instead of linking to them. */
  TRUST_TRACEPARENT: z.stringbool().default(false),
  EMBEDDED_POSTGRES_PORT: port(5433),
  DATA_DIR: z.string().default('.data'),
  ...outboundEnv,
  /** Where notification mail goes; without it, to a local mailbox under DATA_DIR/mailbox. */
  SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  MAIL_FROM: z.string().min(3).default('ListBackup <notifications@listbackup.localhost>'),
});


await runMain(async () => {
  const began = Date.now();
  const config = parseConfig(Config);
  const trustedDocuments = trustedDocumentsFromEnv(config);
  const log = createLogger('listbackup', config.LOG_LEVEL);
  const tracing = await startTracing('listbackup');
  const step = (message: string) => console.error(`[${((Date.now() - began) / 1000).toFixed(1)}s] ${message}`);
  const cleanups: (() => Promise<unknown>)[] = [];
  onShutdown(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await tracing?.shutdown();
  });
  mkdirSync(config.DATA_DIR, { recursive: true });

  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    step('starting embedded PostgreSQL (first run initialises .data/postgres)…');
    const postgres = await startEmbeddedPostgres({ dataDir: `${config.DATA_DIR}/postgres`, port: config.EMBEDDED_POSTGRES_PORT });
    cleanups.push(() => postgres.stop());
    databaseUrl = postgres.url;
  }

  let bus: EventBus;
  if (config.NATS_URL) {
    step(`connecting to NATS at ${config.NATS_URL}…`);
    bus = await connectNatsBus(config.NATS_URL, config.EVENTS_NAMESPACE, log);
  } else {
    bus = new InProcessEventBus();
  }
  cleanups.push(() => bus.close());

  const internalTokenSecret = config.INTERNAL_TOKEN_SECRET ?? localSecret(`${config.DATA_DIR}/internal-token-secret`);
  const ports: Record<SubgraphName, number> = {
    accounts: config.ACCOUNTS_PORT,
    platforms: config.PLATFORMS_PORT,
    sources: config.SOURCES_PORT,
    jobs: config.JOBS_PORT,
    billing: config.BILLING_PORT,
  };
  const runtime = (name: SubgraphName): Omit<ServiceRuntime, 'access'> => ({
    databaseUrl: databaseUrl!,
    bus,
    internalTokenSecret,
    log: log.child({ service: name }),
    port: ports[name],
  });

  const urlOf = (name: SubgraphName) => `http://127.0.0.1:${ports[name]}/graphql`;

  step('starting subgraphs (migrations run on start)…');
  const accounts = await startAccounts(runtime('accounts'));
  cleanups.push(() => accounts.close());
  const access = new HttpAccessResolver(accounts.url, internalTokenSecret);
  // Without STORAGE_KEYS / STORAGE_DIR backups are kept under .data/ with a generated key.
  const backup = await backupSettingsFromEnv(process.env, {
    internalTokenSecret,
    platformsUrl: urlOf('platforms'),
    dataDir: config.DATA_DIR,
    localKeyFile: `${config.DATA_DIR}/storage-keys`,
  });
  const repository = createRepository(backup);
  // Without VAULT_KEYS the credential vault keeps its key-encryption key under .data/.
  const platformsOptions = platformsOptionsFromEnv(process.env, { localKeyFile: `${config.DATA_DIR}/vault-keys` });
  const others: RunningService[] = await Promise.all([
    startPlatforms({ ...runtime('platforms'), access }, platformsOptions),
    startSources(
      { ...runtime('sources'), access },
      { platformsUrl: urlOf('platforms'), jobsUrl: urlOf('jobs'), scheduler: {}, webhookCoalesceMs: sourcesOptionsFromEnv().webhookCoalesceMs },
    ),
    // The jobs worker runs inside this process; `npm run worker` starts more as their own processes.
    startJobs(
      { ...runtime('jobs'), access },
      { sourcesUrl: urlOf('sources'), platformsUrl: urlOf('platforms'), worker: {}, backup: { ...backup, repository }, publicUrl: process.env.PUBLIC_URL ?? `http://localhost:${config.PORT}` },
    ),
    startBilling({ ...runtime('billing'), access }, { ...billingOptionsFromEnv(), jobsUrl: urlOf('jobs'), publicUrl: process.env.PUBLIC_URL ?? `http://localhost:${config.PORT}` }),
  ]);
  for (const service of others) cleanups.push(() => service.close());
  const services = [accounts, ...others];

  // The notifications worker runs inside this process; `npm run notifications:worker` starts more.
  let smtpUrl = config.SMTP_URL;
  let mailboxDir: string | null = null;
  if (!smtpUrl) {
    const mailbox = await startDevMailbox(`${config.DATA_DIR}/mailbox`, log.child({ service: 'mailbox' }));
    cleanups.push(() => mailbox.close());
    smtpUrl = mailbox.smtpUrl;
    mailboxDir = mailbox.dir;
  }
  const notifications = new NotificationWorker({
    orm: accounts.orm,
    bus,
    log: log.child({ service: 'notifications' }),
    mailer: { smtpUrl, from: config.MAIL_FROM },
    fetch: outboundFetch,
  });
  await notifications.start();
  cleanups.push(() => notifications.stop());

  const gateway = await startGateway({
    port: config.PORT,
    supergraphSdl: readSupergraph(),
    subgraphUrls: Object.fromEntries(services.map((service) => [service.name, service.url])),
    accountsUrl: accounts.url,
    internalTokenSecret,
    log: log.child({ service: 'gateway' }),
    accessEvents: bus,
    subscriptions: { bus, limits: subscriptionLimitsFromEnv(config) },
    limits: limitsFromEnv(config),
    rateLimits: rateLimitsFromEnv(config),
    trustedDocuments,
    databaseUrl,
    trustTraceparent: config.TRUST_TRACEPARENT,
  });
  cleanups.push(() => gateway.close());

  step(`ready in ${((Date.now() - began) / 1000).toFixed(1)}s`);
  console.error(
    [
      '',
      `  ListBackup is running.`,
      `  GraphQL API   ${gateway.url}  (websocket subscriptions on the same URL)`,
      `  Playground    http://localhost:${config.PORT}/playground · GraphiQL http://localhost:${config.PORT}/graphiql`,
      `  Health        http://localhost:${config.PORT}/healthz · http://localhost:${config.PORT}/readyz`,
      `  Metrics       http://localhost:${config.PORT}/metrics  (every service of this process, workers included)`,
      `  Database      ${config.DATABASE_URL ? 'DATABASE_URL' : `embedded PostgreSQL on port ${config.EMBEDDED_POSTGRES_PORT} (data in ${config.DATA_DIR}/postgres)`}`,
      `  Events        ${config.NATS_URL ? `NATS at ${config.NATS_URL}` : 'in-process bus'}`,
      `  Backups       ${backup.description}`,
      `  Mail          ${mailboxDir ? `local mailbox: each message is a file in ${mailboxDir}` : 'SMTP_URL'}`,
      '',
      '  Start with: mutation { signUp(input: { email: "you@example.com", password: "a long passphrase", name: "You" }) { accessToken } }',
      '  Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
});

/** A secret kept under .data/ so tokens stay valid across restarts of the single-process default. */
function localSecret(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
