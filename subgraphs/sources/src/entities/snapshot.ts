import { defineEntity, p } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

export const ANOMALY_KINDS = ['MASS_DELETION', 'MASS_CHANGE'] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

/** How a snapshot differs from its parent, by item id and content hash. */
export interface SnapshotChanges {
  previousItems: number;
  added: number;
  changed: number;
  deleted: number;
}

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
    /** How it differs from the source's previous snapshot (the backup compared them); null for the first. */
    changes: p.json<SnapshotChanges>().nullable(),
    /**
     * Set when the backup deleted or changed far more than the source's history says is normal
     * (the jobs subgraph detects it). A flagged snapshot outlives its retention until acknowledged.
     */
    anomalyKind: p.enum(ANOMALY_KINDS).nullable(),
    anomalyReason: p.text().nullable(),
    anomalyShare: p.double().nullable(),
    anomalyTypicalShare: p.double().nullable(),
    anomalyDetectedAt: p.datetime().nullable(),
    anomalyAcknowledgedAt: p.datetime().nullable(),
    /** The user or API key that acknowledged it. */
    anomalyAcknowledgedBy: p.text().nullable(),
  },
  indexes: [
    { name: 'snapshots_source_created_idx', properties: ['sourceId', 'createdAt', 'id'] },
    { name: 'snapshots_account_id_idx', properties: ['accountId'] },
  ],
});

export class Snapshot extends SnapshotSchema.class {}
SnapshotSchema.setClass(Snapshot);

/** Flagged and not acknowledged yet: retention keeps it. */
export const isHeld = (snapshot: Snapshot): boolean => snapshot.anomalyDetectedAt != null && snapshot.anomalyAcknowledgedAt == null;
