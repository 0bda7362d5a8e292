/**
 * Each rule of notifications, from the event that feeds it to who is told and how: a backup that
 * succeeds after a failure, one that skipped items, a connection that needs authorizing again or
 * whose authorization is about to expire, the storage quota at 80% and 100%, a flagged snapshot,
 * and a failed payment (owners only). The account's rule and each person's preference choose the
 * channels; endpoints subscribed to a kind get it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent, type EventDataInput } from '@listbackup/lib/events/contract';
import { notifyOf } from '../src/services/notification-fanout.ts';
import { startWebhookReceiver, type WebhookReceiver } from './support/receivers.ts';
import { client, rows, seedUser, startHarness, type SeededUser, type TenancyHarness } from './tenancy-support.ts';

let harness: TenancyHarness;
let api: ReturnType<typeof client>;
let hooks: WebhookReceiver;
let owner: SeededUser;
let admin: SeededUser;
let viewer: SeededUser;
let account: string;

beforeAll(async () => {
  [harness, hooks] = await Promise.all([startHarness(), startWebhookReceiver()]);
  api = client(harness);
  owner = await seedUser(harness.orm, 'rules-owner');
  admin = await seedUser(harness.orm, 'rules-admin');
  viewer = await seedUser(harness.orm, 'rules-viewer');
  account = owner.account.id;
  for (const [user, role] of [
    [admin, 'ADMIN'],
    [viewer, 'VIEWER'],
  ] as const) {
    await api.gql(owner.principal, 'mutation ($i: AddMemberInput!) { addMember(input: $i) { id } }', { i: { accountId: account, email: user.email, role } });
  }
  await rows(harness.orm, 'update accounts.users set email_verified_at = now() where id in (?, ?, ?)', [owner.user.id, admin.user.id, viewer.user.id]);
});
afterAll(async () => {
  await harness?.stop();
  await hooks?.close();
});

type JobInput = EventDataInput<'job.completed'>['job'];

function jobEvent(type: 'job.failed' | 'job.completed', sourceId: string, job: Partial<JobInput> = {}) {
  const jobId = randomUUID();
  const time = new Date().toISOString();
  return createEvent(type, account, jobId, {
    accountId: account,
    sourceId,
    jobId,
    job: {
      __typename: 'Job',
      id: jobId,
      kind: 'BACKUP',
      status: type === 'job.failed' ? 'FAILED' : 'SUCCEEDED',
      attempts: 1,
      progress: { itemsDone: 10, itemsTotal: 10, bytesDone: 100, bytesTotal: 100, itemsPerSecond: null, bytesPerSecond: null, etaSeconds: null, percent: 100 },
      failureType: type === 'job.failed' ? 'TRANSIENT' : null,
      failureReason: type === 'job.failed' ? 'The platform kept answering 503' : null,
      partialSuccess: false,
      cancelRequested: false,
      createdAt: time,
      startedAt: time,
      finishedAt: time,
      nextAttemptAt: null,
      ...job,
    },
  });
}

const connection = { connectionId: randomUUID(), platformId: randomUUID(), platform: 'hubspot', name: 'Sales CRM', authType: 'OAUTH2' };

/** Who got the notification, by channel: `inApp` and `email` hold user ids. */
async function audience(notificationId: string) {
  const inbox = await rows<{ user_id: string }>(harness.orm, 'select user_id from accounts.notification_inbox where notification_id = ?', [notificationId]);
  const deliveries = await rows<{ channel: string; user_id: string | null; recipient: string }>(harness.orm, 'select channel, user_id, recipient from accounts.notification_deliveries where notification_id = ?', [
    notificationId,
  ]);
  return {
    inApp: inbox.map((row) => row.user_id).sort(),
    email: deliveries.filter((d) => d.channel === 'EMAIL').map((d) => d.user_id!).sort(),
    endpoints: deliveries.filter((d) => d.channel !== 'EMAIL').map((d) => d.recipient),
  };
}

const everyone = () => [owner.user.id, admin.user.id, viewer.user.id].sort();

describe('job outcomes', () => {
  it('a backup that succeeds after a failure is a recovery, told once; an ordinary success is not news', async () => {
    const source = randomUUID();
    expect(await notifyOf(harness.orm, jobEvent('job.completed', source))).toBeNull();
    expect(await notifyOf(harness.orm, jobEvent('job.failed', source))).toMatchObject({ event: 'JOB_FAILED' });
    const recovered = await notifyOf(harness.orm, jobEvent('job.completed', source));
    expect(recovered).toMatchObject({ event: 'JOB_RECOVERED', title: 'A backup succeeded again' });
    // The default rule: in the app only.
    expect(await audience(recovered!.id)).toEqual({ inApp: everyone(), email: [], endpoints: [] });
    expect(await notifyOf(harness.orm, jobEvent('job.completed', source))).toBeNull();
    // Another source's failure does not make this source's next success a recovery.
    await notifyOf(harness.orm, jobEvent('job.failed', randomUUID()));
    expect(await notifyOf(harness.orm, jobEvent('job.completed', source))).toBeNull();
  });

  it('a backup that skipped items is told as partly succeeded', async () => {
    const partial = await notifyOf(harness.orm, jobEvent('job.completed', randomUUID(), { partialSuccess: true }));
    expect(partial).toMatchObject({ event: 'JOB_PARTIALLY_SUCCEEDED', title: 'A backup finished with items skipped' });
    expect((await audience(partial!.id)).inApp).toEqual(everyone());
  });
});

describe('connections', () => {
  it('one that needs authorizing again says so, by email and in the app', async () => {
    const failed = createEvent('connection.failed', account, connection.connectionId, { ...connection, status: 'EXPIRED', code: 'TOKEN_REFRESH_REFUSED', message: 'HubSpot refused to refresh the access.' });
    const notification = await notifyOf(harness.orm, failed);
    expect(notification).toMatchObject({ event: 'CONNECTION_FAILED', title: 'Sales CRM needs to be authorized again' });
    expect(await audience(notification!.id)).toEqual({ inApp: everyone(), email: everyone(), endpoints: [] });
  });

  it('one whose authorization expires soon is TOKEN_EXPIRING, with the date, to the endpoints that asked for it', async () => {
    const created = await api.gql(owner.principal, 'mutation ($i: CreateNotificationEndpointInput!) { createNotificationEndpoint(input: $i) { secret endpoint { events } } }', {
      i: { accountId: account, kind: 'WEBHOOK', name: 'Expiry', url: hooks.url, events: ['TOKEN_EXPIRING', 'PAYMENT_FAILED'] },
    });
    expect(created.data!.createNotificationEndpoint.endpoint.events).toEqual(['TOKEN_EXPIRING', 'PAYMENT_FAILED']);
    const expiresAt = new Date(Date.now() + 5 * 86_400_000);
    const expiring = createEvent('connection.expiring', account, connection.connectionId, {
      ...connection,
      status: 'AUTHORIZED',
      reason: 'CREDENTIAL_EXPIRES',
      expiresAt: expiresAt.toISOString(),
      message: 'HubSpot said its refresh token lasts until then.',
    });
    const notification = await notifyOf(harness.orm, expiring);
    expect(notification).toMatchObject({ event: 'TOKEN_EXPIRING', title: `Sales CRM must be authorized again on ${expiresAt.toUTCString()}` });
    expect(await audience(notification!.id)).toEqual({ inApp: everyone(), email: everyone(), endpoints: [hooks.url] });
    expect(await notifyOf(harness.orm, expiring)).toBeNull();

    // The account's rule and a person's preference take TOKEN_EXPIRING like any kind.
    await api.gql(owner.principal, `mutation { setNotificationRule(accountId: "${account}", rule: { event: TOKEN_EXPIRING, email: false, inApp: true }) { event } }`);
    await api.gql(viewer.principal, 'mutation { setNotificationPreference(preference: { event: TOKEN_EXPIRING, email: true, inApp: false }) { event } }');
    const failing = createEvent('connection.expiring', account, connection.connectionId, {
      ...connection,
      status: 'AUTHORIZED',
      reason: 'REFRESH_FAILING',
      expiresAt: null,
      message: 'Refreshing has failed for a day: HTTP 500 from the token endpoint.',
    });
    const second = await notifyOf(harness.orm, failing);
    expect(second).toMatchObject({ event: 'TOKEN_EXPIRING', title: 'Sales CRM must be authorized again soon' });
    expect(second!.body).toContain('keeps failing');
    expect(await audience(second!.id)).toEqual({ inApp: [owner.user.id, admin.user.id].sort(), email: [], endpoints: [hooks.url] });
  });
});

describe('the account', () => {
  it('storage at 80% warns and at 100% says the quota is reached', async () => {
    const quota = (threshold: 80 | 100) => createEvent('billing.quota_reached', account, account, { accountId: account, threshold, usedBytes: threshold * 10 * 1024 ** 3 / 100, quotaBytes: 10 * 1024 ** 3 });
    expect(await notifyOf(harness.orm, quota(80))).toMatchObject({ event: 'QUOTA_WARNING', title: 'Storage quota 80% used' });
    const reached = await notifyOf(harness.orm, quota(100));
    expect(reached).toMatchObject({ event: 'QUOTA_REACHED', title: 'Storage quota reached' });
    expect(reached!.body).toContain('10.0 GiB of the 10.0 GiB');
  });

  it('a flagged snapshot is ANOMALY_DETECTED, naming the share and the snapshot', async () => {
    const snapshotId = randomUUID();
    const anomaly = createEvent('snapshot.anomaly_detected', account, snapshotId, {
      accountId: account,
      sourceId: randomUUID(),
      snapshotId,
      jobId: randomUUID(),
      kind: 'MASS_DELETION',
      share: 0.62,
      typicalShare: 0.01,
      reason: '62% of the items were deleted; this source usually moves 1%.',
      changes: { previousItems: 1000, added: 0, changed: 3, deleted: 620 },
    });
    const notification = await notifyOf(harness.orm, anomaly);
    expect(notification).toMatchObject({ event: 'ANOMALY_DETECTED', title: 'A backup found 62% of items deleted' });
    expect(notification!.body).toContain(snapshotId);
    expect(await audience(notification!.id)).toMatchObject({ inApp: everyone(), email: everyone() });
  });

  it('a failed payment is PAYMENT_FAILED, told to the owners only (and to endpoints that asked)', async () => {
    const overdueAt = new Date(Date.now() + 14 * 86_400_000);
    const failed = createEvent('billing.payment_failed', account, randomUUID(), { accountId: account, invoiceId: 'inv_123', attempts: 4, reason: 'Your card was declined.', overdueAt: overdueAt.toISOString() });
    const notification = await notifyOf(harness.orm, failed);
    expect(notification).toMatchObject({ event: 'PAYMENT_FAILED', title: 'A payment failed' });
    expect(notification!.body).toContain('Your card was declined.');
    expect(notification!.body).toContain(overdueAt.toUTCString());
    expect(await audience(notification!.id)).toEqual({ inApp: [owner.user.id], email: [owner.user.id], endpoints: [hooks.url] });
    const inbox = async (who: SeededUser) => (await api.gql(who.principal, `{ me { notifications(accountId: "${account}", first: 1) { edges { node { event } } } } }`)).data!.me.notifications.edges;
    expect((await inbox(owner))[0].node.event).toBe('PAYMENT_FAILED');
    expect((await inbox(admin))[0]?.node.event).not.toBe('PAYMENT_FAILED');
  });
});
