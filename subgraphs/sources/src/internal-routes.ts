import { z } from 'zod';
import type { InternalRoute } from '@listbackup/lib/subgraph';
import type { Orm } from '@listbackup/lib/db';
import { readJson, sendJson } from '@listbackup/lib/http';
import { Source } from './entities/source.ts';
import { ANOMALY_KINDS, isHeld } from './entities/snapshot.ts';
import { scheduleOf } from './services/source-service.ts';
import { allSnapshotsOf, deleteSnapshots, recordSnapshot, SourceGoneError } from './services/snapshot-service.ts';

const GetSource = z.object({ id: z.uuid() });
const RecordSnapshot = z.object({
  jobId: z.uuid(),
  sourceId: z.uuid(),
  accountId: z.uuid(),
  itemCount: z.number().int().min(0),
  logicalBytes: z.number().int().min(0),
  storedBytes: z.number().int().min(0),
  partial: z.boolean().optional(),
  manifestKey: z.string().min(1).max(1000),
  createdAt: z.iso.datetime({ offset: true }).optional(),
  changes: z
    .object({ previousItems: z.number().int().min(0), added: z.number().int().min(0), changed: z.number().int().min(0), deleted: z.number().int().min(0) })
    .nullish(),
  anomaly: z.object({ kind: z.enum(ANOMALY_KINDS), reason: z.string().min(1).max(2000), share: z.number().min(0).max(1), typicalShare: z.number().min(0) }).nullish(),
});
const ListSnapshots = z.object({ sourceId: z.uuid() });
const DeleteSnapshots = z.object({ sourceId: z.uuid(), ids: z.array(z.uuid()).max(10_000) });

/**
 * Routes for sibling services (the jobs subgraph and its workers), behind the internal token. They
 * act for the service: the caller authorizes its own users (triggerSync checks jobs:run itself).
 */
export function sourcesInternalRoutes(orm: Orm): Record<string, InternalRoute> {
  const parse = async <T>(schema: z.ZodType<T>, req: Parameters<InternalRoute>[0], res: Parameters<InternalRoute>[1]): Promise<T | null> => {
    const parsed = schema.safeParse(await readJson(req));
    if (parsed.success) return parsed.data;
    sendJson(res, 400, { error: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ') });
    return null;
  };
  return {
    '/internal/sources/get': async (req, res) => {
      const input = await parse(GetSource, req, res);
      if (!input) return;
      const source = await orm.em.fork().findOne(Source, { id: input.id });
      sendJson(res, 200, {
        source: source && {
          id: source.id,
          accountId: source.accountId,
          connectionId: source.connectionId,
          name: source.name,
          resources: source.resources,
          paused: source.paused,
          deleted: source.deletedAt != null,
          retention: { keepLast: source.keepLast, keepDaily: source.keepDaily, keepWeekly: source.keepWeekly, keepMonthly: source.keepMonthly },
          schedule: scheduleOf(source),
        },
      });
    },
    '/internal/snapshots': async (req, res) => {
      const input = await parse(RecordSnapshot, req, res);
      if (!input) return;
      try {
        const { snapshot, created } = await recordSnapshot(orm.em, { ...input, createdAt: input.createdAt ? new Date(input.createdAt) : undefined });
        sendJson(res, 200, { snapshot: { id: snapshot.id }, created });
      } catch (error) {
        if (!(error instanceof SourceGoneError)) throw error;
        sendJson(res, 409, { error: error.message });
      }
    },
    '/internal/snapshots/list': async (req, res) => {
      const input = await parse(ListSnapshots, req, res);
      if (!input) return;
      const snapshots = await allSnapshotsOf(orm.em.fork(), input.sourceId);
      sendJson(res, 200, { snapshots: snapshots.map((s) => ({ id: s.id, jobId: s.jobId, createdAt: s.createdAt.toISOString(), manifestKey: s.manifestKey, held: isHeld(s) })) });
    },
    '/internal/snapshots/delete': async (req, res) => {
      const input = await parse(DeleteSnapshots, req, res);
      if (!input) return;
      sendJson(res, 200, { deleted: await deleteSnapshots(orm.em, input.sourceId, input.ids) });
    },
  };
}
