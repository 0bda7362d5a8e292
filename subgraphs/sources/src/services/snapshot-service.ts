import { randomUUID } from 'node:crypto';
import { authorize, can } from '@listbackup/lib/access';
import type { Em } from '@listbackup/lib/db';
import { AppError, NotFoundError } from '@listbackup/lib/errors';
import { LockMode } from '@mikro-orm/core';
import { actorOf, createEvent } from '@listbackup/lib/events/contract';
import { enqueueEvent } from '@listbackup/lib/events/outbox';
import type { SourcesContext } from '../context.ts';
import { type AnomalyKind, isHeld, Snapshot, type SnapshotChanges } from '../entities/snapshot.ts';
import { Source } from '../entities/source.ts';
import type { ItemsPageRequest, SnapshotItemRecord } from './items-reader.ts';
import { itemsPage } from '@listbackup/lib/snapshot-items';
import { pageSize, timeCursor, timeKey, toPage, type Page } from '@listbackup/lib/pagination';
import { getSource } from './source-service.ts';

/** A snapshot the caller may read; any other is "not found". */
export async function getSnapshot(ctx: SourcesContext, id: string): Promise<Snapshot> {
  const snapshot = await ctx.loaders.snapshot.load(id);
  if (!snapshot) throw new NotFoundError('Snapshot');
  await authorize(ctx, 'sources:read', snapshot.accountId, 'Snapshot');
  return snapshot;
}

/** A source's snapshots, newest first; a deleted source's remaining snapshots too. */
export async function listSnapshots(ctx: SourcesContext, sourceId: string, first?: number | null, after?: string | null): Promise<Page<Snapshot>> {
  const source = await getSource(ctx, sourceId);
  return snapshotsOf(ctx, source, first, after);
}

/** For `Source.snapshots`, whose parent the caller has already been allowed to read. */
export async function snapshotsOf(ctx: SourcesContext, source: Source, first?: number | null, after?: string | null): Promise<Page<Snapshot>> {
  const size = pageSize(first);
  const scope = { list: 'Source.snapshots', owner: source.id };
  const rows = await ctx.loaders.snapshotPages.load({ parentId: source.id, limit: size + 1, after: timeKey(scope, after) });
  return toPage(
    rows.filter((snapshot) => snapshot.accountId === source.accountId),
    size,
    timeCursor(scope),
  );
}

/** The snapshot a backup job made, if the caller may see it (a nullable field: "none" and "not yours" look the same). */
export async function snapshotOfJob(ctx: SourcesContext, jobId: string): Promise<Snapshot | null> {
  const snapshot = await ctx.loaders.snapshotByJob.load(jobId);
  if (!snapshot || !(await can(ctx, 'sources:read', snapshot.accountId))) return null;
  return snapshot;
}

export async function snapshotItems(ctx: SourcesContext, snapshot: Snapshot, request: ItemsPageRequest): Promise<Page<SnapshotItemRecord>> {
  itemsPage(snapshot.manifestKey, request);
  return ctx.items.list(snapshot, request);
}

export interface RecordSnapshotInput {
  jobId: string;
  sourceId: string;
  accountId: string;
  itemCount: number;
  logicalBytes: number;
  storedBytes: number;
  partial?: boolean;
  manifestKey: string;
  createdAt?: Date;
  changes?: SnapshotChanges | null;
  anomaly?: { kind: AnomalyKind; reason: string; share: number; typicalShare: number } | null;
}

export class SourceGoneError extends Error {}

/**
 * Records a finished backup's snapshot (called by the worker through /internal/snapshots). One per
 * job: recording the same job again returns the first. `data.synced` goes out with it.
 */
export async function recordSnapshot(em: Em, input: RecordSnapshotInput): Promise<{ snapshot: Snapshot; created: boolean }> {
  return em.fork().transactional(async (tx) => {
    const existing = await tx.findOne(Snapshot, { jobId: input.jobId });
    if (existing) {
      if (existing.accountId !== input.accountId || existing.sourceId !== input.sourceId) throw new SourceGoneError('that job recorded a snapshot of another source');
      return { snapshot: existing, created: false };
    }
    const source = await tx.findOne(Source, { id: input.sourceId, accountId: input.accountId });
    if (!source || source.deletedAt) throw new SourceGoneError('the source does not exist or was deleted');
    const snapshot = tx.create(Snapshot, {
      id: randomUUID(),
      accountId: input.accountId,
      sourceId: input.sourceId,
      jobId: input.jobId,
      createdAt: input.createdAt ?? new Date(),
      itemCount: input.itemCount,
      logicalBytes: input.logicalBytes,
      storedBytes: input.storedBytes,
      partial: input.partial ?? false,
      manifestKey: input.manifestKey,
      changes: input.changes ?? null,
      anomalyKind: input.anomaly?.kind ?? null,
      anomalyReason: input.anomaly?.reason ?? null,
      anomalyShare: input.anomaly?.share ?? null,
      anomalyTypicalShare: input.anomaly?.typicalShare ?? null,
      anomalyDetectedAt: input.anomaly ? new Date() : null,
    });
    enqueueEvent(
      tx,
      createEvent('data.synced', input.accountId, snapshot.id, {
        accountId: input.accountId,
        sourceId: input.sourceId,
        jobId: input.jobId,
        snapshotId: snapshot.id,
        items: input.itemCount,
        logicalBytes: input.logicalBytes,
        storedBytes: input.storedBytes,
        partial: snapshot.partial,
      }),
    );
    if (input.anomaly) {
      enqueueEvent(tx, createEvent('snapshot.anomaly_detected', input.accountId, snapshot.id, { ...anomalyFacts(snapshot), reason: input.anomaly.reason, changes: input.changes ?? null }));
    }
    return { snapshot, created: true };
  });
}

/** All of a source's snapshots, newest first (for retention, run by maintenance jobs). */
export async function allSnapshotsOf(em: Em, sourceId: string): Promise<Snapshot[]> {
  return em.find(Snapshot, { sourceId }, { orderBy: { createdAt: 'desc', id: 'desc' } });
}

/**
 * Removes pruned snapshots from the catalogue, with a `data.deleted` event naming them. A flagged
 * snapshot not acknowledged yet is kept, whatever retention says.
 */
export async function deleteSnapshots(em: Em, sourceId: string, ids: string[]): Promise<number> {
  return em.fork().transactional(async (tx) => {
    const snapshots = (await tx.find(Snapshot, { sourceId, id: { $in: ids } })).filter((snapshot) => !isHeld(snapshot));
    if (snapshots.length === 0) return 0;
    await tx.nativeDelete(Snapshot, { id: { $in: snapshots.map((s) => s.id) } });
    const { accountId } = snapshots[0];
    enqueueEvent(tx, createEvent('data.deleted', accountId, sourceId, { accountId, sourceId, snapshots: snapshots.map((s) => ({ id: s.id, manifestKey: s.manifestKey })) }));
    return snapshots.length;
  });
}

/** What both `snapshot.anomaly_*` events say of a flagged snapshot. */
function anomalyFacts(snapshot: Snapshot) {
  return {
    accountId: snapshot.accountId,
    sourceId: snapshot.sourceId,
    snapshotId: snapshot.id,
    jobId: snapshot.jobId,
    kind: snapshot.anomalyKind!,
    share: Number(snapshot.anomalyShare ?? 0),
    typicalShare: Number(snapshot.anomalyTypicalShare ?? 0),
  };
}

/** The anomaly of a snapshot as the API shows it, or null. */
export function snapshotAnomaly(snapshot: Snapshot) {
  if (!snapshot.anomalyDetectedAt || !snapshot.anomalyKind) return null;
  return {
    kind: snapshot.anomalyKind,
    reason: snapshot.anomalyReason ?? '',
    share: Number(snapshot.anomalyShare ?? 0),
    typicalShare: Number(snapshot.anomalyTypicalShare ?? 0),
    detectedAt: snapshot.anomalyDetectedAt,
    acknowledgedAt: snapshot.anomalyAcknowledgedAt ?? null,
    acknowledgedBy: snapshot.anomalyAcknowledgedBy ?? null,
  };
}

/**
 * Someone has looked at a flagged snapshot: retention may drop it again from now on. Needs
 * `sources:manage`; acknowledging twice answers the first acknowledgement.
 */
export async function acknowledgeSnapshotAnomaly(ctx: SourcesContext, id: string): Promise<Snapshot> {
  const readable = await getSnapshot(ctx, id);
  await authorize(ctx, 'sources:manage', readable.accountId, 'Snapshot');
  return ctx.em.fork().transactional(async (tx) => {
    const snapshot = await tx.findOne(Snapshot, { id: readable.id, accountId: readable.accountId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!snapshot) throw new NotFoundError('Snapshot');
    if (!snapshot.anomalyDetectedAt) throw new AppError('BAD_USER_INPUT', 'This snapshot is not flagged', { reason: 'NO_ANOMALY' });
    if (snapshot.anomalyAcknowledgedAt) return snapshot;
    const principal = ctx.principal;
    snapshot.anomalyAcknowledgedAt = new Date();
    snapshot.anomalyAcknowledgedBy = principal.kind === 'user' ? principal.userId : principal.kind === 'apiKey' ? principal.apiKeyId : null;
    enqueueEvent(
      tx,
      createEvent('snapshot.anomaly_acknowledged', snapshot.accountId, snapshot.id, { ...anomalyFacts(snapshot), acknowledgedBy: snapshot.anomalyAcknowledgedBy }, { actor: actorOf(ctx) }),
    );
    return snapshot;
  });
}
