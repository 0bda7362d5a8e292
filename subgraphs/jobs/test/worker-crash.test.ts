import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJobs } from '../src/index.ts';
import { enqueue, jobRow, logLines, waitForStatus } from './support/jobs-support.ts';
import { startTestSubgraph, waitFor, type TestSubgraph } from './support/subgraph-harness.ts';
import { CREATE_ITEM_RUNS, ITEM_RUNS_TABLE, TEST_KIND } from './support/test-handlers.ts';

const WORKER_ENTRY = fileURLToPath(new URL('../src/worker.ts', import.meta.url));
const HANDLERS = fileURLToPath(new URL('./support/test-handlers.ts', import.meta.url));
const LEASE_SECONDS = 10;
const STORAGE_DIR = mkdtempSync(join(tmpdir(), 'lb-worker-crash-'));

/** `npm run worker` as its own process, running the test handlers. */
function spawnWorker(databaseUrl: string, secret: string): ChildProcess {
  const child = spawn(process.execPath, [WORKER_ENTRY], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      INTERNAL_TOKEN_SECRET: secret,
      JOB_HANDLER_MODULES: HANDLERS,
      // Several workers run at once on this host (and other test files' too): each on a free port.
      METRICS_PORT: '0',
      JOB_LEASE_SECONDS: String(LEASE_SECONDS),
      JOB_SUPERVISE_INTERVAL_SECONDS: '1',
      JOB_POLL_INTERVAL_MS: '200',
      LOG_LEVEL: 'error',
      STORAGE_KEYS: `s1:${randomBytes(32).toString('base64')}`,
      STORAGE_DIR: STORAGE_DIR,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

describe('a worker stopped in the middle of a job', () => {
  let subgraph: TestSubgraph;
  let databaseUrl: string;
  const children: ChildProcess[] = [];
  const account = randomUUID();

  beforeAll(async () => {
    subgraph = await startTestSubgraph('jobs', (runtime) => {
      databaseUrl = runtime.databaseUrl;
      return startJobs(runtime, { sourcesUrl: 'http://127.0.0.1:9', leaseSeconds: LEASE_SECONDS });
    });
    await subgraph.service.orm.em.fork().getConnection().execute(CREATE_ITEM_RUNS);
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await subgraph?.close();
  });

  it('is retried after its lease expires, resumes from its last checkpoint, and completes with nothing lost or duplicated', async () => {
    const count = 40;
    const job = await enqueue(subgraph, account, TEST_KIND, { scenario: 'items', count, delayMs: 100, record: true });
    const runs = async () =>
      (await subgraph.service.orm.em.fork().getConnection().execute(`select item, attempt from ${ITEM_RUNS_TABLE} where job_id = ? order by item, attempt`, [job.id])) as {
        item: number;
        attempt: number;
      }[];

    const first = spawnWorker(databaseUrl, subgraph.secret);
    children.push(first);
    await waitFor(async () => (await runs()).length >= 8, 'the first worker to get through some items', 30_000);
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const atKill = await jobRow(subgraph, job.id);
    expect(atKill).toMatchObject({ status: 'RUNNING', attempts: 1 });
    const checkpointed = (atKill.checkpoint!.data as { next: number }).next;
    expect(checkpointed).toBeGreaterThanOrEqual(7);
    expect(checkpointed).toBeLessThan(count);

    children.push(spawnWorker(databaseUrl, subgraph.secret));
    const done = await waitForStatus(subgraph, job.id, ['SUCCEEDED', 'FAILED'], 60_000);
    expect(done).toMatchObject({ status: 'SUCCEEDED', attempts: 2, failures: 1 });
    // The output holds every item exactly once.
    expect(done.result).toEqual({ items: Array.from({ length: count }, (_, i) => i) });
    expect(done.progress).toMatchObject({ itemsDone: count, itemsTotal: count });

    const messages = (await logLines(subgraph, job.id)).map((line) => line.message);
    expect(messages).toContain('Attempt 1 stopped: its worker stopped responding');
    expect(messages.find((m) => m.startsWith('Attempt 2 started'))).toMatch(/^Attempt 2 started, resuming from the checkpoint of /);
    expect(messages).toContain(`Resuming at item ${checkpointed}`);

    // Work before the checkpoint was not redone; at most the one item in flight at the kill was.
    const all = await runs();
    for (let item = 0; item < checkpointed; item++) expect(all.filter((run) => run.item === item)).toEqual([{ item, attempt: 1 }]);
    for (let item = checkpointed; item < count; item++) expect(all.filter((run) => run.item === item && run.attempt === 2)).toHaveLength(1);
    expect(all.filter((run) => run.item >= checkpointed && run.attempt === 1).length).toBeLessThanOrEqual(1);
    await stopAll('SIGKILL');
  }, 120_000);

  it('hands its job back to the queue when stopped gracefully (SIGTERM), for another worker to finish', async () => {
    const count = 30;
    const job = await enqueue(subgraph, account, TEST_KIND, { scenario: 'items', count, delayMs: 100 });
    const worker = spawnWorker(databaseUrl, subgraph.secret);
    children.push(worker);
    await waitFor(async () => ((await jobRow(subgraph, job.id)).progress.itemsDone ?? 0) >= 3, 'the worker to get going', 30_000);
    await stopAll('SIGTERM');
    expect(worker.exitCode).toBe(0);
    const handedBack = await jobRow(subgraph, job.id);
    expect(handedBack).toMatchObject({ status: 'QUEUED', attempts: 1, failures: 0, failureType: null });
    expect((await logLines(subgraph, job.id)).map((line) => line.message)).toContain('Attempt 1 interrupted: its worker is shutting down; queued again');

    children.push(spawnWorker(databaseUrl, subgraph.secret));
    const done = await waitForStatus(subgraph, job.id, ['SUCCEEDED', 'FAILED'], 60_000);
    expect(done).toMatchObject({ status: 'SUCCEEDED', attempts: 2, result: { items: Array.from({ length: count }, (_, i) => i) } });
    await stopAll('SIGTERM');
  }, 120_000);

  async function stopAll(signal: NodeJS.Signals): Promise<void> {
    await Promise.all(
      children
        .filter((child) => child.exitCode === null && child.signalCode === null)
        .map((child) => new Promise((resolve) => {
          child.once('exit', resolve);
          child.kill(signal);
        })),
    );
  }
});
