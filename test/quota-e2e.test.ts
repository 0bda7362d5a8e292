/**
 * The storage quota enforced, end to end through the gateway over NATS: billing meters what an
 * account stores and announces its standing (`billing.storage_standing`), jobs keeps it and reads it
 * before a backup stores anything. A Free account over its 5 GiB past the 7-day grace gets
 * QUOTA_EXCEEDED with nothing stored (the store's bytes on disk unchanged) and is told through the
 * `job.failed` notification; one within the grace backs up; an upgrade lifts the block; a plan with
 * overage is never blocked; the standing replayed changes nothing; a stranger reads none of it.
 *
 * Real backups store kilobytes here: the gigabytes an account "stored" earlier are a `data.synced`
 * published on the bus as sources publishes it after a backup, dated when that backup happened.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNatsBus, streamName } from '@listbackup/lib/events/connect';
import { createEvent } from '@listbackup/lib/events/contract';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import type { NatsEventBus } from '@listbackup/lib/events/nats-bus';
import { createLogger } from '@listbackup/lib/logger';
import { outboundFetch } from '@listbackup/lib/outbound';
import { FakeStripe } from '@listbackup/catalogue/testing/fakes';
import { NotificationWorker } from '../subgraphs/accounts/src/delivery/worker.ts';
import { startSmtpServer, type Inbox } from '../subgraphs/accounts/test/support/receivers.ts';
import { AccountQuota } from '../subgraphs/jobs/src/entities/account-quota.ts';
import { handleStorageStanding } from '../subgraphs/jobs/src/events/quota-consumer.ts';
import { signUp, type SignedUp } from '../gateway/test/support/stack.ts';
import { type BackupStack, STRIPE_KEY, startBackupStack, startIdentity } from './support/backup-stack.ts';

const natsUrl = process.env.NATS_URL;
if (!natsUrl && process.env.CI === 'true') throw new Error('NATS_URL must be set in CI');

const GIB = 1024 ** 3;
const DAY = 86_400_000;

async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** Polls until `check` gives a value; the limit only ends a broken run. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(!natsUrl)('the storage quota, enforced before a backup stores anything', () => {
  let stripe: FakeStripe;
  let identity: Awaited<ReturnType<typeof startIdentity>>;
  let stack: BackupStack;
  let bus: NatsEventBus;
  let smtp: Inbox;
  let worker: NotificationWorker;
  const namespace = `quota${randomBytes(4).toString('hex')}`;
  const standings: EventEnvelope[] = [];
  let alice: SignedUp;
  let bob: SignedUp;
  let carol: SignedUp;

  const gql = async <T = any>(query: string, variables: Record<string, unknown>, who: SignedUp): Promise<T> => {
    const result = await stack.graphql<T>(query, variables, who.accessToken);
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data as T;
  };
  const sourceOf = async (who: SignedUp) => {
    const connection = (
      await gql(
        `mutation ($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id } }`,
        { input: { accountId: who.accountId, platformSlug: 'stripe', name: 'Stripe', apiKey: STRIPE_KEY } },
        who,
      )
    ).createApiKeyConnection;
    return (
      await gql(
        `mutation ($input: CreateSourceInput!) { createSource(input: $input) { id } }`,
        { input: { accountId: who.accountId, connectionId: connection.id, name: 'Payments', resources: ['customers'], schedule: { kind: 'MANUAL' }, retention: { keepLast: 5 } } },
        who,
      )
    ).createSource.id as string;
  };
  const backUp = async (who: SignedUp, sourceId: string) => {
    const { id } = (await gql(`mutation ($id: ID!) { triggerSync(sourceId: $id) { id } }`, { id: sourceId }, who)).triggerSync;
    return eventually('the backup to finish', async () => {
      const { job } = await gql(`query ($id: ID!) { job(id: $id) { id status failureType failureReason } }`, { id }, who);
      return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status) ? job : undefined;
    });
  };
  /** What an earlier backup of `who` stored, as sources announces it. */
  const storedEarlier = (who: SignedUp, storedBytes: number, at: number) =>
    bus.publish(
      createEvent(
        'data.synced',
        who.accountId,
        randomUUID(),
        { accountId: who.accountId, sourceId: randomUUID(), jobId: randomUUID(), snapshotId: randomUUID(), items: 1000, logicalBytes: storedBytes, storedBytes, partial: false },
        { time: new Date(at) },
      ),
    );
  const quotaOf = async (who: SignedUp) => (await gql(`query ($id: ID!) { account(id: $id) { storageQuota { state plan storedBytes overSince backupsBlockedFrom } } }`, { id: who.accountId }, who)).account.storageQuota;
  /** Jobs' read model of the account, once it says `done`. */
  const jobsSees = (who: SignedUp, done: (row: AccountQuota | null) => boolean) =>
    eventually('jobs to learn the standing', async () => {
      const row = await stack.services.jobs.orm.em.fork().findOne(AccountQuota, { accountId: who.accountId });
      return done(row) ? (row ?? ({} as AccountQuota)) : undefined;
    });

  beforeAll(async () => {
    stripe = await new FakeStripe().start();
    stripe.keys.add(STRIPE_KEY);
    for (let i = 0; i < 10; i++) stripe.add('customers', { description: `customer ${i} ${randomBytes(200).toString('hex')}` });
    identity = await startIdentity();
    bus = await connectNatsBus(natsUrl!, namespace);
    await bus.subscribe('lb.evt.*.billing.storage_standing', async (event) => {
      standings.push(event);
    });
    [stack, smtp] = await Promise.all([startBackupStack(`${stripe.url}/v1`, identity.url, { bus, durablePrefix: namespace }), startSmtpServer()]);
    worker = new NotificationWorker({
      orm: stack.services.accounts.orm,
      bus,
      log: createLogger('quota-e2e', 'silent'),
      mailer: { smtpUrl: smtp.smtpUrl, from: 'ListBackup <notifications@example.test>' },
      fetch: outboundFetch,
      pollIntervalMs: 100,
      durablePrefix: namespace,
    });
    await worker.start();
    [alice, bob, carol] = await Promise.all([signUp(stack), signUp(stack), signUp(stack)]);
  }, 180_000);

  afterAll(async () => {
    await worker?.stop();
    await stack?.close();
    if (bus) {
      await (await bus.connection.jetstreamManager()).streams.delete(streamName(namespace)).catch(() => {});
      await bus.close();
    }
    await Promise.all([smtp?.close(), stripe?.close(), identity?.close()]);
  });

  it('fails a Free account’s backup past its grace with QUOTA_EXCEEDED before it stores anything, tells the account, and lets it back up once upgraded', { timeout: 240_000 }, async () => {
    const source = await sourceOf(alice);
    expect((await backUp(alice, source)).status).toBe('SUCCEEDED');

    // 5.5 GiB stored ten days ago: over the 5 GiB quota since then, its 7-day grace over three days ago.
    const overSince = Date.now() - 10 * DAY;
    await storedEarlier(alice, 5.5 * GIB, overSince);
    await jobsSees(alice, (row) => row?.blockedFrom?.getTime() === overSince + 7 * DAY);
    expect(await quotaOf(alice)).toMatchObject({ state: 'BLOCKED', plan: 'free', overSince: new Date(overSince).toISOString(), backupsBlockedFrom: new Date(overSince + 7 * DAY).toISOString() });

    const onDisk = await bytesUnder(stack.storageDir);
    const refused = await backUp(alice, source);
    expect(refused).toMatchObject({ status: 'FAILED', failureType: 'QUOTA_EXCEEDED' });
    expect(refused.failureReason).toContain('the Free plan includes 5.00 GiB');
    expect(refused.failureReason).toMatch(/stores 5\.50 GiB/);
    expect(await bytesUnder(stack.storageDir)).toBe(onDisk);
    const { job } = await gql(`query ($id: ID!) { job(id: $id) { attempts log(first: 20) { edges { node { message } } } } }`, { id: refused.id }, alice);
    expect(job.attempts).toBe(1);

    // Told through the job.failed notification, naming the quota, the usage and the plan.
    const told = await eventually('the notification', async () => {
      const { me } = await gql(`{ me { notifications(first: 20) { edges { node { event title body } } } } }`, {}, alice);
      return me.notifications.edges.map((edge: any) => edge.node).find((n: any) => n.event === 'JOB_FAILED' && n.body.includes(refused.id));
    });
    expect(told.body).toContain('quota_exceeded');
    expect(told.body).toContain('Free plan includes 5.00 GiB');

    // An upgrade to Team (overage) lifts it at once.
    await gql(`mutation ($id: ID!) { changePlan(accountId: $id, plan: "team") { change { id } } }`, { id: alice.accountId }, alice);
    await jobsSees(alice, (row) => row !== null && row.blockedFrom === null);
    expect((await quotaOf(alice)).state).toBe('WITHIN');
    expect((await backUp(alice, source)).status).toBe('SUCCEEDED');
    expect(await bytesUnder(stack.storageDir)).toBeGreaterThan(onDisk);
  });

  it('backs up an account over its quota within the grace, and never blocks a plan with overage', { timeout: 240_000 }, async () => {
    const [bobSource, carolSource] = await Promise.all([sourceOf(bob), sourceOf(carol)]);
    await storedEarlier(bob, 5.5 * GIB, Date.now() - 2 * DAY);
    await jobsSees(bob, (row) => row?.blockedFrom != null);
    expect((await quotaOf(bob)).state).toBe('GRACE');
    expect(await backUp(bob, bobSource)).toMatchObject({ status: 'SUCCEEDED', failureType: null });

    await gql(`mutation ($id: ID!) { changePlan(accountId: $id, plan: "team") { change { id } } }`, { id: carol.accountId }, carol);
    await storedEarlier(carol, 150 * GIB, Date.now() - 40 * DAY);
    await eventually('the usage to be metered', async () => ((await quotaOf(carol)).state === 'OVERAGE' ? true : undefined));
    expect(await backUp(carol, carolSource)).toMatchObject({ status: 'SUCCEEDED', failureType: null });
    expect(await stack.services.jobs.orm.em.fork().findOne(AccountQuota, { accountId: carol.accountId, blockedFrom: { $ne: null } })).toBeNull();
  });

  it('changes nothing when the standing events are applied again, in any order', async () => {
    const mine = standings.filter((event) => event.accountId === alice.accountId);
    expect(mine.length).toBeGreaterThanOrEqual(2);
    const em = () => stack.services.jobs.orm.em.fork();
    const before = await em().findOneOrFail(AccountQuota, { accountId: alice.accountId });
    const log = createLogger('quota-e2e', 'silent');
    for (const event of [...mine, ...[...mine].reverse()]) expect(await handleStorageStanding(stack.services.jobs.orm, log, event)).toBe(false);
    expect(await em().findOneOrFail(AccountQuota, { accountId: alice.accountId })).toEqual(before);
    expect(before.blockedFrom).toBeNull();
  });

  it('shows a stranger neither another account’s standing nor that it exists', async () => {
    const refused = await stack.graphql(`query ($id: ID!) { account(id: $id) { storageQuota { state storedBytes } } }`, { id: alice.accountId }, bob.accessToken);
    expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(JSON.stringify(refused.data ?? null)).not.toContain('storedBytes');
  });
});
