/**
 * The product's promise, end to end through the gateway: connect Stripe (a local server speaking
 * Stripe's wire format), create a source, back it up, browse the snapshot, export it, download the
 * archive through the gateway and find the platform's bytes in it, back up again and store almost
 * nothing new, verify, corrupt a chunk and see verify name it — and another tenant sees none of it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { zstdDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layout, readSnapshot, snapshotChunks } from '@listbackup/engine';
import { signDownloadToken } from '../subgraphs/jobs/src/backup/downloads.ts';
import { downloadKeys } from '../subgraphs/jobs/src/backup/settings.ts';
import { JobsClient } from '../subgraphs/sources/src/clients/jobs-client.ts';
import { FakeRest, FakeStripe } from '@listbackup/catalogue/testing/fakes';
import { signUp, type SignedUp } from '../gateway/test/support/stack.ts';
import { type BackupStack, STRIPE_KEY, startBackupStack, startIdentity } from './support/backup-stack.ts';
import { scrape, type Scrape } from './support/metrics.ts';
import { untar } from './support/tar.ts';

const JOB_FIELDS = `id kind status attempts failureType failureReason partialSuccess progress { itemsDone bytesDone }
  download { url path fileName contentType bytes sha256 items expiresAt }
  verification { ok checkedChunks referencedChunks problems { address problem } }`;

/** What `/metrics` on the gateway shows across one Stripe backup of 50 items (lib/src/metrics.ts). */
function expectMetricsMoved(before: Scrape, queued: Scrape, after: Scrape): void {
  const delta = (name: string, labels?: Record<string, string>) => (after.value(name, labels) ?? 0) - (before.value(name, labels) ?? 0);
  expect(delta('listbackup_job_items_total', { kind: 'BACKUP' })).toBe(50);
  expect(delta('listbackup_job_bytes_total', { kind: 'BACKUP' })).toBeGreaterThan(30 * 400);
  expect(delta('listbackup_jobs_finished_total', { kind: 'BACKUP', status: 'SUCCEEDED' })).toBe(1);
  expect(delta('listbackup_job_attempts_total', { kind: 'BACKUP', outcome: 'succeeded' })).toBe(1);
  expect(delta('listbackup_job_attempt_throughput_bytes_per_second_count', { kind: 'BACKUP' })).toBe(1);
  // RED per operation at the gateway and in the subgraph, and the gateway's fetch to it.
  expect(delta('listbackup_graphql_requests_total', { service: 'gateway', operation: 'anonymous', outcome: 'ok' })).toBeGreaterThan(0);
  expect(delta('listbackup_graphql_requests_total', { service: 'jobs', outcome: 'ok' })).toBeGreaterThan(0);
  expect(delta('listbackup_graphql_request_duration_seconds_count', { service: 'gateway' })).toBeGreaterThan(0);
  expect(delta('listbackup_graphql_subgraph_fetches_total', { subgraph: 'jobs', outcome: 'ok' })).toBeGreaterThan(0);
  // The internal client's calls: the worker to sources (snapshot) and platforms (credentials).
  expect(delta('listbackup_internal_requests_total', { service: 'platforms', status: '200' })).toBeGreaterThan(0);
  expect(delta('listbackup_internal_requests_total', { service: 'sources', status: '200' })).toBeGreaterThan(0);
  // Sampled at scrape time: pools, the queue, the outbox.
  expect(after.value('listbackup_db_pool_connections', { pool: 'jobs', state: 'total' })).toBeGreaterThan(0);
  expect(queued.value('listbackup_queue_jobs', { queue: 'jobs.backup' })).toBeGreaterThanOrEqual(0);
  expect(after.value('listbackup_queue_jobs', { queue: 'jobs.backup', state: 'ready' })).toBe(0);
  expect(after.value('listbackup_queue_oldest_ready_age_seconds', { queue: 'jobs.backup' })).toBe(0);
  expect(after.value('listbackup_outbox_unsent_events', { service: 'jobs' })).toBeGreaterThanOrEqual(0);
  expect(after.value('listbackup_outbox_lag_seconds', { service: 'sources' })).toBeGreaterThanOrEqual(0);
  expect(after.value('listbackup_websocket_connections', { protocol: 'graphql-transport-ws' })).toBe(0);
  expect(after.value('listbackup_subscriptions_active')).toBe(0);
  expect(after.value('process_resident_memory_bytes')).toBeGreaterThan(0);
}

describe('backups through the gateway', () => {
  let stack: BackupStack;
  let stripe: FakeStripe;
  let rest: FakeRest;
  let identity: { url: string; close(): Promise<void> };
  let alice: SignedUp;
  let bob: SignedUp;
  let sourceId: string;
  let firstJob: any;
  let snapshotId: string;
  let exportJob: any;
  const served = new Map<string, Buffer>();

  const gql = async <T = any>(query: string, variables: Record<string, unknown>, who: SignedUp): Promise<T> => {
    const result = await stack.graphql<T>(query, variables, who.accessToken);
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data as T;
  };
  const job = async (id: string, who: SignedUp = alice) => (await gql(`query ($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`, { id }, who)).job;
  /** Polls job(id) and returns every distinct status seen, ending at a final one. */
  const watch = async (id: string) => {
    const seen: string[] = [];
    for (let i = 0; i < 600; i++) {
      const current = await job(id);
      if (seen.at(-1) !== current.status) seen.push(current.status);
      if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(current.status)) return { job: current, seen };
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`job ${id} did not finish`);
  };
  const download = (path: string, who?: SignedUp) => fetch(`${stack.origin}${path}`, { headers: who ? { authorization: `Bearer ${who.accessToken}` } : {} });

  beforeAll(async () => {
    stripe = await new FakeStripe().start();
    stripe.keys.add(STRIPE_KEY);
    for (let i = 0; i < 30; i++) stripe.add('customers', { description: `customer ${i} ${randomBytes(200).toString('hex')}` });
    for (let i = 0; i < 20; i++) stripe.add('charges');
    rest = await new FakeRest().start();
    for (let i = 0; i < 45; i++) rest.add('contacts');
    identity = await startIdentity();
    stack = await startBackupStack(`${stripe.url}/v1`, identity.url);
    [alice, bob] = await Promise.all([signUp(stack), signUp(stack)]);
  });

  afterAll(async () => {
    await stack?.close();
    await stripe?.close();
    await rest?.close();
    await identity?.close();
  });

  it('backs up a Stripe source: QUEUED, then RUNNING, then SUCCEEDED, with a browsable snapshot', async () => {
    const connection = (
      await gql(
        `mutation ($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id status } }`,
        { input: { accountId: alice.accountId, platformSlug: 'stripe', name: 'Stripe', apiKey: STRIPE_KEY } },
        alice,
      )
    ).createApiKeyConnection;
    expect(connection.status).toBe('AUTHORIZED');
    const source = (
      await gql(
        `mutation ($input: CreateSourceInput!) { createSource(input: $input) { id } }`,
        { input: { accountId: alice.accountId, connectionId: connection.id, name: 'Payments', resources: ['customers', 'charges'], schedule: { kind: 'MANUAL' }, retention: { keepLast: 5 } } },
        alice,
      )
    ).createSource;
    sourceId = source.id;

    const before = await scrape(`${stack.origin}/metrics`);
    const triggered = (await gql(`mutation ($id: ID!) { triggerSync(sourceId: $id) { id status } }`, { id: sourceId }, alice)).triggerSync;
    expect(triggered.status).toBe('QUEUED');
    const queued = await scrape(`${stack.origin}/metrics`);
    const { job: done, seen } = await watch(triggered.id);
    const after = await scrape(`${stack.origin}/metrics`);
    expectMetricsMoved(before, queued, after);
    expect(done.status, done.failureReason).toBe('SUCCEEDED');
    expect(seen.at(-1)).toBe('SUCCEEDED');
    expect(seen.every((status) => ['QUEUED', 'RUNNING', 'SUCCEEDED'].includes(status))).toBe(true);
    expect(done.progress.itemsDone).toBe(50);
    firstJob = done;

    for (const customer of stripe.objects.customers) served.set(`customers/${customer.id}.json`, Buffer.from(JSON.stringify(customer)));
    for (const charge of stripe.objects.charges) served.set(`charges/${charge.id}.json`, Buffer.from(JSON.stringify(charge)));

    const snapshot = (
      await gql(
        `query ($id: ID!) { job(id: $id) { snapshot { id itemCount logicalBytes storedBytes source { id } items(first: 10) { edges { node { path name resource size } } pageInfo { hasNextPage endCursor } } } } }`,
        { id: firstJob.id },
        alice,
      )
    ).job.snapshot;
    snapshotId = snapshot.id;
    expect(snapshot.itemCount).toBe(50);
    expect(snapshot.logicalBytes).toBe([...served.values()].reduce((sum, bytes) => sum + bytes.length, 0));
    expect(snapshot.items.edges).toHaveLength(10);
    expect(snapshot.items.pageInfo.hasNextPage).toBe(true);
    const first = snapshot.items.edges[0].node;
    expect(first.path.startsWith('charges/')).toBe(true);
    expect(first.resource).toBe('charges');
    expect(first.size).toBe(served.get(first.path)!.length);

    const customer = stripe.objects.customers[7];
    const searched = (
      await gql(`query ($id: ID!, $q: String) { snapshot(id: $id) { items(search: $q) { edges { node { path } } } } }`, { id: snapshotId, q: customer.id.toUpperCase() }, alice)
    ).snapshot.items.edges;
    expect(searched.map((edge: any) => edge.node.path)).toEqual([`customers/${customer.id}.json`]);
  });

  it('backs up a REST API the user describes: connected with its definition, a source on the resources it names', async () => {
    const definition = {
      name: 'Acme CRM',
      baseUrl: `${rest.url}/api`,
      auth: { type: 'header', name: 'X-API-Key' },
      resources: [{ name: 'contacts', path: 'contacts', items: '/data', pagination: { style: 'cursor', nextCursor: '/next_cursor', limit: 20 } }],
    };
    const connection = (
      await gql(
        `mutation ($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id status resources { name } } }`,
        { input: { accountId: alice.accountId, platformSlug: 'rest', apiKey: 'k_valid', params: [{ name: 'definition', value: JSON.stringify(definition) }] } },
        alice,
      )
    ).createApiKeyConnection;
    expect(connection).toMatchObject({ status: 'AUTHORIZED', resources: [{ name: 'contacts' }] });
    const createSource = (resources: string[]) =>
      stack.graphql(`mutation ($input: CreateSourceInput!) { createSource(input: $input) { id } }`, { input: { accountId: alice.accountId, connectionId: connection.id, name: 'CRM', resources, schedule: { kind: 'MANUAL' }, retention: { keepLast: 5 } } }, alice.accessToken);
    const unknown = await createSource(['tickets']);
    expect(unknown.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNKNOWN_RESOURCE' });
    expect(unknown.errors?.[0].message).toContain('it offers contacts');
    const source = (await createSource(['contacts'])).data!.createSource;

    const triggered = (await gql(`mutation ($id: ID!) { triggerSync(sourceId: $id) { id } }`, { id: source.id }, alice)).triggerSync;
    const { job: done } = await watch(triggered.id);
    expect(done.status, done.failureReason).toBe('SUCCEEDED');
    const snapshot = (await gql(`query ($id: ID!) { job(id: $id) { snapshot { itemCount logicalBytes } } }`, { id: done.id }, alice)).job.snapshot;
    expect(snapshot.itemCount).toBe(45);
    expect(snapshot.logicalBytes).toBe(rest.collections.contacts.reduce((sum, record) => sum + Buffer.byteLength(JSON.stringify(record)), 0));
  });

  it('exports the snapshot and serves the archive through the gateway, byte for byte', async () => {
    const queued = (await gql(`mutation ($id: ID!) { exportSnapshot(snapshotId: $id, format: TAR_ZSTD) { id status kind } }`, { id: snapshotId }, alice)).exportSnapshot;
    expect(queued).toMatchObject({ status: 'QUEUED', kind: 'EXPORT' });
    const { job: done } = await watch(queued.id);
    expect(done.status, done.failureReason).toBe('SUCCEEDED');
    exportJob = done;
    expect(done.download.items).toBe(50);
    expect(done.download.path.startsWith('/downloads?token=')).toBe(true);
    // Named after the source and the snapshot's time, not the job's id.
    expect(done.download.fileName).toMatch(/^Payments-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.tar\.zst$/);

    const response = await download(done.download.path, alice);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="${done.download.fileName}"`);
    const archive = Buffer.from(await response.arrayBuffer());
    expect(archive.length).toBe(done.download.bytes);
    const files = untar(zstdDecompressSync(archive));
    expect(files.size).toBe(served.size);
    for (const [path, bytes] of served) expect(files.get(path)?.equals(bytes), path).toBe(true);

    // The download is in the account's audit log (data.exported), by Alice, on the source.
    const AUDIT = `query ($a: ID!) { account(id: $a) { auditLog(filter: { actions: ["data.exported"] }) { edges { node { target { type id } actor { kind id } details } } } } }`;
    let entry: any;
    for (let i = 0; i < 600 && !entry; i++) {
      entry = (await gql(AUDIT, { a: alice.accountId }, alice)).account.auditLog.edges[0]?.node;
      if (!entry) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(entry).toMatchObject({ target: { type: 'Source', id: sourceId }, actor: { kind: 'USER', id: alice.userId }, details: { jobId: done.id, snapshotId, format: 'TAR_ZSTD', bytes: done.download.bytes } });
  });

  it('keeps downloads, jobs and snapshots of one account from everyone else', async () => {
    expect((await download(exportJob.download.path, bob)).status).toBe(404);
    expect((await download(exportJob.download.path)).status).toBe(404);
    const forged = exportJob.download.path.replace(/.$/, (c: string) => (c === 'A' ? 'B' : 'A'));
    expect((await download(forged, alice)).status).toBe(404);

    for (const [query, variables] of [
      [`query ($id: ID!) { job(id: $id) { id } }`, { id: firstJob.id }],
      [`query ($id: ID!) { snapshot(id: $id) { id } }`, { id: snapshotId }],
      [`mutation ($id: ID!) { exportSnapshot(snapshotId: $id) { id } }`, { id: snapshotId }],
      [`mutation ($id: ID!) { verifySnapshot(snapshotId: $id) { id } }`, { id: snapshotId }],
      [`mutation ($id: ID!) { restoreSnapshot(snapshotId: $id, target: DOWNLOAD) { id } }`, { id: snapshotId }],
    ] as const) {
      const result = await stack.graphql(query, variables, bob.accessToken);
      expect(result.errors?.[0]?.extensions?.code, query).toBe('NOT_FOUND');
    }
    const bobsJobs = (await gql(`query { jobs { edges { node { id } } } }`, {}, bob)).jobs.edges;
    expect(bobsJobs).toEqual([]);
  });

  it('checks a PLATFORM restore’s connection before queueing anything: another tenant’s, another account’s or an unknown one is NOT_FOUND', async () => {
    const connect = async (who: SignedUp, accountId: string, input: Record<string, unknown> = { platformSlug: 'stripe', apiKey: STRIPE_KEY }) =>
      (await gql(`mutation ($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id } }`, { input: { accountId, name: 'Target', ...input } }, who))
        .createApiKeyConnection.id as string;
    const bobs = await connect(bob, bob.accountId);
    const otherAccount = (await gql(`mutation ($name: String!) { createAccount(input: { name: $name }) { id } }`, { name: 'Elsewhere' }, alice)).createAccount.id;
    const elsewhere = await connect(alice, otherAccount);
    const revoked = await connect(alice, alice.accountId);
    await gql(`mutation ($id: ID!) { revokeConnection(id: $id) { connection { status } } }`, { id: revoked }, alice);
    const definition = { name: 'Acme CRM', baseUrl: `${rest.url}/api`, auth: { type: 'header', name: 'X-API-Key' }, resources: [{ name: 'contacts', path: 'contacts', items: '/data' }] };
    const otherPlatform = await connect(alice, alice.accountId, { platformSlug: 'rest', apiKey: 'k_valid', params: [{ name: 'definition', value: JSON.stringify(definition) }] });

    const jobCount = async (who: SignedUp) => (await gql(`query { jobs(first: 100) { edges { node { id } } } }`, {}, who)).jobs.edges.length;
    const before = [await jobCount(alice), await jobCount(bob)];
    const refusal = async (connectionId: string, who: SignedUp = alice) => {
      const result = await stack.graphql(`mutation ($id: ID!, $connectionId: ID) { restoreSnapshot(snapshotId: $id, target: PLATFORM, connectionId: $connectionId) { id } }`, { id: snapshotId, connectionId }, who.accessToken);
      expect(result.data?.restoreSnapshot ?? null, connectionId).toBeNull();
      return { message: result.errors?.[0]?.message, ...result.errors?.[0]?.extensions };
    };
    for (const connectionId of [bobs, elsewhere, randomUUID()]) expect(await refusal(connectionId)).toMatchObject({ code: 'NOT_FOUND', message: 'Connection not found' });
    expect(await refusal(revoked)).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CONNECTION_NOT_AUTHORIZED', field: 'connectionId' });
    expect(await refusal(otherPlatform)).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CONNECTION_PLATFORM_MISMATCH', field: 'connectionId' });
    // Bob naming his own connection still does not reach Alice's snapshot.
    expect(await refusal(bobs, bob)).toMatchObject({ code: 'NOT_FOUND', message: 'Snapshot not found' });
    expect([await jobCount(alice), await jobCount(bob)]).toEqual(before);
  });

  it('checks the items an export or restore names before queueing anything', async () => {
    const path = [...served.keys()].sort()[0];
    const jobCount = async () => (await gql(`query { jobs(first: 100) { edges { node { id } } } }`, {}, alice)).jobs.edges.length;
    const before = await jobCount();
    for (const mutation of [
      `mutation ($id: ID!, $items: [String!]) { exportSnapshot(snapshotId: $id, items: $items) { id } }`,
      `mutation ($id: ID!, $items: [String!]) { restoreSnapshot(snapshotId: $id, target: DOWNLOAD, items: $items) { id } }`,
    ]) {
      const result = await stack.graphql(mutation, { id: snapshotId, items: [path, 'customers/cus_nope.json'] }, alice.accessToken);
      expect(result.data ?? null, mutation).toBeNull();
      expect(result.errors?.[0]?.extensions, mutation).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNKNOWN_ITEM', field: 'items', missing: ['customers/cus_nope.json'] });
    }
    expect(await jobCount()).toBe(before);
    const queued = (await gql(`mutation ($id: ID!, $items: [String!]) { exportSnapshot(snapshotId: $id, items: $items) { id } }`, { id: snapshotId, items: [path] }, alice)).exportSnapshot;
    const { job: done } = await watch(queued.id);
    expect(done.status, done.failureReason).toBe('SUCCEEDED');
    expect(done.download.items).toBe(1);
  });

  it('refuses an expired download link with 410', async () => {
    const token = signDownloadToken(downloadKeys(stack.internalTokenSecret)[0], { jobId: exportJob.id, accountId: alice.accountId, exp: Math.floor(Date.now() / 1000) - 1 });
    const response = await download(`/downloads?token=${token}`, alice);
    expect(response.status).toBe(410);
    expect(((await response.json()) as any).code).toBe('DOWNLOAD_EXPIRED');
  });

  it('stores less than 1% new bytes when nothing changed', async () => {
    const triggered = (await gql(`mutation ($id: ID!) { triggerSync(sourceId: $id) { id } }`, { id: sourceId }, alice)).triggerSync;
    const { job: done } = await watch(triggered.id);
    expect(done.status, done.failureReason).toBe('SUCCEEDED');
    const snapshots = (await gql(`query ($id: ID!) { job(id: $id) { snapshot { logicalBytes storedBytes itemCount } } }`, { id: done.id }, alice)).job.snapshot;
    const first = (await gql(`query ($id: ID!) { snapshot(id: $id) { storedBytes } }`, { id: snapshotId }, alice)).snapshot;
    expect(snapshots.itemCount).toBe(50);
    // What it wrote is its own (small) manifest: every chunk was already stored.
    expect(snapshots.storedBytes).toBeLessThan(first.storedBytes);
    const log = (await gql(`query ($id: ID!) { job(id: $id) { log { edges { node { message } } } } }`, { id: done.id }, alice)).job.log.edges.map((edge: any) => edge.node.message);
    const summary = log.map((line: string) => /(\d+) items, (\d+) bytes, (\d+) new bytes after deduplication/.exec(line)).find(Boolean);
    expect(summary, log.join('\n')).toBeTruthy();
    const [, , logical, fresh] = summary!.map(Number);
    expect(logical).toBe(snapshots.logicalBytes);
    expect(fresh).toBeLessThan(logical * 0.01);
    // Only changes were fetched: nothing changed, so every item was kept from the last backup.
    expect(log).toEqual(expect.arrayContaining(['Backing up customers: what changed since the last backup', 'customers: 0 new or changed items read, 30 unchanged items kept from the last backup']));

    // Asked for in full, it reads everything again, and still stores almost nothing new.
    const full = (await gql(`mutation ($id: ID!) { triggerSync(sourceId: $id, full: true) { id } }`, { id: sourceId }, alice)).triggerSync;
    expect((await watch(full.id)).job.status).toBe('SUCCEEDED');
    const fullLog = (await gql(`query ($id: ID!) { job(id: $id) { log { edges { node { message } } } } }`, { id: full.id }, alice)).job.log.edges.map((edge: any) => edge.node.message);
    expect(fullLog).toEqual(expect.arrayContaining(['Backing up customers in full: a full backup was asked for', 'customers: 30 items read']));
  });

  it('verifies the snapshot, then fails as DAMAGED naming a chunk that was corrupted on disk', async () => {
    const ok = await watch((await gql(`mutation ($id: ID!) { verifySnapshot(snapshotId: $id) { id } }`, { id: snapshotId }, alice)).verifySnapshot.id);
    expect(ok.job.status, ok.job.failureReason).toBe('SUCCEEDED');
    expect(ok.job.verification.ok).toBe(true);
    expect(ok.job.verification.checkedChunks).toBe(ok.job.verification.referencedChunks);

    // Chunks are stored in packs: overwrite the start of one of the snapshot's chunks inside its pack file.
    const account = await stack.repository.account(alice.accountId);
    const addresses: string[] = [];
    for await (const chunk of snapshotChunks(account, await readSnapshot(account, firstJob.id))) addresses.push(chunk.address);
    const address = addresses.sort()[0];
    const location = (await account.locate(address))!;
    const file = await open(join(stack.storageDir, ...layout.pack(alice.accountId, location.packId).split('/')), 'r+');
    try {
      await file.write(randomBytes(Math.min(64, location.length)), 0, Math.min(64, location.length), location.offset);
    } finally {
      await file.close();
    }

    const bad = await watch((await gql(`mutation ($id: ID!) { verifySnapshot(snapshotId: $id, sample: 1) { id } }`, { id: snapshotId }, alice)).verifySnapshot.id);
    expect(bad.job).toMatchObject({ status: 'FAILED', failureType: 'DAMAGED', failureReason: expect.stringMatching(/^Stored data is damaged: .* 1 corrupt and 0 missing \(pack /) });
    expect(bad.job.verification.ok).toBe(false);
    expect(bad.job.verification.problems).toEqual([{ address, problem: 'CORRUPT' }]);
  });

  it('rejects a sample outside (0, 1] and changes nothing', async () => {
    const before = (await gql(`query { jobs(first: 100) { edges { node { id } } } }`, {}, alice)).jobs.edges.length;
    const result = await stack.graphql(`mutation ($id: ID!) { verifySnapshot(snapshotId: $id, sample: 0) { id } }`, { id: snapshotId }, alice.accessToken);
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await gql(`query { jobs(first: 100) { edges { node { id } } } }`, {}, alice)).jobs.edges.length).toBe(before);
  });

  it('retries through a 503 storm that recovers, and succeeds', async () => {
    // More 503s than one request's own retries absorb: the attempt fails TRANSIENT, the job retries.
    stripe.failNext({ status: 503, times: 8 });
    const triggered = (await gql(`mutation ($id: ID!) { triggerSync(sourceId: $id) { id } }`, { id: sourceId }, alice)).triggerSync;
    const { job: done } = await watch(triggered.id);
    expect(done.status, done.failureReason).toBe('SUCCEEDED');
    expect(done.attempts).toBeGreaterThanOrEqual(2);
    expect(done.progress.itemsDone).toBe(50);
  });

  it('waits as long as a 429 Retry-After says, then succeeds', async () => {
    const before = stripe.requestsTo('/v1/').length;
    stripe.failNext({ status: 429, headers: { 'retry-after': '1' } });
    const triggered = (await gql(`mutation ($id: ID!) { triggerSync(sourceId: $id) { id } }`, { id: sourceId }, alice)).triggerSync;
    const { job: done } = await watch(triggered.id);
    expect(done.status, done.failureReason).toBe('SUCCEEDED');
    const requests = stripe.requestsTo('/v1/').slice(before);
    const limited = requests.findIndex((request) => request.status === 429);
    expect(limited).toBeGreaterThanOrEqual(0);
    expect(requests[limited + 1].at - requests[limited].at).toBeGreaterThanOrEqual(1000);
    expect(requests.some((request) => request.early)).toBe(false);
  });

  it('refuses a backup of a revoked connection up front; a scheduled one fails as CONFIG, without retrying', async () => {
    const connectionId = (await gql(`query ($id: ID!) { source(id: $id) { connection { id } } }`, { id: sourceId }, alice)).source.connection.id;
    await gql(`mutation ($id: ID!) { revokeConnection(id: $id) { connection { status } } }`, { id: connectionId }, alice);
    const jobCount = async () => (await gql(`query { jobs(first: 100) { edges { node { id } } } }`, {}, alice)).jobs.edges.length;
    const before = await jobCount();
    const refused = await stack.graphql(`mutation ($id: ID!) { triggerSync(sourceId: $id) { id } }`, { id: sourceId }, alice.accessToken);
    expect(refused.data?.triggerSync ?? null).toBeNull();
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CONNECTION_NOT_AUTHORIZED', field: 'sourceId', status: 'REVOKED' });
    expect(await jobCount()).toBe(before);
    // The schedule does not ask the connection first: its backup runs and fails as a configuration problem.
    const jobs = new JobsClient(stack.services.jobs.url, stack.internalTokenSecret);
    const scheduled = await jobs.enqueueScheduledBackup({ accountId: alice.accountId, sourceId, idempotencyKey: randomUUID() });
    const { job: done } = await watch(scheduled.jobId);
    expect(done).toMatchObject({ status: 'FAILED', failureType: 'CONFIG', attempts: 1 });
    expect(done.failureReason).toMatch(/revoked/i);
  });

  it('flags a backup that deletes 40% of a client account\'s customers, keeps it past retention until acknowledged, and rolls the client up into its parent\'s job analytics', async () => {
    const client = (await gql(`mutation ($input: CreateAccountInput!) { createAccount(input: $input) { id } }`, { input: { name: 'Client', parentId: alice.accountId } }, alice)).createAccount;
    const connection = (
      await gql(
        `mutation ($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id } }`,
        { input: { accountId: client.id, platformSlug: 'stripe', name: 'Client Stripe', apiKey: STRIPE_KEY } },
        alice,
      )
    ).createApiKeyConnection;
    const source = (
      await gql(
        `mutation ($input: CreateSourceInput!) { createSource(input: $input) { id } }`,
        { input: { accountId: client.id, connectionId: connection.id, name: 'Client payments', resources: ['customers'], schedule: { kind: 'CRON', cron: '0 3 * * *' }, retention: { keepLast: 1 } } },
        alice,
      )
    ).createSource;
    const SNAPSHOT = `snapshot { id changes { previousItems added changed deleted } anomaly { kind share reason acknowledgedAt } }`;
    const backup = async (full: boolean) => {
      const triggered = (await gql(`mutation ($id: ID!, $full: Boolean!) { triggerSync(sourceId: $id, full: $full) { id } }`, { id: source.id, full }, alice)).triggerSync;
      const { job: done } = await watch(triggered.id);
      expect(done.status, done.failureReason).toBe('SUCCEEDED');
      return (await gql(`query ($id: ID!) { job(id: $id) { id ${SNAPSHOT} } }`, { id: done.id }, alice)).job;
    };
    const snapshotIds = async () => (await gql(`query ($id: ID!) { source(id: $id) { snapshots { edges { node { id } } } } }`, { id: source.id }, alice)).source.snapshots.edges.map((edge: any) => edge.node.id);
    /** The snapshots once the retention job that follows each backup has run (it is queued after the backup). */
    const snapshotsSettledAt = async (expected: string[]) => {
      let ids: string[] = [];
      for (let i = 0; i < 200 && JSON.stringify((ids = await snapshotIds())) !== JSON.stringify(expected); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      return ids;
    };

    await backup(true);
    const normal = [];
    for (let i = 0; i < 3; i++) {
      stripe.advance(60_000);
      stripe.update('customers', stripe.objects.customers[i].id, { email: `client${i}@example.com` });
      normal.push(await backup(true));
    }
    for (const job of normal) expect(job.snapshot).toMatchObject({ changes: { previousItems: 30, changed: 1, deleted: 0 }, anomaly: null });

    // 12 of the 30 customers are gone at the platform.
    stripe.objects.customers.splice(5, 12);
    const wiped = await backup(true);
    expect(wiped.snapshot).toMatchObject({ changes: { previousItems: 30, deleted: 12 }, anomaly: { kind: 'MASS_DELETION', share: 0.4, acknowledgedAt: null } });
    expect(wiped.snapshot.anomaly.reason).toContain('12 of 30 items (40%) deleted');
    // Another tenant sees neither the snapshot nor a way to acknowledge it.
    for (const query of [`query ($id: ID!) { snapshot(id: $id) { id } }`, `mutation ($id: ID!) { acknowledgeSnapshotAnomaly(snapshotId: $id) { id } }`]) {
      expect((await stack.graphql(query, { id: wiped.snapshot.id }, bob.accessToken)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }

    // Retention keeps one snapshot, and the flagged one beside it until someone acknowledges it.
    const next = await backup(true);
    expect(next.snapshot.anomaly).toBeNull();
    expect(await snapshotsSettledAt([next.snapshot.id, wiped.snapshot.id])).toEqual([next.snapshot.id, wiped.snapshot.id]);
    const acknowledged = (await gql(`mutation ($id: ID!) { acknowledgeSnapshotAnomaly(snapshotId: $id) { anomaly { acknowledgedAt } } }`, { id: wiped.snapshot.id }, alice)).acknowledgeSnapshotAnomaly;
    expect(acknowledged.anomaly.acknowledgedAt).toEqual(expect.any(String));
    const last = await backup(true);
    expect(await snapshotsSettledAt([last.snapshot.id])).toEqual([last.snapshot.id]);

    // The client's backups, through the graph: its source, and the parent's roll-up (never bob's account).
    const ANALYTICS = `jobAnalytics { totals { runs succeeded itemsDeleted } recoveryPoint { status lastSuccessfulJob { id } targetSeconds } }`;
    let analytics: any;
    for (let i = 0; i < 100 && analytics?.totals.runs !== 7; i++) {
      analytics = (await gql(`query ($id: ID!) { source(id: $id) { ${ANALYTICS} } }`, { id: source.id }, alice)).source.jobAnalytics;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(analytics).toMatchObject({ totals: { runs: 7, succeeded: 7, itemsDeleted: 12 }, recoveryPoint: { status: 'ON_SCHEDULE', lastSuccessfulJob: { id: last.id }, targetSeconds: 86_400 } });
    const ROLL_UP = `query ($id: ID!, $sub: Boolean!) { account(id: $id) { jobAnalytics(includeSubAccounts: $sub) { accounts totals { runs } byPlatform { platform { slug } sources } } } }`;
    const own = (await gql(ROLL_UP, { id: alice.accountId, sub: false }, alice)).account.jobAnalytics;
    const rolled = (await gql(ROLL_UP, { id: alice.accountId, sub: true }, alice)).account.jobAnalytics;
    expect(rolled.accounts).toBe(2);
    expect(own.accounts).toBe(1);
    expect(rolled.totals.runs).toBe(own.totals.runs + 7);
    expect(rolled.byPlatform).toEqual(expect.arrayContaining([expect.objectContaining({ platform: { slug: 'stripe' } })]));
    expect((await stack.graphql(ROLL_UP, { id: alice.accountId, sub: true }, bob.accessToken)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const bobs = (await gql(ROLL_UP, { id: bob.accountId, sub: true }, bob)).account.jobAnalytics;
    expect(bobs).toMatchObject({ accounts: 1, totals: { runs: 0 } });
  });
});
