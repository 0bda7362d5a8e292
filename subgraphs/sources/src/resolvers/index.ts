import { DateTime } from '@listbackup/lib/scalars';
import { ref } from '@listbackup/lib/federation';
import type { Resolvers } from '../generated/resolvers.ts';
import { createSource, deleteSource, getSource, listSources, pauseSource, resumeSource, updateSource } from '../services/source-service.ts';
import { acknowledgeSnapshotAnomaly, getSnapshot, listSnapshots, snapshotAnomaly, snapshotItems, snapshotOfJob, snapshotsOf } from '../services/snapshot-service.ts';

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    source: (_, { id }, ctx) => getSource(ctx, id),
    snapshots: (_, { sourceId, first, after }, ctx) => listSnapshots(ctx, sourceId, first, after),
    snapshot: (_, { id }, ctx) => getSnapshot(ctx, id),
  },
  Mutation: {
    createSource: (_, { input }, ctx) => createSource(ctx, input),
    updateSource: (_, { id, input }, ctx) => updateSource(ctx, id, input),
    pauseSource: (_, { id }, ctx) => pauseSource(ctx, id),
    resumeSource: (_, { id }, ctx) => resumeSource(ctx, id),
    deleteSource: (_, { id, withSnapshots }, ctx) => deleteSource(ctx, id, withSnapshots),
    acknowledgeSnapshotAnomaly: (_, { snapshotId }, ctx) => acknowledgeSnapshotAnomaly(ctx, snapshotId),
  },
  Source: {
    __resolveReference: ({ id }, ctx) => getSource(ctx, id),
    account: (source) => ref(source.accountId),
    connection: (source) => ref(source.connectionId),
    schedule: (source) => ({ kind: source.scheduleKind, cron: source.cron ?? null, timeZone: source.timeZone ?? null }),
    retention: (source) => ({ keepLast: source.keepLast, keepDaily: source.keepDaily, keepWeekly: source.keepWeekly, keepMonthly: source.keepMonthly }),
    snapshots: (source, { first, after }, ctx) => snapshotsOf(ctx, source, first, after),
  },
  Snapshot: {
    __resolveReference: ({ id }, ctx) => getSnapshot(ctx, id),
    account: (snapshot) => ref(snapshot.accountId),
    source: (snapshot, _, ctx) => getSource(ctx, snapshot.sourceId),
    job: (snapshot) => ref(snapshot.jobId),
    items: (snapshot, args, ctx) => snapshotItems(ctx, snapshot, args),
    changes: (snapshot) => snapshot.changes ?? null,
    anomaly: (snapshot) => snapshotAnomaly(snapshot),
  },
  Job: {
    snapshot: ({ id }, _, ctx) => snapshotOfJob(ctx, id),
  },
  Account: {
    sources: ({ id }, { first, after }, ctx) => listSources(ctx, id, first, after),
  },
};
