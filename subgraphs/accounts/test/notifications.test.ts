import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@listbackup/lib/logger';
import { createEvent } from '@listbackup/lib/events/contract';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { OutboxEvent } from '@listbackup/lib/events/outbox';
import { outboundFetch } from '@listbackup/lib/outbound';
import type { Principal } from '@listbackup/lib/principal';
import { NotificationWorker, RETRY_DELAYS_MS } from '../src/delivery/worker.ts';
import { notifyOf } from '../src/services/notification-fanout.ts';
import { startSmtpServer, startSlackReceiver, startWebhookReceiver, type Inbox, type SlackReceiver, type WebhookReceiver } from './support/receivers.ts';
import { client, errorCode, rows, seedUser, startHarness, type SeededUser, type TenancyHarness } from './tenancy-support.ts';

let harness: TenancyHarness;
let api: ReturnType<typeof client>;
let smtp: Inbox;
let hooks: WebhookReceiver;
let slack: SlackReceiver;
let owner: SeededUser;
let operator: SeededUser;
let unverified: SeededUser;
let clock = Date.now();
const now = () => new Date(clock);
let worker: NotificationWorker;
const reports: string[] = [];

beforeAll(async () => {
  [harness, smtp, hooks, slack] = await Promise.all([startHarness(), startSmtpServer(), startWebhookReceiver(), startSlackReceiver()]);
  api = client(harness);
  owner = await seedUser(harness.orm, 'notify-owner');
  operator = await seedUser(harness.orm, 'notify-operator');
  unverified = await seedUser(harness.orm, 'notify-unverified');
  for (const [user, role] of [
    [operator, 'OPERATOR'],
    [unverified, 'VIEWER'],
  ] as const) {
    await api.gql(owner.principal, 'mutation ($i: AddMemberInput!) { addMember(input: $i) { id } }', { i: { accountId: owner.account.id, email: user.email, role } });
  }
  await rows(harness.orm, 'update accounts.users set email_verified_at = now() where id in (?, ?)', [owner.user.id, operator.user.id]);
  worker = new NotificationWorker({
    orm: harness.orm,
    bus: new InProcessEventBus(),
    log: createLogger('notify-test', 'silent'),
    mailer: { smtpUrl: smtp.smtpUrl, from: 'ListBackup <notifications@example.test>' },
    fetch: outboundFetch,
    now,
    random: () => 0.5,
    onDelivery: (report) => reports.push(`${report.channel}:${report.outcome}`),
  });
});
afterAll(async () => {
  await harness?.stop();
  await Promise.all([smtp?.close(), hooks?.close(), slack?.close()]);
});

const ENDPOINT = `mutation ($i: CreateNotificationEndpointInput!) { createNotificationEndpoint(input: $i) { secret endpoint { id kind enabled events } } }`;

async function createEndpoint(principal: Principal, input: Record<string, unknown>) {
  return api.gql(principal, ENDPOINT, { i: { accountId: owner.account.id, name: 'Ops', events: ['JOB_FAILED'], ...input } });
}

function jobFailed(accountId: string, sourceId = randomUUID()) {
  const jobId = randomUUID();
  const time = new Date(clock).toISOString();
  return createEvent('job.failed', accountId, jobId, {
    accountId,
    sourceId,
    jobId,
    job: {
      __typename: 'Job',
      id: jobId,
      kind: 'BACKUP',
      status: 'FAILED',
      attempts: 3,
      progress: { itemsDone: 0, itemsTotal: null, bytesDone: 0, bytesTotal: null, itemsPerSecond: null, bytesPerSecond: null, etaSeconds: null, percent: null },
      failureType: 'CONFIG',
      failureReason: 'The platform refused the credentials',
      partialSuccess: false,
      cancelRequested: false,
      createdAt: time,
      startedAt: time,
      finishedAt: time,
      nextAttemptAt: null,
    },
  });
}

async function deliveriesOf(notificationId: string) {
  return rows<{ id: string; channel: string; status: string; attempts: number; recipient: string; next_attempt_at: Date | null }>(
    harness.orm,
    'select id, channel, status, attempts, recipient, next_attempt_at from accounts.notification_deliveries where notification_id = ? order by channel, recipient',
    [notificationId],
  );
}

let webhookEndpointId: string;

describe('endpoints', () => {
  it('a webhook is created once a signed test message reached it; its secret is shown once and verifies the signature', async () => {
    const created = await createEndpoint(owner.principal, { kind: 'WEBHOOK', url: hooks.url });
    // The receiver learns the secret from the answer: the test message before it was refused, and that is fine.
    expect(created.data!.createNotificationEndpoint.secret).toMatch(/^whsec_/);
    hooks.setSecret(created.data!.createNotificationEndpoint.secret);
    webhookEndpointId = created.data!.createNotificationEndpoint.endpoint.id;
    const listed = await api.gql(owner.principal, `{ account(id: "${owner.account.id}") { notificationEndpoints { id url enabled } } }`);
    expect(listed.data!.account.notificationEndpoints).toEqual([{ id: webhookEndpointId, url: hooks.url, enabled: true }]);
    expect(JSON.stringify(listed)).not.toContain('whsec_');
  });

  it('a Slack endpoint gets a Slack message as its test', async () => {
    const created = await createEndpoint(owner.principal, { kind: 'SLACK', url: slack.url, name: 'Slack #ops' });
    expect(created.data!.createNotificationEndpoint).toMatchObject({ secret: null, endpoint: { kind: 'SLACK', enabled: true } });
    expect(slack.messages.at(-1)!.text).toContain('ListBackup is connected');
  });

  it('refuses bad URLs with a stable code and stores nothing', async () => {
    const before = await rows(harness.orm, 'select id from accounts.notification_endpoints');
    const closed = await startWebhookReceiver();
    const closedUrl = closed.url;
    await closed.close();
    expect(errorCode(await createEndpoint(owner.principal, { kind: 'WEBHOOK', url: 'not a url' }))).toBe('INVALID_URL');
    expect(errorCode(await createEndpoint(owner.principal, { kind: 'WEBHOOK', url: 'ftp://example.com/hook' }))).toBe('INVALID_URL');
    expect(errorCode(await createEndpoint(owner.principal, { kind: 'WEBHOOK', url: 'https://user:pw@example.com/hook' }))).toBe('INVALID_URL');
    expect(errorCode(await createEndpoint(owner.principal, { kind: 'WEBHOOK', url: `https://example.com/${'x'.repeat(3_000)}` }))).toBe('INPUT_TOO_LARGE');
    expect(errorCode(await createEndpoint(owner.principal, { kind: 'WEBHOOK', url: closedUrl }))).toBe('ENDPOINT_UNREACHABLE');
    // Cloud metadata and other internal addresses are refused by the outbound guard, whatever answers there.
    expect(errorCode(await createEndpoint(owner.principal, { kind: 'WEBHOOK', url: 'http://169.254.169.254/latest/meta-data' }))).toBe('TARGET_NOT_ALLOWED');
    expect(errorCode(await createEndpoint(owner.principal, { kind: 'WEBHOOK', url: 'http://10.0.0.1:8080/hook' }))).toBe('TARGET_NOT_ALLOWED');
    expect(errorCode(await createEndpoint(owner.principal, { kind: 'SLACK', url: hooks.url }))).toBe('ENDPOINT_REJECTED');
    expect(errorCode(await createEndpoint(owner.principal, { kind: 'WEBHOOK', url: hooks.url, events: [] }))).toBe('BAD_USER_INPUT');
    expect(await rows(harness.orm, 'select id from accounts.notification_endpoints')).toEqual(before);
  });

  it('refuses plain http in production', async () => {
    const production = await startHarness({ requireHttps: true });
    try {
      const someone = await seedUser(production.orm, 'notify-prod');
      const response = await client(production).gql(someone.principal, ENDPOINT, { i: { accountId: someone.account.id, name: 'x', kind: 'WEBHOOK', url: hooks.url, events: ['JOB_FAILED'] } });
      expect(errorCode(response)).toBe('HTTPS_REQUIRED');
      expect(await rows(production.orm, 'select id from accounts.notification_endpoints')).toEqual([]);
    } finally {
      await production.stop();
    }
  });
});

describe('a failing backup', () => {
  it('is emailed to verified members, posted signed to the webhook and to Slack, and listed in each member\'s app', async () => {
    const notification = await notifyOf(harness.orm, jobFailed(owner.account.id), now);
    expect(notification).toMatchObject({ event: 'JOB_FAILED', title: 'A backup failed' });
    const deliveries = await deliveriesOf(notification!.id);
    expect(deliveries.map((d) => `${d.channel}:${d.recipient}`).sort()).toEqual([`EMAIL:${operator.email}`, `EMAIL:${owner.email}`, `SLACK:${slack.url}`, `WEBHOOK:${hooks.url}`].sort());

    const before = { mail: smtp.messages.length, hooks: hooks.requests.length, slack: slack.messages.length };
    expect(await worker.deliverDue()).toBe(4);
    expect(smtp.messages.length - before.mail).toBe(2);
    const [mail] = smtp.to(operator.email);
    expect(mail.subject).toBe('[ListBackup] A backup failed');
    expect(mail.text).toContain('The platform refused the credentials');
    expect(smtp.to(unverified.email)).toEqual([]);

    const webhook = hooks.requests.at(-1)!;
    expect(hooks.requests.length - before.hooks).toBe(1);
    expect(webhook.body).toMatchObject({ type: 'job.failed', data: { accountId: owner.account.id, title: 'A backup failed', event: { type: 'job.failed' } } });
    expect(webhook.id).toBe(deliveries.find((d) => d.channel === 'WEBHOOK')!.id);
    // The receiver's own verification refuses a forged body, a forged signature and a stale timestamp.
    expect(() => hooks.verify(webhook.raw.replace('A backup failed', 'All is well'), webhook.headers)).toThrow();
    expect(() => hooks.verify(webhook.raw, { ...webhook.headers, 'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')}` })).toThrow();
    expect(() => hooks.verify(webhook.raw, { ...webhook.headers, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 3600) })).toThrow();
    expect(slack.messages.length - before.slack).toBe(1);
    expect(slack.messages.at(-1)!.text).toContain('A backup failed');

    expect((await deliveriesOf(notification!.id)).every((d) => d.status === 'DELIVERED')).toBe(true);
    for (const user of [owner, operator, unverified]) {
      const inbox = await api.gql(user.principal, `{ me { unreadNotificationCount notifications(accountId: "${owner.account.id}", first: 5) { edges { node { id title read event account { id } } } } } }`);
      expect(inbox.data!.me.notifications.edges[0].node).toMatchObject({ title: 'A backup failed', read: false, event: 'JOB_FAILED', account: { id: owner.account.id } });
    }
    const log = await api.gql(
      owner.principal,
      `{ account(id: "${owner.account.id}") { notificationEndpoints { kind deliveries(first: 5) { edges { node { status event title attemptLog { succeeded responseCode latencyMs } } } } } } }`,
    );
    const webhookLog = log.data!.account.notificationEndpoints.find((e: any) => e.kind === 'WEBHOOK').deliveries.edges[0].node;
    expect(webhookLog).toMatchObject({ status: 'DELIVERED', event: 'JOB_FAILED', attemptLog: [{ succeeded: true, responseCode: 204, latencyMs: expect.any(Number) }] });
    expect(reports).toContain('WEBHOOK:delivered');
  });

  it('once per event, however often the event is delivered', async () => {
    const event = jobFailed(owner.account.id);
    const first = await notifyOf(harness.orm, event, now);
    expect(await notifyOf(harness.orm, event, now)).toBeNull();
    expect((await deliveriesOf(first!.id)).length).toBe(4);
    await worker.deliverDue();
  });

  it('follows each person\'s opt-out and the account\'s rule', async () => {
    await api.gql(operator.principal, 'mutation { setNotificationPreference(preference: { event: JOB_FAILED, email: false, inApp: true }) { email } }');
    const optedOut = await notifyOf(harness.orm, jobFailed(owner.account.id), now);
    expect((await deliveriesOf(optedOut!.id)).filter((d) => d.channel === 'EMAIL').map((d) => d.recipient)).toEqual([owner.email]);
    await api.gql(owner.principal, `mutation { setNotificationRule(accountId: "${owner.account.id}", rule: { event: JOB_FAILED, email: false, inApp: false }) { email } }`);
    const ruled = await notifyOf(harness.orm, jobFailed(owner.account.id), now);
    expect((await deliveriesOf(ruled!.id)).map((d) => d.channel).sort()).toEqual(['SLACK', 'WEBHOOK']);
    await api.gql(owner.principal, `mutation { setNotificationRule(accountId: "${owner.account.id}", rule: { event: JOB_FAILED, email: true, inApp: true }) { email } }`);
    await api.gql(operator.principal, 'mutation { setNotificationPreference(preference: { event: JOB_FAILED, email: true, inApp: true }) { email } }');
    await worker.deliverDue();
  });
});

describe('delivery', () => {
  it('retries a failing webhook with exponential backoff and jitter, then delivers, each attempt in the log', async () => {
    hooks.answer = 503;
    const notification = await notifyOf(harness.orm, jobFailed(owner.account.id), now);
    await worker.deliverDue();
    let [webhook] = (await deliveriesOf(notification!.id)).filter((d) => d.channel === 'WEBHOOK');
    expect(webhook).toMatchObject({ status: 'RETRYING', attempts: 1 });
    expect(new Date(webhook.next_attempt_at!).getTime() - clock).toBe(RETRY_DELAYS_MS[0]);
    expect(await worker.deliverDue()).toBe(0); // not due yet
    clock += RETRY_DELAYS_MS[0];
    await worker.deliverDue();
    [webhook] = (await deliveriesOf(notification!.id)).filter((d) => d.channel === 'WEBHOOK');
    expect(webhook).toMatchObject({ status: 'RETRYING', attempts: 2 });
    expect(new Date(webhook.next_attempt_at!).getTime() - clock).toBe(RETRY_DELAYS_MS[1]);
    hooks.answer = 204;
    clock += RETRY_DELAYS_MS[1];
    await worker.deliverDue();
    [webhook] = (await deliveriesOf(notification!.id)).filter((d) => d.channel === 'WEBHOOK');
    expect(webhook).toMatchObject({ status: 'DELIVERED', attempts: 3 });
    const attempts = await rows<{ succeeded: boolean; response_code: number }>(harness.orm, 'select succeeded, response_code from accounts.notification_delivery_attempts where delivery_id = ? order by attempted_at', [webhook.id]);
    expect(attempts).toEqual([
      { succeeded: false, response_code: 503 },
      { succeeded: false, response_code: 503 },
      { succeeded: true, response_code: 204 },
    ]);
    expect(hooks.unique.has(webhook.id)).toBe(true);
    expect(hooks.requests.filter((request) => request.id === webhook.id)).toHaveLength(3);
  });

  it('gives up after about a day: the dead letter, the endpoint turned off, and the owners told; redelivery once fixed', async () => {
    // Failing, either by its answer or (once the test clock is hours ahead of the receiver's) by refusing the timestamp as stale.
    hooks.answer = 500;
    const notification = await notifyOf(harness.orm, jobFailed(owner.account.id), now);
    const started = clock;
    await worker.deliverDue();
    for (const delay of RETRY_DELAYS_MS) {
      clock += delay;
      await worker.deliverDue();
    }
    expect(clock - started).toBeGreaterThan(20 * 3_600_000);
    const [webhook] = (await deliveriesOf(notification!.id)).filter((d) => d.channel === 'WEBHOOK');
    expect(webhook).toMatchObject({ status: 'DEAD', attempts: RETRY_DELAYS_MS.length + 1 });
    const endpoint = await api.gql(owner.principal, `{ account(id: "${owner.account.id}") { notificationEndpoints { id kind enabled disabledReason } notificationDeadLetters { edges { node { id channel status } } } } }`);
    expect(endpoint.data!.account.notificationEndpoints.find((e: any) => e.kind === 'WEBHOOK')).toMatchObject({ enabled: false, disabledReason: expect.stringMatching(/^10 attempts over a day failed; the last: HTTP (500|400)/) });
    expect(endpoint.data!.account.notificationDeadLetters.edges.map((edge: any) => edge.node.id)).toContain(webhook.id);

    // The account is told: the disable event becomes an ENDPOINT_DISABLED notification for owners and admins.
    const [disabled] = await harness.orm.em.fork().find(OutboxEvent, { type: 'notification.endpoint_disabled', subject: webhookEndpointId });
    const told = await notifyOf(harness.orm, { id: disabled.id, type: disabled.type, accountId: disabled.accountId, subject: disabled.subject, time: disabled.time.toISOString(), data: disabled.data }, now);
    expect(told).toMatchObject({ event: 'ENDPOINT_DISABLED' });
    expect((await deliveriesOf(told!.id)).map((d) => `${d.channel}:${d.recipient}`)).toEqual([`EMAIL:${owner.email}`]);

    // Nothing more goes to it until it is fixed and enabled; then the dead letter can go again.
    const stillOff = await api.gql(owner.principal, 'mutation ($d: ID!) { redeliverNotification(deliveryId: $d) { status } }', { d: webhook.id });
    expect(errorCode(stillOff)).toBe('ENDPOINT_DISABLED');
    hooks.answer = 204;
    await api.gql(owner.principal, 'mutation ($id: ID!) { updateNotificationEndpoint(id: $id, input: { enabled: true }) { enabled } }', { id: webhookEndpointId });
    const again = await api.gql(owner.principal, 'mutation ($d: ID!) { redeliverNotification(deliveryId: $d) { status } }', { d: webhook.id });
    expect(again.data!.redeliverNotification.status).toBe('PENDING');
    clock = Date.now(); // back to the receiver's time, or it refuses the timestamp as stale
    await worker.deliverDue();
    expect((await deliveriesOf(notification!.id)).find((d) => d.channel === 'WEBHOOK')!.status).toBe('DELIVERED');
  });

  it('a worker killed mid-delivery is replaced, and the receiver keeps exactly one copy', async () => {
    const notification = await notifyOf(harness.orm, jobFailed(owner.account.id), now);
    // The in-process worker's clock is hours ahead; this one runs on real time, in its own processes.
    await rows(harness.orm, `update accounts.notification_deliveries set next_attempt_at = now() where notification_id = ?`, [notification!.id]);
    const [webhook] = (await deliveriesOf(notification!.id)).filter((d) => d.channel === 'WEBHOOK');
    const uniqueBefore = hooks.unique.size;
    hooks.answer = 'hang';
    const arrived = hooks.nextRequest();
    const first = await startDeliveryProcess();
    await arrived;
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    hooks.answer = 204;
    const second = await startDeliveryProcess();
    try {
      const deadline = Date.now() + 15_000;
      while ((await deliveriesOf(notification!.id)).some((d) => d.status !== 'DELIVERED')) {
        if (Date.now() > deadline) throw new Error('the second worker never delivered');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      second.kill('SIGKILL');
    }
    expect(hooks.requests.filter((request) => request.id === webhook.id)).toHaveLength(2);
    expect(hooks.unique.size - uniqueBefore).toBe(1);
    const ownerMail = (await deliveriesOf(notification!.id)).find((d) => d.recipient === owner.email)!;
    expect(smtp.messages.filter((mail) => mail.messageId === `<${ownerMail.id}@notifications.listbackup>`)).toHaveLength(1);
  });
});

function startDeliveryProcess(): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('./support/delivery-process.ts', import.meta.url));
  const child = fork(script, [], { env: { ...process.env, DATABASE_URL: harness.databaseUrl, SMTP_URL: smtp.smtpUrl, LEASE_MS: '1500' }, stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`delivery process exited with ${code}`)));
  });
}

describe('tenant isolation', () => {
  it('endpoints, rules, dead letters, deliveries and in-app notifications of another account or person are not found', async () => {
    const stranger = await seedUser(harness.orm, 'notify-stranger');
    const account = owner.account.id;
    for (const field of ['notificationEndpoints { id }', 'notificationRules { event }', 'notificationDeadLetters { edges { cursor } }']) {
      expect(errorCode(await api.gql(stranger.principal, `{ account(id: "${account}") { ${field} } }`))).toBe('NOT_FOUND');
    }
    expect(errorCode(await api.gql(stranger.principal, 'mutation ($id: ID!) { updateNotificationEndpoint(id: $id, input: { name: "mine" }) { id } }', { id: webhookEndpointId }))).toBe('NOT_FOUND');
    expect(errorCode(await api.gql(stranger.principal, 'mutation ($id: ID!) { rotateNotificationEndpointSecret(id: $id) { secret } }', { id: webhookEndpointId }))).toBe('NOT_FOUND');
    expect(errorCode(await api.gql(stranger.principal, 'mutation ($id: ID!) { deleteNotificationEndpoint(id: $id) }', { id: webhookEndpointId }))).toBe('NOT_FOUND');
    const [delivery] = await rows<{ id: string }>(harness.orm, 'select id from accounts.notification_deliveries where account_id = ? limit 1', [account]);
    expect(errorCode(await api.gql(stranger.principal, 'mutation ($d: ID!) { redeliverNotification(deliveryId: $d) { id } }', { d: delivery.id }))).toBe('NOT_FOUND');
    expect(errorCode(await api.gql(stranger.principal, `mutation { setNotificationRule(accountId: "${account}", rule: { event: JOB_FAILED, email: false, inApp: false }) { email } }`))).toBe('NOT_FOUND');
    // An operator of the account is not an admin: endpoints are not theirs to see.
    expect(errorCode(await api.gql(operator.principal, `{ account(id: "${account}") { notificationEndpoints { id } } }`))).toBe('FORBIDDEN');

    const [item] = await rows<{ id: string }>(harness.orm, 'select id from accounts.notification_inbox where user_id = ? limit 1', [owner.user.id]);
    const entities = 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Notification { title } } }';
    expect(errorCode(await api.gql(stranger.principal, entities, { r: [{ __typename: 'Notification', id: item.id }] }))).toBe('NOT_FOUND');
    expect(errorCode(await api.gql(operator.principal, entities, { r: [{ __typename: 'Notification', id: item.id }] }))).toBe('NOT_FOUND');
    expect((await api.gql(owner.principal, entities, { r: [{ __typename: 'Notification', id: item.id }] })).data!._entities[0].title).toBeTruthy();
    const mark = 'mutation ($ids: [ID!]) { markNotificationsRead(ids: $ids) }';
    const [strangerItem] = await rows<{ id: string }>(harness.orm, 'insert into accounts.notification_inbox (id, notification_id, account_id, user_id, created_at) select gen_random_uuid(), notification_id, account_id, ?, now() from accounts.notification_inbox where id = ? returning id', [stranger.user.id, item.id]);
    const unread = async () => (await rows<{ id: string }>(harness.orm, 'select id from accounts.notification_inbox where read_at is null and id in (?, ?)', [item.id, strangerItem.id])).length;
    expect(await unread()).toBe(2);
    // Another person's id, alone or beside one's own, an unknown and a malformed id: NOT_FOUND, and nothing is marked.
    for (const ids of [[item.id], [strangerItem.id, item.id], [randomUUID()], ['not-an-id']]) {
      expect(errorCode(await api.gql(stranger.principal, mark, { ids }))).toBe('NOT_FOUND');
    }
    expect(await unread()).toBe(2);
    expect(await api.gql(stranger.principal, mark, { ids: [strangerItem.id] })).toMatchObject({ data: { markNotificationsRead: 1 } });
    expect(await unread()).toBe(1);
    await rows(harness.orm, 'delete from accounts.notification_inbox where id = ?', [strangerItem.id]);
    expect((await api.gql(stranger.principal, '{ me { notifications { edges { cursor } } } }')).data!.me.notifications.edges).toEqual([]);
    expect(errorCode(await api.gql(stranger.principal, `{ me { notifications(accountId: "${account}") { edges { cursor } } } }`))).toBe('NOT_FOUND');
  });

  it('marks one\'s own notifications read', async () => {
    const marked = await api.gql(owner.principal, `mutation { markNotificationsRead(accountId: "${owner.account.id}") }`);
    expect(marked.data!.markNotificationsRead).toBeGreaterThan(0);
    expect((await api.gql(owner.principal, '{ me { unreadNotificationCount } }')).data!.me.unreadNotificationCount).toBe(0);
  });
});
