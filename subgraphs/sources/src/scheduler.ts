import { LockMode } from '@mikro-orm/core';
import type { Orm } from '@listbackup/lib/db';
import type { Logger } from '@listbackup/lib/logger';
import { Source } from './entities/source.ts';
import type { JobsClient } from './clients/jobs-client.ts';
import { scheduleOf } from './services/source-service.ts';
import { nextRun } from './services/schedule.ts';
import { heldAccounts } from './events/account-holds.ts';

export interface SchedulerOptions {
  orm: Orm;
  jobs: JobsClient;
  log: Logger;
  /** How often due sources are looked for. */
  intervalMs?: number;
  /** Sources claimed per transaction. */
  batchSize?: number;
}

/**
 * Starts the backups of sources whose `next_run_at` has come. Safe with any number of schedulers:
 * due rows are claimed with FOR UPDATE SKIP LOCKED and moved to their next occurrence in the same
 * transaction, and each occurrence's job is created with an idempotency key (source + occurrence),
 * so even a scheduler that dies between the jobs call and its commit cannot create a second job.
 * Occurrences missed while nothing ran collapse into one backup.
 */
export class SourceScheduler {
  readonly #o: Required<SchedulerOptions>;
  #timer: NodeJS.Timeout | null = null;
  #ticking: Promise<unknown> | null = null;

  constructor(options: SchedulerOptions) {
    this.#o = { ...options, intervalMs: options.intervalMs ?? 15_000, batchSize: options.batchSize ?? 50 };
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.#ticking) return;
      this.#ticking = this.tick()
        .catch((error: unknown) => this.#o.log.error({ err: error }, 'scheduler tick failed'))
        .finally(() => {
          this.#ticking = null;
        });
    }, this.#o.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#ticking;
  }

  /** Enqueues every source due at `now`; returns how many backups it asked for. */
  async tick(now: Date = new Date()): Promise<number> {
    let total = 0;
    for (;;) {
      const { claimed, enqueued, held } = await this.#batch(now);
      total += enqueued;
      if (claimed < this.#o.batchSize || enqueued + held < claimed) return total;
    }
  }

  async #batch(now: Date): Promise<{ claimed: number; enqueued: number; held: number }> {
    return this.#o.orm.em.fork().transactional(async (tx) => {
      const due = await tx.find(
        Source,
        { nextRunAt: { $lte: now }, paused: false, deletedAt: null },
        // The poll is background noise in query logs (and in tests counting a request's queries).
        { orderBy: { nextRunAt: 'asc' }, limit: this.#o.batchSize, lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE, logging: { enabled: false } },
      );
      const heldIds = await heldAccounts(tx, [...new Set(due.map((source) => source.accountId))]);
      let enqueued = 0;
      let held = 0;
      for (const source of due) {
        const occurrence = source.nextRunAt!;
        if (heldIds.has(source.accountId)) {
          // A suspended or deleted account's backups do not run; its schedule moves on without them.
          source.nextRunAt = nextRun(scheduleOf(source), occurrence > now ? occurrence : now);
          held++;
          continue;
        }
        try {
          await this.#o.jobs.enqueueScheduledBackup({ accountId: source.accountId, sourceId: source.id, idempotencyKey: `schedule:${source.id}:${occurrence.toISOString()}` });
          enqueued++;
          source.nextRunAt = nextRun(scheduleOf(source), occurrence > now ? occurrence : now);
        } catch (error) {
          // Left due: the next tick tries again (the idempotency key keeps it to one job).
          this.#o.log.warn({ err: error, sourceId: source.id }, 'could not enqueue a scheduled backup');
        }
      }
      return { claimed: due.length, enqueued, held };
    });
  }
}
