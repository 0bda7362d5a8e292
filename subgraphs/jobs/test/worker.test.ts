import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventBus } from '@listbackup/lib/events/bus';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { NatsEventBus } from '@listbackup/lib/events/nats-bus';
import type { Principal } from '@listbackup/lib/principal';
import { startJobs } from '../src/index.ts';
import { DEAD_LETTER_QUEUE } from '../src/queue/job-queue.ts';
import { JobHandlerRegistry } from '../src/worker/registry.ts';
import { redriveDeadLetters } from '../src/services/dead-letter-service.ts';
import { errorCodes, natsIsReachable, NATS_URL, newUser, startTestSubgraph, uniqueName, waitFor, type TestSubgraph } from './support/subgraph-harness.ts';
import { enqueue, jobRow, jobsService, logLines, recordEvents, waitForStatus } from './support/jobs-support.ts';
import { TEST_KIND, testHandler } from './support/test-handlers.ts';

const RETRY = { baseDelayMs: 200, maxDelayMs: 2_000, maxFailuresWithoutProgress: 3, maxFailures: 6 };
const JOB = `query($id: ID!) { job(id: $id) { id status attempts failureType failureReason partialSuccess cancelRequested nextAttemptAt startedAt finishedAt
  progress { itemsDone itemsTotal bytesDone bytesTotal percent } triggeredBy { kind id } log(first: 100) { edges { node { level message } } } } }`;
const CANCEL = `mutation($id: ID!) { cancelJob(id: $id) { id status cancelRequested } }`;
const RETRY_JOB = `mutation($id: ID!) { retryJob(id: $id) { id status attempts failureType } }`;

const natsReachable = await natsIsReachable();

describe('jobs worker: the life of a job', () => {
  let subgraph: TestSubgraph;
  let bus: EventBus;
  let owner: Principal;
  let viewer: Principal;
  const account = randomUUID();
  const namespace = uniqueName('lbjobs');

  beforeAll(async () => {
    // A real NATS bus where there is one (progress events are published directly on it).
    bus = natsReachable ? await NatsEventBus.connect(NATS_URL, { namespace, stream: namespace.toUpperCase() }) : new InProcessEventBus();
    const registry = new JobHandlerRegistry();
    subgraph = await startTestSubgraph(
      'jobs',
      (runtime) => {
        registry.register(TEST_KIND, testHandler({ get orm() { return subgraph.service.orm; } }));
        return startJobs(runtime, {
          sourcesUrl: 'http://127.0.0.1:9',
          leaseSeconds: 10,
          superviseIntervalSeconds: 1,
          worker: { registry, concurrency: 4, pollIntervalMs: 250, retryPolicy: RETRY, progressEventIntervalMs: 100, progressSaveIntervalMs: 100, cancelCheckIntervalMs: 500, shutdownGraceMs: 2_000 },
        });
      },
      { bus },
    );
    owner = newUser();
    viewer = newUser();
    subgraph.access.grant(owner, account, 'owner').grant(viewer, account, 'viewer');
  });
  afterAll(async () => {
    await subgraph?.close();
    if (bus instanceof NatsEventBus) await (await bus.connection.jetstreamManager()).streams.delete(bus.stream).catch(() => undefined);
    await bus?.close();
  });

  it('goes QUEUED → RUNNING → SUCCEEDED, reporting progress, with its events and log', async () => {
    const recorder = await recordEvents(bus, `lb.evt.${account}.job.>`);
    const job = await enqueue(subgraph, account, TEST_KIND, { scenario: 'items', count: 8, delayMs: 60 });
    expect(job.status).toBe('QUEUED');
    const done = await waitForStatus(subgraph, job.id, ['SUCCEEDED', 'FAILED']);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.result).toEqual({ items: [0, 1, 2, 3, 4, 5, 6, 7] });

    const result = await subgraph.query(owner, JOB, { id: job.id });
    expect(result.errors).toBeUndefined();
    expect(result.data!.job).toMatchObject({
      status: 'SUCCEEDED',
      attempts: 1,
      failureType: null,
      failureReason: null,
      partialSuccess: false,
      progress: { itemsDone: 8, itemsTotal: 8, bytesDone: 8000, bytesTotal: 8000, percent: 100 },
      triggeredBy: { kind: 'SYSTEM', id: null },
    });
    expect(result.data!.job.startedAt).not.toBeNull();
    expect(result.data!.job.finishedAt).not.toBeNull();
    expect(result.data!.job.log.edges.map((e: { node: { message: string } }) => e.node.message)).toEqual([
      'Queued by ListBackup',
      'Attempt 1 started',
      'Processed 8 items',
      'Finished',
    ]);

    await waitFor(() => recorder.ofJob(job.id).some((e) => e.type === 'job.completed'), 'job.completed to be published');
    const events = recorder.ofJob(job.id);
    const durable = events.filter((e) => e.type !== 'job.progress').map((e) => e.type);
    expect(durable).toEqual(['job.created', 'job.started', 'job.completed']);
    const progress = events.filter((e) => e.type === 'job.progress');
    expect(progress.length).toBeGreaterThan(0);
    // How often they go out is the throttle's (test/throttle.test.ts, on a fake clock): event times
    // here carry the machine's scheduling delays.
    for (const event of events) {
      expect(event.data).toMatchObject({ accountId: account, sourceId: null, jobId: job.id, job: { __typename: 'Job', id: job.id } });
    }
    const last = progress.at(-1)!.data.job as { status: string; progress: { itemsDone: number; itemsTotal: number } };
    expect(last.status).toBe('RUNNING');
    expect(last.progress.itemsTotal).toBe(8);
    const completed = events.find((e) => e.type === 'job.completed')!.data.job as { status: string; progress: { itemsDone: number } };
    expect(completed).toMatchObject({ status: 'SUCCEEDED', progress: { itemsDone: 8 } });
    await recorder.stop();
  });

  it('retries a transient failure with growing, jittered delays, then succeeds', async () => {
    const recorder = await recordEvents(bus, `lb.evt.${account}.job.>`);
    const job = await enqueue(subgraph, account, TEST_KIND, { scenario: 'flaky', failures: 2 });
    const done = await waitForStatus(subgraph, job.id, ['SUCCEEDED', 'FAILED']);
    expect(done).toMatchObject({ status: 'SUCCEEDED', attempts: 3, failures: 2, failureType: null, failureReason: null });
    const lines = await logLines(subgraph, job.id);
    const retries = lines.filter((line) => line.message.includes('Retrying in'));
    expect(retries.map((line) => line.message.replace(/Retrying in .*/, 'Retrying'))).toEqual([
      'Attempt 1 failed (TRANSIENT): The platform answered 503 (attempt 1). Retrying',
      'Attempt 2 failed (TRANSIENT): The platform answered 503 (attempt 2). Retrying',
    ]);
    await waitFor(() => recorder.ofJob(job.id).some((e) => e.type === 'job.completed'), 'job.completed');
    const retrying = recorder.ofJob(job.id).filter((e) => e.type === 'job.retrying');
    expect(retrying).toHaveLength(2);
    // Each retry waits half its (doubling) backoff ceiling plus a random share of the other half.
    const delays = retrying.map((e) => e.data.retryDelayMs as number);
    expect(delays[0]).toBeGreaterThanOrEqual(RETRY.baseDelayMs / 2);
    expect(delays[0]).toBeLessThanOrEqual(RETRY.baseDelayMs);
    expect(delays[1]).toBeGreaterThanOrEqual(RETRY.baseDelayMs);
    expect(delays[1]).toBeLessThanOrEqual(RETRY.baseDelayMs * 2);
    expect((retrying[0].data.job as { status: string; failureType: string }).status).toBe('QUEUED');
    expect((retrying[0].data.job as { failureType: string }).failureType).toBe('TRANSIENT');
    await recorder.stop();
  });

  it('a retry resumed from an earlier checkpoint never shows less progress, and shows its own state, not the last failure', async () => {
    const recorder = await recordEvents(bus, `lb.evt.${account}.job.>`);
    // Attempt 1 checkpoints after item 4, reaches item 7 (saved and published), then fails; attempt 2 redoes 5–7.
    const job = await enqueue(subgraph, account, TEST_KIND, { scenario: 'items', count: 10, checkpointEvery: 4, failFirstAttemptAfter: 7, settleMs: 400, delayMs: 20 });
    const done = await waitForStatus(subgraph, job.id, ['SUCCEEDED', 'FAILED']);
    expect(done).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
    await waitFor(() => recorder.ofJob(job.id).some((e) => e.type === 'job.completed'), 'job.completed');
    // Progress is published at once, state changes through the outbox: put them in the order they happened.
    const events = [...recorder.ofJob(job.id)].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
    const states = events.map((e) => ({ type: e.type, job: e.data.job as { attempts: number; failureReason: string | null; progress: { itemsDone: number; itemsTotal: number | null } } }));
    const shown = states.map((s) => s.job.progress.itemsDone);
    expect(shown).toEqual([...shown].sort((a, b) => a - b));
    expect(Math.max(...states.filter((s) => s.job.attempts === 1).map((s) => s.job.progress.itemsDone))).toBe(7);
    const secondStart = states.find((s) => s.type === 'job.started' && s.job.attempts === 2);
    expect(secondStart?.job.failureReason).toBeNull();
    expect(secondStart?.job.progress.itemsDone).toBe(7);
    expect(states.find((s) => s.type === 'job.retrying')?.job.failureReason).toMatch(/503 after item 6/);
    await recorder.stop();
  });

  it('honours a platform’s Retry-After on a rate-limited attempt', async () => {
    const recorder = await recordEvents(bus, `lb.evt.${account}.job.retrying`);
    const job = await enqueue(subgraph, account, TEST_KIND, { scenario: 'flaky', failures: 1, type: 'RATE_LIMITED', retryAfterMs: 1_500 });
    const done = await waitForStatus(subgraph, job.id, ['SUCCEEDED', 'FAILED']);
    expect(done).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
    await waitFor(() => recorder.ofJob(job.id).length === 1, 'job.retrying');
    const [retrying] = recorder.ofJob(job.id);
    expect((retrying.data.job as { failureType: string }).failureType).toBe('RATE_LIMITED');
    expect(retrying.data.retryDelayMs).toBeGreaterThanOrEqual(1_500);
    // The second attempt started only once the delay had passed.
    expect(done.attemptStartedAt!.getTime()).toBeGreaterThanOrEqual(Date.parse((retrying.data.job as { nextAttemptAt: string }).nextAttemptAt) - 50);
    await recorder.stop();
  });

  it('fails a configuration problem at once, without retrying and without dead-lettering it', async () => {
    const job = await enqueue(subgraph, account, TEST_KIND, { scenario: 'config' });
    const done = await waitForStatus(subgraph, job.id, ['SUCCEEDED', 'FAILED']);
    expect(done).toMatchObject({ status: 'FAILED', attempts: 1, failureType: 'CONFIG', failureReason: 'The connection was revoked; reconnect it' });
    expect(await deadLettered(subgraph, job.id)).toBe(0);
    const result = await subgraph.query(viewer, JOB, { id: job.id });
    expect(result.data!.job).toMatchObject({ status: 'FAILED', failureType: 'CONFIG', failureReason: 'The connection was revoked; reconnect it' });
  });

  it('shows an unexpected error as INTERNAL with a reference, never its details', async () => {
    const job = await enqueue(subgraph, account, TEST_KIND, { scenario: 'bug' });
    const done = await waitForStatus(subgraph, job.id, ['SUCCEEDED', 'FAILED']);
    expect(done).toMatchObject({ status: 'FAILED', attempts: 1, failureType: 'INTERNAL' });
    expect(done.failureReason).toMatch(/^An internal error stopped this attempt \(reference [0-9a-f-]{36}\)$/);
    expect(JSON.stringify(await logLines(subgraph, job.id))).not.toContain('secret-ish');
  });

  it('gives up after the stricter limit when attempts make no progress, dead-letters the job, and an operator can redrive it', async () => {
    const job = await enqueue(subgraph, account, TEST_KIND, { scenario: 'always-failing', succeedFromAttempt: 4 });
    const failed = await waitForStatus(subgraph, job.id, ['FAILED', 'SUCCEEDED']);
    expect(failed).toMatchObject({ status: 'FAILED', attempts: RETRY.maxFailuresWithoutProgress, failureType: 'TRANSIENT', failureReason: 'The platform is down' });
    expect((await logLines(subgraph, job.id)).at(-1)!.message).toBe('Giving up: 3 attempts in a row made no progress');
    expect(await deadLettered(subgraph, job.id)).toBe(1);

    const redriven = await redriveDeadLetters(subgraph.service.orm, jobsService(subgraph).queue, { jobIds: [job.id] });
    expect(redriven).toEqual([{ jobId: job.id, outcome: 'requeued' }]);
    const done = await waitForStatus(subgraph, job.id, ['SUCCEEDED']);
    expect(done).toMatchObject({ attempts: 4, failureType: null, failureReason: null, triggerKind: 'SYSTEM' });
    expect(await deadLettered(subgraph, job.id)).toBe(0);
    expect((await logLines(subgraph, job.id)).map((line) => line.message)).toContain('Redriven from the dead-letter queue by an operator');
  });

  it('allows more attempts to failures that made progress', async () => {
    const job = await enqueue(subgraph, account, TEST_KIND, { scenario: 'always-failing', progress: true });
    const failed = await waitForStatus(subgraph, job.id, ['FAILED', 'SUCCEEDED'], 40_000);
    expect(failed).toMatchObject({ status: 'FAILED', attempts: RETRY.maxFailures, failureType: 'TRANSIENT' });
    expect(failed.attempts).toBeGreaterThan(RETRY.maxFailuresWithoutProgress);
    expect((await logLines(subgraph, job.id)).at(-1)!.message).toBe('Giving up: 6 attempts failed');
  });

  it('cancels a running job within seconds: the handler sees the signal and the job ends CANCELLED', async () => {
    const recorder = await recordEvents(bus, `lb.evt.${account}.job.>`);
    const job = await enqueue(subgraph, account, TEST_KIND, { scenario: 'wait' });
    await waitFor(async () => (await jobRow(subgraph, job.id)).progress.itemsDone > 2, 'the job to run and report progress');

    const refused = await subgraph.query(viewer, CANCEL, { id: job.id });
    expect(errorCodes(refused)).toEqual(['FORBIDDEN']);
    expect((await jobRow(subgraph, job.id)).cancelRequestedAt).toBeNull();

    const result = await subgraph.query(owner, CANCEL, { id: job.id });
    expect(result.errors).toBeUndefined();
    expect(result.data!.cancelJob).toEqual({ id: job.id, status: 'RUNNING', cancelRequested: true });
    const done = await waitForStatus(subgraph, job.id, ['CANCELLED', 'SUCCEEDED', 'FAILED'], 5_000);
    expect(done).toMatchObject({ status: 'CANCELLED', attempts: 1 });
    expect(jobsService(subgraph).worker!.activeJobIds).not.toContain(job.id);
    await waitFor(() => recorder.ofJob(job.id).some((e) => e.type === 'job.cancelled'), 'job.cancelled');
    const types = recorder.ofJob(job.id).filter((e) => e.type !== 'job.progress').map((e) => e.type);
    expect(types).toEqual(['job.created', 'job.started', 'job.cancelling', 'job.cancelled']);
    // No progress after the end.
    const cancelledAt = recorder.ofJob(job.id).findIndex((e) => e.type === 'job.cancelled');
    expect(recorder.ofJob(job.id).slice(cancelledAt + 1)).toEqual([]);
    await recorder.stop();
  });

  it('cancels a queued job at once: no worker ever runs it', async () => {
    // Due later (as a retry would be), so no worker takes it first.
    const job = await enqueue(subgraph, account, TEST_KIND, { scenario: 'items', count: 1 }, { startAfter: new Date(Date.now() + 3600_000) });
    const result = await subgraph.query(owner, CANCEL, { id: job.id });
    expect(result.data!.cancelJob).toEqual({ id: job.id, status: 'CANCELLED', cancelRequested: true });
    const row = await jobRow(subgraph, job.id);
    expect(row).toMatchObject({ status: 'CANCELLED', attempts: 0 });
    const [message] = await subgraph.service.orm.em.fork().getConnection().execute(`select state from "pgboss"."job" where id = ?`, [job.queueJobId]);
    expect(message.state).toBe('cancelled');
    // Cancelling again changes nothing; retrying it runs it.
    expect((await subgraph.query(owner, CANCEL, { id: job.id })).data!.cancelJob.status).toBe('CANCELLED');
    const retried = await subgraph.query(owner, RETRY_JOB, { id: job.id });
    expect(retried.data!.retryJob).toMatchObject({ status: 'QUEUED', attempts: 0 });
    expect((await waitForStatus(subgraph, job.id, ['SUCCEEDED'])).attempts).toBe(1);
  });

  it('retries a failed job on request, and refuses to retry or cancel one that is not in a state for it', async () => {
    const job = await enqueue(subgraph, account, TEST_KIND, { scenario: 'config' });
    await waitForStatus(subgraph, job.id, ['FAILED']);
    expect(errorCodes(await subgraph.query(owner, CANCEL, { id: job.id }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await subgraph.query(viewer, RETRY_JOB, { id: job.id }))).toEqual(['FORBIDDEN']);
    const result = await subgraph.query(owner, RETRY_JOB, { id: job.id });
    expect(result.data!.retryJob).toEqual({ id: job.id, status: 'QUEUED', attempts: 1, failureType: null });
    const again = await waitForStatus(subgraph, job.id, ['FAILED']);
    expect(again.attempts).toBe(2);
    const ok = await enqueue(subgraph, account, TEST_KIND, { scenario: 'items', count: 1 });
    await waitForStatus(subgraph, ok.id, ['SUCCEEDED']);
    const refused = await subgraph.query(owner, RETRY_JOB, { id: ok.id });
    expect(errorCodes(refused)).toEqual(['BAD_USER_INPUT']);
    expect(refused.errors![0].extensions).toMatchObject({ reason: 'JOB_NOT_RETRYABLE' });
  });

  it('cancels and retries only the caller’s own jobs', async () => {
    const other = randomUUID();
    const job = await enqueue(subgraph, other, TEST_KIND, { scenario: 'config' });
    await waitForStatus(subgraph, job.id, ['FAILED']);
    for (const mutation of [CANCEL, RETRY_JOB]) {
      const result = await subgraph.query(owner, mutation, { id: job.id });
      expect(errorCodes(result)).toEqual(['NOT_FOUND']);
      expect(result.errors![0].message).toBe('Job not found');
    }
    expect(await jobRow(subgraph, job.id)).toMatchObject({ status: 'FAILED', attempts: 1 });
  });
});

async function deadLettered(subgraph: TestSubgraph, jobId: string): Promise<number> {
  const rows = await subgraph.service.orm.em.fork().getConnection().execute(`select count(*)::int as n from "pgboss"."job" where name = ? and data->>'jobId' = ? and state = 'created'`, [DEAD_LETTER_QUEUE, jobId]);
  return rows[0].n;
}
