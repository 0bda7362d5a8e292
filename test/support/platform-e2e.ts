/**
 * The per-platform end-to-end run through the gateway (test/platforms-e2e): the product as
 * `npm start` wires it (five subgraphs, a real pg-boss worker, PostgreSQL, NATS where there is one)
 * with each platform's fake registered as the deployment's OAuth client, endpoints and API root.
 * A user connects the platform, backs up every resource it offers, browses the snapshot, exports
 * it, and restores where a resource is restorable; the stored bytes are compared with what the
 * fake serves and the restored records are looked for at the fake.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdDecompressSync } from 'node:zlib';
import { expect } from 'vitest';
import { HttpAccessResolver } from '@listbackup/lib/access';
import type { EventBus } from '@listbackup/lib/events/bus';
import { connectNatsBus } from '@listbackup/lib/events/connect';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { createLogger } from '@listbackup/lib/logger';
import type { RunningService, ServiceRuntime } from '@listbackup/lib/service';
import { readSupergraph } from '@listbackup/lib/supergraph';
import { Keyring, LocalDirectoryStore } from '@listbackup/engine';
import type { E2ERun, Served } from '@listbackup/catalogue/testing/e2e';
import { startAccounts } from '../../subgraphs/accounts/src/index.ts';
import { startPlatforms } from '../../subgraphs/platforms/src/index.ts';
import type { EndpointOverrides, OAuthClient } from '../../subgraphs/platforms/src/config.ts';
import { startSources } from '../../subgraphs/sources/src/index.ts';
import { startJobs } from '../../subgraphs/jobs/src/index.ts';
import { startBilling } from '../../subgraphs/billing/src/index.ts';
import { createRepository } from '../../subgraphs/jobs/src/backup/engine-runtime.ts';
import { PlatformsCredentials } from '../../subgraphs/jobs/src/backup/credentials.ts';
import { downloadKeys } from '../../subgraphs/jobs/src/backup/settings.ts';
import { startGateway, type RunningGateway } from '../../gateway/src/index.ts';
import { postGraphQL, signUp, type SignedUp } from '../../gateway/test/support/stack.ts';
import { authorizeInBrowser } from '../../subgraphs/platforms/test/support/oauth-server.ts';
import { createTestDatabase } from './database.ts';
import { untar } from './tar.ts';

/** The callback URL registered with every fake (the browser is stopped there and sent to the gateway). */
export const REDIRECT_URI = 'http://localhost:4000/oauth/callback';

const natsUrl = process.env.NATS_URL;
if (!natsUrl && process.env.CI === 'true') throw new Error('NATS_URL must be set in CI');

export interface PlatformStack {
  origin: string;
  /** The stack's database (every subgraph's schema), for tests that wait on what the services did. */
  databaseUrl: string;
  graphql<T = any>(query: string, variables?: Record<string, unknown>, token?: string): ReturnType<typeof postGraphQL<T>>;
  close(): Promise<void>;
}

export interface PlatformStackOptions {
  /** By platform slug: the secrets its webhooks are signed with. */
  webhookSecrets?: Record<string, string[]>;
  /** How long a backup a webhook asks for waits (sources' default when not given). */
  webhookCoalesceMs?: number;
}

/** The product, configured for these platforms' fakes. */
export async function startPlatformStack(runs: ReadonlyMap<string, E2ERun>, options: PlatformStackOptions = {}): Promise<PlatformStack> {
  const database = await createTestDatabase('lb_platform_e2e');
  const storageDir = await mkdtemp(join(tmpdir(), 'lb-platform-e2e-'));
  const internalTokenSecret = randomBytes(32).toString('base64url');
  const log = createLogger('platform-e2e', process.env.LOG_LEVEL ?? 'silent');
  const bus: EventBus = natsUrl ? await connectNatsBus(natsUrl, `e2e${randomBytes(4).toString('hex')}`) : new InProcessEventBus();
  const runtime = (name: string, port = 0): Omit<ServiceRuntime, 'access'> => ({ databaseUrl: database.url, bus, internalTokenSecret, log: log.child({ service: name }), port });

  const oauthClients: Record<string, OAuthClient> = {};
  const endpointOverrides: Record<string, EndpointOverrides> = {};
  const baseUrls: Record<string, string> = {};
  for (const [slug, run] of runs) {
    if (run.account && run.origin) {
      run.account.redirectUri = REDIRECT_URI;
      if (run.account.definition.oauth2) oauthClients[slug] = { ...run.account.client };
      endpointOverrides[slug] = run.account.endpoints(run.origin);
    }
    if (run.apiRoot) baseUrls[slug] = run.apiRoot;
  }

  const started: RunningService[] = [];
  let gateway: RunningGateway | undefined;
  const close = async () => {
    await gateway?.close();
    for (const service of started.reverse()) await service.close();
    await bus.close();
    await database.drop();
    await rm(storageDir, { recursive: true, force: true });
  };
  try {
    const accounts = await startAccounts(runtime('accounts'));
    started.push(accounts);
    const access = new HttpAccessResolver(accounts.url, internalTokenSecret);
    const platforms = await startPlatforms({ ...runtime('platforms'), access }, { oauthRedirectUrl: REDIRECT_URI, oauthClients, endpointOverrides, webhookSecrets: options.webhookSecrets });
    started.push(platforms);
    const store = new LocalDirectoryStore(storageDir);
    const keyring = new Keyring([{ id: 'e2e-1', key: randomBytes(32) }]);
    const jobsPort = await freePort();
    const sources = await startSources({ ...runtime('sources'), access }, { platformsUrl: platforms.url, jobsUrl: `http://127.0.0.1:${jobsPort}/graphql`, scheduler: false, webhookCoalesceMs: options.webhookCoalesceMs });
    started.push(sources);
    const jobs = await startJobs(
      { ...runtime('jobs', jobsPort), access },
      {
        sourcesUrl: sources.url,
        platformsUrl: platforms.url,
        backup: {
          store,
          keyring,
          repository: createRepository({ store, keyring }),
          credentials: new PlatformsCredentials(platforms.url, internalTokenSecret),
          downloadKeys: downloadKeys(internalTokenSecret),
          connectors: { baseUrls },
          connectorRetry: { baseDelayMs: 5, maxDelayMs: 50 },
        },
        worker: { pollIntervalMs: 100, retryPolicy: { baseDelayMs: 50, maxDelayMs: 200 } },
      },
    );
    started.push(jobs);
    const billing = await startBilling({ ...runtime('billing'), access }, { jobsUrl: jobs.url, reconciliation: false });
    started.push(billing);
    gateway = await startGateway({
      port: 0,
      supergraphSdl: readSupergraph(),
      subgraphUrls: Object.fromEntries(started.map((service) => [service.name, service.url])),
      accountsUrl: accounts.url,
      internalTokenSecret,
      log: log.child({ service: 'gateway' }),
    });
    const url = gateway.url;
    return { origin: new URL(url).origin, databaseUrl: database.url, graphql: (query, variables, token) => postGraphQL(url, query, variables, token), close };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const JOB = 'id status failureType failureReason progress { itemsDone } download { path bytes items }';

/** What a platform's row leaves for the tests after it: who backed up what. */
export interface BackedUp {
  accessToken: string;
  connectionId: string;
  sourceId: string;
  /** What the first (full) backup read of the row's incremental resource at the fake (`E2EIncremental.read`). */
  fullRead?: number;
}

/** One platform, end to end, as a new user: connect, back up every resource, browse, export, restore. */
export async function runPlatform(stack: PlatformStack, slug: string, run: E2ERun): Promise<BackedUp> {
  const user: SignedUp = await signUp(stack);
  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    const result = await stack.graphql(query, variables, user.accessToken);
    if (result.errors) throw new Error(`${slug}: ${JSON.stringify(result.errors)}`);
    return result.data as any;
  };
  const watch = async (id: string) => {
    for (;;) {
      const { job } = await gql(`query ($id: ID!) { job(id: $id) { ${JOB} } }`, { id });
      if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status)) {
        expect(job.status, `${slug}: ${job.failureType}: ${job.failureReason}`).toBe('SUCCEEDED');
        return job;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  // Connect: the OAuth flow through the fake's authorize and token endpoints, or the key check.
  const params = Object.entries(run.connect.params ?? {}).map(([name, value]) => ({ name, value }));
  let connectionId: string;
  if (run.connect.kind === 'oauth') {
    const started = (
      await gql(`mutation ($input: StartOAuthConnectionInput!) { startOAuthConnection(input: $input) { authorizationUrl connection { id status } } }`, {
        input: { accountId: user.accountId, platformSlug: slug, ...(params.length ? { params } : {}) },
      })
    ).startOAuthConnection;
    const exchanges = run.account!.grants.authorization_code;
    const redirect = await authorizeInBrowser(started.authorizationUrl, REDIRECT_URI);
    const page = await fetch(`${stack.origin}/oauth/callback${redirect.search}`);
    expect(page.headers.get('x-listbackup-outcome'), `${slug}: ${await page.text()}`).toBe('AUTHORIZED');
    expect(run.account!.grants.authorization_code).toBe(exchanges + 1);
    connectionId = started.connection.id;
  } else {
    connectionId = (
      await gql(`mutation ($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id } }`, {
        input: { accountId: user.accountId, platformSlug: slug, apiKey: run.connect.apiKey, ...(params.length ? { params } : {}) },
      })
    ).createApiKeyConnection.id;
  }
  const { connection } = await gql(`query ($id: ID!) { connection(id: $id) { status externalAccountId resources { name restorable } } }`, { id: connectionId });
  expect(connection.status).toBe('AUTHORIZED');
  expect(connection.externalAccountId, `${slug}: the identity endpoint named no account`).toEqual(expect.any(String));
  const resources: { name: string; restorable: boolean }[] = connection.resources;
  expect(resources.length, `${slug} offers no resource`).toBeGreaterThan(0);

  // Back up every resource the platform offers.
  const source = (
    await gql(`mutation ($input: CreateSourceInput!) { createSource(input: $input) { id } }`, {
      input: { accountId: user.accountId, connectionId, name: `${slug} e2e`, resources: resources.map((resource) => resource.name), schedule: { kind: 'MANUAL' }, retention: { keepLast: 3 } },
    })
  ).createSource;
  const readBefore = run.incremental.read?.();
  const backup = await watch((await gql(`mutation ($id: ID!) { triggerSync(sourceId: $id) { id } }`, { id: source.id })).triggerSync.id);
  const fullRead = readBefore === undefined ? undefined : run.incremental.read!() - readBefore;
  const served = await run.served();
  if (backup.progress.itemsDone !== served.size) {
    const log = (await gql(`query ($id: ID!) { job(id: $id) { log(first: 100) { edges { node { message } } } } }`, { id: backup.id })).job.log.edges.map((edge: any) => edge.node.message);
    expect(backup.progress.itemsDone, `${slug}: items backed up, against ${served.size} the fake serves; the job's log:\n${log.join('\n')}`).toBe(served.size);
  }

  // Browse the snapshot, page by page.
  const { snapshot } = (await gql(`query ($id: ID!) { job(id: $id) { snapshot { id itemCount } } }`, { id: backup.id })).job;
  expect(snapshot.itemCount).toBe(served.size);
  const browsed = new Map<string, { size: number; resource: string }>();
  for (let after: string | null = null, more = true; more; ) {
    const page: any = (
      await gql(`query ($id: ID!, $after: String) { snapshot(id: $id) { items(first: 100, after: $after) { edges { node { path size resource } } pageInfo { hasNextPage endCursor } } } }`, {
        id: snapshot.id,
        after,
      })
    ).snapshot.items;
    for (const { node } of page.edges) browsed.set(node.path, { size: node.size, resource: node.resource });
    more = page.pageInfo.hasNextPage;
    after = page.pageInfo.endCursor;
  }
  expect([...browsed.keys()].sort(), `${slug}: the snapshot's items`).toEqual([...served.keys()].sort());
  const offered = new Set(resources.map((resource) => resource.name));
  for (const [path, item] of browsed) {
    expect(offered.has(item.resource), `${slug}: ${path} is of ${item.resource}`).toBe(true);
    expect(path.startsWith(`${item.resource}/`), `${slug}: ${path} is not under its resource's folder, ${item.resource}/`).toBe(true);
  }
  for (const resource of offered) expect([...browsed.values()].some((item) => item.resource === resource), `${slug}: no item of ${resource} backed up`).toBe(true);

  // Export, download through the gateway, and compare with what the fake serves.
  const files = await exportSnapshot(stack, user.accessToken, snapshot.id, watch);
  expect(files.size).toBe(served.size);
  for (const [path, expected] of served) {
    expect(browsed.get(path)?.size, `${slug}: ${path} size`).toBe(files.get(path)?.length);
    expectServed(slug, files, path, expected);
  }

  // Restore to the platform where a resource is restorable, and find it there.
  const restorable = resources.filter((resource) => resource.restorable).map((resource) => resource.name);
  const backedUp = { accessToken: user.accessToken, connectionId, sourceId: source.id, fullRead };
  if (!restorable.length) {
    expect(run.restore, `${slug}: a restore check for a platform that restores nothing`).toBeUndefined();
    return backedUp;
  }
  expect(run.restore, `${slug} restores ${restorable.join(', ')}: the row needs a restore check`).toBeDefined();
  const restore = run.restore!;
  expect(restorable).toContain(restore.resource);
  const paths = [...browsed].filter(([, item]) => item.resource === restore.resource).map(([path]) => path);
  await restore.damage();
  await watch((await gql(`mutation ($id: ID!, $items: [String!]) { restoreSnapshot(snapshotId: $id, target: PLATFORM, items: $items) { id } }`, { id: snapshot.id, items: paths })).restoreSnapshot.id);
  await restore.check();
  return backedUp;
}

/** A snapshot exported as TAR_ZSTD and downloaded through the gateway: its files by path. */
async function exportSnapshot(stack: PlatformStack, accessToken: string, snapshotId: string, watch: (jobId: string) => Promise<any>): Promise<Map<string, Buffer>> {
  const started = await stack.graphql(`mutation ($id: ID!) { exportSnapshot(snapshotId: $id, format: TAR_ZSTD) { id } }`, { id: snapshotId }, accessToken);
  if (started.errors) throw new Error(JSON.stringify(started.errors));
  const exported = await watch((started.data as any).exportSnapshot.id);
  expect(exported.status, `the export: ${exported.failureType}: ${exported.failureReason}`).toBe('SUCCEEDED');
  const response = await fetch(`${stack.origin}${exported.download.path}`, { headers: { authorization: `Bearer ${accessToken}` } });
  expect(response.status).toBe(200);
  return untar(zstdDecompressSync(Buffer.from(await response.arrayBuffer())));
}

/** Fails unless the exported file at `path` holds what the fake serves for it. */
function expectServed(slug: string, files: Map<string, Buffer>, path: string, expected: Served | undefined): void {
  const stored = files.get(path);
  expect(stored, `${slug}: ${path} missing from the export`).toBeDefined();
  expect(expected, `${slug}: the fake serves nothing at ${path}`).toBeDefined();
  if (Buffer.isBuffer(expected)) expect(stored!.equals(expected), `${slug}: ${path} bytes differ from the fake's`).toBe(true);
  else expect(JSON.parse(stored!.toString('utf8')), `${slug}: ${path}`).toMatchObject(expected!.json as object);
}

const FINAL = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

/** The row's user again: GraphQL as them, a backup of the row's source to its end, an export's files. */
function rowSession(stack: PlatformStack, slug: string, row: BackedUp) {
  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    const result = await stack.graphql(query, variables, row.accessToken);
    if (result.errors) throw new Error(`${slug}: ${JSON.stringify(result.errors)}`);
    return result.data as any;
  };
  const finished = async (id: string, fields = JOB) => {
    for (;;) {
      const { job } = await gql(`query ($id: ID!) { job(id: $id) { ${fields} } }`, { id });
      if (FINAL.includes(job.status)) return job;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const backUp = async (full = false) =>
    finished((await gql(`mutation ($id: ID!, $full: Boolean!) { triggerSync(sourceId: $id, full: $full) { id } }`, { id: row.sourceId, full })).triggerSync.id, `${JOB} snapshot { id itemCount }`);
  const log = async (jobId: string): Promise<string[]> =>
    (await gql(`query ($id: ID!) { job(id: $id) { log(first: 100) { edges { node { message } } } } }`, { id: jobId })).job.log.edges.map((edge: any) => edge.node.message);
  const exported = (snapshotId: string) => exportSnapshot(stack, row.accessToken, snapshotId, (id) => finished(id));
  return { gql, backUp, log, exported };
}

/**
 * After a platform's row: one record of an incremental resource changes at the fake, and the next
 * backup reads it and keeps the rest of its resource from the last snapshot, reading less of the
 * resource at the fake than the first backup did; the snapshot then holds everything the fake
 * serves, the changed record as it is now.
 */
export async function runIncremental(stack: PlatformStack, slug: string, run: E2ERun, row: BackedUp): Promise<void> {
  const { backUp, log, exported } = rowSession(stack, slug, row);
  const { resource } = run.incremental;
  // A restore wrote records back, changing them at the platform (and one deleted there came back
  // under a new id, which an incremental run does not see go): one full backup takes those in first.
  if (run.restore) {
    const first = await backUp(true);
    expect(first.status, `${slug}: the backup after the restore: ${first.failureType}: ${first.failureReason}`).toBe('SUCCEEDED');
  }
  const path = await run.incremental.change();
  const readBefore = run.incremental.read?.();
  const job = await backUp();
  expect(job.status, `${slug}: the backup after a change: ${job.failureType}: ${job.failureReason}`).toBe('SUCCEEDED');
  const lines = await log(job.id);
  const line = lines.find((message) => message.startsWith(`${resource}: `));
  const counts = /^\S+: (\d+) new or changed items read, (\d+) unchanged items kept/.exec(line ?? '');
  expect(counts, `${slug}: ${resource} was not backed up incrementally; the job's log:\n${lines.join('\n')}`).not.toBeNull();
  // At least the changed record, not the whole resource (an API's boundary may hand back one more).
  expect({ changedRead: Number(counts![1]) >= 1, othersKept: Number(counts![2]) >= 1 }, `${slug}: ${line}`).toEqual({ changedRead: true, othersKept: true });
  if (readBefore !== undefined) {
    const read = run.incremental.read!() - readBefore;
    expect({ readSome: read > 0, readLess: read < row.fullRead! }, `${slug}: ${resource} read ${read} at the fake, against ${row.fullRead} in full`).toEqual({ readSome: true, readLess: true });
  }
  const served = await run.served();
  expect(served.has(path), `${slug}: the fake serves nothing at ${path}`).toBe(true);
  expect(job.snapshot.itemCount, `${slug}: the incremental snapshot's items`).toBe(served.size);
  const files = await exported(job.snapshot.id);
  expect([...files.keys()].sort(), `${slug}: the incremental snapshot's paths`).toEqual([...served.keys()].sort());
  for (const [at, expected] of served) expectServed(slug, files, at, expected);
}

/**
 * After a platform's row, for one connected with OAuth: the access token expires at the fake, and
 * the next backup refreshes it and succeeds, its snapshot still holding everything the fake serves
 * (what an incremental run did not read is carried over); then the user takes the app's access
 * away at the platform, and the next backup fails as AUTH saying to authorize again, the
 * connection EXPIRED, triggerSync refusing the source until it is reconnected, and nothing crashes.
 */
export async function runTokenLifecycle(stack: PlatformStack, slug: string, run: E2ERun, row: BackedUp): Promise<void> {
  const account = run.account!;
  const { gql, backUp } = rowSession(stack, slug, row);
  const connection = async () => (await gql(`query ($id: ID!) { connection(id: $id) { status lastErrorCode } }`, { id: row.connectionId })).connection;

  if (account.definition.oauth2!.refreshTokens) {
    const refreshes = account.grants.refresh_token;
    account.expireAccessTokens();
    const job = await backUp();
    expect(job.status, `${slug}: the backup after the token expired: ${job.failureType}: ${job.failureReason}`).toBe('SUCCEEDED');
    expect(account.grants.refresh_token, `${slug}: refresh grants`).toBeGreaterThan(refreshes);
    expect(job.snapshot.itemCount, `${slug}: the second snapshot's items`).toBe((await run.served()).size);
    expect(await connection()).toMatchObject({ status: 'AUTHORIZED', lastErrorCode: null });
  }

  account.revokeAll();
  const failed = await backUp();
  expect(failed, `${slug}: the backup after the access was revoked`).toMatchObject({ status: 'FAILED', failureType: 'AUTH' });
  expect(failed.failureReason).toMatch(/authorize/i);
  expect(await connection()).toMatchObject({ status: 'EXPIRED', lastErrorCode: 'TOKEN_REFRESH_REFUSED' });
  const refused = await stack.graphql(`mutation ($id: ID!) { triggerSync(sourceId: $id) { id } }`, { id: row.sourceId }, row.accessToken);
  expect(refused.errors?.[0]?.extensions, `${slug}: triggerSync on a connection to authorize again`).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CONNECTION_NOT_AUTHORIZED', status: 'EXPIRED' });
}
