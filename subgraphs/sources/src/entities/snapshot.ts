import { defineEntity, p } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

/**
 * What the catalogue knows about a snapshot. Its items live in the engine's immutable manifest
 * (`manifestKey`), read through an ItemsReader.
 */
export const SnapshotSchema = defineEntity({
  name: 'Snapshot',
  tableName: 'snapshots',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    accountId: p.uuid(),
    sourceId: p.uuid(),
    /** The backup job that made it: one snapshot per job, which makes recording it idempotent. */
    jobId: p.uuid().unique(),
    createdAt: p.datetime().onCreate(() => new Date()),
    itemCount: p.bigint('number').default(0),
    logicalBytes: p.bigint('number').default(0),
    /** Bytes this snapshot added to storage after deduplication (new chunks only). */
    storedBytes: p.bigint('number').default(0),
    partial: p.boolean().default(false),
    manifestKey: p.text(),
  },
  indexes: [
    { name: 'snapshots_source_created_idx', properties: ['sourceId', 'createdAt', 'id'] },
    { name: 'snapshots_account_id_idx', properties: ['accountId'] },
  ],
});

export class Snapshot extends SnapshotSchema.class {}
SnapshotSchema.setClass(Snapshot);
