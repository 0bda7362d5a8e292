/**
 * The product as `npm start` wires it, for tests that back up through the gateway: every subgraph
 * and the gateway on free ports, a fresh database, backups in a temporary directory, and Stripe
 * reached at a fake's URL.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { HttpAccessResolver } from '@listbackup/lib/access';
import type { EventBus } from '@listbackup/lib/events/bus';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { createLogger } from '@listbackup/lib/logger';
import type { RunningService, ServiceRuntime } from '@listbackup/lib/service';
import { readSupergraph } from '@listbackup/lib/supergraph';
import { Keyring, LocalDirectoryStore, type Repository } from '@listbackup/engine';
import { startAccounts } from '../../subgraphs/accounts/src/index.ts';
import { startPlatforms } from '../../subgraphs/platforms/src/index.ts';
import { startSources } from '../../subgraphs/sources/src/index.ts';
import { startJobs } from '../../subgraphs/jobs/src/index.ts';
import { billingOptionsFromEnv, startBilling, type BillingOptions } from '../../subgraphs/billing/src/index.ts';
import { startGateway, type RunningGateway } from '../../gateway/src/index.ts';
import { createRepository } from '../../subgraphs/jobs/src/backup/engine-runtime.ts';
import { PlatformsCredentials } from '../../subgraphs/jobs/src/backup/credentials.ts';
import { type BackupSettings, downloadKeys } from '../../subgraphs/jobs/src/backup/settings.ts';
import { postGraphQL } from '../../gateway/test/support/stack.ts';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** The Stripe secret key the fake and the identity endpoint accept. */
export const STRIPE_KEY = `sk_test_${randomBytes(12).toString('hex')}`;

export interface BackupStack {
  gatewayUrl: string;
  origin: string;
  storageDir: string;
  /** The engine repository the jobs subgraph uses (to find where a chunk is packed). */
  repository: Repository;
  internalTokenSecret: string;
  /** The bus every service shares (a notifications worker of the test's joins it). */
  bus: EventBus;
  gateway: RunningGateway;
  /** The running subgraphs by name (their ORMs, for what a test drives below the API). */
  services: Record<string, RunningService>;
  graphql<T = any>(query: string, variables?: Record<string, unknown>, token?: string): ReturnType<typeof postGraphQL<T>>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Stripe's identity endpoint (`GET /v1/account`), which `createApiKeyConnection` calls; the fake serves lists only. */
export async function startIdentity(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const ok = req.headers.authorization === `Bearer ${STRIPE_KEY}`;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(ok ? { id: 'acct_fake', settings: { dashboard: { display_name: 'Fake Co' } } } : { error: { type: 'invalid_request_error', message: 'Invalid API Key' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/account`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export interface BackupStackOptions {
  /** The event bus every service shares (default: an in-process one, closed with the stack). */
  bus?: EventBus;
  /** Durable consumer names' prefix on a shared NATS (default: the services' own). */
  durablePrefix?: string;
  /** Backup settings for the jobs subgraph to override (GC's grace period and delay). */
  backup?: Pick<BackupSettings, 'gcGraceMs' | 'gcDelayMs'>;
  /** Billing's options (Stripe for payments, its schedules); by default as the environment says. */
  billing?: Partial<BillingOptions>;
  /** The gateway continues callers' traces (TRUST_TRACEPARENT); default not. */
  trustTraceparent?: boolean;
}

/** The product as `npm start` wires it, on free ports, with backups stored in a temporary directory. */
export async function startBackupStack(stripeUrl: string, identityUrl: string, options: BackupStackOptions = {}): Promise<BackupStack> {
  const dbName = `lb_${randomBytes(6).toString('hex')}`;
  await admin(`create database ${dbName}`);
  const url = new URL(DATABASE_URL);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  const storageDir = await mkdtemp(join(tmpdir(), 'lb-objects-'));
  const internalTokenSecret = randomBytes(32).toString('base64url');
  const log = createLogger('backup-e2e', process.env.LOG_LEVEL ?? 'silent');
  const bus = options.bus ?? new InProcessEventBus();
  const runtime = (name: string, port = 0): Omit<ServiceRuntime, 'access'> => ({ databaseUrl, bus, internalTokenSecret, log: log.child({ service: name }), port, durablePrefix: options.durablePrefix });
  const started: RunningService[] = [];
  let gateway: RunningGateway | undefined;
  const close = async () => {
    await gateway?.close();
    for (const service of started.reverse()) await service.close();
    if (!options.bus) await bus.close();
    await admin(`drop database if exists ${dbName} with (force)`);
    await rm(storageDir, { recursive: true, force: true });
  };
  try {
    const accounts = await startAccounts(runtime('accounts'));
    started.push(accounts);
    const access = new HttpAccessResolver(accounts.url, internalTokenSecret);
    const platforms = await startPlatforms({ ...runtime('platforms'), access }, { endpointOverrides: { stripe: { identityUrl } } });
    started.push(platforms);
    const store = new LocalDirectoryStore(storageDir);
    const keyring = new Keyring([{ id: 'test-1', key: randomBytes(32) }]);
    const repository = createRepository({ store, keyring });
    const [sourcesPort, jobsPort] = [await freePort(), await freePort()];
    const sources = await startSources(
      { ...runtime('sources', sourcesPort), access },
      { platformsUrl: platforms.url, jobsUrl: `http://127.0.0.1:${jobsPort}/graphql`, scheduler: false },
    );
    started.push(sources);
    const jobs = await startJobs(
      { ...runtime('jobs', jobsPort), access },
      {
        sourcesUrl: sources.url,
        platformsUrl: platforms.url,
        backup: {
          store,
          keyring,
          repository,
          credentials: new PlatformsCredentials(platforms.url, internalTokenSecret),
          downloadKeys: downloadKeys(internalTokenSecret),
          connectors: { baseUrls: { stripe: stripeUrl } },
          connectorRetry: { baseDelayMs: 5, maxDelayMs: 20 },
          ...options.backup,
        },
        worker: { pollIntervalMs: 100, retryPolicy: { baseDelayMs: 50, maxDelayMs: 200 } },
      },
    );
    started.push(jobs);
    const billing = await startBilling({ ...runtime('billing'), access }, options.billing ? { ...billingOptionsFromEnv(), ...options.billing } : undefined);
    started.push(billing);
    gateway = await startGateway({
      port: 0,
      supergraphSdl: readSupergraph(),
      subgraphUrls: Object.fromEntries(started.map((service) => [service.name, service.url])),
      accountsUrl: accounts.url,
      internalTokenSecret,
      log: log.child({ service: 'gateway' }),
      accessEvents: bus,
      subscriptions: { bus },
      trustTraceparent: options.trustTraceparent,
    });
    const gatewayUrl = gateway.url;
    return {
      gatewayUrl,
      origin: new URL(gatewayUrl).origin,
      storageDir,
      repository,
      internalTokenSecret,
      bus,
      gateway,
      services: Object.fromEntries(started.map((service) => [service.name, service])),
      graphql: (query, variables, token) => postGraphQL(gatewayUrl, query, variables, token),
      close,
    };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}
