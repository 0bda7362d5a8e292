import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJobs } from '../src/index.ts';
import { JobHandlerRegistry } from '../src/worker/registry.ts';
import type { Principal } from '@listbackup/lib/principal';
import { newUser, startTestSubgraph, type TestSubgraph } from './support/subgraph-harness.ts';
import { JOBS_CHANNEL, type JobQueue } from '../src/queue/job-queue.ts';
import { JobWorker } from '../src/worker/job-worker.ts';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { createLogger } from '@listbackup/lib/logger';
import { enqueue, jobRow, jobsService, waitForStatus } from './support/jobs-support.ts';
import { TEST_KIND, testHandler } from './support/test-handlers.ts';

/**
 * The worker polls only once an hour here, so every job below can start only because its new-job
 * notification woke the worker, including notifications that arrive while it is fetching or while
 * every slot is taken.
 */
describe('jobs worker: new jobs start at once', () => {
  let subgraph: TestSubgraph;
  const account = randomUUID();
  let owner: Principal;

  beforeAll(async () => {
    const registry = new JobHandlerRegistry();
    subgraph = await startTestSubgraph('jobs', (runtime) => {
      registry.register(TEST_KIND, testHandler({ get orm() { return subgraph.service.orm; } }));
      return startJobs(runtime, {
        sourcesUrl: 'http://127.0.0.1:9',
        leaseSeconds: 10,
        superviseIntervalSeconds: 1,
        worker: { registry, concurrency: 2, pollIntervalMs: 3_600_000, cancelCheckIntervalMs: 500, shutdownGraceMs: 2_000 },
      });
    });
    owner = newUser();
    subgraph.access.grant(owner, account, 'owner');
  });
  afterAll(async () => {
    await subgraph?.close();
  });

  it('picks up each of many back-to-back jobs by its notification alone', async () => {
    const jobs = [];
    // Queued one after another with no pause: many notifications land while the worker is fetching.
    for (let i = 0; i < 40; i++) jobs.push(await enqueue(subgraph, account, TEST_KIND, { scenario: 'items', count: 1 }));
    for (const job of jobs) expect((await waitForStatus(subgraph, job.id, ['SUCCEEDED', 'FAILED'])).status).toBe('SUCCEEDED');
  });

  it('does not lose a notification that arrives while the worker is fetching', async () => {
    const queue = jobsService(subgraph).queue;
    const listener = new pg.Client({ connectionString: subgraph.databaseUrl });
    await listener.connect();
    let fetchedEmpty!: () => void;
    const emptyFetch = new Promise<void>((resolve) => (fetchedEmpty = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const fetch = queue.fetch;
    try {
      // Holds the worker's next fetch open after it has found nothing, as a slow fetch would be.
      queue.fetch = async (kind, batchSize) => {
        const messages = await fetch.call(queue, kind, batchSize);
        if (messages.length === 0) {
          fetchedEmpty();
          await gate;
        }
        return messages;
      };
      // A notification whose job another worker took: this one wakes, fetches, finds nothing.
      await listener.query('select pg_notify($1, $2)', [JOBS_CHANNEL, `enqueued:${TEST_KIND}`]);
      await emptyFetch;
      const heard = new Promise<void>((resolve) => listener.once('notification', () => resolve()));
      await listener.query(`listen ${JOBS_CHANNEL}`);
      const job = await enqueue(subgraph, account, TEST_KIND, { scenario: 'items', count: 1 });
      await heard;
      // Give the worker's own connection the same moment to deliver it, then let the empty fetch return.
      await sleep(100);
      queue.fetch = fetch;
      release();
      expect((await waitForStatus(subgraph, job.id, ['SUCCEEDED', 'FAILED'])).status).toBe('SUCCEEDED');
    } finally {
      queue.fetch = fetch;
      release();
      await listener.end();
    }
  });

  it('takes a job queued while every slot is busy as soon as a slot frees', async () => {
    const busy = [await enqueue(subgraph, account, TEST_KIND, { scenario: 'wait' }), await enqueue(subgraph, account, TEST_KIND, { scenario: 'wait' })];
    for (const job of busy) await waitForStatus(subgraph, job.id, ['RUNNING']);
    const waiting = await enqueue(subgraph, account, TEST_KIND, { scenario: 'items', count: 1 });
    expect((await jobRow(subgraph, waiting.id)).status).toBe('QUEUED');
    // Ending the busy jobs frees the slots; the queued one starts without a poll.
    for (const job of busy) {
      const result = await subgraph.query(owner, `mutation($id: ID!) { cancelJob(id: $id) { id } }`, { id: job.id });
      expect(result.errors).toBeUndefined();
    }
    for (const job of busy) await waitForStatus(subgraph, job.id, ['CANCELLED']);
    expect((await waitForStatus(subgraph, waiting.id, ['SUCCEEDED', 'FAILED'])).status).toBe('SUCCEEDED');
  });
  it('looks first at the queue of the kind a notification names, not at every other kind before it', async () => {
    const queue = jobsService(subgraph).queue;
    const fetched: string[] = [];
    // The subgraph's queue, with this worker's fetches written down.
    const recording: JobQueue = Object.create(queue);
    recording.fetch = (kind, batchSize) => {
      fetched.push(kind);
      return queue.fetch(kind, batchSize);
    };
    const registry = new JobHandlerRegistry();
    const kinds = ['PRUNE', 'TIER', 'GC', 'EXPORT'] as const;
    for (const kind of kinds) registry.register(kind, async () => ({}));
    const bus = new InProcessEventBus();
    const worker = new JobWorker({ orm: subgraph.service.orm, queue: recording, bus, registry, databaseUrl: subgraph.databaseUrl, log: createLogger('test', 'silent'), pollIntervalMs: 3_600_000 });
    const notifier = new pg.Client({ connectionString: subgraph.databaseUrl });
    await notifier.connect();
    try {
      await worker.start();
      // Its first look at the queue covers every kind once, finds nothing, and it sleeps for an hour.
      await expect.poll(() => fetched.length, { timeout: 30_000 }).toBe(kinds.length);
      fetched.length = 0;
      // Its next look starts the rotation at the second kind, so the first kind would be looked at last.
      await notifier.query('select pg_notify($1, $2)', [JOBS_CHANNEL, `enqueued:${kinds[0]}`]);
      await expect.poll(() => fetched.includes(kinds[0]), { timeout: 30_000 }).toBe(true);
      expect(fetched[0]).toBe(kinds[0]);
    } finally {
      await notifier.end();
      await worker.stop();
      await bus.close();
    }
  });
});
