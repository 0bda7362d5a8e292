import { defineEntity, p } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

export const STORAGE_CHANGE_REASONS = ['SYNCED', 'SNAPSHOTS_DELETED', 'GARBAGE_COLLECTED', 'ACCOUNT_DELETED', 'RECONCILED'] as const;
export type StorageChangeReason = (typeof STORAGE_CHANGE_REASONS)[number];

/**
 * The metering ledger: one row per change of an account's stored or logical bytes, at the time it
 * happened. The balance at any instant is the sum of the rows before it, so the time series and the
 * GB-month integral are exact and do not depend on the order events arrive in. `sourceId` null is
 * the account's own share: bytes of deleted snapshots not yet collected, what GC freed, repository
 * overhead and reconciliation corrections (chunks are shared by the sources of an account).
 */
export const StorageChangeSchema = defineEntity({
  name: 'StorageChange',
  tableName: 'storage_changes',
  indexes: [{ properties: ['accountId', 'at'] }],
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    /** The event that caused it (the reconciliation's own id for a correction). */
    eventId: p.uuid().index(),
    accountId: p.uuid(),
    sourceId: p.uuid().nullable(),
    at: p.datetime(),
    storedDelta: p.bigint('number'),
    logicalDelta: p.bigint('number'),
    reason: p.enum(STORAGE_CHANGE_REASONS),
  },
});

export class StorageChange extends StorageChangeSchema.class {}
StorageChangeSchema.setClass(StorageChange);
