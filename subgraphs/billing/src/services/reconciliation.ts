import { randomUUID } from 'node:crypto';
import type { Orm } from '@listbackup/lib/db';
import type { Logger } from '@listbackup/lib/logger';
import { internalClient, systemCaller, type ServiceClient } from '@listbackup/lib/internal-client';
import { MeteredAccount } from '../entities/metered-account.ts';
import { addCorrections, balancesBySource } from './metering.ts';
import { settleStorageQuota } from './storage-quota.ts';

/** What the engine says an account stores (the jobs subgraph's `/internal/storage/usage`). */
export interface EngineUsage {
  storedBytes: number;
  backupInProgress: boolean;
  sources: { sourceId: string; snapshots: number; storedBytes: number; logicalBytes: number }[];
}

export interface EngineUsageReader {
  usage(accountId: string): Promise<EngineUsage>;
}

export class JobsStorageClient implements EngineUsageReader {
  readonly #jobs: ServiceClient;

  constructor(jobsUrl: string, internalTokenSecret: string) {
    this.#jobs = internalClient(internalTokenSecret).service('jobs', jobsUrl);
  }

  usage(accountId: string): Promise<EngineUsage> {
    return this.#jobs.json<EngineUsage>({ method: 'POST', path: '/internal/storage/usage', json: { accountId }, caller: systemCaller('billing-reconciliation'), idempotent: true });
  }
}

export type ReconcileOutcome = { status: 'reconciled'; driftBytes: number; corrections: number } | { status: 'skipped'; reason: string };

/**
 * Compares the ledger with the engine's figures and writes the difference as corrections, so the
 * balances equal the engine's from now on. Skipped while the two cannot be compared: a backup is
 * writing, or the engine has snapshots whose `data.synced` has not reached billing yet (or the
 * other way round: their `data.deleted` is on its way).
 */
export async function reconcileAccount(orm: Orm, engine: EngineUsageReader, log: Logger, accountId: string, now: Date = new Date()): Promise<ReconcileOutcome> {
  const figures = await engine.usage(accountId);
  if (figures.backupInProgress) return { status: 'skipped', reason: 'a backup is writing' };
  return orm.em.fork().transactional(async (tx) => {
    // One reconciliation per account at a time, across replicas.
    await tx.execute(`select pg_advisory_xact_lock(hashtext('billing.reconcile:' || ?))`, [accountId]);
    const live = await tx.execute<{ source_id: string; count: string }[]>(
      `select source_id, count(*)::text as count from billing.metered_snapshots where account_id = ? and deleted_at is null group by source_id`,
      [accountId],
    );
    const liveCount = new Map(live.map((r) => [r.source_id, Number(r.count)]));
    for (const source of figures.sources) {
      if ((liveCount.get(source.sourceId) ?? 0) !== source.snapshots) return { status: 'skipped', reason: 'events of this account are still on their way' };
      liveCount.delete(source.sourceId);
    }
    if ([...liveCount.values()].some((count) => count > 0)) return { status: 'skipped', reason: 'events of this account are still on their way' };

    const balances = await balancesBySource(tx, accountId);
    const bySource = new Map(balances.map((b) => [b.sourceId, b]));
    const corrections: { sourceId: string | null; storedDelta: number; logicalDelta: number }[] = [];
    let sourcesStored = 0;
    for (const source of figures.sources) {
      const ours = bySource.get(source.sourceId);
      bySource.delete(source.sourceId);
      corrections.push({ sourceId: source.sourceId, storedDelta: source.storedBytes - (ours?.storedBytes ?? 0), logicalDelta: source.logicalBytes - (ours?.logicalBytes ?? 0) });
      sourcesStored += source.storedBytes;
    }
    // Sources the engine holds nothing for any more.
    for (const [sourceId, ours] of bySource) if (sourceId !== null) corrections.push({ sourceId, storedDelta: -ours.storedBytes, logicalDelta: -ours.logicalBytes });
    // The account's own share is whatever the store holds beyond its sources' snapshots.
    const share = bySource.get(null);
    corrections.push({ sourceId: null, storedDelta: figures.storedBytes - sourcesStored - (share?.storedBytes ?? 0), logicalDelta: -(share?.logicalBytes ?? 0) });
    const effective = corrections.filter((c) => c.storedDelta !== 0 || c.logicalDelta !== 0);
    const driftBytes = effective.reduce((sum, c) => sum + c.storedDelta, 0);
    // The metered account's row before the standing's, in the order metering locks them.
    await tx.nativeUpdate(MeteredAccount, { accountId }, { reconciledAt: now, lastDriftBytes: driftBytes });
    if (driftBytes !== 0) await settleStorageQuota(tx, accountId, now, driftBytes);
    addCorrections(tx, randomUUID(), accountId, now, effective);
    if (effective.length > 0) log.warn({ accountId, driftBytes, corrections: effective }, 'metered storage drifted from the engine; corrected');
    else log.info({ accountId }, 'metered storage matches the engine');
    return { status: 'reconciled' as const, driftBytes, corrections: effective.length };
  });
}

const DAY_MS = 86_400_000;

/**
 * Reconciles every metered account once a day: each tick takes the accounts whose last
 * reconciliation is a day old (or never happened), a bounded batch at a time.
 */
export class StorageReconciler {
  readonly #orm: Orm;
  readonly #engine: EngineUsageReader;
  readonly #log: Logger;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;

  constructor(options: { orm: Orm; engine: EngineUsageReader; log: Logger; intervalMs?: number }) {
    this.#orm = options.orm;
    this.#engine = options.engine;
    this.#log = options.log;
    this.#intervalMs = options.intervalMs ?? 60 * 60 * 1000;
  }

  start(): void {
    this.#timer = setInterval(() => void this.tick(), this.#intervalMs);
    this.#timer.unref();
  }

  /** One pass over the accounts due; returns what happened to each. */
  async tick(now: Date = new Date(), batch = 100): Promise<Map<string, ReconcileOutcome>> {
    const outcomes = new Map<string, ReconcileOutcome>();
    if (this.#running) return outcomes;
    const run = (async () => {
      const due = await this.#orm.em.fork().find(
        MeteredAccount,
        { deletedAt: null, $or: [{ reconciledAt: null }, { reconciledAt: { $lte: new Date(now.getTime() - DAY_MS) } }] },
        { orderBy: { reconciledAt: 'asc' }, limit: batch },
      );
      for (const account of due) {
        try {
          outcomes.set(account.accountId, await reconcileAccount(this.#orm, this.#engine, this.#log, account.accountId, now));
        } catch (error) {
          this.#log.warn({ err: error, accountId: account.accountId }, 'storage reconciliation failed; retried on the next pass');
        }
      }
    })();
    this.#running = run;
    try {
      await run;
    } finally {
      this.#running = null;
    }
    return outcomes;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running;
  }
}
