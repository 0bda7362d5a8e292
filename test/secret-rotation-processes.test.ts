/**
 * The rotation of docs/secrets.md with the services as the separate processes an operator runs:
 * two processes of each subgraph, of the gateway and of the jobs worker, each subgraph and the
 * gateway behind a round-robin balancer (what a Kubernetes Service does). Every kind is restarted
 * one process at a time with INTERNAL_TOKEN_SECRET `old,new` → `new,old` → `new`, STORAGE_KEYS and
 * VAULT_KEYS `new,old` then `new`, with `npm run storage:rotate`, `npm run vault:rotate` and
 * `npm run accounts:admin -- rotate-signing-key` in between, while GraphQL traffic flows through
 * the gateway and backups run one after the other (the worker running one is stopped under it: it
 * hands the backup back and the other worker finishes it). No request fails, every backup
 * succeeds, the newest restores byte for byte with the new storage key alone, and with the old one
 * alone fails and writes nothing.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'nats';
import { streamName } from '@listbackup/lib/events/connect';
import { DecryptionError, DirectoryTarget, type Kek, Keyring, LocalDirectoryStore, layout, listSnapshots, Repository, restoreSnapshot, StoreKeyProvider } from '@listbackup/engine';
import { FakeStripe } from '@listbackup/catalogue/testing/fakes';
import { postGraphQL, signUp, type SignedUp } from '../gateway/test/support/stack.ts';
import { Balancer } from './support/balancer.ts';
import { createTestDatabase } from './support/database.ts';
import { freePort, startProcess, stopProcess, type ServiceProcess } from './support/processes.ts';

const natsUrl = process.env.NATS_URL;
if (!natsUrl && process.env.CI === 'true') throw new Error('NATS_URL must be set in CI');

const run = promisify(execFile);
const STRIPE_KEY = `sk_test_${randomBytes(12).toString('hex')}`;
const kek = (id: string): Kek => ({ id, key: randomBytes(32) });
const spec = (...keys: Kek[]) => keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');

const SUBGRAPHS = ['accounts', 'platforms', 'sources', 'jobs', 'billing'] as const;
const KINDS = [...SUBGRAPHS, 'gateway', 'worker'] as const;
type Kind = (typeof KINDS)[number];
type Served = Exclude<Kind, 'worker'>;
const ENTRY: Record<Kind, string> = {
  accounts: 'subgraphs/accounts/src/main.ts',
  platforms: 'subgraphs/platforms/src/main.ts',
  sources: 'subgraphs/sources/src/main.ts',
  jobs: 'subgraphs/jobs/src/main.ts',
  billing: 'subgraphs/billing/src/main.ts',
  gateway: 'gateway/src/main.ts',
  worker: 'subgraphs/jobs/src/worker.ts',
};

/** The three settings that rotate, as the processes read them. */
interface Secrets {
  INTERNAL_TOKEN_SECRET: string;
  STORAGE_KEYS: string;
  VAULT_KEYS: string;
}

interface Replica {
  process: ServiceProcess;
  /** `http://127.0.0.1:<port>`: the balancer's backend, or the worker's metrics server. */
  origin: string;
}

describe.skipIf(!natsUrl)('rotating every shared secret across separate processes, under traffic and a running backup', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let storageDir: string;
  let stripe: FakeStripe;
  let stripeBalancer: Balancer;
  let identity: http.Server;
  const namespace = `rotp${randomBytes(4).toString('hex')}`;
  const balancers = {} as Record<Served, Balancer>;
  const replicas = {} as Record<Kind, Replica[]>;
  const exitCodes: { name: string; code: number | null }[] = [];

  const graphqlUrl = (kind: Served) => `${balancers[kind].url}/graphql`;

  async function waitReady(replica: Replica, path: string): Promise<void> {
    // Generous: on a loaded machine a process takes 20 s and more to start.
    for (const deadline = Date.now() + 180_000; Date.now() < deadline; ) {
      if (replica.process.child.exitCode !== null) throw new Error(`${replica.process.name} exited with ${replica.process.child.exitCode}:\n${replica.process.output()}`);
      const ok = await fetch(`${replica.origin}${path}`).then(
        (response) => response.ok,
        () => false,
      );
      if (ok) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`${replica.process.name} did not become ready:\n${replica.process.output()}`);
  }

  async function startReplica(kind: Kind, secrets: Secrets): Promise<Replica> {
    const port = await freePort();
    const env: Record<string, string> = {
      ...secrets,
      DATABASE_URL: db.url,
      NATS_URL: natsUrl!,
      EVENTS_NAMESPACE: namespace,
      ...Object.fromEntries(SUBGRAPHS.map((name) => [`${name.toUpperCase()}_URL`, graphqlUrl(name)])),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      STORAGE_DIR: storageDir,
      PLATFORM_STRIPE_IDENTITY_URL: `http://127.0.0.1:${(identity.address() as AddressInfo).port}/v1/account`,
      CONNECTOR_STRIPE_URL: `${stripeBalancer.url}/v1`,
      JOB_POLL_INTERVAL_MS: '100',
      JOB_RETRY_BASE_DELAY_MS: '50',
      ...(kind === 'worker' ? { METRICS_PORT: String(port) } : { PORT: String(port) }),
    };
    const replica = { process: startProcess(`${kind}:${port}`, ENTRY[kind], env), origin: `http://127.0.0.1:${port}` };
    await waitReady(replica, kind === 'worker' ? '/healthz' : '/readyz');
    if (kind !== 'worker') balancers[kind].add(replica.origin);
    return replica;
  }

  async function stopReplica(kind: Kind, replica: Replica): Promise<void> {
    if (kind !== 'worker') await balancers[kind].drain(replica.origin);
    exitCodes.push({ name: replica.process.name, code: await stopProcess(replica.process) });
  }

  /** Every kind at once, one process of each at a time: out of its balancer, stopped, started with the new secrets, back in. */
  async function rollingRestart(secrets: Secrets): Promise<void> {
    await Promise.all(
      KINDS.map(async (kind) => {
        for (let i = 0; i < replicas[kind].length; i++) {
          await stopReplica(kind, replicas[kind][i]);
          replicas[kind][i] = await startReplica(kind, secrets);
        }
      }),
    );
  }

  const operatorEnv = (secrets: Secrets) => ({ ...process.env, ...secrets, DATABASE_URL: db.url, STORAGE_DIR: storageDir });

  beforeAll(async () => {
    db = await createTestDatabase('lb_rotation_processes');
    storageDir = await mkdtemp(join(tmpdir(), 'lb-rotation-processes-'));
    stripe = await new FakeStripe().start();
    stripe.keys.add(STRIPE_KEY);
    for (let i = 0; i < 240; i++) stripe.add('customers', { description: `customer ${i} ${randomBytes(300).toString('hex')}` });
    stripeBalancer = await new Balancer().start();
    stripeBalancer.add(stripe.url);
    identity = http.createServer((req, res) => {
      const ok = req.headers.authorization === `Bearer ${STRIPE_KEY}`;
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? { id: 'acct_rotation', settings: { dashboard: { display_name: 'Rotation Co' } } } : { error: { type: 'invalid_request_error' } }));
    });
    await new Promise<void>((resolve) => identity.listen(0, '127.0.0.1', resolve));
    for (const kind of KINDS) if (kind !== 'worker') balancers[kind] = await new Balancer().start();
  });

  afterAll(async () => {
    await Promise.all(KINDS.map(async (kind) => Promise.all((replicas[kind] ?? []).map((replica) => stopReplica(kind, replica).catch(() => {})))));
    for (const balancer of Object.values(balancers)) await balancer.close();
    await stripeBalancer?.close();
    await stripe?.close();
    await new Promise<void>((resolve) => (identity ? identity.close(() => resolve()) : resolve()));
    await db?.drop();
    const nats = await connect({ servers: natsUrl });
    await (await nats.jetstreamManager()).streams.delete(streamName(namespace)).catch(() => {});
    await nats.close();
    if (storageDir) await rm(storageDir, { recursive: true, force: true });
  });

  it('0 failed requests, every backup succeeds, and the newest restores byte for byte under the new key only', { timeout: 1_800_000 }, async () => {
    const [internalOld, internalNew] = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')];
    const [storageOld, storageNew, vaultOld, vaultNew] = [kek('s1'), kek('s2'), kek('k1'), kek('k2')];
    const initial: Secrets = { INTERNAL_TOKEN_SECRET: internalOld, STORAGE_KEYS: spec(storageOld), VAULT_KEYS: spec(vaultOld) };
    // Accounts first: the others ask it for roles as they start.
    replicas.accounts = [await startReplica('accounts', initial), await startReplica('accounts', initial)];
    await Promise.all(
      KINDS.filter((kind) => kind !== 'accounts' && kind !== 'gateway').map(async (kind) => {
        replicas[kind] = [await startReplica(kind, initial), await startReplica(kind, initial)];
      }),
    );
    replicas.gateway = [await startReplica('gateway', initial), await startReplica('gateway', initial)];

    let alice: SignedUp | undefined;
    const graphql = async <T = any>(query: string, variables: Record<string, unknown> = {}) => {
      const result = await postGraphQL<T>(graphqlUrl('gateway'), query, variables, alice?.accessToken);
      if (result.errors || !result.data) throw new Error(JSON.stringify(result.errors ?? result));
      return result.data;
    };
    alice = await signUp({ graphql: (query, variables) => postGraphQL(graphqlUrl('gateway'), query, variables) });
    const accountId = alice.accountId;
    const connection = (
      await graphql(`mutation ($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id status } }`, {
        input: { accountId, platformSlug: 'stripe', name: 'Stripe', apiKey: STRIPE_KEY },
      })
    ).createApiKeyConnection;
    expect(connection.status).toBe('AUTHORIZED');
    const sourceId = (
      await graphql(`mutation ($input: CreateSourceInput!) { createSource(input: $input) { id } }`, {
        input: { accountId, connectionId: connection.id, name: 'Payments', resources: ['customers'], schedule: { kind: 'MANUAL' }, retention: { keepLast: 50 } },
      })
    ).createSource.id;

    // Traffic: reads across accounts, platforms, sources and jobs, two at a time, until told to stop.
    const failures: string[] = [];
    let requests = 0;
    let running = true;
    const READ = `query ($id: ID!) { me { email memberships { edges { node { account { id connections { edges { node { id status } } } sources { edges { node { id name } } } } } } } } source(id: $id) { id jobs(first: 1) { edges { node { id status } } } } }`;
    const reader = async () => {
      while (running) {
        requests++;
        try {
          const data = await graphql(READ, { id: sourceId });
          if (data.me.memberships.edges[0].node.account.connections.edges[0]?.node.status !== 'AUTHORIZED') failures.push(`connection not AUTHORIZED: ${JSON.stringify(data.me)}`);
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    };
    // Backups one after the other, each slowed down at the platform, so one is always running.
    stripeBalancer.delayMs = 150;
    const backups: string[] = [];
    const backupLoop = async () => {
      while (running) {
        try {
          const job = (await graphql(`mutation ($id: ID!) { triggerSync(sourceId: $id) { id } }`, { id: sourceId })).triggerSync;
          backups.push(job.id);
          for (;;) {
            const status = (await graphql(`query ($id: ID!) { job(id: $id) { status } }`, { id: job.id })).job.status;
            if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(status)) break;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    };
    const traffic = Promise.all([reader(), reader(), backupLoop()]);
    const backupRunning = async () => {
      for (;;) {
        const last = backups.at(-1);
        if (last && (await graphql(`query ($id: ID!) { job(id: $id) { status } }`, { id: last })).job.status === 'RUNNING') return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };

    /** The running backup and the pid of the worker process running it. */
    const runningBackup = async () => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ id: string; worker_id: string | null }>(`select id, worker_id from jobs.jobs where status = 'RUNNING' and kind = 'BACKUP'`);
        const [row] = rows;
        return row?.worker_id ? { id: row.id, pid: Number(row.worker_id.split(':').at(-2)) } : undefined;
      } finally {
        await client.end();
      }
    };

    let newSigningKey = '';
    let interrupted: string | undefined;
    try {
      // 1. Every process learns the new secrets; the old ones still sign and wrap. The worker
      // running a backup (slowed down so that it is still running) is the first one stopped.
      stripeBalancer.delayMs = 1500;
      const slowed = backups.length;
      let holder: Awaited<ReturnType<typeof runningBackup>>;
      while (!holder || backups.indexOf(holder.id) < slowed) {
        await backupRunning();
        holder = await runningBackup();
      }
      interrupted = holder.id;
      replicas.worker.sort((a, b) => Number(b.process.child.pid === holder.pid) - Number(a.process.child.pid === holder.pid));
      expect(replicas.worker[0].process.child.pid).toBe(holder.pid);
      await rollingRestart({ INTERNAL_TOKEN_SECRET: `${internalOld},${internalNew}`, STORAGE_KEYS: spec(storageOld, storageNew), VAULT_KEYS: spec(vaultOld, vaultNew) });
      stripeBalancer.delayMs = 150;
      // 2. The new ones sign and wrap.
      const both: Secrets = { INTERNAL_TOKEN_SECRET: `${internalNew},${internalOld}`, STORAGE_KEYS: spec(storageNew, storageOld), VAULT_KEYS: spec(vaultNew, vaultOld) };
      await rollingRestart(both);
      // 3. The operator's commands, while a backup runs: rewrap under the new keys, a new access-token signing key.
      await backupRunning();
      const storage = await run(process.execPath, ['scripts/storage-rotate.ts'], { env: operatorEnv(both) });
      expect(storage.stdout).toContain('Data keys per key id: {"s2":1}');
      expect(storage.stdout).toContain('Nothing is wrapped under s1: it can be removed from STORAGE_KEYS.');
      const vault = await run(process.execPath, ['scripts/vault-rotate.ts'], { env: operatorEnv(both) });
      expect(vault.stdout).toContain('Data keys per key id now: {"k2":1}');
      const signing = await run(process.execPath, ['subgraphs/accounts/src/account-admin.ts', 'rotate-signing-key'], { env: operatorEnv(both) });
      newSigningKey = /signed with key (\S+) from now on/.exec(signing.stdout)?.[1] ?? signing.stdout;
      // 4. Only the new secrets are left.
      await backupRunning();
      await rollingRestart({ INTERNAL_TOKEN_SECRET: internalNew, STORAGE_KEYS: spec(storageNew), VAULT_KEYS: spec(vaultNew) });
      // The token signed by the retired key kept working; a refreshed one is signed by the new key.
      const refreshed = (await graphql(`mutation ($token: String!) { refreshSession(refreshToken: $token) { accessToken refreshToken } }`, { token: alice.refreshToken })).refreshSession;
      expect(JSON.parse(Buffer.from(refreshed.accessToken.split('.')[0], 'base64url').toString('utf8')).kid).toBe(newSigningKey);
      alice = { ...alice, ...refreshed };
      await backupRunning();
    } finally {
      running = false;
      await traffic;
    }

    console.info(`${requests} reads and ${backups.length} backups through the gateway while ${exitCodes.length} processes were restarted; ${failures.length} failed`);
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(50);
    expect(backups.length).toBeGreaterThanOrEqual(3);
    const statuses = await Promise.all(backups.map(async (id) => ({ id, ...(await graphql(`query ($id: ID!) { job(id: $id) { status attempts failureReason } }`, { id })).job })));
    expect(statuses.every((job) => job.status === 'SUCCEEDED'), JSON.stringify(statuses)).toBe(true);
    // The backup whose worker was stopped under it was finished by another attempt.
    expect(statuses.find((job) => job.id === interrupted)?.attempts).toBeGreaterThanOrEqual(2);
    const stopped = exitCodes.filter(({ code }) => code !== 0);
    expect(stopped, 'every process stopped in a rolling restart exits 0').toEqual([]);

    // No data key is wrapped by the old KEK.
    const store = new LocalDirectoryStore(storageDir);
    const accounts = (await readdir(storageDir, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    expect(accounts).toEqual([accountId]);
    expect(JSON.parse((await store.getBytes(layout.dataKey(accountId))).toString('utf8')).kekId).toBe('s2');

    // The newest snapshot restores byte for byte with the new key alone.
    const fresh = new Repository({ store, keys: new StoreKeyProvider(store, new Keyring([storageNew])) });
    const account = await fresh.account(accountId);
    const newest = (await listSnapshots(account)).sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1)).at(-1)!;
    const restored = await mkdtemp(join(tmpdir(), 'lb-rotation-processes-restore-'));
    try {
      const result = await restoreSnapshot(account, newest.id, new DirectoryTarget(restored));
      expect(result.itemsRestored).toBe(240);
      for (const customer of stripe.objects.customers) {
        expect((await readFile(join(restored, 'customers', `${customer.id}.json`))).equals(Buffer.from(JSON.stringify(customer)))).toBe(true);
      }
    } finally {
      await rm(restored, { recursive: true, force: true });
    }

    // With only the old key it fails loudly and overwrites nothing.
    const target = await mkdtemp(join(tmpdir(), 'lb-rotation-processes-old-key-'));
    try {
      await writeFile(join(target, 'keep.txt'), 'untouched');
      const retired = new Repository({ store, keys: new StoreKeyProvider(store, new Keyring([storageOld])) });
      await expect(retired.account(accountId).then((old) => restoreSnapshot(old, newest.id, new DirectoryTarget(target)))).rejects.toThrow(DecryptionError);
      expect(await readdir(target)).toEqual(['keep.txt']);
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  });
});
