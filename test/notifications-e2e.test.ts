/**
 * One failing backup through the product as `npm start` wires it (every subgraph, the gateway, a
 * jobs worker, the notifications worker): its `job.failed` becomes an email received by an
 * in-process SMTP server, a webhook the receiver verifies (and a forged or stale copy of it the
 * same verification refuses), an in-app notification pushed over `notificationAdded` through the
 * gateway, and an entry in the account's audit log. A connection whose authorization is about to
 * expire, found by the platforms subgraph's scheduled pass, reaches the account the same way. Over
 * NATS where it runs.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { createLogger } from '@listbackup/lib/logger';
import { connectNatsBus, streamName } from '@listbackup/lib/events/connect';
import type { NatsEventBus } from '@listbackup/lib/events/nats-bus';
import { outboundFetch } from '@listbackup/lib/outbound';
import { FakeStripe } from '@listbackup/catalogue/testing/fakes';
import { NotificationWorker } from '../subgraphs/accounts/src/delivery/worker.ts';
import { announceExpiringConnections } from '../subgraphs/platforms/src/services/connection-expiry.ts';
import { JobsClient } from '../subgraphs/sources/src/clients/jobs-client.ts';
import { startSmtpServer, startWebhookReceiver, type Inbox, type WebhookReceiver } from '../subgraphs/accounts/test/support/receivers.ts';
import { signUp, type SignedUp } from '../gateway/test/support/stack.ts';
import { type BackupStack, STRIPE_KEY, startBackupStack, startIdentity } from './support/backup-stack.ts';

const natsUrl = process.env.NATS_URL;
if (!natsUrl && process.env.CI === 'true') throw new Error('NATS_URL must be set in CI');
const namespace = `notify${randomBytes(4).toString('hex')}`;
let bus: NatsEventBus | undefined;
let stripe: FakeStripe;
let identity: { url: string; close(): Promise<void> };
let stack: BackupStack;
let smtp: Inbox;
let hooks: WebhookReceiver;
let worker: NotificationWorker;
let ws: Client;
let alice: SignedUp;
let bob: SignedUp;
let bobWs: Client;
const bobHeard: unknown[] = [];

async function gql<T = any>(query: string, variables: Record<string, unknown> = {}, token = alice.accessToken): Promise<T> {
  const result = await stack.graphql<T>(query, variables, token);
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data as T;
}

/** Waits for `check` to give a value, polling; the limit is only there so a broken run ends. */
async function eventually<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  stripe = await new FakeStripe().start();
  stripe.keys.add(STRIPE_KEY);
  identity = await startIdentity();
  bus = natsUrl ? await connectNatsBus(natsUrl, namespace) : undefined;
  [stack, smtp, hooks] = await Promise.all([startBackupStack(`${stripe.url}/v1`, identity.url, { bus, durablePrefix: namespace }), startSmtpServer(), startWebhookReceiver()]);
  worker = new NotificationWorker({
    orm: stack.services.accounts.orm,
    bus: stack.bus,
    log: createLogger('notifications-e2e', 'silent'),
    mailer: { smtpUrl: smtp.smtpUrl, from: 'ListBackup <notifications@example.test>' },
    fetch: outboundFetch,
    pollIntervalMs: 100,
    durablePrefix: namespace,
  });
  await worker.start();
  alice = await signUp(stack, `alice-${randomUUID()}@example.com`, 'Alice');
  // The address is proved by the link the worker mailed, as a person would.
  const verification = await eventually('the verification email', () => smtp.to(alice.email)[0]);
  const token = /lbt_[A-Za-z0-9_-]+/.exec(verification.text ?? '')![0];
  await gql('mutation ($t: String!) { verifyEmail(token: $t) { emailVerified } }', { t: token });
  const wsUrl = stack.gatewayUrl.replace(/^http/, 'ws');
  ws = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { Authorization: `Bearer ${alice.accessToken}` } });
}, 180_000);

afterAll(async () => {
  await ws?.dispose();
  await bobWs?.dispose();
  await worker?.stop();
  await stack?.close();
  if (bus) {
    await (await bus.connection.jetstreamManager()).streams.delete(streamName(namespace)).catch(() => {});
    await bus.close();
  }
  await Promise.all([smtp?.close(), hooks?.close(), stripe?.close(), identity?.close()]);
});

describe('a failing backup, end to end through the gateway', () => {
  it('is emailed, posted as a signed webhook, pushed in the app, and audited', { timeout: 180_000 }, async () => {
    const created = await gql(
      `mutation ($i: CreateNotificationEndpointInput!) { createNotificationEndpoint(input: $i) { secret endpoint { id } } }`,
      { i: { accountId: alice.accountId, kind: 'WEBHOOK', name: 'Ops', url: hooks.url, events: ['JOB_FAILED'] } },
    );
    hooks.setSecret(created.createNotificationEndpoint.secret);

    const pushed: any[] = [];
    const failures: unknown[] = [];
    ws.subscribe(
      { query: `subscription ($a: ID!) { notificationAdded(accountId: $a) { id event title read account { id name } } }`, variables: { a: alice.accountId } },
      { next: (value) => pushed.push(value), error: (error) => failures.push(error), complete: () => {} },
    );
    // Nothing is pushed before an event: the subscription is on once the gateway listens to the bus for it.
    await eventually('the subscription to start', () => {
      const stats = stack.gateway.subscriptions.stats();
      return (stats.subscribers > 0 && stats.busSubscriptions > 0) || failures.length ? true : undefined;
    });
    expect(failures).toEqual([]);
    bob = await signUp(stack, `bob-${randomUUID()}@example.com`, 'Bob');
    bobWs = createClient({ url: stack.gatewayUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { Authorization: `Bearer ${bob.accessToken}` } });
    bobWs.subscribe(
      { query: `subscription ($a: ID!) { notificationAdded(accountId: $a) { id } }`, variables: { a: bob.accountId } },
      { next: (value) => bobHeard.push(value), error: (error) => bobHeard.push(error), complete: () => {} },
    );
    await eventually('both subscriptions to start', () => (stack.gateway.subscriptions.stats().subscribers > 1 ? true : undefined));

    const { createApiKeyConnection: connection } = await gql(
      `mutation ($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id } }`,
      { input: { accountId: alice.accountId, platformSlug: 'stripe', name: 'Stripe', apiKey: STRIPE_KEY } },
    );
    const { createSource: source } = await gql(
      `mutation ($input: CreateSourceInput!) { createSource(input: $input) { id } }`,
      { input: { accountId: alice.accountId, connectionId: connection.id, name: 'Payments', resources: ['charges'], schedule: { kind: 'CRON', cron: '0 3 * * *' }, retention: { keepLast: 3 } } },
    );
    await gql(`mutation ($id: ID!) { revokeConnection(id: $id) { connection { status } } }`, { id: connection.id });
    // The schedule's backup of the revoked connection: it fails for good, without a retry.
    const { jobId } = await new JobsClient(stack.services.jobs.url, stack.internalTokenSecret).enqueueScheduledBackup({ accountId: alice.accountId, sourceId: source.id, idempotencyKey: randomUUID() });
    const failed = await eventually('the job to fail', async () => {
      const { job } = await gql(`query ($id: ID!) { job(id: $id) { status failureType } }`, { id: jobId });
      return job.status === 'FAILED' ? job : undefined;
    });
    expect(failed.failureType).toBe('CONFIG');

    // 1. An email to the verified member.
    const mail = await eventually('the email', () => smtp.to(alice.email).find((message) => /failed/i.test(message.subject ?? '')));
    expect(mail.subject).toBe('[ListBackup] A backup failed');
    expect(mail.text).toContain(`Job ${jobId} failed after 1 attempt (config)`);

    // 2. A webhook that the receiver verified, carrying the job.
    const hook = await eventually('the webhook', () => [...hooks.unique.values()].find((request) => request.body.data?.event?.type === 'job.failed' && request.raw.includes(jobId)));
    expect(hook.body.type).toBe('job.failed');
    expect(hook.headers['webhook-signature']).toMatch(/^v1,/);
    expect(hooks.verify(hook.raw, hook.headers)).toEqual(hook.body);
    // The same verification refuses a forged signature, an altered body and a stale timestamp.
    const forgedSignature = { ...hook.headers, 'webhook-signature': `v1,${Buffer.alloc(32, 7).toString('base64')}` };
    const stale = { ...hook.headers, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 3600) };
    expect(() => hooks.verify(hook.raw, forgedSignature)).toThrow();
    expect(() => hooks.verify(hook.raw.replace(jobId, randomUUID()), hook.headers)).toThrow();
    expect(() => hooks.verify(hook.raw, stale)).toThrow();

    // 3. The in-app notification, pushed over the subscription and listed as unread.
    const live = await eventually('the pushed notification', () => pushed.find((value) => value.data?.notificationAdded?.event === 'JOB_FAILED'));
    expect(live.errors).toBeUndefined();
    expect(live.data.notificationAdded).toMatchObject({ read: false, account: { id: alice.accountId } });
    const listed = await gql(`{ me { notifications(first: 10) { edges { node { id event } } } } }`);
    expect(listed.me.notifications.edges.map((edge: any) => edge.node)).toContainEqual({ id: live.data.notificationAdded.id, event: 'JOB_FAILED' });

    // 4. The audit entry of the failure.
    const audited = await eventually('the audit entry', async () => {
      const { account } = await gql(`query ($a: ID!) { account(id: $a) { auditLog(filter: { actions: ["job.failed"] }) { edges { node { action target { type id } actor { kind } } } } } }`, { a: alice.accountId });
      return account.auditLog.edges[0]?.node;
    });
    expect(audited).toEqual({ action: 'job.failed', target: { type: 'Job', id: jobId }, actor: { kind: 'SYSTEM' } });

    // Nobody else heard of it: another person's subscription to their own account got nothing.
    expect(bobHeard).toEqual([]);
  });

  it('a connection whose authorization expires within a week is announced by email and in the app', { timeout: 120_000 }, async () => {
    const { createApiKeyConnection: connection } = await gql(
      `mutation ($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id } }`,
      { input: { accountId: alice.accountId, platformSlug: 'stripe', name: 'Billing Stripe', apiKey: STRIPE_KEY } },
    );
    // As the platform would have said when it was authorized: this credential lasts three more days.
    const expiresAt = new Date(Date.now() + 3 * 86_400_000);
    await stack.services.platforms.orm.em.fork().execute('update platforms.connections set credential_expires_at = ? where id = ?', [expiresAt, connection.id]);
    // The platforms subgraph's hourly pass, run now.
    expect(await announceExpiringConnections(stack.services.platforms.orm, new Date())).toBe(1);

    const mail = await eventually('the expiry email', () => smtp.to(alice.email).find((message) => (message.subject ?? '').includes('Billing Stripe')));
    expect(mail.subject).toBe(`[ListBackup] Billing Stripe must be authorized again on ${expiresAt.toUTCString()}`);
    const listed = await eventually('the in-app notification', async () => {
      const { me } = await gql(`{ me { notifications(first: 20) { edges { node { event title } } } } }`);
      return me.notifications.edges.map((edge: any) => edge.node).find((node: any) => node.event === 'TOKEN_EXPIRING');
    });
    expect(listed.title).toBe(mail.subject!.replace('[ListBackup] ', ''));
    // A second pass announces nothing more.
    expect(await announceExpiringConnections(stack.services.platforms.orm, new Date())).toBe(0);
  });

  it('refuses another person’s subscription to the account with NOT_FOUND', async () => {
    const refused = await new Promise<unknown>((resolve) => {
      bobWs.subscribe(
        { query: `subscription ($a: ID!) { notificationAdded(accountId: $a) { id } }`, variables: { a: alice.accountId } },
        { next: resolve, error: resolve, complete: () => resolve('completed') },
      );
    });
    expect(JSON.stringify(refused)).toContain('NOT_FOUND');
  });
});
