import { randomUUID } from 'node:crypto';
import type { Em } from '@listbackup/lib/db';
import type { EventOf } from '@listbackup/lib/events/contract';
import { MeteredAccount } from '../entities/metered-account.ts';
import { MeteredSnapshot } from '../entities/metered-snapshot.ts';
import { StorageChange, type StorageChangeReason } from '../entities/storage-change.ts';
import { settleStorageQuota } from './storage-quota.ts';

/** Billing counts a GB as 2^30 bytes, as the plans' included storage does. */
export const GB = 1024 ** 3;
export const GB_BIG = BigInt(GB);

interface Change {
  eventId: string;
  accountId: string;
  sourceId: string | null;
  at: Date;
  storedDelta: number;
  logicalDelta: number;
  reason: StorageChangeReason;
}

function addChanges(tx: Em, changes: Change[]): void {
  for (const change of changes) if (change.storedDelta !== 0 || change.logicalDelta !== 0) tx.persist(tx.create(StorageChange, { id: randomUUID(), ...change }));
}

/**
 * Records the account as metered and locks its row for the transaction: every change of one account
 * is applied one at a time, whichever subscription or replica delivers it. Answers when the account
 * was deleted (null while it exists).
 */
async function lockAccount(tx: Em, accountId: string, at: Date): Promise<Date | null> {
  await tx.createQueryBuilder(MeteredAccount).insert({ accountId, firstMeteredAt: at, lastDriftBytes: 0 }).onConflict('accountId').ignore().execute('run');
  const [row] = await tx.execute<{ deleted_at: Date | null }[]>(`select deleted_at from billing.metered_accounts where account_id = ? for update`, [accountId]);
  return row?.deleted_at ? new Date(row.deleted_at) : null;
}

/** A backup's snapshot: its source stores the bytes it wrote and holds its logical size. */
export async function applySynced(tx: Em, event: EventOf<'data.synced'>): Promise<void> {
  const { accountId, sourceId, snapshotId, storedBytes, logicalBytes } = event.data;
  const at = new Date(event.time);
  const deletedAt = await lockAccount(tx, accountId, at);
  if (deletedAt && at > deletedAt) return;
  const inserted = await tx
    .createQueryBuilder(MeteredSnapshot)
    .insert({ snapshotId, accountId, sourceId, storedBytes, logicalBytes, syncedAt: at, deletedAt })
    .onConflict('snapshotId')
    .ignore()
    .execute('run');
  if (inserted.affectedRows === 0) return;
  const change = { eventId: event.id, accountId, sourceId, storedDelta: storedBytes, logicalDelta: logicalBytes };
  if (!deletedAt) await settleStorageQuota(tx, accountId, at, storedBytes);
  addChanges(tx, [{ ...change, at, reason: 'SYNCED' }]);
  // Announced late, after the account's deletion: it counts until then, and no longer.
  if (deletedAt) addChanges(tx, [{ ...change, at: deletedAt, storedDelta: -storedBytes, logicalDelta: -logicalBytes, reason: 'ACCOUNT_DELETED' }]);
}

/**
 * Snapshots left the catalogue: their source no longer holds their logical size nor the bytes they
 * wrote. The bytes stay stored (in the account's share) until garbage collection frees them.
 */
export async function applySnapshotsDeleted(tx: Em, event: EventOf<'data.deleted'>): Promise<void> {
  const { accountId, sourceId } = event.data;
  const ids = event.data.snapshots.map((s) => s.id);
  if (ids.length === 0) return;
  const at = new Date(event.time);
  // A deleted account's snapshots were all taken back at its deletion.
  if (await lockAccount(tx, accountId, at)) return;
  const snapshots = await tx.find(MeteredSnapshot, { snapshotId: { $in: ids }, accountId, deletedAt: null });
  if (snapshots.length === 0) return;
  let stored = 0;
  let logical = 0;
  for (const snapshot of snapshots) {
    snapshot.deletedAt = at;
    stored += snapshot.storedBytes;
    logical += snapshot.logicalBytes;
  }
  addChanges(tx, [
    { eventId: event.id, accountId, sourceId, at, storedDelta: -stored, logicalDelta: -logical, reason: 'SNAPSHOTS_DELETED' },
    { eventId: event.id, accountId, sourceId: null, at, storedDelta: stored, logicalDelta: 0, reason: 'SNAPSHOTS_DELETED' },
  ]);
}

/** Garbage collection freed bytes: they leave the account's stored total. */
export async function applyGarbageCollected(tx: Em, event: EventOf<'data.garbage_collected'>): Promise<void> {
  const { accountId, deletedBytes } = event.data;
  const at = new Date(event.time);
  const deletedAt = await lockAccount(tx, accountId, at);
  if (deletedAt && at > deletedAt) return;
  if (!deletedAt) await settleStorageQuota(tx, accountId, at, -deletedBytes);
  addChanges(tx, [{ eventId: event.id, accountId, sourceId: null, at, storedDelta: -deletedBytes, logicalDelta: 0, reason: 'GARBAGE_COLLECTED' }]);
  if (deletedAt) addChanges(tx, [{ eventId: event.id, accountId, sourceId: null, at: deletedAt, storedDelta: deletedBytes, logicalDelta: 0, reason: 'ACCOUNT_DELETED' }]);
}

/**
 * The account is gone with its data: every balance drops to zero at that instant. Changes dated
 * after it are dropped, and later events for it count only up to it (see above).
 */
export async function applyAccountDeleted(tx: Em, event: EventOf<'account.purged'>): Promise<void> {
  const accountId = event.data.accountId;
  const at = new Date(event.time);
  if (await lockAccount(tx, accountId, at)) return;
  await tx.nativeDelete(StorageChange, { accountId, at: { $gt: at } });
  const balances = await balancesBySource(tx, accountId);
  await settleStorageQuota(tx, accountId, at, -balances.reduce((sum, b) => sum + b.storedBytes, 0));
  addChanges(
    tx,
    balances.map((b) => ({ eventId: event.id, accountId, sourceId: b.sourceId, at, storedDelta: -b.storedBytes, logicalDelta: -b.logicalBytes, reason: 'ACCOUNT_DELETED' as const })),
  );
  await tx.nativeUpdate(MeteredSnapshot, { accountId, deletedAt: null }, { deletedAt: at });
  await tx.nativeUpdate(MeteredAccount, { accountId }, { deletedAt: at });
}

/** Corrections the reconciliation found, as ledger rows at `at`. */
export function addCorrections(tx: Em, reconciliationId: string, accountId: string, at: Date, corrections: { sourceId: string | null; storedDelta: number; logicalDelta: number }[]): void {
  addChanges(
    tx,
    corrections.map((c) => ({ eventId: reconciliationId, accountId, at, reason: 'RECONCILED' as const, ...c })),
  );
}

export interface SourceBalance {
  /** Null: the account's own share (see StorageChange). */
  sourceId: string | null;
  storedBytes: number;
  logicalBytes: number;
}

/** Every balance of the account now, per source (the account's own share under null). One statement. */
export async function balancesBySource(em: Em, accountId: string): Promise<SourceBalance[]> {
  const rows = await em.execute<{ source_id: string | null; stored: string; logical: string }[]>(
    `select source_id, sum(stored_delta)::text as stored, sum(logical_delta)::text as logical from billing.storage_changes where account_id = ? group by source_id order by source_id nulls first`,
    [accountId],
  );
  return rows.map((r) => ({ sourceId: r.source_id, storedBytes: Number(r.stored), logicalBytes: Number(r.logical) }));
}

export interface UsageTotals {
  storedBytes: number;
  logicalBytes: number;
  sources: SourceBalance[];
}

export async function currentUsage(em: Em, accountId: string): Promise<UsageTotals> {
  const balances = await balancesBySource(em, accountId);
  return {
    storedBytes: balances.reduce((sum, b) => sum + b.storedBytes, 0),
    logicalBytes: balances.reduce((sum, b) => sum + b.logicalBytes, 0),
    sources: balances.filter((b) => b.sourceId !== null && (b.storedBytes !== 0 || b.logicalBytes !== 0)),
  };
}

export interface LedgerSteps {
  /** The balances just before `from`. */
  opening: { stored: bigint; logical: bigint };
  /** The changes in [from, to), summed per instant, in time order. */
  steps: { at: number; stored: bigint; logical: bigint }[];
}

/** The account's ledger over [from, to): two statements whatever the number of rows before `from`. */
export async function ledgerSteps(em: Em, accountId: string, from: Date, to: Date, sourceId?: string): Promise<LedgerSteps> {
  const sourceFilter = sourceId ? ' and source_id = ?' : '';
  const extra = sourceId ? [sourceId] : [];
  const [opening] = await em.execute<{ stored: string | null; logical: string | null }[]>(
    `select sum(stored_delta)::text as stored, sum(logical_delta)::text as logical from billing.storage_changes where account_id = ? and at < ?${sourceFilter}`,
    [accountId, from, ...extra],
  );
  const rows = await em.execute<{ at: Date; stored: string; logical: string }[]>(
    `select at, sum(stored_delta)::text as stored, sum(logical_delta)::text as logical from billing.storage_changes where account_id = ? and at >= ? and at < ?${sourceFilter} group by at order by at`,
    [accountId, from, to, ...extra],
  );
  return {
    opening: { stored: BigInt(opening?.stored ?? 0), logical: BigInt(opening?.logical ?? 0) },
    steps: rows.map((r) => ({ at: new Date(r.at).getTime(), stored: BigInt(r.stored), logical: BigInt(r.logical) })),
  };
}

/** Byte-milliseconds of stored bytes over [from, to): the exact integral of the step function (steps from `to` on do not count). */
export function storedByteMs(ledger: LedgerSteps, from: Date, to: Date): bigint {
  let balance = ledger.opening.stored;
  let since = from.getTime();
  let total = 0n;
  for (const step of ledger.steps) {
    if (step.at >= to.getTime()) break;
    total += balance * BigInt(step.at - since);
    balance += step.stored;
    since = step.at;
  }
  total += balance * BigInt(Math.max(0, to.getTime() - since));
  return total;
}

/** The first instant of the UTC month after `date`'s. */
export function nextMonth(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1));
}

export function monthStart(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1));
}

/**
 * GB-months over [from, to): each calendar month (UTC) counts its byte-time against its own length,
 * so 1 GB kept for a whole month is exactly 1 GB-month, whether the month has 28 or 31 days.
 * As a fraction: numerator byte-ms over denominator GB·ms, summed month by month.
 */
export function gbMonths(ledger: LedgerSteps, from: Date, to: Date): number {
  let total = 0;
  for (let start = from; start < to; ) {
    const end = new Date(Math.min(nextMonth(start).getTime(), to.getTime()));
    const monthMs = nextMonth(start).getTime() - monthStart(start).getTime();
    const part = storedByteMs(sliceLedger(ledger, start), start, end);
    total += Number(part) / (GB * monthMs);
    start = end;
  }
  return total;
}

/** The same ledger seen from `from` on (its opening balance carried forward). */
export function sliceLedger(ledger: LedgerSteps, from: Date): LedgerSteps {
  let stored = ledger.opening.stored;
  let logical = ledger.opening.logical;
  const steps: LedgerSteps['steps'] = [];
  for (const step of ledger.steps) {
    if (step.at < from.getTime()) {
      stored += step.stored;
      logical += step.logical;
    } else steps.push(step);
  }
  return { opening: { stored, logical }, steps };
}

export interface StoragePoint {
  at: Date;
  storedBytes: number;
  logicalBytes: number;
}

/** The balances at the end of each UTC day of [from, to). */
export function dailyPoints(ledger: LedgerSteps, from: Date, to: Date): StoragePoint[] {
  const points: StoragePoint[] = [];
  let stored = ledger.opening.stored;
  let logical = ledger.opening.logical;
  let i = 0;
  const dayMs = 86_400_000;
  for (let end = Math.floor(from.getTime() / dayMs) * dayMs + dayMs; end - dayMs < to.getTime(); end += dayMs) {
    const until = Math.min(end, to.getTime());
    while (i < ledger.steps.length && ledger.steps[i]!.at < until) {
      stored += ledger.steps[i]!.stored;
      logical += ledger.steps[i]!.logical;
      i++;
    }
    points.push({ at: new Date(until), storedBytes: Number(stored), logicalBytes: Number(logical) });
  }
  return points;
}
