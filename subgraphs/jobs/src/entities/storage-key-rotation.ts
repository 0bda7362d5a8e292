import { defineEntity, p } from '@mikro-orm/core';

/** An account whose data key could not be rewrapped, and why (left as it was). */
export interface RotationFailure {
  accountId: string;
  kekId: string;
  reason: string;
}

/**
 * One pass of `npm run storage:rotate` towards a key-encryption key: where it is (the last account
 * done, accounts in id order, so an interrupted pass resumes there) and, per KEK, how many of the
 * accounts seen so far have their data key wrapped by it. A finished pass is the report that says
 * which older KEKs still wrap data keys and so must stay in STORAGE_KEYS.
 */
export const StorageKeyRotationSchema = defineEntity({
  name: 'StorageKeyRotation',
  tableName: 'storage_key_rotations',
  properties: {
    id: p.bigint().primary().autoincrement(),
    /** The KEK the pass rewraps to (STORAGE_KEYS' first key when it started). */
    targetKekId: p.text(),
    afterAccountId: p.uuid().nullable(),
    accountsDone: p.integer().default(0),
    rewrapped: p.integer().default(0),
    /** Data keys per KEK id among the accounts done. */
    keys: p.json<Record<string, number>>().defaultRaw(`'{}'`),
    failures: p.json<RotationFailure[]>().defaultRaw(`'[]'`),
    startedAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()),
    finishedAt: p.datetime().nullable(),
  },
});

export class StorageKeyRotation extends StorageKeyRotationSchema.class {}
StorageKeyRotationSchema.setClass(StorageKeyRotation);

/**
 * A key-encryption key some process held (in STORAGE_KEYS or the key file), recorded the first time
 * one started with it. A KEK once held may leave the key ring only after a storage:rotate pass begun
 * since then has finished and found it wrapping nothing.
 */
export const StorageKekSchema = defineEntity({
  name: 'StorageKek',
  tableName: 'storage_keks',
  properties: {
    kekId: p.text().primary(),
    /** The newest storage:rotate pass when the KEK was first held (0 before any): only later passes can report it unused. */
    afterPassId: p.bigint('number'),
    firstSeenAt: p.datetime().onCreate(() => new Date()),
  },
});

export class StorageKek extends StorageKekSchema.class {}
StorageKekSchema.setClass(StorageKek);
