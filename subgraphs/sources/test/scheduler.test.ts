import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Orm } from '@listbackup/lib/db';
import { createLogger } from '@listbackup/lib/logger';
import { startSources } from '../src/index.ts';
import { database } from '../src/database.ts';
import { Source } from '../src/entities/source.ts';
import { JobsClient } from '../src/clients/jobs-client.ts';
import { SourceScheduler } from '../src/scheduler.ts';
import { createSourceRecord } from '../src/services/source-service.ts';
import { startJobs } from '../../jobs/src/index.ts';
import { Job } from '../../jobs/src/entities/job.ts';
import { newSecret, startTestSubgraph, waitFor, type TestSubgraph } from '../../jobs/test/support/subgraph-harness.ts';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { createEvent } from '@listbackup/lib/events/contract';

const HOURLY = { kind: 'CRON' as const, cron: '0 * * * *', timeZone: 'UTC' };

describe('the scheduler', () => {
  let jobs: TestSubgraph;
  let sources: TestSubgraph;
  let databaseUrl: string;
  let secondOrm: Orm;
  let schedulers: SourceScheduler[];
  const bus = new InProcessEventBus();
  const log = createLogger('test', 'silent');

  const jobsOf = (sourceId: string) => jobs.service.orm.em.fork().find(Job, { sourceId }, { orderBy: { createdAt: 'asc' } });
  const sourceRow = (id: string) => sources.service.orm.em.fork().findOneOrFail(Source, { id });
  const dueSource = (overrides: Partial<Parameters<typeof createSourceRecord>[1]> = {}) =>
    createSourceRecord(sources.service.orm.em.fork(), {
      accountId: randomUUID(),
      connectionId: randomUUID(),
      name: 'Hourly',
      resources: ['customers'],
      schedule: HOURLY,
      nextRunAt: new Date(Date.now() - 60_000),
      ...overrides,
    });

  beforeAll(async () => {
    const secret = newSecret();
    jobs = await startTestSubgraph('jobs', (runtime) => startJobs(runtime, { sourcesUrl: 'http://127.0.0.1:9' }), { secret });
    sources = await startTestSubgraph(
      'sources',
      (runtime) => {
        databaseUrl = runtime.databaseUrl;
        return startSources(runtime, { platformsUrl: 'http://127.0.0.1:9/graphql', jobsUrl: jobs.url, scheduler: false });
      },
      { secret, bus },
    );
    // Two schedulers as two processes would run them: each with its own connection pool.
    secondOrm = await openDatabase({ url: databaseUrl, ...database });
    const client = new JobsClient(jobs.url, secret);
    schedulers = [sources.service.orm, secondOrm].map((orm) => new SourceScheduler({ orm, jobs: client, log, batchSize: 4 }));
  });
  afterAll(async () => {
    await secondOrm?.close();
    await sources?.close();
    await jobs?.close();
    await bus.close();
  });

  const tickBoth = async (rounds = 3) => {
    let enqueued = 0;
    for (let round = 0; round < rounds; round++) enqueued += (await Promise.all(schedulers.map((scheduler) => scheduler.tick()))).reduce((a, b) => a + b, 0);
    return enqueued;
  };

  it('enqueues a due source exactly once with two schedulers ticking at the same time, and moves it to its next occurrence', async () => {
    const source = await dueSource();
    const occurrence = source.nextRunAt!;
    expect(await tickBoth()).toBe(1);
    const created = await jobsOf(source.id);
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ kind: 'BACKUP', status: 'QUEUED', accountId: source.accountId, triggerKind: 'SCHEDULE', idempotencyKey: `schedule:${source.id}:${occurrence.toISOString()}` });
    const next = (await sourceRow(source.id)).nextRunAt!;
    expect(next.getTime()).toBeGreaterThan(Date.now());
    expect(next.getUTCMinutes()).toBe(0);
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(3600_000);
  });

  it('enqueues each of many due sources once, across batches and schedulers', async () => {
    const many = await Promise.all(Array.from({ length: 17 }, () => dueSource()));
    expect(await tickBoth()).toBe(many.length);
    for (const source of many) expect(await jobsOf(source.id)).toHaveLength(1);
  });

  it('leaves paused, deleted, manual and not-yet-due sources alone', async () => {
    const paused = await dueSource({ paused: true });
    const manual = await dueSource({ schedule: { kind: 'MANUAL' } , nextRunAt: null });
    const later = await dueSource({ nextRunAt: new Date(Date.now() + 3600_000) });
    const deleted = await dueSource();
    await sources.service.orm.em.fork().nativeUpdate(Source, { id: deleted.id }, { deletedAt: new Date() });
    await tickBoth(1);
    for (const source of [paused, manual, later, deleted]) expect(await jobsOf(source.id)).toEqual([]);
  });

  it('creates one job per occurrence even when a scheduler died after asking for it but before committing', async () => {
    const source = await dueSource();
    // What the dead scheduler got done: the job exists, the source still says it is due.
    const client = new JobsClient(jobs.url, sources.secret);
    const first = await client.enqueueScheduledBackup({ accountId: source.accountId, sourceId: source.id, idempotencyKey: `schedule:${source.id}:${source.nextRunAt!.toISOString()}` });
    expect(first.created).toBe(true);
    expect(await tickBoth()).toBe(1);
    const created = await jobsOf(source.id);
    expect(created.map((job) => job.id)).toEqual([first.jobId]);
    expect((await sourceRow(source.id)).nextRunAt!.getTime()).toBeGreaterThan(Date.now());
  });

  it('does not start a second backup while the previous one is still queued or running', async () => {
    const source = await dueSource();
    expect(await tickBoth(1)).toBe(1);
    // The next occurrence comes while that backup has not run yet.
    await sources.service.orm.em.fork().nativeUpdate(Source, { id: source.id }, { nextRunAt: new Date(Date.now() - 1_000) });
    await tickBoth(1);
    expect(await jobsOf(source.id)).toHaveLength(1);
    expect((await sourceRow(source.id)).nextRunAt!.getTime()).toBeGreaterThan(Date.now());
  });

  it('keeps a source due when the jobs service cannot be reached, and enqueues it on a later tick', async () => {
    const source = await dueSource();
    const unreachable = new SourceScheduler({ orm: sources.service.orm, jobs: new JobsClient('http://127.0.0.1:9', sources.secret), log });
    expect(await unreachable.tick()).toBe(0);
    expect((await sourceRow(source.id)).nextRunAt!.getTime()).toBeLessThan(Date.now());
    expect(await tickBoth(1)).toBe(1);
    expect(await jobsOf(source.id)).toHaveLength(1);
  });

  it('runs no backup of a suspended or deleted account (its sub-accounts too) until it is resumed or restored', async () => {
    const holds = (accountId: string) =>
      sources.service.orm.em.fork().getConnection().execute<{ reason: string }[]>(`select reason from "sources"."account_holds" where account_id = ?`, [accountId]);
    const parent = await dueSource();
    const child = await dueSource();
    const other = await dueSource();
    const suspendedAt = new Date();
    await bus.publish(createEvent('account.suspended', parent.accountId, parent.accountId, { accountId: parent.accountId, accountIds: [parent.accountId, child.accountId], by: 'billing', reason: 'payment overdue' }, { time: suspendedAt }));
    await waitFor(async () => (await holds(child.accountId)).length === 1, 'the hold to be recorded');

    expect(await tickBoth()).toBe(1);
    expect(await jobsOf(parent.id)).toEqual([]);
    expect(await jobsOf(child.id)).toEqual([]);
    expect(await jobsOf(other.id)).toHaveLength(1);
    // The skipped occurrence is passed, not kept due: the schedule moves on without it.
    expect((await sourceRow(parent.id)).nextRunAt!.getTime()).toBeGreaterThan(Date.now());

    // A resumption older than the suspension (delivered late) lifts nothing.
    await bus.publish(createEvent('account.resumed', parent.accountId, parent.accountId, { accountId: parent.accountId, accountIds: [parent.accountId, child.accountId], by: 'billing' }, { time: new Date(suspendedAt.getTime() - 60_000) }));
    await bus.publish(createEvent('account.deleted', child.accountId, child.accountId, { accountId: child.accountId, accountIds: [child.accountId], name: 'Child', purgeAfter: new Date(Date.now() + 30 * 86_400_000).toISOString() }));
    await waitFor(async () => (await holds(child.accountId)).length === 2, 'the deletion hold');
    expect(await holds(parent.accountId)).toEqual([{ reason: 'suspended' }]);

    await bus.publish(createEvent('account.resumed', parent.accountId, parent.accountId, { accountId: parent.accountId, accountIds: [parent.accountId, child.accountId], by: 'billing' }));
    await waitFor(async () => (await holds(parent.accountId)).length === 0, 'the hold to be lifted');
    expect(await holds(child.accountId)).toEqual([{ reason: 'deleted' }]);
    for (const source of [parent, child]) await sources.service.orm.em.fork().nativeUpdate(Source, { id: source.id }, { nextRunAt: new Date(Date.now() - 1_000) });
    expect(await tickBoth()).toBe(1);
    expect(await jobsOf(parent.id)).toHaveLength(1);
    expect(await jobsOf(child.id)).toEqual([]);

    await bus.publish(createEvent('account.restored', child.accountId, child.accountId, { accountId: child.accountId, accountIds: [child.accountId] }));
    await waitFor(async () => (await holds(child.accountId)).length === 0, 'the deletion hold to be lifted');
    await sources.service.orm.em.fork().nativeUpdate(Source, { id: child.id }, { nextRunAt: new Date(Date.now() - 1_000) });
    expect(await tickBoth()).toBe(1);
    expect(await jobsOf(child.id)).toHaveLength(1);
  });
});
