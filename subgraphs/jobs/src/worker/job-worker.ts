import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { LockMode } from '@mikro-orm/core';
import { fromKysely } from 'pg-boss';
import type { Em, Orm } from '@listbackup/lib/db';
import type { EventBus } from '@listbackup/lib/events/bus';
import type { Logger } from '@listbackup/lib/logger';
import { metrics } from '@listbackup/lib/metrics';
import { contextFrom, SpanKind, withSpan } from '@listbackup/lib/tracing';
import { FINAL_STATUSES, Job, type JobKind, type StoredProgress } from '../entities/job.ts';
import { JobLog, type JobLogLevel } from '../entities/job-log.ts';
import { JOBS_CHANNEL, type JobQueue, type QueuedJob } from '../queue/job-queue.ts';
import { addLogLine, jobEvent, MAX_LOG_MESSAGE, recordJobEvent, recordJobFinished, recordJobRetrying } from '../services/job-state.ts';
import { abortCauseOf, classifyFailure, JobAbort, type AbortCause, type ClassifiedFailure } from './errors.ts';
import { PgListener } from './listener.ts';
import { ProgressTracker, Throttle } from './progress.ts';
import type { JobContext, JobHandlerRegistry, JobInfo, JobOutcome } from './registry.ts';
import { DEFAULT_RETRY_POLICY, decideRetry, type RetryPolicy } from './retry-policy.ts';

export interface JobWorkerOptions {
  orm: Orm;
  queue: JobQueue;
  bus: EventBus;
  registry: JobHandlerRegistry;
  /** For the LISTEN connection (cancel requests, new work). */
  databaseUrl: string;
  log: Logger;
  workerId?: string;
  /** Jobs this worker runs at the same time. */
  concurrency?: number;
  /** How often an idle worker looks for work when no notification woke it. */
  pollIntervalMs?: number;
  retryPolicy?: Partial<RetryPolicy>;
  /** job.progress events: at most one per job per this interval, always the latest figures. */
  progressEventIntervalMs?: number;
  /** How often running jobs store their progress on the Job row. */
  progressSaveIntervalMs?: number;
  /** Backstop for a cancel notification lost in a reconnect. */
  cancelCheckIntervalMs?: number;
  /** How long `stop()` waits for handlers to wind down after aborting them. */
  shutdownGraceMs?: number;
}

type Outcome =
  | { kind: 'succeeded'; result: JobOutcome }
  | { kind: 'failed'; failure: ClassifiedFailure; progressed: boolean }
  | { kind: AbortCause };

interface Execution {
  message: QueuedJob;
  kind: JobKind;
  jobId: string;
  /** The job's `attempts` once claimed: every write of this attempt is fenced on it. */
  attempt: number;
  controller: AbortController;
}

type Settings = Required<Omit<JobWorkerOptions, 'retryPolicy' | 'workerId'>>;

/** Raised inside a settling transaction when pg-boss says the message is no longer ours: roll back. */
class LeaseLost extends Error {}

/**
 * Takes jobs from the queue and runs their handlers: marks them RUNNING, relays progress, stores
 * checkpoints, and settles each attempt (SUCCEEDED, FAILED, CANCELLED, or back to QUEUED for a
 * retry) in one transaction with its queue message and its event. See "A backup" in docs/architecture.md.
 */
export class JobWorker {
  readonly id: string;
  readonly #o: Settings;
  readonly #policy: RetryPolicy;
  readonly #log: Logger;
  readonly #executions = new Map<string, Execution>();
  readonly #done = new Set<Promise<void>>();
  #running = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  /** Set by anything that may mean new work (a notification, a freed slot); cleared by each look at the queue. */
  #pending = false;
  /** Kinds named by new-job notifications since the last look at the queue: looked at first. */
  readonly #notified = new Set<string>();
  #listener: PgListener | null = null;
  #timers: NodeJS.Timeout[] = [];

  constructor(options: JobWorkerOptions) {
    this.id = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
    this.#o = {
      concurrency: 4,
      pollIntervalMs: 2_000,
      progressEventIntervalMs: 500,
      progressSaveIntervalMs: 2_000,
      cancelCheckIntervalMs: 2_000,
      shutdownGraceMs: 15_000,
      ...defined,
    } as Settings;
    this.#policy = { ...DEFAULT_RETRY_POLICY, ...Object.fromEntries(Object.entries(options.retryPolicy ?? {}).filter(([, value]) => value !== undefined)) };
    this.#log = options.log.child({ workerId: this.id });
  }

  async start(): Promise<void> {
    if (this.#running) return;
    if (this.#o.registry.kinds().length === 0) this.#log.warn('no job handlers registered: this worker will take no jobs');
    this.#listener = new PgListener(this.#o.databaseUrl, JOBS_CHANNEL, (payload) => this.#onNotification(payload), this.#log);
    await this.#listener.start();
    this.#running = true;
    const renewEveryMs = Math.max(1_000, (this.#o.queue.leaseSeconds * 1000) / 3);
    this.#timers.push(setInterval(() => void this.#renewLeases(), renewEveryMs));
    this.#timers.push(setInterval(() => void this.#checkCancellations(), this.#o.cancelCheckIntervalMs));
    this.#loop = this.#run();
    this.#log.info({ kinds: this.#o.registry.kinds(), concurrency: this.#o.concurrency }, 'job worker started');
  }

  /** Stops taking jobs, asks running handlers to stop (their jobs go back to the queue), waits for them. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#wake?.();
    for (const execution of this.#executions.values()) execution.controller.abort(new JobAbort('shutdown'));
    // A fetch in flight may still hand over jobs: they start aborted, and go straight back to the queue.
    await this.#loop;
    await Promise.race([Promise.allSettled([...this.#done]), sleep(this.#o.shutdownGraceMs)]);
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    await this.#listener?.stop();
    this.#log.info('job worker stopped');
  }

  /** Jobs in hand right now (for tests and health). */
  get activeJobIds(): string[] {
    return [...this.#executions.values()].map((execution) => execution.jobId);
  }

  #free(): number {
    return this.#o.concurrency - this.#executions.size;
  }

  async #run(): Promise<void> {
    const kinds = this.#o.registry.kinds();
    let turn = 0;
    let errorDelayMs = 500;
    while (this.#running) {
      let fetched = 0;
      // Whatever signals arrive from here on may not be seen by this fetch: they make the loop look again.
      this.#pending = false;
      // The kinds just notified first, then the others in turn: a new job does not wait behind a fetch of every other kind.
      const rotated = kinds.map((_, i) => kinds[(turn + i) % kinds.length]);
      const order = [...rotated.filter((kind) => this.#notified.has(kind)), ...rotated.filter((kind) => !this.#notified.has(kind))];
      this.#notified.clear();
      try {
        for (let i = 0; i < order.length && this.#free() > 0 && this.#running; i++) {
          const kind = order[i];
          const messages = await this.#o.queue.fetch(kind, this.#free());
          for (const message of messages) this.#execute(kind, message);
          fetched += messages.length;
        }
        turn++;
        errorDelayMs = 500;
      } catch (error) {
        if (!this.#running) break;
        this.#log.error({ err: error }, 'fetching jobs failed');
        await sleep(errorDelayMs);
        errorDelayMs = Math.min(errorDelayMs * 2, 30_000);
        continue;
      }
      if (fetched === 0 || this.#free() <= 0) await this.#idle(this.#o.pollIntervalMs);
    }
  }

  /** Sleeps until the poll interval passes or a signal comes; returns at once if one came since the last fetch. */
  async #idle(ms: number): Promise<void> {
    if (!this.#running || (this.#pending && this.#free() > 0)) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
    this.#wake = null;
  }

  #onNotification(payload: string): void {
    if (payload.startsWith('enqueued:')) {
      this.#notified.add(payload.slice('enqueued:'.length));
      this.#signal();
    } else if (payload.startsWith('cancel:')) {
      this.#abortJob(payload.slice('cancel:'.length), 'cancelled');
    }
  }

  /**
   * New work may be waiting. Kept even when the loop is fetching or every slot is taken, so the next
   * sleep is skipped: a notification is never lost between a fetch and the sleep after it.
   */
  #signal(): void {
    this.#pending = true;
    if (this.#free() > 0) this.#wake?.();
  }

  #abortJob(jobId: string, cause: AbortCause): void {
    for (const execution of this.#executions.values()) {
      if (execution.jobId === jobId && !execution.controller.signal.aborted) execution.controller.abort(new JobAbort(cause));
    }
  }

  #execute(kind: JobKind, message: QueuedJob): void {
    const execution: Execution = { message, kind, jobId: message.data.jobId, attempt: 0, controller: new AbortController() };
    if (!this.#running) execution.controller.abort(new JobAbort('shutdown'));
    this.#executions.set(message.id, execution);
    const attributes = { 'messaging.system': 'pg-boss', 'messaging.operation.type': 'process', 'messaging.destination.name': message.name, 'listbackup.job.id': execution.jobId, 'listbackup.job.kind': kind, 'listbackup.worker.id': this.id };
    const done = withSpan(`job ${kind}`, { kind: SpanKind.CONSUMER, attributes, parent: contextFrom(message.data.traceparent) }, () => this.#perform(execution))
      .catch((error: unknown) => this.#log.error({ err: error, jobId: execution.jobId }, 'job execution failed'))
      .finally(() => {
        this.#executions.delete(message.id);
        this.#done.delete(done);
        this.#signal();
      });
    this.#done.add(done);
  }

  async #perform(execution: Execution): Promise<void> {
    const job = await this.#claim(execution);
    if (!job) return;
    execution.attempt = job.attempts;
    const log = this.#log.child({ jobId: job.id, accountId: job.accountId, attempt: job.attempts });
    const handler = this.#o.registry.get(execution.kind)!;
    const tracker = new ProgressTracker(job.checkpoint?.progress ?? null, job.progress);
    const start = tracker.snapshot();
    const startedAt = performance.now();
    let counted = { items: start.itemsDone, bytes: start.bytesDone };
    let checkpointed = false;
    const publish = new Throttle(this.#o.progressEventIntervalMs, () => {
      this.#o.bus.publishEphemeral(jobEvent('job.progress', job, tracker.snapshot())).catch((error: unknown) => log.warn({ err: error }, 'publishing job progress failed'));
    });
    // Writes of one attempt go in order: a log line written before a checkpoint is stored before it.
    let writes: Promise<void> = Promise.resolve();
    const write = (fn: () => Promise<void>) => {
      const next = writes.then(fn);
      writes = next.catch((error: unknown) => log.warn({ err: error }, 'storing job state failed'));
      return next;
    };
    const save = new Throttle(this.#o.progressSaveIntervalMs, () => void write(() => this.#saveProgress(execution, tracker.snapshot())));
    const info: JobInfo = {
      id: job.id,
      accountId: job.accountId,
      sourceId: job.sourceId ?? null,
      kind: job.kind,
      params: job.params ?? {},
      attempt: job.attempts,
      triggeredBy: { kind: job.triggerKind, id: job.triggeredById ?? null },
    };
    const context: JobContext = {
      job: info,
      signal: execution.controller.signal,
      lastCheckpoint: job.checkpoint?.data,
      progress: (update) => {
        tracker.update(update);
        const now = tracker.counters();
        if (now.items > counted.items) metrics.jobItems.inc({ kind: job.kind }, now.items - counted.items);
        if (now.bytes > counted.bytes) metrics.jobBytes.inc({ kind: job.kind }, now.bytes - counted.bytes);
        counted = now;
        publish.schedule();
        save.schedule();
      },
      log: (message, level = 'INFO') => void write(() => this.#appendLog(job, execution.attempt, message, level)),
      checkpoint: (data) =>
        write(async () => {
          await this.#saveCheckpoint(execution, data, tracker.snapshot());
          checkpointed = true;
        }),
    };

    let outcome: Outcome;
    try {
      if (execution.controller.signal.aborted) throw execution.controller.signal.reason;
      const result = await handler(context);
      outcome = { kind: 'succeeded', result: result ?? {} };
    } catch (error) {
      const cause = abortCauseOf(execution.controller.signal);
      if (cause) {
        outcome = { kind: cause };
      } else {
        const failure = classifyFailure(error);
        if (failure.reference) log.error({ err: error, reference: failure.reference }, 'job handler failed unexpectedly');
        const now = tracker.snapshot();
        outcome = { kind: 'failed', failure, progressed: checkpointed || now.itemsDone > start.itemsDone || now.bytesDone > start.bytesDone };
      }
    }
    publish.stop();
    save.stop();
    await writes;
    const end = tracker.snapshot();
    const seconds = (performance.now() - startedAt) / 1000;
    if (end.bytesDone > start.bytesDone && seconds > 0) metrics.jobThroughput.observe({ kind: job.kind }, (end.bytesDone - start.bytesDone) / seconds);
    await this.#settle(execution, outcome, end, log);
  }

  /** Marks the job RUNNING for a new attempt, or settles a message that has nothing left to run. */
  async #claim(execution: Execution): Promise<Job | null> {
    const { message } = execution;
    return this.#o.orm.em.fork().transactional(async (tx) => {
      const job = await tx.findOne(Job, { id: message.data.jobId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!job || job.run !== message.data.run || FINAL_STATUSES.includes(job.status)) {
        // A message that outlived its run (the job was retried, cancelled or finished meanwhile).
        await this.#o.queue.complete(tx, message);
        return null;
      }
      if (job.cancelRequestedAt) {
        await this.#o.queue.complete(tx, message);
        this.#finish(tx, job, 'CANCELLED', 'Cancelled before its next attempt started', 'job.cancelled');
        return null;
      }
      if (job.status === 'RUNNING') {
        // The previous attempt's worker stopped renewing its lease (killed, frozen, cut off).
        const progressed = job.lastProgressAt != null && job.attemptStartedAt != null && job.lastProgressAt > job.attemptStartedAt;
        job.failures += 1;
        job.failuresWithoutProgress = progressed ? 0 : job.failuresWithoutProgress + 1;
        addLogLine(tx, job, `Attempt ${job.attempts} stopped: its worker stopped responding`, 'WARN');
        const decision = decideRetry(this.#policy, { type: 'TRANSIENT' }, job);
        if (!decision.retry) {
          await this.#o.queue.deadLetter(tx, message, 'workers kept stopping');
          job.failureType = 'INTERNAL';
          job.failureReason = `The job's workers kept stopping before it finished (${decision.why})`;
          this.#finish(tx, job, 'FAILED', `Giving up: ${job.failureReason}`, 'job.failed', 'ERROR');
          return null;
        }
      }
      const now = new Date();
      job.status = 'RUNNING';
      job.attempts += 1;
      job.attemptStartedAt = now;
      job.startedAt ??= now;
      job.nextAttemptAt = null;
      job.workerId = this.id;
      // The attempt now running is the job's state: the last failure stays in the log and in attempts.
      job.failureType = null;
      job.failureReason = null;
      addLogLine(tx, job, job.checkpoint ? `Attempt ${job.attempts} started, resuming from the checkpoint of ${job.checkpointAt?.toISOString()}` : `Attempt ${job.attempts} started`);
      recordJobEvent(tx, 'job.started', job);
      return job;
    });
  }

  async #settle(execution: Execution, outcome: Outcome, progress: StoredProgress, log: Logger): Promise<void> {
    if (outcome.kind === 'lease-lost') {
      log.warn('lost the lease on this job; another attempt takes over');
      return;
    }
    const { queue } = this.#o;
    const { message } = execution;
    // Counted once the transaction committed.
    let recorded: { outcome: string; status?: string; failureType: string } | null = null;
    try {
      await this.#o.orm.em.fork().transactional(async (tx) => {
        const job = await tx.findOne(Job, { id: execution.jobId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        if (job?.status !== 'RUNNING' || job.attempts !== execution.attempt) throw new LeaseLost();
        job.progress = progress;
        const attempt = `Attempt ${job.attempts}`;
        switch (outcome.kind) {
          case 'succeeded': {
            if (!(await queue.complete(tx, message))) throw new LeaseLost();
            job.partialSuccess = outcome.result.partialSuccess ?? false;
            job.result = outcome.result.result ?? null;
            job.deferredSince = null;
            job.failureType = null;
            job.failureReason = null;
            this.#finish(tx, job, 'SUCCEEDED', job.partialSuccess ? 'Finished, with some items skipped' : 'Finished', 'job.completed');
            recorded = { outcome: 'succeeded', status: 'SUCCEEDED', failureType: '' };
            return;
          }
          case 'cancelled': {
            if (!(await queue.complete(tx, message))) throw new LeaseLost();
            this.#finish(tx, job, 'CANCELLED', `${attempt} stopped: cancelled`, 'job.cancelled');
            recorded = { outcome: 'cancelled', status: 'CANCELLED', failureType: '' };
            return;
          }
          case 'shutdown': {
            if (!(await queue.complete(tx, message))) throw new LeaseLost();
            job.status = 'QUEUED';
            job.run += 1;
            job.workerId = null;
            await queue.enqueue(tx, job);
            addLogLine(tx, job, `${attempt} interrupted: its worker is shutting down; queued again`, 'WARN');
            recordJobEvent(tx, 'job.requeued', job);
            recorded = { outcome: 'requeued', failureType: '' };
            return;
          }
          case 'failed': {
            const { failure } = outcome;
            // Waiting on an unavailable platform is counted from the first deferral since the job last got anywhere.
            const deferredSince = failure.deferred ? (outcome.progressed ? new Date() : (job.deferredSince ?? new Date())) : null;
            const waitedMs = deferredSince ? Date.now() - deferredSince.getTime() : 0;
            if (failure.deferred && waitedMs < this.#policy.maxDeferralMs) {
              // Not a failure of the job: the platform is unavailable. It waits in the queue, its budget untouched.
              if (!(await queue.complete(tx, message))) throw new LeaseLost();
              const delayMs = Math.max(1_000, failure.retryAfterMs ?? 0);
              if (outcome.progressed) job.failuresWithoutProgress = 0;
              job.deferredSince = deferredSince;
              job.failureType = failure.type;
              job.failureReason = failure.reason;
              job.status = 'QUEUED';
              job.run += 1;
              job.workerId = null;
              job.nextAttemptAt = new Date(Date.now() + delayMs);
              await queue.enqueue(tx, job, job.nextAttemptAt);
              addLogLine(tx, job, `${attempt} deferred: ${failure.reason}`, 'WARN');
              recordJobRetrying(tx, job, delayMs);
              recorded = { outcome: 'deferred', failureType: failure.type };
              return;
            }
            job.deferredSince = null;
            if (failure.deferred) {
              // Deferred for as long as a job waits: it gives up, and an operator can redrive it once the platform is back.
              if (!(await queue.deadLetter(tx, message, 'the platform stayed unavailable'))) throw new LeaseLost();
              job.failureType = 'UNAVAILABLE';
              job.failureReason = `The platform stayed unavailable for ${formatDelay(waitedMs)} (a job waits at most ${formatDelay(this.#policy.maxDeferralMs)}): ${failure.reason.replace(/; retrying at \S+$/, '')}`;
              addLogLine(tx, job, `${attempt} deferred once more: ${failure.reason}`, 'WARN');
              this.#finish(tx, job, 'FAILED', `Giving up: ${job.failureReason}`, 'job.failed', 'ERROR');
              recorded = { outcome: 'failed', status: 'FAILED', failureType: 'UNAVAILABLE' };
              return;
            }
            job.failures += 1;
            job.failuresWithoutProgress = outcome.progressed ? 0 : job.failuresWithoutProgress + 1;
            job.failureType = failure.type;
            job.failureReason = failure.reason;
            const decision = decideRetry(this.#policy, failure, job);
            if (decision.retry) {
              if (!(await queue.complete(tx, message))) throw new LeaseLost();
              job.status = 'QUEUED';
              job.run += 1;
              job.workerId = null;
              job.nextAttemptAt = new Date(Date.now() + decision.delayMs);
              await queue.enqueue(tx, job, job.nextAttemptAt);
              addLogLine(tx, job, `${attempt} failed (${failure.type}): ${failure.reason}. Retrying in ${formatDelay(decision.delayMs)}`, 'WARN');
              recordJobRetrying(tx, job, decision.delayMs);
              recorded = { outcome: 'retrying', failureType: failure.type };
              return;
            }
            // Failures an operator might fix (outage, our bug) are parked for redrive; AUTH, CONFIG and
            // QUOTA_EXCEEDED need the user, and running DAMAGED again finds the same damage.
            const retryable = failure.type !== 'AUTH' && failure.type !== 'CONFIG' && failure.type !== 'DAMAGED' && failure.type !== 'QUOTA_EXCEEDED';
            const settled = retryable ? await queue.deadLetter(tx, message, failure.reason) : await queue.complete(tx, message);
            if (!settled) throw new LeaseLost();
            if (failure.result) job.result = failure.result;
            addLogLine(tx, job, `${attempt} failed (${failure.type}): ${failure.reason}`, 'ERROR');
            this.#finish(tx, job, 'FAILED', !retryable || failure.type === 'INTERNAL' ? 'Failed' : `Giving up: ${decision.why}`, 'job.failed', 'ERROR');
            recorded = { outcome: 'failed', status: 'FAILED', failureType: failure.type };
            return;
          }
        }
      });
    } catch (error) {
      if (!(error instanceof LeaseLost)) throw error;
      log.warn('the job moved on without this attempt (lease lost); its outcome is dropped');
    }
    const done = recorded as { outcome: string; status?: string; failureType: string } | null;
    if (done) {
      metrics.jobAttempts.inc({ kind: execution.kind, outcome: done.outcome, failure_type: done.failureType });
      if (done.status) metrics.jobsFinished.inc({ kind: execution.kind, status: done.status, failure_type: done.failureType });
    }
  }

  #finish(tx: Em, job: Job, status: 'SUCCEEDED' | 'FAILED' | 'CANCELLED', note: string, event: 'job.completed' | 'job.failed' | 'job.cancelled', level: JobLogLevel = 'INFO'): void {
    job.status = status;
    job.finishedAt = new Date();
    job.nextAttemptAt = null;
    job.workerId = null;
    addLogLine(tx, job, note, level);
    recordJobFinished(tx, event, job);
  }

  async #saveProgress(execution: Execution, progress: StoredProgress): Promise<void> {
    const rows = await this.#sql<{ cancel_requested_at: Date | null }>(
      `update "jobs"."jobs" set "progress" = $1::jsonb, "last_progress_at" = now(), "updated_at" = now()
       where "id" = $2 and "attempts" = $3 and "status" = 'RUNNING' returning "cancel_requested_at"`,
      [JSON.stringify(progress), execution.jobId, execution.attempt],
    );
    this.#afterWrite(execution, rows);
  }

  async #saveCheckpoint(execution: Execution, data: unknown, progress: StoredProgress): Promise<void> {
    const rows = await this.#sql<{ cancel_requested_at: Date | null }>(
      `update "jobs"."jobs" set "checkpoint" = $1::jsonb, "checkpoint_at" = now(), "progress" = $2::jsonb, "last_progress_at" = now(), "updated_at" = now()
       where "id" = $3 and "attempts" = $4 and "status" = 'RUNNING' returning "cancel_requested_at"`,
      [JSON.stringify({ data: data ?? null, progress }), JSON.stringify(progress), execution.jobId, execution.attempt],
    );
    this.#afterWrite(execution, rows);
    if (rows.length === 0) throw new JobAbort('lease-lost');
  }

  /** A fenced write that matched nothing means another attempt owns the job now. */
  #afterWrite(execution: Execution, rows: { cancel_requested_at: Date | null }[]): void {
    if (execution.controller.signal.aborted) return;
    if (rows.length === 0) execution.controller.abort(new JobAbort('lease-lost'));
    else if (rows[0].cancel_requested_at) execution.controller.abort(new JobAbort('cancelled'));
  }

  async #appendLog(job: Job, attempt: number, message: string, level: JobLogLevel): Promise<void> {
    const em = this.#o.orm.em.fork();
    const text = message.length > MAX_LOG_MESSAGE ? `${message.slice(0, MAX_LOG_MESSAGE - 1)}…` : message;
    em.create(JobLog, { jobId: job.id, accountId: job.accountId, at: new Date(), level, message: text, attempt });
    await em.flush();
  }

  async #renewLeases(): Promise<void> {
    const byKind = new Map<JobKind, Execution[]>();
    for (const execution of this.#executions.values()) byKind.set(execution.kind, [...(byKind.get(execution.kind) ?? []), execution]);
    for (const [kind, executions] of byKind) {
      try {
        const held = await this.#o.queue.renew(kind, executions.map((execution) => execution.message));
        for (const execution of executions) {
          if (!held.has(execution.message.id) && this.#executions.has(execution.message.id)) execution.controller.abort(new JobAbort('lease-lost'));
        }
      } catch (error) {
        // Could not reach the database: say nothing about the leases, try again next time.
        this.#log.warn({ err: error }, 'renewing job leases failed');
      }
    }
  }

  async #checkCancellations(): Promise<void> {
    const ids = [...new Set(this.activeJobIds)];
    if (ids.length === 0) return;
    try {
      const rows = await this.#sql<{ id: string }>(`select "id" from "jobs"."jobs" where "id" = any($1::uuid[]) and "cancel_requested_at" is not null`, [ids]);
      for (const { id } of rows) this.#abortJob(id, 'cancelled');
    } catch (error) {
      this.#log.warn({ err: error }, 'checking for cancelled jobs failed');
    }
  }

  /** Parameterised SQL on the ORM's pool, outside any transaction. */
  async #sql<T>(text: string, values: unknown[]): Promise<T[]> {
    const client = this.#o.orm.em.getConnection().getClient();
    const { rows } = await fromKysely(client as Parameters<typeof fromKysely>[0]).executeSql(text, values);
    return rows as T[];
  }
}

function formatDelay(ms: number): string {
  if (ms < 60_000) return `${Math.max(1, Math.round(ms / 1000))} s`;
  if (ms < 3600_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 360_000) / 10} h`;
}
