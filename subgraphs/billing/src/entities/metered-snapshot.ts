import { defineEntity, p } from '@mikro-orm/core';

/** A snapshot `data.synced` announced, remembered so that its deletion takes back exactly what it added. */
export const MeteredSnapshotSchema = defineEntity({
  name: 'MeteredSnapshot',
  tableName: 'metered_snapshots',
  properties: {
    snapshotId: p.uuid().primary(),
    accountId: p.uuid().index(),
    sourceId: p.uuid(),
    storedBytes: p.bigint('number'),
    logicalBytes: p.bigint('number'),
    syncedAt: p.datetime(),
    deletedAt: p.datetime().nullable(),
  },
});

export class MeteredSnapshot extends MeteredSnapshotSchema.class {}
MeteredSnapshotSchema.setClass(MeteredSnapshot);
