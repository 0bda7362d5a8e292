/**
 * Deleting a source with its snapshots really frees stored bytes, end to end through the gateway:
 * two Stripe sources of one account share data, one is deleted with its snapshots, sources
 * publishes `data.deleted` (over NATS where it runs), jobs queues a GC job of the account, the job
 * (in the account's jobs, with its log and report) forgets the snapshots and frees what only they
 * used — counted on disk — and the other source's snapshot still verifies and restores byte for
 * byte. Another tenant sees and touches none of it. An account purged after its recovery window
 * leaves no object in the store, and another account's backup still restores byte for byte.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNatsBus, streamName } from '@listbackup/lib/events/connect';
import type { NatsEventBus } from '@listbackup/lib/events/nats-bus';
import { DirectoryTarget, listSnapshots, restoreSnapshot } from '@listbackup/engine';
import { FakeStripe } from '@listbackup/catalogue/testing/fakes';
import { signUp, type SignedUp } from '../gateway/test/support/stack.ts';
import { purgeDeletedAccounts } from '../subgraphs/accounts/src/services/account-lifecycle.ts';
import { forgetFinishedPurges } from '../subgraphs/jobs/src/services/maintenance.ts';
import { type BackupStack, STRIPE_KEY, startBackupStack, startIdentity } from './support/backup-stack.ts';

const natsUrl = process.env.NATS_URL;
if (!natsUrl && process.env.CI === 'true') throw new Error('NATS_URL must be set in CI');

/** Bytes of every file under `dir`. */
async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** Every file under `dir` by its path relative to it (none when `dir` is gone). */
async function filesUnder(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  for (const entry of entries) {
    if (entry.isFile()) files.set(join(entry.parentPath, entry.name).slice(dir.length + 1), await readFile(join(entry.parentPath, entry.name)));
  }
  return files;
}

const GC_FIELDS = `id kind status source { id } triggeredBy { kind } progress { itemsDone itemsTotal }
  log { edges { node { message } } }
  garbageCollection { forgottenSnapshots snapshots deletedBytes deletedChunks deletedPacks repackedPacks purged }`;

describe('GC after deleting a source with its snapshots, through the gateway', () => {
  let stack: BackupStack;
  let stripe: FakeStripe;
  let identity: Awaited<ReturnType<typeof startIdentity>>;
  let bus: NatsEventBus | undefined;
  const namespace = `gc${randomBytes(4).toString('hex')}`;
  let alice: SignedUp;
  let bob: SignedUp;
  const dirs: string[] = [];

  const gql = async <T = any>(query: string, variables: Record<string, unknown>, who: SignedUp): Promise<T> => {
    const result = await stack.graphql<T>(query, variables, who.accessToken);
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data as T;
  };
  const finished = async (id: string) => {
    for (;;) {
      const { job } = await gql(`query ($id: ID!) { job(id: $id) { ${GC_FIELDS} failureReason } }`, { id }, alice);
      if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status)) return job;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const backUp = async (sourceId: string) => {
    const { triggerSync } = await gql(`mutation ($id: ID!) { triggerSync(sourceId: $id) { id } }`, { id: sourceId }, alice);
    const job = await finished(triggerSync.id);
    expect(job.status, job.failureReason).toBe('SUCCEEDED');
    return job;
  };
  const restoreAll = async (engineSnapshotId: string) => {
    const dir = await mkdtemp(join(tmpdir(), 'lb-gc-restore-'));
    dirs.push(dir);
    const account = await stack.repository.account(alice.accountId);
    await restoreSnapshot(account, engineSnapshotId, new DirectoryTarget(dir));
    return filesUnder(dir);
  };

  beforeAll(async () => {
    stripe = await new FakeStripe().start();
    stripe.keys.add(STRIPE_KEY);
    for (let i = 0; i < 40; i++) stripe.add('customers', { description: `customer ${i} ${randomBytes(2000).toString('hex')}` });
    for (let i = 0; i < 30; i++) stripe.add('charges', { description: `charge ${i} ${randomBytes(500).toString('hex')}` });
    identity = await startIdentity();
    bus = natsUrl ? await connectNatsBus(natsUrl, namespace) : undefined;
    // No grace period: the data is minutes old, and no other writer shares the store.
    stack = await startBackupStack(`${stripe.url}/v1`, identity.url, { bus, durablePrefix: namespace, backup: { gcGraceMs: 0, gcDelayMs: 0 } });
    [alice, bob] = await Promise.all([signUp(stack), signUp(stack)]);
  }, 180_000);

  afterAll(async () => {
    await stack?.close();
    if (bus) {
      await (await bus.connection.jetstreamManager()).streams.delete(streamName(namespace)).catch(() => {});
      await bus.close();
    }
    await stripe?.close();
    await identity?.close();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('lowers the stored bytes, keeps the other source whole, and shows the GC job to the account only', { timeout: 300_000 }, async () => {
    const { createApiKeyConnection: connection } = await gql(
      `mutation ($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id } }`,
      { input: { accountId: alice.accountId, platformSlug: 'stripe', name: 'Stripe', apiKey: STRIPE_KEY } },
      alice,
    );
    const createSource = async (name: string, resources: string[]) =>
      (
        await gql(
          `mutation ($input: CreateSourceInput!) { createSource(input: $input) { id } }`,
          { input: { accountId: alice.accountId, connectionId: connection.id, name, resources, schedule: { kind: 'MANUAL' }, retention: { keepLast: 5 } } },
          alice,
        )
      ).createSource.id as string;
    // The deleted source's customers are its own; its charges are the kept source's too (stored once).
    const deleted = await createSource('Everything', ['customers', 'charges']);
    const kept = await createSource('Charges', ['charges']);
    await backUp(deleted);
    const keptBackup = await backUp(kept);
    const account = await stack.repository.account(alice.accountId);
    const [keptSnapshot] = await listSnapshots(account, { sourceId: kept });
    const restoredBefore = await restoreAll(keptSnapshot.id);
    expect(restoredBefore.size).toBe(30);
    const accountDir = join(stack.storageDir, alice.accountId);
    const before = await bytesUnder(accountDir);

    expect((await gql(`mutation ($id: ID!) { deleteSource(id: $id, withSnapshots: true) }`, { id: deleted }, alice)).deleteSource).toBe(true);
    let gcId: string | undefined;
    for (let i = 0; !gcId; i++) {
      if (i > 1200) throw new Error('no GC job was queued');
      const { account: listed } = await gql(`query ($id: ID!) { account(id: $id) { jobs(kind: [GC]) { edges { node { id } } } } }`, { id: alice.accountId }, alice);
      gcId = listed.jobs.edges[0]?.node.id;
      if (!gcId) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const gc = await finished(gcId);
    expect(gc, gc.failureReason).toMatchObject({ kind: 'GC', status: 'SUCCEEDED', source: null, triggeredBy: { kind: 'SYSTEM' } });
    expect(gc.garbageCollection).toMatchObject({ forgottenSnapshots: 1, snapshots: 1, purged: false });
    // Each customer carries 2,000 random bytes (as hex): no compression stores it in less.
    expect(gc.garbageCollection.deletedBytes).toBeGreaterThan(40 * 2000);
    expect(gc.progress.itemsTotal).toBeGreaterThan(0);
    expect(gc.progress.itemsDone).toBe(gc.progress.itemsTotal);
    expect(gc.log.edges.map((edge: any) => edge.node.message).join('\n')).toContain('Forgot 1 deleted snapshot');

    // Counted on disk: the deleted source's customers are gone from the store.
    const after = await bytesUnder(accountDir);
    expect(after).toBeLessThan(before - 40 * 2000);

    // The kept source: verified through the API, and restored byte for byte as before.
    const { verifySnapshot } = await gql(`mutation ($id: ID!) { verifySnapshot(snapshotId: $id, sample: 1) { id } }`, { id: await snapshotIdOf(keptBackup.id) }, alice);
    const verification = await waitVerification(verifySnapshot.id);
    expect(verification).toMatchObject({ ok: true, problems: [] });
    expect(await restoreAll(keptSnapshot.id)).toEqual(restoredBefore);

    // Another tenant: not found, whatever they try.
    for (const [query, variables] of [
      [`query ($id: ID!) { job(id: $id) { id } }`, { id: gcId }],
      [`mutation ($id: ID!) { retryJob(id: $id) { id } }`, { id: gcId }],
      [`mutation ($id: ID!) { cancelJob(id: $id) { id } }`, { id: gcId }],
    ] as const) {
      const result = await stack.graphql(query, variables, bob.accessToken);
      expect(result.errors?.[0]?.extensions?.code, query).toBe('NOT_FOUND');
    }
    const theirs = await stack.graphql(`query { jobs(filter: { kind: [GC] }) { edges { node { id } } } }`, {}, bob.accessToken);
    expect(theirs.data).toEqual({ jobs: { edges: [] } });
    const foreign = await stack.graphql(`query ($id: ID!) { account(id: $id) { jobs(kind: [GC]) { edges { node { id } } } } }`, { id: alice.accountId }, bob.accessToken);
    expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('deletes every object of an account purged after its recovery window; another account still restores byte for byte', { timeout: 300_000 }, async () => {
    const { createApiKeyConnection: connection } = await gql(
      `mutation ($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id } }`,
      { input: { accountId: bob.accountId, platformSlug: 'stripe', name: 'Stripe', apiKey: STRIPE_KEY } },
      bob,
    );
    const { createSource: bobs } = await gql(
      `mutation ($input: CreateSourceInput!) { createSource(input: $input) { id } }`,
      { input: { accountId: bob.accountId, connectionId: connection.id, name: 'Charges', resources: ['charges'], schedule: { kind: 'MANUAL' }, retention: { keepLast: 5 } } },
      bob,
    );
    const { triggerSync } = await gql(`mutation ($id: ID!) { triggerSync(sourceId: $id) { id } }`, { id: bobs.id }, bob);
    for (;;) {
      const { job } = await gql(`query ($id: ID!) { job(id: $id) { status failureReason } }`, { id: triggerSync.id }, bob);
      if (job.status === 'SUCCEEDED') break;
      if (job.status === 'FAILED' || job.status === 'CANCELLED') throw new Error(`backup ${job.status}: ${job.failureReason}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const bobsAccount = await stack.repository.account(bob.accountId);
    const [bobsSnapshot] = await listSnapshots(bobsAccount);
    const restore = async () => {
      const dir = await mkdtemp(join(tmpdir(), 'lb-gc-restore-'));
      dirs.push(dir);
      await restoreSnapshot(bobsAccount, bobsSnapshot.id, new DirectoryTarget(dir));
      return filesUnder(dir);
    };
    const bobsBefore = await restore();
    expect(bobsBefore.size).toBe(30);

    const aliceDir = join(stack.storageDir, alice.accountId);
    expect(await bytesUnder(aliceDir)).toBeGreaterThan(0);
    const { account } = await gql(`query ($id: ID!) { account(id: $id) { name } }`, { id: alice.accountId }, alice);
    await gql(`mutation ($id: ID!, $name: String!) { deleteAccount(id: $id, confirmName: $name) { id } }`, { id: alice.accountId, name: account.name }, alice);
    // The recovery window is over: accounts purges it (as its hourly sweep does) and publishes account.purged.
    expect(await purgeDeletedAccounts(stack.services.accounts.orm, new Date(Date.now() + 31 * 86_400_000))).toContain(alice.accountId);
    const objectsLeft = async () => (await readdir(aliceDir, { withFileTypes: true, recursive: true }).catch(() => [])).filter((entry) => entry.isFile()).length;
    for (let i = 0; (await objectsLeft()) > 0; i++) {
      if (i > 1200) throw new Error(`the purged account still has ${await objectsLeft()} objects`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await restore()).toEqual(bobsBefore);

    // Every subgraph removed its rows of the account: once the purge's GC run succeeded and the
    // sweep removed it too, no table of any schema holds a row of it, while bob's rows stay.
    const db = stack.services.accounts.orm.em.fork();
    const purgeDone = `select 1 from jobs.jobs where account_id = ? and kind = 'GC' and status = 'SUCCEEDED' and params @> '{"purge": true}'`;
    for (let i = 0; (await db.execute(purgeDone, [alice.accountId])).length === 0; i++) {
      if (i > 1200) throw new Error('the purge GC run never succeeded');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await forgetFinishedPurges(stack.services.jobs.orm); // as the maintenance tick does
    const tables: { table_schema: string; table_name: string }[] = await db.execute(
      `select table_schema, table_name from information_schema.columns where column_name = 'account_id' and table_schema not in ('pg_catalog', 'information_schema') order by 1, 2`,
    );
    // Kept on purpose: the outboxes (sent rows are pruned by the relay), the audit log (append-only,
    // pruned by its retention), and billing's records (the ledger and invoices are financial records).
    const kept = (t: { table_schema: string; table_name: string }) => t.table_name === 'outbox_events' || ['audit_entries', 'audit_chains'].includes(t.table_name) || t.table_schema === 'billing';
    const rowsOf = async (accountId: string) => {
      const found: string[] = [];
      for (const t of tables.filter((table) => !kept(table))) {
        const [{ n }] = await db.execute(`select count(*)::int as n from "${t.table_schema}"."${t.table_name}" where account_id = ?`, [accountId]);
        if (n > 0) found.push(`${t.table_schema}.${t.table_name}: ${n}`);
      }
      return found;
    };
    expect(tables.map((t) => `${t.table_schema}.${t.table_name}`)).toEqual(expect.arrayContaining(['jobs.jobs', 'sources.sources', 'platforms.connections', 'accounts.memberships']));
    for (let i = 0; (await rowsOf(alice.accountId)).length > 0; i++) {
      if (i > 600) throw new Error(`the purged account still has rows: ${(await rowsOf(alice.accountId)).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await rowsOf(bob.accountId)).toEqual(expect.arrayContaining([expect.stringMatching(/^jobs\.jobs: /), expect.stringMatching(/^sources\.sources: /), expect.stringMatching(/^platforms\.connections: /)]));
  });

  async function snapshotIdOf(jobId: string): Promise<string> {
    return (await gql(`query ($id: ID!) { job(id: $id) { snapshot { id } } }`, { id: jobId }, alice)).job.snapshot.id;
  }

  async function waitVerification(id: string) {
    for (;;) {
      const { job } = await gql(`query ($id: ID!) { job(id: $id) { status failureReason verification { ok problems { address } } } }`, { id }, alice);
      if (job.status === 'SUCCEEDED') return job.verification;
      if (job.status === 'FAILED' || job.status === 'CANCELLED') throw new Error(`verify ${job.status}: ${job.failureReason}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
});
