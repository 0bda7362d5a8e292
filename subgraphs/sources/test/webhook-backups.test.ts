import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@listbackup/lib/logger';
import { createEvent } from '@listbackup/lib/events/contract';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { startSources } from '../src/index.ts';
import { Source } from '../src/entities/source.ts';
import { JobsClient } from '../src/clients/jobs-client.ts';
import { createSourceRecord } from '../src/services/source-service.ts';
import { handleAccountEvent } from '../src/events/account-holds.ts';
import { handleWebhookEvent } from '../src/events/webhook-backups.ts';
import { startJobs } from '../../jobs/src/index.ts';
import { Job } from '../../jobs/src/entities/job.ts';
import { newSecret, startTestSubgraph, type TestSubgraph } from '../../jobs/test/support/subgraph-harness.ts';

const COALESCE_MS = 10 * 60_000;

describe('backups asked for by platform webhooks', () => {
  let jobs: TestSubgraph;
  let sources: TestSubgraph;
  let client: JobsClient;
  const bus = new InProcessEventBus();
  const log = createLogger('test', 'silent');

  const jobsOf = (sourceId: string) => jobs.service.orm.em.fork().find(Job, { sourceId }, { orderBy: { createdAt: 'asc' } });
  const source = (overrides: Partial<Parameters<typeof createSourceRecord>[1]> = {}) =>
    createSourceRecord(sources.service.orm.em.fork(), {
      accountId: randomUUID(),
      connectionId: randomUUID(),
      name: 'Repositories',
      resources: ['issues', 'pull_requests'],
      schedule: { kind: 'MANUAL' },
      ...overrides,
    });
  const webhook = (accountId: string, connectionId: string, resources: string[], deliveryId = randomUUID()) =>
    createEvent('connection.webhook_received', accountId, connectionId, {
      connectionId,
      platformId: randomUUID(),
      platform: 'github',
      name: 'GitHub',
      authType: 'OAUTH2',
      status: 'AUTHORIZED',
      deliveryId,
      eventType: 'issues',
      resources,
    });
  const handle = (event: ReturnType<typeof webhook>) => handleWebhookEvent({ orm: sources.service.orm, jobs: client, log, coalesceMs: COALESCE_MS }, event);

  beforeAll(async () => {
    const secret = newSecret();
    jobs = await startTestSubgraph('jobs', (runtime) => startJobs(runtime, { sourcesUrl: 'http://127.0.0.1:9' }), { secret });
    sources = await startTestSubgraph('sources', (runtime) => startSources(runtime, { platformsUrl: 'http://127.0.0.1:9/graphql', jobsUrl: jobs.url, scheduler: false }), { secret, bus });
    client = new JobsClient(jobs.url, secret);
  });
  afterAll(async () => {
    await sources?.close();
    await jobs?.close();
    await bus.close();
  });

  it('queues one incremental backup of the source, delayed by the window, however many webhooks arrive while it waits', async () => {
    const repo = await source();
    const before = Date.now();
    const asked = [];
    for (let i = 0; i < 100; i++) asked.push(await handle(webhook(repo.accountId, repo.connectionId, ['issues'])));
    expect(asked).toEqual(Array(100).fill(1));
    const queued = await jobsOf(repo.id);
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ kind: 'BACKUP', status: 'QUEUED', accountId: repo.accountId, triggerKind: 'WEBHOOK', params: {} });
    // The pg-boss message waits out the window: a worker would not take it before then.
    const [message] = await jobs.service.orm.em
      .fork()
      .getConnection()
      .execute<{ start_after: string }[]>(`select start_after from pgboss.job where id = ?`, [queued[0]!.queueJobId]);
    expect(new Date(message!.start_after).getTime()).toBeGreaterThanOrEqual(before + COALESCE_MS - 1_000);
  });

  it('applies a redelivered event once', async () => {
    const repo = await source();
    const event = webhook(repo.accountId, repo.connectionId, ['pull_requests']);
    expect(await handle(event)).toBe(1);
    expect(await handle(event)).toBeNull();
    expect(await jobsOf(repo.id)).toHaveLength(1);
  });

  it('queues nothing for a source without the changed resource, a paused or deleted source, or an empty resource list', async () => {
    const connectionId = randomUUID();
    const accountId = randomUUID();
    const other = await source({ accountId, connectionId, resources: ['releases'] });
    const paused = await source({ accountId, connectionId, paused: true });
    const deleted = await source({ accountId, connectionId });
    await sources.service.orm.em.fork().nativeUpdate(Source, { id: deleted.id }, { deletedAt: new Date() });
    expect(await handle(webhook(accountId, connectionId, ['issues']))).toBe(0);
    expect(await handle(webhook(accountId, connectionId, []))).toBe(0);
    for (const row of [other, paused, deleted]) expect(await jobsOf(row.id)).toEqual([]);
  });

  it('backs up every source of the connection that includes a changed resource, and only in the event’s account', async () => {
    const accountId = randomUUID();
    const connectionId = randomUUID();
    const first = await source({ accountId, connectionId, resources: ['issues'] });
    const second = await source({ accountId, connectionId, resources: ['pull_requests', 'releases'] });
    // Another tenant's source naming the same connection id (ids are random, so only a forged row could): never touched.
    const foreign = await source({ connectionId });
    expect(await handle(webhook(accountId, connectionId, ['issues', 'pull_requests']))).toBe(2);
    expect(await jobsOf(first.id)).toHaveLength(1);
    expect(await jobsOf(second.id)).toHaveLength(1);
    expect(await jobsOf(foreign.id)).toEqual([]);
  });

  it('queues nothing for a suspended account, and again once it is resumed', async () => {
    const repo = await source();
    const accounts = { accountId: repo.accountId, accountIds: [repo.accountId], by: 'operator' as const };
    await handleAccountEvent(sources.service.orm, log, createEvent('account.suspended', repo.accountId, repo.accountId, { ...accounts, reason: null }));
    expect(await handle(webhook(repo.accountId, repo.connectionId, ['issues']))).toBe(0);
    expect(await jobsOf(repo.id)).toEqual([]);
    await handleAccountEvent(sources.service.orm, log, createEvent('account.resumed', repo.accountId, repo.accountId, accounts));
    expect(await handle(webhook(repo.accountId, repo.connectionId, ['issues']))).toBe(1);
    expect(await jobsOf(repo.id)).toHaveLength(1);
  });

  it('reaches the consumer through the bus', async () => {
    const repo = await source();
    await bus.publish(webhook(repo.accountId, repo.connectionId, ['issues']));
    const deadline = Date.now() + 30_000;
    while ((await jobsOf(repo.id)).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await jobsOf(repo.id)).toHaveLength(1);
  });
});
