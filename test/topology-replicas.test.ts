/**
 * The distributed form with replicas, as separate processes: the five subgraphs, two gateways and
 * two workers (`subgraphs/jobs/src/worker.ts`), sharing one PostgreSQL database, NATS and one S3
 * store (s3rver, the S3-compatible server the engine's and GC tests use). A backup started through
 * one gateway streams its live status to a subscriber on the other. The worker running it is killed
 * with SIGKILL in the middle; nothing is lost: the other worker takes the job over once its lease
 * runs out, resumes from the checkpoint, and the snapshot's export, downloaded through the first
 * gateway, holds every record the platform served, byte for byte.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdDecompressSync } from 'node:zlib';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import S3rver from '@20minutes/s3rver';
import { createClient, type ExecutionResult } from 'graphql-ws';
import { connect } from 'nats';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { streamName } from '@listbackup/lib/events/connect';
import { S3Store } from '@listbackup/engine/s3';
import { FakeStripe, type RecordedRequest } from '@listbackup/catalogue/testing/fakes';
import { STRIPE_KEY, startIdentity } from './support/backup-stack.ts';
import { createTestDatabase } from './support/database.ts';
import { freePort, type ServiceProcess, startProcess, stopProcess, waitForHealthy } from './support/processes.ts';
import { untar } from './support/tar.ts';

const natsUrl = process.env.NATS_URL;
if (!natsUrl && process.env.CI === 'true') throw new Error('NATS_URL must be set in CI');

const NAMES = ['accounts', 'platforms', 'sources', 'jobs', 'billing'] as const;
type Name = (typeof NAMES)[number];
const BUCKET = 'listbackup-replicas';
const LEASE_SECONDS = 10;
const RESOURCES = { customers: 150, charges: 250 } as const;
const TOTAL = RESOURCES.customers + RESOURCES.charges;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Stripe, each answer a little slow, and the pages of charges after the first held until released: the kill lands mid-backup however loaded the machine. */
class SlowStripe extends FakeStripe {
  delayMs = 200;
  holding = true;
  held = 0;
  readonly #waiting: (() => void)[] = [];

  protected override async route(request: RecordedRequest, res: ServerResponse): Promise<void> {
    await sleep(this.delayMs);
    if (this.holding && request.path === '/v1/charges' && request.query.has('starting_after')) {
      this.held++;
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    if (!res.destroyed) return super.route(request, res);
  }

  release(): void {
    this.holding = false;
    this.delayMs = 0;
    for (const resolve of this.#waiting.splice(0)) resolve();
  }
}

async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe.skipIf(!natsUrl)('two gateways and two workers as separate processes, sharing PostgreSQL, NATS and one S3 store', () => {
  const processes: ServiceProcess[] = [];
  const workers: ServiceProcess[] = [];
  const gateways: { process: ServiceProcess; url: string }[] = [];
  const namespace = `replicas${randomBytes(4).toString('hex')}`;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let s3dir = '';
  let s3server: InstanceType<typeof S3rver>;
  let stripe: SlowStripe;
  let identity: Awaited<ReturnType<typeof startIdentity>>;
  let killed: ServiceProcess | undefined;

  beforeAll(async () => {
    database = await createTestDatabase('lb_replicas');
    s3dir = await mkdtemp(join(tmpdir(), 'lb-replicas-s3-'));
    s3server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3dir, allowMismatchedSignatures: true });
    const s3url = `http://127.0.0.1:${((await s3server.run()) as AddressInfo).port}`;
    await S3Store.fromConfig({ endpoint: s3url, region: 'us-east-1', bucket: BUCKET, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }).client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    stripe = await new SlowStripe().start();
    stripe.keys.add(STRIPE_KEY);
    for (const [resource, count] of Object.entries(RESOURCES)) {
      for (let i = 0; i < count; i++) stripe.add(resource as keyof typeof RESOURCES, { description: `${resource} ${i} ${randomBytes(64).toString('hex')}` });
    }
    identity = await startIdentity();

    const ports = Object.fromEntries(await Promise.all(NAMES.map(async (name) => [name, await freePort()] as const))) as Record<Name, number>;
    const url = (name: Name) => `http://127.0.0.1:${ports[name]}/graphql`;
    const env = {
      DATABASE_URL: database.url,
      NATS_URL: natsUrl!,
      INTERNAL_TOKEN_SECRET: randomBytes(32).toString('hex'),
      EVENTS_NAMESPACE: namespace,
      ACCOUNTS_URL: url('accounts'),
      PLATFORMS_URL: url('platforms'),
      SOURCES_URL: url('sources'),
      JOBS_URL: url('jobs'),
      BILLING_URL: url('billing'),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      VAULT_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      PLATFORM_STRIPE_IDENTITY_URL: identity.url,
    };
    // One store for the jobs subgraph (exports) and both workers.
    const storage = {
      STORAGE_KEYS: `s1:${randomBytes(32).toString('base64')}`,
      STORAGE_S3_BUCKET: BUCKET,
      STORAGE_S3_ENDPOINT: s3url,
      STORAGE_S3_ACCESS_KEY_ID: 'S3RVER',
      STORAGE_S3_SECRET_ACCESS_KEY: 'S3RVER',
      STORAGE_S3_PREFIX: 'objects/',
      JOB_LEASE_SECONDS: String(LEASE_SECONDS),
    };
    for (const name of NAMES) {
      const service = startProcess(name, `subgraphs/${name}/src/main.ts`, { ...env, ...(name === 'jobs' ? storage : {}), PORT: String(ports[name]) });
      processes.push(service);
      // Accounts first: the others ask it for roles.
      if (name === 'accounts') await waitForHealthy(service, url(name).replace('/graphql', '/healthz'), 600);
    }
    await Promise.all(processes.map((service) => waitForHealthy(service, url(service.name as Name).replace('/graphql', '/healthz'), 600)));
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const gateway = startProcess(`gateway-${i + 1}`, 'gateway/src/main.ts', { ...env, PORT: String(port) });
      processes.push(gateway);
      gateways.push({ process: gateway, url: `http://127.0.0.1:${port}` });
    }
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const worker = startProcess(`worker-${i + 1}`, 'subgraphs/jobs/src/worker.ts', {
        ...env,
        ...storage,
        METRICS_PORT: String(port),
        CONNECTOR_STRIPE_URL: `${stripe.url}/v1`,
        JOB_SUPERVISE_INTERVAL_SECONDS: '1',
        JOB_POLL_INTERVAL_MS: '200',
        JOB_RETRY_BASE_DELAY_MS: '100',
      });
      processes.push(worker);
      workers.push(worker);
      await waitForHealthy(worker, `http://127.0.0.1:${port}/healthz`, 600);
    }
    await Promise.all(gateways.map((gateway) => waitForHealthy(gateway.process, `${gateway.url}/readyz`, 600)));
  }, 600_000);

  afterAll(async () => {
    stripe?.release();
    const codes = await Promise.all(processes.filter((service) => service !== killed).map(async (service) => [service.name, await stopProcess(service)] as const));
    await database?.drop();
    if (natsUrl) {
      const nats = await connect({ servers: natsUrl });
      await (await nats.jetstreamManager()).streams.delete(streamName(namespace)).catch(() => {});
      await nats.close();
    }
    await identity?.close();
    await stripe?.close();
    await s3server?.close();
    if (s3dir) await rm(s3dir, { recursive: true, force: true });
    const failed = codes.filter(([, code]) => code !== 0);
    expect(failed, failed.map(([name]) => `${name}:\n${processes.find((service) => service.name === name)!.output()}`).join('\n')).toEqual([]);
  }, 120_000);

  const graphql = async (gateway: string, query: string, variables: Record<string, unknown>, token?: string) => {
    const response = await fetch(`${gateway}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const result = (await response.json()) as { data?: any; errors?: unknown[] };
    if (result.errors) throw new Error(`${query}: ${JSON.stringify(result.errors)}`);
    return result.data;
  };
  const checkpointOf = async (jobId: string) => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ worker_id: string | null; checkpoint: unknown }>('select worker_id, checkpoint from jobs.jobs where id = $1', [jobId]);
      return rows[0];
    } finally {
      await client.end();
    }
  };

  it('streams a backup started through one gateway to a subscriber on the other; a worker SIGKILLed mid-job loses nothing', { timeout: 600_000 }, async () => {
    const [first, second] = gateways.map((gateway) => gateway.url);
    const { signUp } = await graphql(first, `mutation ($input: SignUpInput!) { signUp(input: $input) { accessToken user { memberships { edges { node { account { id } } } } } } }`, {
      input: { email: `replicas-${randomBytes(4).toString('hex')}@example.com`, password: 'correct horse battery staple', name: 'Replicas' },
    });
    const token = signUp.accessToken as string;
    const accountId = signUp.user.memberships.edges[0].node.account.id as string;
    const { createApiKeyConnection: connection } = await graphql(
      first,
      `mutation ($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id status } }`,
      { input: { accountId, platformSlug: 'stripe', name: 'Stripe', apiKey: STRIPE_KEY } },
      token,
    );
    expect(connection.status).toBe('AUTHORIZED');
    const { createSource: source } = await graphql(
      first,
      `mutation ($input: CreateSourceInput!) { createSource(input: $input) { id } }`,
      { input: { accountId, connectionId: connection.id, name: 'Payments', resources: Object.keys(RESOURCES), schedule: { kind: 'MANUAL' }, retention: { keepLast: 5 } } },
      token,
    );

    const { triggerSync: job } = await graphql(first, `mutation ($id: ID!) { triggerSync(sourceId: $id) { id status } }`, { id: source.id }, token);
    // The subscriber is on the other gateway.
    const updates: { status: string; attempts: number; itemsDone: number }[] = [];
    let completed = false;
    let failure: unknown;
    const client = createClient({ url: `${second.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { Authorization: `Bearer ${token}` } });
    client.subscribe(
      { query: `subscription ($id: ID!) { jobUpdated(id: $id) { id status attempts progress { itemsDone } } }`, variables: { id: job.id } },
      {
        next: (result: ExecutionResult<any>) => {
          if (result.errors) failure = result.errors;
          else updates.push({ status: result.data.jobUpdated.status, attempts: result.data.jobUpdated.attempts, itemsDone: result.data.jobUpdated.progress.itemsDone });
        },
        error: (error) => (failure = error),
        complete: () => (completed = true),
      },
    );
    try {
      // Live: RUNNING reaches the subscriber while the worker waits on the held charges page, the customers stored and checkpointed,
      // and the progress counts them while the platform is quiet (not only once the backup ends).
      await waitUntil(async () => {
        if (failure) throw new Error(`the subscription failed: ${JSON.stringify(failure)}`);
        return (
          stripe.held > 0 &&
          updates.some((u) => u.status === 'RUNNING' && u.attempts === 1 && u.itemsDone >= RESOURCES.customers) &&
          Boolean((await checkpointOf(job.id))?.checkpoint)
        );
      }, 'the backup to be half-way, seen on the other gateway').catch(async (error) => {
        throw new Error(`${error.message}: held ${stripe.held}, updates ${JSON.stringify(updates)}, job row ${JSON.stringify(await checkpointOf(job.id))}`);
      });
      const { worker_id: workerId } = await checkpointOf(job.id);
      const owner = workers.find((worker) => workerId?.split(':')[1] === String(worker.child.pid));
      expect(owner, `worker ${workerId}`).toBeDefined();
      const exited = new Promise((resolve) => owner!.child.once('exit', resolve));
      owner!.child.kill('SIGKILL');
      await exited;
      killed = owner;
      stripe.release();

      await waitUntil(() => completed || Boolean(failure), 'the job to finish, seen on the other gateway', 300_000);
      expect(failure).toBeUndefined();
      const last = updates.at(-1)!;
      expect(last).toEqual({ status: 'SUCCEEDED', attempts: 2, itemsDone: TOTAL });
      const running = updates.filter((u) => u.status === 'RUNNING');
      expect(running.some((u) => u.attempts === 1) && running.some((u) => u.attempts === 2)).toBe(true);
    } finally {
      await client.dispose();
    }
    // The other worker finished it.
    const survivor = workers.find((worker) => worker !== killed)!;
    expect((await checkpointOf(job.id)).worker_id).toBeNull();
    const log = (await graphql(second, `query ($id: ID!) { job(id: $id) { log(first: 100) { edges { node { message } } } } }`, { id: job.id }, token)).job.log.edges.map((edge: any) => edge.node.message as string);
    expect(log, log.join('\n')).toContain('Attempt 1 stopped: its worker stopped responding');
    expect(log.find((message: string) => message.startsWith('Attempt 2 started')), log.join('\n')).toMatch(/^Attempt 2 started, resuming from the checkpoint of /);
    expect(survivor.child.exitCode).toBeNull();

    // Nothing lost: the snapshot, exported through the second gateway and downloaded through the first, holds every record byte for byte.
    const { job: done } = await graphql(second, `query ($id: ID!) { job(id: $id) { snapshot { id itemCount } } }`, { id: job.id }, token);
    expect(done.snapshot.itemCount).toBe(TOTAL);
    const { exportSnapshot } = await graphql(second, `mutation ($id: ID!) { exportSnapshot(snapshotId: $id, format: TAR_ZSTD) { id } }`, { id: done.snapshot.id }, token);
    let exported: any;
    await waitUntil(
      async () => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes((exported = (await graphql(first, `query ($id: ID!) { job(id: $id) { status failureReason download { path bytes } } }`, { id: exportSnapshot.id }, token)).job).status),
      'the export',
    );
    expect(exported.status, exported.failureReason).toBe('SUCCEEDED');
    const response = await fetch(`${first}${exported.download.path}`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    const files = untar(zstdDecompressSync(Buffer.from(await response.arrayBuffer())));
    const served = new Map<string, Buffer>();
    for (const resource of Object.keys(RESOURCES) as (keyof typeof RESOURCES)[]) {
      for (const object of stripe.objects[resource]) served.set(`${resource}/${object.id}.json`, Buffer.from(JSON.stringify(object)));
    }
    expect([...files.keys()].sort()).toEqual([...served.keys()].sort());
    for (const [path, bytes] of served) expect(files.get(path)?.equals(bytes), path).toBe(true);
  });
});
