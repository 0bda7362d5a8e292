import { PgBoss } from 'pg-boss';
import type { Logger } from '@listbackup/lib/logger';

/** pg-boss's tables for billing's own schedules (the jobs subgraph's queues live in `pgboss`). */
export const BILLING_BOSS_SCHEMA = 'pgboss_billing';
export const FINALIZE_QUEUE = 'billing-finalize-invoices';
export const COLLECT_QUEUE = 'billing-collect-payments';

export interface BillingCycleTasks {
  /** Finalizes last month's invoices (as of `now`). */
  finalize(now: Date): Promise<unknown>;
  /** Charges the invoices due and makes those past their grace period overdue; absent when payments are off. */
  collect?: (now: Date) => Promise<unknown>;
}

/**
 * Billing's calendar, kept by pg-boss schedules so that one replica runs each occurrence: invoices
 * are finalized at 01:00 UTC on the 1st of each month (a missed run is caught up at the next start,
 * `missed: 'once'`), and payments are collected every 30 minutes. The tasks take the clock as an
 * argument, so tests call them directly with it moved.
 */
export class BillingCycle {
  readonly #boss: PgBoss;

  private constructor(boss: PgBoss) {
    this.#boss = boss;
  }

  static async start(databaseUrl: string, log: Logger, tasks: BillingCycleTasks): Promise<BillingCycle> {
    const boss = new PgBoss({ connectionString: databaseUrl, schema: BILLING_BOSS_SCHEMA, max: 2, migrate: true, schedule: true, supervise: true, registerInstance: false });
    boss.on('error', (error) => log.error({ err: error }, 'pg-boss error (billing)'));
    await boss.start();
    const cycle = new BillingCycle(boss);
    try {
      const run = (name: string, task: (now: Date) => Promise<unknown>) =>
        boss.work(name, async () => {
          try {
            await task(new Date());
          } catch (error) {
            log.error({ err: error, task: name }, 'billing task failed; it runs again at its next occurrence');
            throw error;
          }
        });
      await boss.createQueue(FINALIZE_QUEUE, { policy: 'singleton', retryLimit: 3, retryDelay: 600 });
      await boss.schedule(FINALIZE_QUEUE, '0 1 1 * *', null, { tz: 'UTC', missed: 'once' });
      await run(FINALIZE_QUEUE, tasks.finalize);
      await boss.createQueue(COLLECT_QUEUE, { policy: 'singleton', retryLimit: 0 });
      if (tasks.collect) {
        await boss.schedule(COLLECT_QUEUE, '*/30 * * * *', null, { tz: 'UTC', missed: 'once' });
        await run(COLLECT_QUEUE, tasks.collect);
      } else await boss.unschedule(COLLECT_QUEUE);
    } catch (error) {
      await cycle.stop();
      throw error;
    }
    return cycle;
  }

  /** The schedules as pg-boss keeps them. */
  schedules(): Promise<{ name: string; cron: string; timezone: string }[]> {
    return this.#boss.getSchedules() as Promise<{ name: string; cron: string; timezone: string }[]>;
  }

  async stop(): Promise<void> {
    await this.#boss.stop({ graceful: true, close: true, timeout: 10_000 }).catch(() => undefined);
  }
}
