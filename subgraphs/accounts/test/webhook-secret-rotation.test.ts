// Rotating a webhook endpoint's signing secret (docs/secrets.md): for a day every delivery carries a
// signature by the new and by the old secret, so a receiver on either verifies it; then the new alone.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { createEvent } from '@listbackup/lib/events/contract';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { createLogger } from '@listbackup/lib/logger';
import { outboundFetch } from '@listbackup/lib/outbound';
import { NotificationWorker } from '../src/delivery/worker.ts';
import { notifyOf } from '../src/services/notification-fanout.ts';
import { startWebhookReceiver, type WebhookReceiver } from './support/receivers.ts';
import { client, rows, seedUser, startHarness, type SeededUser, type TenancyHarness } from './tenancy-support.ts';

describe('webhook signing secret rotation', () => {
  let harness: TenancyHarness;
  let hooks: WebhookReceiver;
  let owner: SeededUser;
  let worker: NotificationWorker;
  const now = () => new Date();

  beforeAll(async () => {
    [harness, hooks] = await Promise.all([startHarness(), startWebhookReceiver()]);
    owner = await seedUser(harness.orm, 'rotate-owner');
    worker = new NotificationWorker({
      orm: harness.orm,
      bus: new InProcessEventBus(),
      log: createLogger('rotate-test', 'silent'),
      mailer: { smtpUrl: 'smtp://127.0.0.1:1', from: 'ListBackup <notifications@example.test>' },
      fetch: outboundFetch,
      now,
      random: () => 0.5,
    });
  });
  afterAll(async () => {
    await harness?.stop();
    await hooks?.close();
  });

  const failedBackup = () => {
    const jobId = randomUUID();
    const time = now().toISOString();
    return createEvent('job.failed', owner.account.id, jobId, {
      accountId: owner.account.id,
      sourceId: randomUUID(),
      jobId,
      job: { __typename: 'Job', id: jobId, kind: 'BACKUP', status: 'FAILED', attempts: 1, progress: { itemsDone: 0, itemsTotal: null, bytesDone: 0, bytesTotal: null, itemsPerSecond: null, bytesPerSecond: null, etaSeconds: null, percent: null }, failureType: 'CONFIG', failureReason: 'refused', partialSuccess: false, cancelRequested: false, createdAt: time, startedAt: time, finishedAt: time, nextAttemptAt: null },
    });
  };
  const deliverOne = async () => {
    await notifyOf(harness.orm, failedBackup(), now);
    await worker.deliverDue();
    return hooks.requests.at(-1)!;
  };

  it('signs with both secrets for a day, so receivers on the old and on the new one accept every delivery', async () => {
    const api = client(harness);
    const created = await api.gql(owner.principal, `mutation ($i: CreateNotificationEndpointInput!) { createNotificationEndpoint(input: $i) { secret endpoint { id } } }`, {
      i: { accountId: owner.account.id, name: 'Ops', kind: 'WEBHOOK', url: hooks.url, events: ['JOB_FAILED'] },
    });
    const { secret: oldSecret, endpoint } = created.data!.createNotificationEndpoint;
    hooks.setSecret(oldSecret);
    expect((await deliverOne()).headers['webhook-signature'].split(' ')).toHaveLength(1);

    const rotated = await api.gql(owner.principal, 'mutation ($id: ID!) { rotateNotificationEndpointSecret(id: $id) { secret } }', { id: endpoint.id });
    const newSecret = rotated.data!.rotateNotificationEndpointSecret.secret as string;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(oldSecret);

    // The receiver has not switched yet: still accepted.
    const during = await deliverOne();
    expect(during.headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(oldSecret).verify(during.raw, during.headers)).not.toThrow();
    expect(() => new Webhook(newSecret).verify(during.raw, during.headers)).not.toThrow();
    const refusedBefore = hooks.refused;
    hooks.setSecret(newSecret);
    const switched = await deliverOne();
    expect(hooks.refused).toBe(refusedBefore);
    expect(() => new Webhook(newSecret).verify(switched.raw, switched.headers)).not.toThrow();

    // Once the day is over the old secret no longer signs.
    await rows(harness.orm, "update accounts.notification_endpoints set previous_secret_until = now() - interval '1 minute' where id = ?", [endpoint.id]);
    const after = await deliverOne();
    expect(after.headers['webhook-signature'].split(' ')).toHaveLength(1);
    expect(() => new Webhook(newSecret).verify(after.raw, after.headers)).not.toThrow();
    expect(() => new Webhook(oldSecret).verify(after.raw, after.headers)).toThrow();
  });
});
