import { LockMode } from '@mikro-orm/core';
import { ConfigError } from '@listbackup/lib/config';
import type { Em, Orm } from '@listbackup/lib/db';
import { DecryptionError, type Keyring, mapLimit, type ObjectStore, StoreKeyProvider } from '@listbackup/engine';
import { type RotationFailure, StorageKek, StorageKeyRotation } from '../entities/storage-key-rotation.ts';

/** Where a pass of `storage:rotate` stands, or what a finished one found. */
export interface StorageKeyReport {
  passId: string;
  targetKekId: string;
  /** This run continued a pass an earlier run left unfinished. */
  resumed: boolean;
  accountsDone: number;
  /** Accounts to look at in all (known at the start of this run). */
  accountsTotal: number;
  /** Data keys this pass rewrapped (earlier runs of the same pass included). */
  rewrapped: number;
  /** Data keys per KEK id among the accounts done; accounts with nothing stored are not counted. */
  keys: Record<string, number>;
  failures: RotationFailure[];
  finishedAt: Date | null;
}

export interface RotateOptions {
  /** Accounts per checkpoint (default 100). */
  batchSize?: number;
  /** Accounts rewrapped at once within a batch (default 8: each is two reads and a write to the store). */
  concurrency?: number;
  /** Start a fresh pass even when one towards the same key is unfinished. */
  restart?: boolean;
  /** Called after every checkpoint. */
  onProgress?: (report: StorageKeyReport) => void;
  /** Stop after this many batches, as an interrupted run would (tests). */
  maxBatches?: number;
}

/**
 * Rewraps every account's backup data key under the key ring's current KEK (STORAGE_KEYS' first),
 * while backups run. Only the small wrapped key (`<account>/keys/data-key`) changes: the data key,
 * and so every chunk, stays as it is, and a worker holding the key in memory carries on. Accounts
 * are those with jobs, in id order; after each batch the pass stores where it is, so a run that is
 * interrupted is resumed by the next one. Every process that opens backups must hold the new key
 * (first) and the old ones before this runs, or it cannot read what this rewrapped.
 */
export async function rotateStorageKeys(orm: Orm, storage: { store: ObjectStore; keyring: Keyring }, options: RotateOptions = {}): Promise<StorageKeyReport> {
  const target = storage.keyring.current.id;
  const batchSize = options.batchSize ?? 100;
  const concurrency = options.concurrency ?? 8;
  const provider = new StoreKeyProvider(storage.store, storage.keyring);
  const em = orm.em.fork();
  await recordHeldKeys(em, storage.keyring.ids);
  let pass = options.restart ? null : await em.findOne(StorageKeyRotation, { targetKekId: target, finishedAt: null }, { orderBy: { id: 'desc' } });
  const resumed = pass !== null;
  if (!pass) {
    pass = em.create(StorageKeyRotation, { targetKekId: target });
    await em.flush();
  }
  const passId = pass.id;
  const accountsTotal = await countAccounts(em);
  const report = (row: StorageKeyRotation): StorageKeyReport => ({
    passId: String(row.id),
    targetKekId: row.targetKekId,
    resumed,
    accountsDone: row.accountsDone,
    accountsTotal,
    rewrapped: row.rewrapped,
    keys: row.keys,
    failures: row.failures,
    finishedAt: row.finishedAt ?? null,
  });

  for (let batches = 0; options.maxBatches === undefined || batches < options.maxBatches; batches++) {
    // The pass's row is locked for the batch, so two runs at once take turns instead of doing the same accounts.
    const row = await orm.em.fork().transactional(async (tx) => {
      const current = await tx.findOneOrFail(StorageKeyRotation, { id: passId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (current.finishedAt) return current;
      const accounts = await nextAccounts(tx, current.afterAccountId ?? null, batchSize);
      if (accounts.length === 0) {
        current.finishedAt = new Date();
        current.updatedAt = new Date();
        return current;
      }
      const keys = { ...current.keys };
      const failures = [...current.failures];
      let rewrapped = 0;
      await mapLimit(accounts, concurrency, async (accountId) => {
        const wrapped = await provider.wrapped(accountId);
        if (!wrapped) return; // Nothing stored for this account yet.
        let kekId = wrapped.kekId;
        if (kekId !== target) {
          try {
            if (await provider.rewrap(accountId)) rewrapped++;
            kekId = target;
          } catch (error) {
            if (!(error instanceof DecryptionError)) throw error;
            failures.push({ accountId, kekId, reason: error.message });
          }
        }
        keys[kekId] = (keys[kekId] ?? 0) + 1;
      });
      current.afterAccountId = accounts[accounts.length - 1];
      current.accountsDone += accounts.length;
      current.rewrapped += rewrapped;
      current.keys = keys;
      current.failures = failures;
      current.updatedAt = new Date();
      return current;
    });
    options.onProgress?.(report(row));
    if (row.finishedAt) return report(row);
  }
  return report(await orm.em.fork().findOneOrFail(StorageKeyRotation, { id: passId }));
}

/** The newest pass of `storage:rotate` (finished or not), for `--status`. */
export async function latestStorageKeyReport(orm: Orm): Promise<StorageKeyReport | null> {
  const em = orm.em.fork();
  const [row] = await em.find(StorageKeyRotation, {}, { orderBy: { id: 'desc' }, limit: 1 });
  if (!row) return null;
  return {
    passId: String(row.id),
    targetKekId: row.targetKekId,
    resumed: false,
    accountsDone: row.accountsDone,
    accountsTotal: await countAccounts(em),
    rewrapped: row.rewrapped,
    keys: row.keys,
    failures: row.failures,
    finishedAt: row.finishedAt ?? null,
  };
}

/**
 * Refuses a key ring that lacks a KEK still needed: one the newest finished storage:rotate pass (or a
 * pass begun after it) found wrapping data keys, or one some process held that no pass begun since
 * has reported unused. Records the ring's KEKs as held first.
 */
export async function assertRetiredStorageKeysUnused(orm: Orm, keyring: Keyring): Promise<void> {
  await recordHeldKeys(orm.em.fork(), keyring.ids);
  const needed = await storageKeysStillNeeded(orm, keyring.ids);
  if (needed.size === 0) return;
  const list = [...needed]
    .map(([kekId, count]) => (count === null ? `"${kekId}" (held before, and no storage:rotate pass begun since has reported it unused)` : `"${kekId}" (still wraps ${count} account data key(s))`))
    .join(', ');
  throw new ConfigError(
    `Invalid configuration:\n  - STORAGE_KEYS: lacks ${list}: keep it after the new key, run \`npm run storage:rotate\`, and remove it once that reports 0`,
  );
}

/**
 * The KEKs outside `ids` that may not leave the key ring yet, each with the data keys the last
 * storage:rotate found it wrapping, or null when no pass begun since it was first held has finished.
 */
export async function storageKeysStillNeeded(orm: Orm, ids: readonly string[]): Promise<Map<string, number | null>> {
  const em = orm.em.fork();
  const held = new Set(ids);
  const finished = await em.findOne(StorageKeyRotation, { finishedAt: { $ne: null } }, { orderBy: { id: 'desc' } });
  const passes = finished ? await em.find(StorageKeyRotation, { id: { $gte: finished.id } }) : [];
  const needed = new Map<string, number | null>();
  for (const pass of passes) {
    for (const [kekId, count] of Object.entries(pass.keys)) if (count > 0 && !held.has(kekId)) needed.set(kekId, Math.max(needed.get(kekId) ?? 0, count));
  }
  for (const kek of await em.find(StorageKek, {})) {
    if (held.has(kek.kekId) || needed.has(kek.kekId)) continue;
    if (!finished || Number(finished.id) <= kek.afterPassId) needed.set(kek.kekId, null);
  }
  return needed;
}

/** Notes the KEKs of a key ring a process holds, the first time, with the newest pass at that moment. */
async function recordHeldKeys(em: Em, ids: readonly string[]): Promise<void> {
  const [newest] = await em.find(StorageKeyRotation, {}, { orderBy: { id: 'desc' }, limit: 1, fields: ['id'] });
  const afterPassId = newest ? Number(newest.id) : 0;
  await em
    .createQueryBuilder(StorageKek)
    .insert(ids.map((kekId) => ({ kekId, afterPassId, firstSeenAt: new Date() })))
    .onConflict('kekId')
    .ignore()
    .execute();
}

const jobsTable = (em: Em) => `"${em.config.get('schema') ?? 'public'}"."jobs"`;

async function countAccounts(em: Em): Promise<number> {
  const [row] = await em.execute<{ count: string }[]>(`select count(distinct account_id) as count from ${jobsTable(em)}`);
  return Number(row.count);
}

async function nextAccounts(em: Em, after: string | null, limit: number): Promise<string[]> {
  const rows = after
    ? await em.execute<{ account_id: string }[]>(`select distinct account_id from ${jobsTable(em)} where account_id > ? order by account_id limit ?`, [after, limit])
    : await em.execute<{ account_id: string }[]>(`select distinct account_id from ${jobsTable(em)} order by account_id limit ?`, [limit]);
  return rows.map((row) => row.account_id);
}
