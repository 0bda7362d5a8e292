/**
 * Real handlers for the worker's lifecycle tests, chosen per job by `params.scenario`. Loaded
 * in-process by the tests and, through JOB_HANDLER_MODULES, by a worker child process.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { JobKind } from '../../src/entities/job.ts';
import { JobFailure } from '../../src/worker/errors.ts';
import type { WorkerDeps } from '../../src/worker/index.ts';
import type { JobContext, JobHandler, JobHandlerRegistry, JobOutcome } from '../../src/worker/registry.ts';

/** The kind the test jobs use (any registered kind would do). */
export const TEST_KIND: JobKind = 'VERIFY';

/** Each item processed, with the attempt that processed it: shows what a resumed attempt redid. */
export const ITEM_RUNS_TABLE = 'public.test_item_runs';
export const CREATE_ITEM_RUNS = `create table if not exists ${ITEM_RUNS_TABLE} (job_id uuid not null, item int not null, attempt int not null)`;

interface ItemsCheckpoint {
  next: number;
  done: number[];
}

export function testHandler(deps: Pick<WorkerDeps, 'orm'>): JobHandler {
  return async (ctx) => {
    const params = ctx.job.params as Record<string, any>;
    switch (params.scenario) {
      case 'items':
        return items(ctx, deps, params);
      case 'flaky':
        // Fails its first `failures` attempts, then succeeds.
        if (ctx.job.attempt <= params.failures) {
          ctx.progress(params.progress ? { items: 1 } : {});
          throw new JobFailure(params.type ?? 'TRANSIENT', `The platform answered 503 (attempt ${ctx.job.attempt})`, { retryAfterMs: params.retryAfterMs });
        }
        ctx.log('The platform answered at last');
        return { result: { attempt: ctx.job.attempt } };
      case 'always-failing':
        if (params.succeedFromAttempt && ctx.job.attempt >= params.succeedFromAttempt) return { result: { attempt: ctx.job.attempt } };
        if (params.progress) {
          ctx.progress({ items: 1 });
          await ctx.checkpoint({ attempt: ctx.job.attempt });
        }
        throw new JobFailure('TRANSIENT', 'The platform is down');
      case 'config':
        throw new JobFailure('CONFIG', 'The connection was revoked; reconnect it');
      case 'bug':
        throw new Error('TypeError in the pipeline: secret-ish internal detail');
      case 'wait':
        // Runs until told to stop, reporting progress as it goes.
        while (!ctx.signal.aborted) {
          ctx.progress({ items: 1, bytes: 100 });
          await sleep(50, undefined, { signal: ctx.signal }).catch(() => undefined);
        }
        throw ctx.signal.reason;
      default:
        throw new Error(`unknown test scenario ${params.scenario}`);
    }
  };
}

/**
 * Processes `count` items, checkpointing after each. The output (the checkpoint's `done`) is built
 * only from checkpoints, so a resumed attempt can neither lose nor repeat an item in it.
 */
async function items(ctx: JobContext, deps: Pick<WorkerDeps, 'orm'>, params: Record<string, any>): Promise<JobOutcome> {
  const count: number = params.count;
  const start = (ctx.lastCheckpoint as ItemsCheckpoint | undefined) ?? { next: 0, done: [] };
  if (start.next > 0) ctx.log(`Resuming at item ${start.next}`);
  ctx.progress({ itemsTotal: count, bytesTotal: count * 1000 });
  let done = start.done;
  for (let item = start.next; item < count; item++) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    await sleep(params.delayMs ?? 0);
    if (params.record) {
      await deps.orm.em.getConnection().execute(`insert into ${ITEM_RUNS_TABLE} (job_id, item, attempt) values (?, ?, ?)`, [ctx.job.id, item, ctx.job.attempt]);
    }
    done = [...done, item];
    ctx.progress({ items: 1, bytes: 1000 });
    if ((item + 1) % (params.checkpointEvery ?? 1) === 0) await ctx.checkpoint({ next: item + 1, done } satisfies ItemsCheckpoint);
    if (ctx.job.attempt === 1 && item + 1 === params.failFirstAttemptAfter) {
      await sleep(params.settleMs ?? 0); // lets the progress past the last checkpoint be saved and published
      throw new JobFailure('TRANSIENT', `The platform answered 503 after item ${item}`);
    }
  }
  ctx.log(`Processed ${count} items`);
  return { result: { items: done } };
}

/** For JOB_HANDLER_MODULES. */
export function register(registry: JobHandlerRegistry, deps: WorkerDeps): void {
  registry.replace(TEST_KIND, testHandler(deps));
}
