import pg from 'pg';
import { JobFailure } from '../worker/errors.ts';

/**
 * The lock on an account's stored data that garbage collection and everything else take, as
 * restic's prune and backup do: every job that writes or reads the account's chunks holds it
 * shared, a GC job exclusively. A backup may deduplicate against an old chunk that no snapshot
 * references yet, and a restore may read a pack that GC is replacing; neither may happen while GC
 * deletes. A PostgreSQL advisory lock on a connection of its own: a killed worker's connection
 * closes and the lock goes with it. A GC waiting in PostgreSQL's lock queue makes later shared
 * requests wait behind it, so a stream of backups cannot starve it.
 */
export type LockMode = 'shared' | 'exclusive';

/** First key of the two-key advisory lock: the account's data (the second is the account). */
const LOCK_SPACE = 0x4c42_4743; // "LBGC"

export interface HeldLock {
  /** Aborted when the lock's connection is lost: the lock is gone, stop touching the data. */
  signal: AbortSignal;
}

export class AccountLocks {
  readonly #databaseUrl: string;

  constructor(databaseUrl: string) {
    this.#databaseUrl = databaseUrl;
  }

  /**
   * Runs `fn` holding the account's lock in `mode`. `onWait` is called once when the lock is not free
   * at once. An abort of `signal` while waiting stops the wait.
   */
  async hold<T>(accountId: string, mode: LockMode, signal: AbortSignal, onWait: () => void, fn: (held: HeldLock) => Promise<T>): Promise<T> {
    signal.throwIfAborted();
    const client = new pg.Client({ connectionString: this.#databaseUrl, application_name: 'listbackup-jobs-account-lock' });
    const lost = new AbortController();
    client.on('error', (error) => lost.abort(new JobFailure('TRANSIENT', "Lost the lock on the account's stored data", { cause: error })));
    await client.connect();
    const stopWaiting = () => void client.end().catch(() => undefined);
    try {
      const suffix = mode === 'shared' ? '_shared' : '';
      const tried = await client.query<{ locked: boolean }>(`select pg_try_advisory_lock${suffix}($1, hashtext($2)) as locked`, [LOCK_SPACE, accountId]);
      if (!tried.rows[0].locked) {
        onWait();
        signal.addEventListener('abort', stopWaiting, { once: true });
        try {
          await client.query(`select pg_advisory_lock${suffix}($1, hashtext($2))`, [LOCK_SPACE, accountId]);
        } catch (error) {
          signal.throwIfAborted();
          throw error;
        } finally {
          signal.removeEventListener('abort', stopWaiting);
        }
      }
      return await fn({ signal: lost.signal });
    } finally {
      // Closing the session releases the lock.
      await client.end().catch(() => undefined);
    }
  }
}
