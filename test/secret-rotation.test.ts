/**
 * Every secret the services share rotates under traffic, as docs/secrets.md tells an operator:
 * two replicas of each subgraph and of the gateway behind a round-robin balancer (what a
 * Kubernetes Service does), restarted one replica at a time with INTERNAL_TOKEN_SECRET `old` →
 * `old,new` → `new,old` → `new`, STORAGE_KEYS and VAULT_KEYS `new,old` then `new`, storage:rotate,
 * vault:rotate and a new access-token signing key in between, while GraphQL traffic flows through the gateway and backups run
 * one after the other. No request fails, every backup succeeds, and the last restores byte for
 * byte with the new storage key alone; with the old one alone it fails and writes nothing.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpAccessResolver } from '@listbackup/lib/access';
import { openDatabase } from '@listbackup/lib/db';
import { connectNatsBus, streamName } from '@listbackup/lib/events/connect';
import { connect } from 'nats';
import { createLogger } from '@listbackup/lib/logger';
import type { RunningService, ServiceRuntime } from '@listbackup/lib/service';
import { readSupergraph } from '@listbackup/lib/supergraph';
import { Keyring as VaultKeyring } from '@listbackup/lib/vault';
import { DecryptionError, DirectoryTarget, type Kek, Keyring, LocalDirectoryStore, layout, listSnapshots, Repository, restoreSnapshot, StoreKeyProvider } from '@listbackup/engine';
import { FakeStripe } from '@listbackup/catalogue/testing/fakes';
import { startAccounts } from '../subgraphs/accounts/src/index.ts';
import { database as accountsDatabase } from '../subgraphs/accounts/src/database.ts';
import { rotateSigningKey } from '../subgraphs/accounts/src/services/tokens.ts';
import { startPlatforms } from '../subgraphs/platforms/src/index.ts';
import { database as platformsDatabase } from '../subgraphs/platforms/src/database.ts';
import { CredentialVault } from '../subgraphs/platforms/src/services/credential-vault.ts';
import { rewrapAllDataKeys } from '../subgraphs/platforms/src/services/vault-rotation.ts';
import { startSources } from '../subgraphs/sources/src/index.ts';
import { startJobs } from '../subgraphs/jobs/src/index.ts';
import { database as jobsDatabase } from '../subgraphs/jobs/src/database.ts';
import { PlatformsCredentials } from '../subgraphs/jobs/src/backup/credentials.ts';
import { rotateStorageKeys } from '../subgraphs/jobs/src/backup/key-rotation.ts';
import { downloadKeys } from '../subgraphs/jobs/src/backup/settings.ts';
import { startBilling } from '../subgraphs/billing/src/index.ts';
import { startGateway } from '../gateway/src/index.ts';
import { postGraphQL, signUp, type SignedUp } from '../gateway/test/support/stack.ts';
import { Balancer } from './support/balancer.ts';
import { createTestDatabase } from './support/database.ts';

const natsUrl = process.env.NATS_URL;
if (!natsUrl && process.env.CI === 'true') throw new Error('NATS_URL must be set in CI');

const STRIPE_KEY = `sk_test_${randomBytes(12).toString('hex')}`;
const kek = (id: string): Kek => ({ id, key: randomBytes(32) });

interface Secrets {
  internal: string;
  storage: Kek[];
  vault: Kek[];
}

const SERVICES = ['accounts', 'platforms', 'sources', 'jobs', 'billing', 'gateway'] as const;
type ServiceName = (typeof SERVICES)[number];

describe.skipIf(!natsUrl)('rotating every shared secret under traffic, with a backup running', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let storageDir: string;
  let stripe: FakeStripe;
  let stripeBalancer: Balancer;
  let identity: http.Server;
  // Replicas share events as separate processes do: through NATS, each with its own connection.
  const namespace = `rot${randomBytes(4).toString('hex')}`;
  const log = createLogger('secret-rotation', process.env.LOG_LEVEL ?? 'silent');
  const balancers = {} as Record<ServiceName, Balancer>;
  const replicas = {} as Record<ServiceName, { origin: string; close(): Promise<void> }[]>;
  let store: LocalDirectoryStore;
  let alice: SignedUp;

  const graphqlUrl = (name: ServiceName) => `${balancers[name].url}/graphql`;

  async function startReplica(name: ServiceName, secrets: Secrets): Promise<{ origin: string; close(): Promise<void> }> {
    const bus = await connectNatsBus(natsUrl!, namespace);
    const runtime = (): Omit<ServiceRuntime, 'access'> => ({ databaseUrl: db.url, bus, internalTokenSecret: secrets.internal, log: log.child({ service: name }), port: 0 });
    const access = new HttpAccessResolver(graphqlUrl('accounts'), secrets.internal);
    let service: RunningService | { url: string; close(): Promise<void> };
    switch (name) {
      case 'accounts':
        service = await startAccounts(runtime());
        break;
      case 'platforms':
        service = await startPlatforms({ ...runtime(), access }, { vault: new VaultKeyring(secrets.vault), endpointOverrides: { stripe: { identityUrl: `http://127.0.0.1:${(identity.address() as AddressInfo).port}/v1/account` } } });
        break;
      case 'sources':
        service = await startSources({ ...runtime(), access }, { platformsUrl: graphqlUrl('platforms'), jobsUrl: graphqlUrl('jobs'), scheduler: false });
        break;
      case 'jobs':
        service = await startJobs(
          { ...runtime(), access },
          {
            sourcesUrl: graphqlUrl('sources'),
            backup: {
              store,
              keyring: new Keyring(secrets.storage),
              credentials: new PlatformsCredentials(graphqlUrl('platforms'), secrets.internal),
              downloadKeys: downloadKeys(secrets.internal),
              connectors: { baseUrls: { stripe: `${stripeBalancer.url}/v1` } },
              connectorRetry: { baseDelayMs: 5, maxDelayMs: 20 },
            },
            worker: { pollIntervalMs: 100, retryPolicy: { baseDelayMs: 50, maxDelayMs: 200 } },
          },
        );
        break;
      case 'billing':
        service = await startBilling({ ...runtime(), access });
        break;
      case 'gateway':
        service = await startGateway({
          port: 0,
          supergraphSdl: readSupergraph(),
          subgraphUrls: Object.fromEntries(SERVICES.filter((other) => other !== 'gateway').map((other) => [other, graphqlUrl(other)])),
          accountsUrl: graphqlUrl('accounts'),
          internalTokenSecret: secrets.internal,
          log: log.child({ service: 'gateway' }),
        });
        break;
    }
    const replica = {
      origin: new URL(service.url).origin,
      close: async () => {
        await service.close();
        await bus.close();
      },
    };
    balancers[name].add(replica.origin);
    return replica;
  }

  /** One replica at a time: out of the balancer, stopped, started with the new secrets, back in. */
  async function rollingRestart(secrets: Secrets, only: readonly ServiceName[] = SERVICES): Promise<void> {
    for (const name of only) {
      for (let i = 0; i < replicas[name].length; i++) {
        const old = replicas[name][i];
        await balancers[name].drain(old.origin);
        await old.close();
        replicas[name][i] = await startReplica(name, secrets);
      }
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase('lb_rotation');
    storageDir = await mkdtemp(join(tmpdir(), 'lb-rotation-objects-'));
    store = new LocalDirectoryStore(storageDir);
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
    for (const name of SERVICES) balancers[name] = await new Balancer().start();
  });

  afterAll(async () => {
    for (const name of [...SERVICES].reverse()) for (const replica of replicas[name] ?? []) await replica.close().catch(() => {});
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

  it('0 failed requests, every backup succeeds, and the last one restores byte for byte under the new key only', { timeout: 400_000 }, async () => {
    const [internalOld, internalNew] = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')];
    const [storageOld, storageNew, vaultOld, vaultNew] = [kek('s1'), kek('s2'), kek('k1'), kek('k2')];
    const initial: Secrets = { internal: internalOld, storage: [storageOld], vault: [vaultOld] };
    // Accounts first: the others ask it for roles as they start.
    for (const name of SERVICES) replicas[name] = [await startReplica(name, initial), await startReplica(name, initial)];

    const graphql = async <T = any>(query: string, variables: Record<string, unknown> = {}) => {
      const result = await postGraphQL<T>(graphqlUrl('gateway'), query, variables, alice?.accessToken);
      if (result.errors || !result.data) throw new Error(JSON.stringify(result.errors ?? result));
      return result.data;
    };
    alice = await signUp({ graphql: (query, variables) => postGraphQL(graphqlUrl('gateway'), query, variables) });
    const connection = (
      await graphql(`mutation ($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id status } }`, {
        input: { accountId: alice.accountId, platformSlug: 'stripe', name: 'Stripe', apiKey: STRIPE_KEY },
      })
    ).createApiKeyConnection;
    expect(connection.status).toBe('AUTHORIZED');
    const sourceId = (
      await graphql(`mutation ($input: CreateSourceInput!) { createSource(input: $input) { id } }`, {
        input: { accountId: alice.accountId, connectionId: connection.id, name: 'Payments', resources: ['customers'], schedule: { kind: 'MANUAL' }, retention: { keepLast: 50 } },
      })
    ).createSource.id;

    // Traffic: reads across accounts, platforms, sources and jobs, two at a time, until told to stop.
    const failures: string[] = [];
    let newSigningKey = '';
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

    try {
      await backupRunning();
      // 1. Every process learns the new secrets; the old ones still sign and wrap.
      await rollingRestart({ internal: `${internalOld},${internalNew}`, storage: [storageOld, storageNew], vault: [vaultOld, vaultNew] });
      // 2. The new ones sign and wrap.
      await rollingRestart({ internal: `${internalNew},${internalOld}`, storage: [storageNew, storageOld], vault: [vaultNew, vaultOld] });
      // 3. Rewrap what the old keys wrapped, while a backup runs; and a new access-token signing key.
      await backupRunning();
      const jobsOrm = await openDatabase({ url: db.url, ...jobsDatabase, poolMax: 2 });
      const platformsOrm = await openDatabase({ url: db.url, ...platformsDatabase, poolMax: 2 });
      const accountsOrm = await openDatabase({ url: db.url, ...accountsDatabase, poolMax: 2 });
      try {
        newSigningKey = await rotateSigningKey(accountsOrm.em);
        const storage = await rotateStorageKeys(jobsOrm, { store, keyring: new Keyring([storageNew, storageOld]) });
        expect(storage).toMatchObject({ keys: { s2: 1 }, failures: [] });
        expect(storage.finishedAt).toBeInstanceOf(Date);
        const vault = await rewrapAllDataKeys(platformsOrm, new CredentialVault(new VaultKeyring([vaultNew, vaultOld])));
        expect(vault).toMatchObject({ remaining: { k2: 1 }, failed: [] });
      } finally {
        await jobsOrm.close();
        await platformsOrm.close();
        await accountsOrm.close();
      }
      // 4. Only the new secrets are left.
      await backupRunning();
      await rollingRestart({ internal: internalNew, storage: [storageNew], vault: [vaultNew] });
      // The token signed by the retired key kept working; a refreshed one is signed by the new key.
      const refreshed = (await graphql(`mutation ($token: String!) { refreshSession(refreshToken: $token) { accessToken refreshToken } }`, { token: alice.refreshToken })).refreshSession;
      expect(JSON.parse(Buffer.from(refreshed.accessToken.split('.')[0], 'base64url').toString('utf8')).kid).toBe(newSigningKey);
      alice = { ...alice, ...refreshed };
      await backupRunning();
    } finally {
      running = false;
      await traffic;
    }

    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(50);
    expect(backups.length).toBeGreaterThanOrEqual(3);
    const statuses = await Promise.all(backups.map(async (id) => (await graphql(`query ($id: ID!) { job(id: $id) { status failureReason } }`, { id })).job));
    expect(statuses.every((job) => job.status === 'SUCCEEDED'), JSON.stringify(statuses)).toBe(true);

    // No data key is wrapped by the old KEK.
    const accounts = (await readdir(storageDir, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    expect(accounts).toEqual([alice.accountId]);
    expect(JSON.parse((await store.getBytes(layout.dataKey(alice.accountId))).toString('utf8')).kekId).toBe('s2');

    // The newest snapshot restores byte for byte with the new key alone.
    const fresh = new Repository({ store, keys: new StoreKeyProvider(store, new Keyring([storageNew])) });
    const account = await fresh.account(alice.accountId);
    const newest = (await listSnapshots(account)).sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1)).at(-1)!;
    const restored = await mkdtemp(join(tmpdir(), 'lb-rotation-restore-'));
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
    const target = await mkdtemp(join(tmpdir(), 'lb-rotation-old-key-'));
    try {
      await writeFile(join(target, 'keep.txt'), 'untouched');
      const retired = new Repository({ store, keys: new StoreKeyProvider(store, new Keyring([storageOld])) });
      await expect(retired.account(alice.accountId).then((old) => restoreSnapshot(old, newest.id, new DirectoryTarget(target)))).rejects.toThrow(DecryptionError);
      expect(await readdir(target)).toEqual(['keep.txt']);
      expect(await readFile(join(target, 'keep.txt'), 'utf8')).toBe('untouched');
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  });
});
