/**
 * A real job lifecycle watched live: the jobs worker (pg-boss queue, outbox relay, throttled
 * ephemeral progress) runs a job while a client follows it with `jobUpdated` through the gateway.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { createLogger } from '@listbackup/lib/logger';
import { readSupergraph } from '@listbackup/lib/supergraph';
import type { JobsService } from '../../subgraphs/jobs/src/index.ts';
import { enqueueJob } from '../../subgraphs/jobs/src/services/job-service.ts';
import { JobWorker } from '../../subgraphs/jobs/src/worker/job-worker.ts';
import { JobHandlerRegistry } from '../../subgraphs/jobs/src/worker/registry.ts';
import { TEST_KIND, testHandler } from '../../subgraphs/jobs/test/support/test-handlers.ts';
import { startGateway, type RunningGateway } from '../src/index.ts';
import { signUp, startStack, type SignedUp, type Stack } from './support/stack.ts';

let stack: Stack;
let gateway: RunningGateway;
let worker: JobWorker;
let alice: SignedUp;
let jobs: JobsService;

beforeAll(async () => {
  stack = await startStack();
  jobs = stack.services.jobs as JobsService;
  gateway = await startGateway({
    port: 0,
    supergraphSdl: readSupergraph(),
    subgraphUrls: Object.fromEntries(Object.values(stack.services).map((service) => [service.name, service.url])),
    accountsUrl: stack.services.accounts.url,
    internalTokenSecret: stack.internalTokenSecret,
    log: createLogger('gateway', process.env.LOG_LEVEL ?? 'silent'),
    subscriptions: { bus: stack.bus },
  });
  const registry = new JobHandlerRegistry();
  registry.register(TEST_KIND, testHandler({ orm: jobs.orm }));
  worker = new JobWorker({
    orm: jobs.orm,
    queue: jobs.queue,
    bus: stack.bus,
    registry,
    databaseUrl: stack.databaseUrl,
    log: createLogger('worker', process.env.LOG_LEVEL ?? 'silent'),
    concurrency: 2,
    pollIntervalMs: 100,
    progressEventIntervalMs: 100,
    progressSaveIntervalMs: 100,
    cancelCheckIntervalMs: 300,
    shutdownGraceMs: 2_000,
  });
  await worker.start();
  alice = await signUp(stack, undefined, 'Alice');
});
afterAll(async () => {
  await worker?.stop();
  await gateway?.close();
  await stack?.close();
});

async function seedSource(accountId: string): Promise<string> {
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    const connectionId = randomUUID();
    const sourceId = randomUUID();
    await client.query(
      `insert into platforms.connections (id, account_id, platform_id, name, status, created_at)
       select $1, $2, id, 'Stripe live', 'AUTHORIZED', now() from platforms.platforms where slug = 'stripe'`,
      [connectionId, accountId],
    );
    await client.query(`insert into sources.sources (id, account_id, connection_id, name, resources, created_at, updated_at) values ($1, $2, $3, 'Stripe charges', '{charges}', now(), now())`, [
      sourceId,
      accountId,
      connectionId,
    ]);
    return sourceId;
  } finally {
    await client.end();
  }
}

/** A job in the real queue, picked up by the worker once `startAfter` has passed. */
async function enqueue(sourceId: string, params: Record<string, unknown>): Promise<string> {
  const { job } = await enqueueJob(jobs.orm.em.fork(), jobs.queue, {
    accountId: alice.accountId,
    sourceId,
    kind: TEST_KIND,
    params,
    trigger: { kind: 'SYSTEM' },
    // Long enough for the subscription to be open (its first payload QUEUED) on a loaded machine.
    startAfter: new Date(Date.now() + 4_000),
  });
  return job.id;
}

const WATCH = `subscription ($id: ID!) {
  jobUpdated(id: $id) {
    status
    progress { itemsDone itemsTotal percent }
    source { name connection { platform { name } } }
  }
}`;

function watch(jobId: string) {
  const results: any[] = [];
  const state = { completed: false, error: undefined as unknown };
  const client = createClient({ url: gateway.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { Authorization: `Bearer ${alice.accessToken}` } });
  client.subscribe(
    { query: WATCH, variables: { id: jobId } },
    {
      next: (result) => results.push(result),
      error: (error) => (state.error = error),
      complete: () => (state.completed = true),
    },
  );
  return { results, state, client };
}

async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('a job run by the jobs worker, watched through the gateway', () => {
  it('QUEUED, RUNNING with rising itemsDone, SUCCEEDED — every payload with the source and platform names', async () => {
    const sourceId = await seedSource(alice.accountId);
    const jobId = await enqueue(sourceId, { scenario: 'items', count: 8, delayMs: 150 });
    const { results, state, client } = watch(jobId);
    await until(() => state.completed || state.error !== undefined, 'the job to end');
    expect(state.error).toBeUndefined();

    const jobsSeen = results.map((result) => result.data.jobUpdated);
    expect(jobsSeen[0].status).toBe('QUEUED');
    expect(jobsSeen.at(-1)).toMatchObject({ status: 'SUCCEEDED', progress: { itemsDone: 8, itemsTotal: 8, percent: 100 } });
    const running = jobsSeen.filter((job) => job.status === 'RUNNING').map((job) => job.progress.itemsDone);
    expect(new Set(running.filter((items) => items > 0)).size).toBeGreaterThanOrEqual(2);
    expect(running).toEqual([...running].sort((a, b) => a - b));
    for (const job of jobsSeen) expect(job.source).toEqual({ name: 'Stripe charges', connection: { platform: { name: 'Stripe' } } });
    await client.dispose();
  });

  it('CANCELLED when a member cancels the running job', async () => {
    const sourceId = await seedSource(alice.accountId);
    const jobId = await enqueue(sourceId, { scenario: 'wait' });
    const { results, state, client } = watch(jobId);
    await until(() => results.some((result) => result.data?.jobUpdated.status === 'RUNNING'), 'the job to run');
    const cancel = await stack.graphql('mutation ($id: ID!) { cancelJob(id: $id) { id } }', { id: jobId }, alice.accessToken);
    expect(cancel.errors).toBeUndefined();
    await until(() => state.completed || state.error !== undefined, 'the job to end');
    expect(state.error).toBeUndefined();
    expect(results.at(-1).data.jobUpdated.status).toBe('CANCELLED');
    await client.dispose();
  });
});
