/**
 * A PostgreSQL database backed up and restored end to end through the gateway: connect it with its
 * connection string (checked by logging in), back up its tables, browse the snapshot, restore it
 * into a second database through a second connection, and find the same rows there — with the
 * connection strings in no API answer and no log line of any service.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpAccessResolver } from '@listbackup/lib/access';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
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
import { postGraphQL, signUp, type SignedUp } from '../gateway/test/support/stack.ts';
import { createLoginRole } from './support/database.ts';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

interface Stack {
  logs: string[];
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

function databaseUrl(name: string): string {
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs SQL in a database of the test server, as its superuser or as the connection string's user. */
async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(database: string, text: string, connectionString = databaseUrl(database)): Promise<R[]> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

const admin = (text: string) => sql(new URL(DATABASE_URL).pathname.slice(1) || 'postgres', text);

/** The product as `npm start` wires it, on free ports, every service's log lines captured. */
async function startBackupStack(): Promise<Stack> {
  const dbName = `lb_${randomBytes(6).toString('hex')}`;
  await admin(`create database ${dbName}`);
  const storageDir = await mkdtemp(join(tmpdir(), 'lb-objects-'));
  const internalTokenSecret = randomBytes(32).toString('base64url');
  const logs: string[] = [];
  const log = pino({ level: 'debug', base: { service: 'backup-postgresql' } }, { write: (line: string) => void logs.push(line) });
  const bus = new InProcessEventBus();
  const runtime = (name: string, port = 0): Omit<ServiceRuntime, 'access'> => ({ databaseUrl: databaseUrl(dbName), bus, internalTokenSecret, log: log.child({ service: name }), port });
  const started: RunningService[] = [];
  let gateway: RunningGateway | undefined;
  const close = async () => {
    await gateway?.close();
    for (const service of started.reverse()) await service.close();
    await bus.close();
    await admin(`drop database if exists ${dbName} with (force)`);
    await rm(storageDir, { recursive: true, force: true });
  };
  try {
    const accounts = await startAccounts(runtime('accounts'));
    started.push(accounts);
    const access = new HttpAccessResolver(accounts.url, internalTokenSecret);
    const platforms = await startPlatforms({ ...runtime('platforms'), access }, {});
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
          connectorRetry: { baseDelayMs: 5, maxDelayMs: 20 },
        },
        worker: { pollIntervalMs: 100, retryPolicy: { baseDelayMs: 50, maxDelayMs: 200 } },
      },
    );
    started.push(jobs);
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
    return { logs, graphql: (query, variables, token) => postGraphQL(gatewayUrl, query, variables, token), close };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}

const TABLES = ['customers', 'orders', 'notes'];

/** Every row of every test table, as text, in key order. */
async function rowsOf(database: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of TABLES) out[table] = (await sql<{ row: string }>(database, `select row_to_json(t)::text as row from public.${table} t order by 1`)).map(({ row }) => row);
  return out;
}

const CREATE_CONNECTION = `mutation ($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id status externalAccountName platform { slug } } }`;

describe('a PostgreSQL database backed up and restored through the gateway', () => {
  let stack: Stack;
  let alice: SignedUp;
  const sourceDb = `lb_pgsrc_${randomBytes(5).toString('hex')}`;
  const targetDb = `lb_pgdst_${randomBytes(5).toString('hex')}`;
  // The connections log in as a role of their own, with a password the product must carry intact.
  let role: Awaited<ReturnType<typeof createLoginRole>>;
  let sourceUrl: string;
  let targetUrl: string;
  const answers: string[] = [];
  let sourceConnectionId: string;
  let targetConnectionId: string;
  let snapshotId: string;

  const gql = async <T = any>(query: string, variables: Record<string, unknown>, who: SignedUp = alice): Promise<T> => {
    const result = await stack.graphql<T>(query, variables, who.accessToken);
    answers.push(JSON.stringify(result));
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data as T;
  };
  const watch = async (id: string) => {
    for (let i = 0; i < 600; i++) {
      const job = (await gql(`query ($id: ID!) { job(id: $id) { id status failureType failureReason progress { itemsDone } } }`, { id })).job;
      if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status)) return job;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`job ${id} did not finish`);
  };
  const connections = async () => (await gql(`query ($id: ID!) { account(id: $id) { connections(first: 100) { edges { node { id } } } } }`, { id: alice.accountId })).account.connections.edges.length;

  beforeAll(async () => {
    role = await createLoginRole('lb_pgbackup');
    sourceUrl = role.url(sourceDb);
    targetUrl = role.url(targetDb);
    await admin(`create database ${sourceDb} owner ${role.user}`);
    await admin(`create database ${targetDb} owner ${role.user}`);
    await sql(
      sourceDb,
      `create table customers (id serial primary key, name text not null, balance numeric(12, 2), updated_at timestamptz not null default now());
       create table orders (id bigint primary key, customer_id int not null references customers(id), placed_at timestamp(6), items jsonb, paid boolean);
       create table notes (id int primary key, body text, attachment bytea);
       insert into customers (name, balance, updated_at) select 'customer ' || i, i * 10.25, '2026-01-01T00:00:00.123456Z'::timestamptz + i * interval '1 hour' from generate_series(1, 40) i;
       insert into orders select i, 1 + i % 40, '2026-02-03 04:05:06.789012'::timestamp + i * interval '1 minute', jsonb_build_object('sku', 'S' || i, 'qty', i % 3), i % 2 = 0 from generate_series(1, 120) i;
       insert into notes values (1, 'plain', null), (2, E'line\\nbreak, "quotes" and ünïcödé', '\\xdeadbeef'::bytea), (3, null, ''::bytea);`,
      sourceUrl,
    );
    stack = await startBackupStack();
    alice = await signUp(stack);
  });

  afterAll(async () => {
    await stack?.close();
    await admin(`drop database if exists ${sourceDb} with (force)`);
    await admin(`drop database if exists ${targetDb} with (force)`);
    await role?.drop();
  });

  it('connects both databases with their connection strings, checked by logging in', async () => {
    const source = (await gql(CREATE_CONNECTION, { input: { accountId: alice.accountId, platformSlug: 'postgresql', name: 'Production', apiKey: sourceUrl } })).createApiKeyConnection;
    expect(source).toMatchObject({ status: 'AUTHORIZED', externalAccountName: `${role.user}@${sourceDb}`, platform: { slug: 'postgresql' } });
    sourceConnectionId = source.id;
    const target = (await gql(CREATE_CONNECTION, { input: { accountId: alice.accountId, platformSlug: 'postgresql', name: 'Restore target', apiKey: targetUrl } })).createApiKeyConnection;
    expect(target).toMatchObject({ status: 'AUTHORIZED', externalAccountName: `${role.user}@${targetDb}` });
    targetConnectionId = target.id;
  });

  it('refuses another scheme and an unreachable server, storing nothing', async () => {
    const before = await connections();
    for (const [apiKey, code] of [
      [sourceUrl.replace(/^postgres(ql)?:/, 'mysql:'), 'INVALID_API_KEY_FORMAT'],
      [role.url(`${sourceDb}_missing`), 'API_KEY_REJECTED'],
      [(() => { const url = new URL(sourceUrl); url.port = '1'; return url.toString(); })(), 'TARGET_UNREACHABLE'],
    ] as const) {
      const result = await stack.graphql(CREATE_CONNECTION, { input: { accountId: alice.accountId, platformSlug: 'postgresql', apiKey } }, alice.accessToken);
      answers.push(JSON.stringify(result));
      expect(result.data, apiKey).toBeNull();
      expect(result.errors?.map((error) => error.extensions?.code), apiKey).toEqual([code]);
    }
    expect(await connections()).toBe(before);
  });

  it('backs up every table as one item of the snapshot', async () => {
    const source = (
      await gql(`mutation ($input: CreateSourceInput!) { createSource(input: $input) { id } }`, {
        input: { accountId: alice.accountId, connectionId: sourceConnectionId, name: 'Production tables', resources: ['tables'], schedule: { kind: 'MANUAL' }, retention: { keepLast: 5 } },
      })
    ).createSource;
    const triggered = (await gql(`mutation ($id: ID!) { triggerSync(sourceId: $id) { id status } }`, { id: source.id })).triggerSync;
    const done = await watch(triggered.id);
    expect(done.status, done.failureReason).toBe('SUCCEEDED');
    expect(done.progress.itemsDone).toBe(TABLES.length);
    const snapshot = (
      await gql(`query ($id: ID!) { job(id: $id) { snapshot { id itemCount items(first: 50) { edges { node { path resource } } } } } }`, { id: done.id })
    ).job.snapshot;
    snapshotId = snapshot.id;
    expect(snapshot.itemCount).toBe(TABLES.length);
    const items = snapshot.items.edges.map((edge: any) => edge.node);
    expect(items.map((item: any) => item.path).sort()).toEqual(TABLES.map((table) => `tables/public/${table}.ndjson`).sort());
    expect(items.every((item: any) => item.resource === 'tables')).toBe(true);
  });

  it('restores the snapshot into the second database with every row equal', async () => {
    expect(await sql(targetDb, `select table_name from information_schema.tables where table_schema = 'public'`)).toEqual([]);
    const queued = (
      await gql(`mutation ($id: ID!, $connectionId: ID) { restoreSnapshot(snapshotId: $id, target: PLATFORM, connectionId: $connectionId) { id kind status } }`, {
        id: snapshotId,
        connectionId: targetConnectionId,
      })
    ).restoreSnapshot;
    expect(queued).toMatchObject({ kind: 'RESTORE', status: 'QUEUED' });
    const done = await watch(queued.id);
    expect(done.status, done.failureReason).toBe('SUCCEEDED');

    const [original, restored] = [await rowsOf(sourceDb), await rowsOf(targetDb)];
    expect(original.customers).toHaveLength(40);
    expect(original.orders).toHaveLength(120);
    expect(original.notes).toHaveLength(3);
    expect(restored).toEqual(original);
  });

  it('never shows or logs a connection string', () => {
    // The captures are real: the answers and the services' log lines are there.
    expect(answers.join('\n')).toContain(sourceConnectionId);
    const logText = stack.logs.join('\n');
    expect(logText).toContain('API-key connection created');
    for (const secret of [role.password, sourceUrl, targetUrl]) {
      expect(answers.join('\n').includes(secret), 'a connection string in an API answer').toBe(false);
      expect(logText.includes(secret), 'a connection string in a log line').toBe(false);
    }
  });
});
