import { randomUUID } from 'node:crypto';
import { PgBoss, fromKysely, type Db as IDatabase, type JobWithMetadata } from 'pg-boss';
import type { Em } from '@listbackup/lib/db';
import type { Logger } from '@listbackup/lib/logger';
import { metrics, type Sample } from '@listbackup/lib/metrics';
import { currentTraceparent, SpanKind, withSpan } from '@listbackup/lib/tracing';
import { JOB_KINDS, type Job, type JobKind } from '../entities/job.ts';

/**
 * pg-boss carries the work; the Job row is the user-visible truth. One queue per kind, so a worker
 * only takes the kinds it has handlers for. Every message names a job and the `run` it was sent
 * for: anything that re-enqueues a job bumps `run`, so a message that outlived its run is dropped.
 */
export interface QueueMessage {
  jobId: string;
  run: number;
  /** W3C trace context of the enqueue, when tracing is on: the worker's attempt continues that trace. */
  traceparent?: string;
}

export type QueuedJob = JobWithMetadata<QueueMessage>;

export const PGBOSS_SCHEMA = 'pgboss';
export const DEAD_LETTER_QUEUE = 'jobs.dead-letter';
export const queueName = (kind: JobKind) => `jobs.${kind.toLowerCase()}`;

/** The one LISTEN/NOTIFY channel of the jobs runtime: `enqueued:<kind>` wakes workers, `cancel:<jobId>` stops one. */
export const JOBS_CHANNEL = 'lb_jobs';

export interface JobQueueOptions {
  databaseUrl: string;
  log: Logger;
  /**
   * A worker renews its lease every third of this; a job whose worker stopped renewing for this
   * long (killed, frozen, cut off) goes back to the queue. pg-boss needs at least 10.
   */
  leaseSeconds?: number;
  /** Run pg-boss's supervisor here (expiring lost leases, housekeeping). Workers do; the API does not need to. */
  supervise?: boolean;
  /** How often the supervisor looks for lost leases (seconds; pg-boss default 60). */
  superviseIntervalSeconds?: number;
  poolMax?: number;
}

/**
 * Retries of lost leases are pg-boss's; retries of failed attempts are the runtime's own (with its
 * own budget), so this only has to be larger than the runtime's limits for crash recovery to run
 * out on the runtime's terms, never pg-boss's.
 */
const LEASE_RETRY_LIMIT = 100;

export class JobQueue {
  readonly boss: PgBoss;
  readonly leaseSeconds: number;
  readonly #log: Logger;
  readonly #unwatch: (() => void)[];

  private constructor(boss: PgBoss, leaseSeconds: number, log: Logger, databaseUrl: string) {
    this.boss = boss;
    this.leaseSeconds = leaseSeconds;
    this.#log = log;
    // One series per queue of the database, however many queues of this process watch it.
    const key = `pgboss ${databaseUrl}`;
    this.#unwatch = [
      metrics.queueDepth.add(async () => (await this.#queueStats()).depth, key),
      metrics.queueOldest.add(async () => (await this.#queueStats()).oldest, key),
    ];
  }

  #stats: Promise<{ depth: Sample[]; oldest: Sample[] }> | null = null;

  /** Depth and oldest waiting message per queue, read once per scrape for both gauges. */
  #queueStats(): Promise<{ depth: Sample[]; oldest: Sample[] }> {
    this.#stats ??= this.boss
      .getDb()
      .executeSql(
        `select q.name,
           count(j.id) filter (where j.state in ('created', 'retry') and j.start_after <= now())::int as ready,
           count(j.id) filter (where j.state in ('created', 'retry') and j.start_after > now())::int as deferred,
           count(j.id) filter (where j.state = 'active')::int as active,
           coalesce(extract(epoch from now() - min(j.start_after) filter (where j.state in ('created', 'retry') and j.start_after <= now())), 0)::float8 as oldest
         from ${PGBOSS_SCHEMA}.queue q
         left join ${PGBOSS_SCHEMA}.job j on j.name = q.name and j.state in ('created', 'retry', 'active')
         group by q.name`,
      )
      .then(({ rows }) => {
        const depth: Sample[] = [];
        const oldest: Sample[] = [];
        for (const row of rows as { name: string; ready: number; deferred: number; active: number; oldest: number }[]) {
          for (const state of ['ready', 'deferred', 'active'] as const) depth.push({ labels: { queue: row.name, state }, value: row[state] });
          oldest.push({ labels: { queue: row.name }, value: row.oldest });
        }
        return { depth, oldest };
      })
      .finally(() => setImmediate(() => (this.#stats = null)));
    return this.#stats;
  }

  /** Installs or migrates pg-boss's schema and creates the queues (both idempotent). */
  static async start(options: JobQueueOptions): Promise<JobQueue> {
    const leaseSeconds = Math.max(10, Math.round(options.leaseSeconds ?? 30));
    const supervise = options.supervise ?? false;
    const interval = options.superviseIntervalSeconds;
    const boss = new PgBoss({
      connectionString: options.databaseUrl,
      schema: PGBOSS_SCHEMA,
      max: options.poolMax ?? 5,
      supervise,
      schedule: false,
      migrate: true,
      registerInstance: false,
      // The queue traces its enqueue and the worker its attempt itself (lib/src/tracing.ts): pg-boss's
      // own spans cannot continue a trace across fetch() (they only link to it) and add a trace per poll.
      openTelemetry: { enabled: false },
      ...(interval ? { superviseIntervalSeconds: interval, monitorIntervalSeconds: interval } : {}),
    });
    boss.on('error', (error) => options.log.error({ err: error }, 'pg-boss error'));
    await boss.start();
    const queue = new JobQueue(boss, leaseSeconds, options.log, options.databaseUrl);
    try {
      await boss.createQueue(DEAD_LETTER_QUEUE, { retentionSeconds: 14 * 24 * 3600, deleteAfterSeconds: 30 * 24 * 3600 });
      for (const kind of JOB_KINDS) {
        await boss.createQueue(queueName(kind), {
          heartbeatSeconds: leaseSeconds,
          // The lease is the heartbeat; this only bounds a single attempt (pg-boss's maximum).
          expireInSeconds: 24 * 3600,
          retryLimit: LEASE_RETRY_LIMIT,
          retryDelay: 1,
          retentionSeconds: 14 * 24 * 3600,
          deleteAfterSeconds: 7 * 24 * 3600,
          deadLetter: DEAD_LETTER_QUEUE,
        });
        // Queues are created once; the lease is the workers' setting, so a worker applies its own.
        if (supervise) await boss.updateQueue(queueName(kind), { heartbeatSeconds: leaseSeconds });
      }
    } catch (error) {
      queue.#stopWatching();
      await boss.stop({ graceful: false, close: true }).catch(() => undefined);
      throw error;
    }
    return queue;
  }

  /**
   * Sends the job's current run to its queue inside the caller's transaction (so the message exists
   * exactly when the Job row does) and wakes idle workers when it commits.
   */
  async enqueue(tx: Em, job: Job, startAfter?: Date): Promise<void> {
    const id = randomUUID();
    const queue = queueName(job.kind);
    const attributes = { 'messaging.system': 'pg-boss', 'messaging.operation.type': 'send', 'messaging.destination.name': queue, 'listbackup.job.kind': job.kind, 'listbackup.job.id': job.id, 'listbackup.job.run': job.run };
    await withSpan(`enqueue ${job.kind}`, { kind: SpanKind.PRODUCER, attributes }, async () => {
      const traceparent = currentTraceparent();
      const message: QueueMessage = { jobId: job.id, run: job.run, ...(traceparent ? { traceparent } : {}) };
      await this.boss.send(queue, message, { id, db: transactionDb(tx), ...(startAfter ? { startAfter } : {}) });
    });
    job.queueJobId = id;
    await notify(tx, `enqueued:${job.kind}`);
  }

  /** Resolves when pg-boss answers and has every queue of the job kinds; else throws why not (readiness). */
  async ready(): Promise<void> {
    let names: Set<string>;
    try {
      names = new Set((await this.boss.getQueues()).map((queue) => queue.name));
    } catch (error) {
      throw new Error(`pg-boss does not answer (${error instanceof Error ? error.message : String(error)})`);
    }
    const missing = JOB_KINDS.map(queueName).filter((name) => !names.has(name));
    if (missing.length) throw new Error(`pg-boss has no queue ${missing.join(', ')}`);
  }

  /** Withdraws a job's message that no worker has taken yet (a queued job being cancelled). */
  async withdraw(tx: Em, job: Job): Promise<void> {
    if (!job.queueJobId) return;
    await this.boss.cancel(queueName(job.kind), job.queueJobId, { db: transactionDb(tx) });
  }

  async fetch(kind: JobKind, batchSize: number): Promise<QueuedJob[]> {
    return this.boss.fetch<QueueMessage>(queueName(kind), { batchSize, includeMetadata: true });
  }

  /** Renews leases; answers the ids still held (a missing one was taken back by pg-boss). */
  async renew(kind: JobKind, held: QueuedJob[]): Promise<Set<string>> {
    const response = (await this.boss.touch(queueName(kind), held.map(attemptOf))) as { settled?: string[] };
    return new Set(response.settled ?? held.map((job) => job.id));
  }

  /** Settles the message in the caller's transaction; false when this worker no longer holds it. */
  async complete(tx: Em, message: QueuedJob): Promise<boolean> {
    const response = (await this.boss.complete(message.name, attemptOf(message), null, { db: transactionDb(tx) })) as { affected?: number };
    return (response.affected ?? 0) > 0;
  }

  /** Settles the message and parks a copy in the dead-letter queue for an operator's redrive. */
  async deadLetter(tx: Em, message: QueuedJob, reason: string): Promise<boolean> {
    if (!(await this.complete(tx, message))) return false;
    await this.boss.send(DEAD_LETTER_QUEUE, { ...message.data, sourceQueue: message.name, reason }, { db: transactionDb(tx) });
    return true;
  }

  /** Dead-lettered messages, oldest first. */
  async deadLettered(limit = 1000): Promise<JobWithMetadata<QueueMessage & { sourceQueue?: string; reason?: string }>[]> {
    return this.boss.findJobs(DEAD_LETTER_QUEUE, { queued: true, limit }) as Promise<JobWithMetadata<QueueMessage & { sourceQueue?: string; reason?: string }>[]>;
  }

  /** Removes dead-lettered messages of a job (it was retried or redriven). */
  async clearDeadLetters(tx: Em, jobId: string): Promise<void> {
    const db = transactionDb(tx);
    const parked = await this.boss.findJobs<QueueMessage>(DEAD_LETTER_QUEUE, { data: { jobId }, db });
    if (parked.length) await this.boss.deleteJob(DEAD_LETTER_QUEUE, parked.map((job) => job.id), { db });
  }

  #stopWatching(): void {
    for (const unwatch of this.#unwatch) unwatch();
  }

  async stop(): Promise<void> {
    this.#stopWatching();
    try {
      await this.boss.stop({ graceful: true, close: true, timeout: 5_000 });
    } catch (error) {
      this.#log.warn({ err: error }, 'pg-boss did not stop cleanly');
    }
  }
}

const attemptOf = (job: QueuedJob) => ({ id: job.id, retryCount: job.retryCount });

/** pg-boss statements run on the MikroORM transaction's own connection, so they commit or roll back with it. */
export function transactionDb(tx: Em): IDatabase {
  const context = tx.getTransactionContext();
  if (!context) throw new Error('pg-boss calls that must be atomic with the Job row need a transaction');
  return fromKysely(context as Parameters<typeof fromKysely>[0]);
}

/** NOTIFY is transactional: listeners hear it when (and only if) the transaction commits. */
export async function notify(tx: Em, payload: string): Promise<void> {
  await tx.execute('select pg_notify(?, ?)', [JOBS_CHANNEL, payload]);
}
