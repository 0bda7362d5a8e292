/**
 * A worker killed (SIGKILL) in the middle of a real Stripe backup: the job's lease runs out, a
 * second worker process retries it from its checkpoint, and the snapshot holds every record the
 * platform served exactly once — browsed through the gateway and downloaded as an export archive.
 * The stack runs in this process without an embedded worker; workers are `npm run worker` processes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http, { type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zstdDecompressSync } from 'node:zlib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpAccessResolver } from '@listbackup/lib/access';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { createLogger } from '@listbackup/lib/logger';
import type { RunningService, ServiceRuntime } from '@listbackup/lib/service';
import { readSupergraph } from '@listbackup/lib/supergraph';
import { startAccounts } from '../subgraphs/accounts/src/index.ts';
import { startPlatforms } from '../subgraphs/platforms/src/index.ts';
import { startSources } from '../subgraphs/sources/src/index.ts';
import { startJobs } from '../subgraphs/jobs/src/index.ts';
import { startBilling } from '../subgraphs/billing/src/index.ts';
import { startGateway, type RunningGateway } from '../gateway/src/index.ts';
import { Keyring, LocalDirectoryStore } from '@listbackup/engine';
import { createRepository } from '../subgraphs/jobs/src/backup/engine-runtime.ts';
import { PlatformsCredentials } from '../subgraphs/jobs/src/backup/credentials.ts';
import { downloadKeys } from '../subgraphs/jobs/src/backup/settings.ts';
import { FakeStripe, type RecordedRequest } from '@listbackup/catalogue/testing/fakes';
import { postGraphQL, signUp, type SignedUp } from '../gateway/test/support/stack.ts';
import { untar } from './support/tar.ts';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const STRIPE_KEY = `sk_test_${randomBytes(12).toString('hex')}`;
const WORKER_ENTRY = fileURLToPath(new URL('../subgraphs/jobs/src/worker.ts', import.meta.url));
const LEASE_SECONDS = 10;
const RESOURCES = { customers: 250, charges: 250, invoices: 150 } as const;
const TOTAL = Object.values(RESOURCES).reduce((a, b) => a + b, 0);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The Stripe fake, slowed down per request (so the backup's progress is reported while it runs),
 * and able to hold matching requests unanswered until released (so the kill lands mid-backup
 * whatever the machine's speed).
 */
class HeldStripe extends FakeStripe {
  delayMs = 0;
  hold: ((request: RecordedRequest) => boolean) | null = null;
  held = 0;
  readonly #waiting: (() => void)[] = [];

  protected override async route(request: RecordedRequest, res: ServerResponse): Promise<void> {
    if (this.delayMs > 0) await sleep(this.delayMs);
    if (this.hold?.(request)) {
      this.held++;
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    if (!res.destroyed) super.route(request, res);
  }

  release(): void {
    this.hold = null;
    for (const resolve of this.#waiting.splice(0)) resolve();
  }
}

interface Stack {
  origin: string;
  databaseUrl: string;
  workerEnv: NodeJS.ProcessEnv;
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

async function query<T extends pg.QueryResultRow = any>(connectionString: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Stripe's identity endpoint (`GET /v1/account`), which `createApiKeyConnection` calls; the fake serves lists only. */
async function startIdentity(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const ok = req.headers.authorization === `Bearer ${STRIPE_KEY}`;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(ok ? { id: 'acct_fake', settings: { dashboard: { display_name: 'Fake Co' } } } : { error: { type: 'invalid_request_error', message: 'Invalid API Key' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/account`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The subgraphs and the gateway in this process, the jobs subgraph without a worker; `workerEnv` runs `npm run worker` against the same database and store. */
async function startStack(stripeUrl: string, identityUrl: string): Promise<Stack> {
  const dbName = `lb_${randomBytes(6).toString('hex')}`;
  await query(DATABASE_URL, `create database ${dbName}`);
  const url = new URL(DATABASE_URL);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  const storageDir = await mkdtemp(join(tmpdir(), 'lb-crash-objects-'));
  const internalTokenSecret = randomBytes(32).toString('base64url');
  const storageKey = randomBytes(32);
  const log = createLogger('backup-crash', process.env.LOG_LEVEL ?? 'silent');
  const bus = new InProcessEventBus();
  const runtime = (name: string, port = 0): Omit<ServiceRuntime, 'access'> => ({ databaseUrl, bus, internalTokenSecret, log: log.child({ service: name }), port });
  const started: RunningService[] = [];
  let gateway: RunningGateway | undefined;
  const close = async () => {
    await gateway?.close();
    for (const service of started.reverse()) await service.close();
    await bus.close();
    await query(DATABASE_URL, `drop database if exists ${dbName} with (force)`);
    await rm(storageDir, { recursive: true, force: true });
  };
  try {
    const accounts = await startAccounts(runtime('accounts'));
    started.push(accounts);
    const access = new HttpAccessResolver(accounts.url, internalTokenSecret);
    const platforms = await startPlatforms({ ...runtime('platforms'), access }, { endpointOverrides: { stripe: { identityUrl } } });
    started.push(platforms);
    const store = new LocalDirectoryStore(storageDir);
    const keyring = new Keyring([{ id: 'crash-1', key: storageKey }]);
    const repository = createRepository({ store, keyring });
    const [sourcesPort, jobsPort] = [await freePort(), await freePort()];
    const sources = await startSources(
      { ...runtime('sources', sourcesPort), access },
      { platformsUrl: platforms.url, jobsUrl: `http://127.0.0.1:${jobsPort}/graphql`, scheduler: false },
    );
    started.push(sources);
    // No `worker` option: this process only enqueues and serves; the worker processes run the jobs.
    const jobs = await startJobs(
      { ...runtime('jobs', jobsPort), access },
      {
        sourcesUrl: sources.url,
        leaseSeconds: LEASE_SECONDS,
        backup: {
          store,
          keyring,
          repository,
          credentials: new PlatformsCredentials(platforms.url, internalTokenSecret),
          downloadKeys: downloadKeys(internalTokenSecret),
          connectors: { baseUrls: { stripe: stripeUrl } },
        },
      },
    );
    started.push(jobs);
    expect(jobs.worker).toBeNull();
    const billing = await startBilling({ ...runtime('billing'), access });
    started.push(billing);
    gateway = await startGateway({
      port: 0,
      supergraphSdl: readSupergraph(),
      subgraphUrls: Object.fromEntries(started.map((service) => [service.name, service.url])),
      accountsUrl: accounts.url,
      internalTokenSecret,
      log: log.child({ service: 'gateway' }),
    });
    const gatewayUrl = gateway.url;
    return {
      origin: new URL(gatewayUrl).origin,
      databaseUrl,
      workerEnv: {
        PATH: process.env.PATH,
        // Two workers run at once on this host (and other test files' too): each on a free port.
        METRICS_PORT: '0',
        DATABASE_URL: databaseUrl,
        INTERNAL_TOKEN_SECRET: internalTokenSecret,
        SOURCES_URL: sources.url,
        PLATFORMS_URL: platforms.url,
        STORAGE_KEYS: `crash-1:${storageKey.toString('base64')}`,
        STORAGE_DIR: storageDir,
        CONNECTOR_STRIPE_URL: stripeUrl,
        // The Stripe fake listens on loopback.
        OUTBOUND_ALLOW: process.env.OUTBOUND_ALLOW,
        JOB_LEASE_SECONDS: String(LEASE_SECONDS),
        JOB_SUPERVISE_INTERVAL_SECONDS: '1',
        JOB_POLL_INTERVAL_MS: '200',
        JOB_RETRY_BASE_DELAY_MS: '100',
        LOG_LEVEL: 'error',
      },
      graphql: (text, variables, token) => postGraphQL(gatewayUrl, text, variables, token),
      close,
    };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('a worker killed in the middle of a Stripe backup', () => {
  let stack: Stack;
  let stripe: HeldStripe;
  let identity: { url: string; close(): Promise<void> };
  let alice: SignedUp;
  const children: ChildProcess[] = [];

  const gql = async <T = any>(text: string, variables: Record<string, unknown>): Promise<T> => {
    const result = await stack.graphql<T>(text, variables, alice.accessToken);
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data as T;
  };
  const job = async (id: string) =>
    (await gql(`query ($id: ID!) { job(id: $id) { id status attempts failureReason progress { itemsDone } download { path bytes items } } }`, { id })).job;
  const finished = async (id: string) => {
    let current: any;
    await waitFor(async () => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes((current = await job(id)).status), `job ${id} to finish`, 90_000);
    return current;
  };
  const spawnWorker = () => {
    const child = spawn(process.execPath, [WORKER_ENTRY], { env: stack.workerEnv, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(child);
    return child;
  };
  const kill = async (child: ChildProcess) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };

  beforeAll(async () => {
    stripe = await new HeldStripe().start();
    stripe.keys.add(STRIPE_KEY);
    for (const [resource, count] of Object.entries(RESOURCES)) {
      for (let i = 0; i < count; i++) stripe.add(resource as keyof typeof RESOURCES, { description: `${resource} ${i} ${randomBytes(100).toString('hex')}` });
    }
    identity = await startIdentity();
    stack = await startStack(`${stripe.url}/v1`, identity.url);
    alice = await signUp(stack);
  }, 60_000);

  afterAll(async () => {
    stripe?.release();
    for (const child of children) await kill(child);
    await stack?.close();
    await stripe?.close();
    await identity?.close();
  }, 60_000);

  it('is retried by another worker and completes: every record exactly once, exported byte for byte', async () => {
    const connection = (
      await gql(`mutation ($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id status } }`, {
        input: { accountId: alice.accountId, platformSlug: 'stripe', name: 'Stripe', apiKey: STRIPE_KEY },
      })
    ).createApiKeyConnection;
    expect(connection.status).toBe('AUTHORIZED');
    const source = (
      await gql(`mutation ($input: CreateSourceInput!) { createSource(input: $input) { id } }`, {
        input: { accountId: alice.accountId, connectionId: connection.id, name: 'Payments', resources: Object.keys(RESOURCES), schedule: { kind: 'MANUAL' }, retention: { keepLast: 5 } },
      })
    ).createSource;

    // Every page takes a moment; the second page of charges waits until the first worker is dead.
    stripe.delayMs = 500;
    stripe.hold = (request) => request.path === '/v1/charges' && request.query.has('starting_after');
    const triggered = (await gql(`mutation ($id: ID!) { triggerSync(sourceId: $id) { id status } }`, { id: source.id })).triggerSync;
    expect(triggered.status).toBe('QUEUED');

    const first = spawnWorker();
    const checkpoint = async () =>
      (await query<{ checkpoint: { data: { resourcesRead: string[] } } | null }>(stack.databaseUrl, 'select checkpoint from jobs.jobs where id = $1', [triggered.id]))[0]?.checkpoint ?? null;
    await waitFor(
      async () => {
        if (stripe.held === 0 || (await checkpoint()) === null) return false;
        const current = await job(triggered.id);
        return current.status === 'RUNNING' && current.progress.itemsDone > 0;
      },
      'the first worker to be in the middle of the backup',
      60_000,
    );
    const atKill = await job(triggered.id);
    expect(atKill).toMatchObject({ status: 'RUNNING', attempts: 1 });
    expect(atKill.progress.itemsDone).toBeLessThan(TOTAL);
    expect((await checkpoint())!.data.resourcesRead).toEqual(['customers']);

    await kill(first);
    expect(first.signalCode).toBe('SIGKILL');
    stripe.release();
    stripe.delayMs = 0;
    expect((await job(triggered.id)).status).toBe('RUNNING');

    spawnWorker();
    const done = await finished(triggered.id);
    expect(done.status, done.failureReason).toBe('SUCCEEDED');
    expect(done.attempts).toBe(2);
    expect(done.progress.itemsDone).toBe(TOTAL);

    const log: string[] = (await gql(`query ($id: ID!) { job(id: $id) { log(first: 100) { edges { node { message } } } } }`, { id: triggered.id })).job.log.edges.map(
      (edge: any) => edge.node.message,
    );
    expect(log, log.join('\n')).toContain('Attempt 1 stopped: its worker stopped responding');
    expect(log.find((message) => message.startsWith('Attempt 2 started')), log.join('\n')).toMatch(/^Attempt 2 started, resuming from the checkpoint of /);
    expect(log).toContain('Resuming: items stored by the earlier attempt are kept, not fetched again');
    expect(log.find((message) => message.startsWith('Snapshot stored:'))).toMatch(new RegExp(`^Snapshot stored: ${TOTAL} items`));

    // What the platform served, item by item.
    const served = new Map<string, Buffer>();
    for (const resource of Object.keys(RESOURCES) as (keyof typeof RESOURCES)[]) {
      for (const object of stripe.objects[resource]) served.set(`${resource}/${object.id}.json`, Buffer.from(JSON.stringify(object)));
    }
    expect(served.size).toBe(TOTAL);

    // The snapshot lists each of them exactly once, and nothing else.
    const snapshot = (await gql(`query ($id: ID!) { job(id: $id) { snapshot { id itemCount logicalBytes } } }`, { id: triggered.id })).job.snapshot;
    expect(snapshot.itemCount).toBe(TOTAL);
    expect(snapshot.logicalBytes).toBe([...served.values()].reduce((sum, bytes) => sum + bytes.length, 0));
    const listed: { path: string; size: number }[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = (
        await gql(`query ($id: ID!, $after: String) { snapshot(id: $id) { items(first: 100, after: $after) { edges { node { path size } } pageInfo { hasNextPage endCursor } } } }`, {
          id: snapshot.id,
          after,
        })
      ).snapshot.items;
      listed.push(...page.edges.map((edge: any) => edge.node));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(listed).toHaveLength(TOTAL);
    expect(new Set(listed.map((item) => item.path)).size).toBe(TOTAL);
    expect(listed.map((item) => item.path).sort()).toEqual([...served.keys()].sort());
    for (const item of listed) expect(item.size, item.path).toBe(served.get(item.path)!.length);

    // The export, downloaded through the gateway, holds the platform's bytes.
    const exported = (await gql(`mutation ($id: ID!) { exportSnapshot(snapshotId: $id, format: TAR_ZSTD) { id } }`, { id: snapshot.id })).exportSnapshot;
    const exportDone = await finished(exported.id);
    expect(exportDone.status, exportDone.failureReason).toBe('SUCCEEDED');
    expect(exportDone.download.items).toBe(TOTAL);
    const response = await fetch(`${stack.origin}${exportDone.download.path}`, { headers: { authorization: `Bearer ${alice.accessToken}` } });
    expect(response.status).toBe(200);
    const archive = Buffer.from(await response.arrayBuffer());
    expect(archive.length).toBe(exportDone.download.bytes);
    const files = untar(zstdDecompressSync(archive));
    expect([...files.keys()].sort()).toEqual([...served.keys()].sort());
    for (const [path, bytes] of served) expect(files.get(path)?.equals(bytes), path).toBe(true);
  }, 180_000);
});
