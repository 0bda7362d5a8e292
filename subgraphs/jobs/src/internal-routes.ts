import { z } from 'zod';
import type { InternalRoute } from '@listbackup/lib/subgraph';
import type { Orm } from '@listbackup/lib/db';
import { readJson, sendJson } from '@listbackup/lib/http';
import { JOB_KINDS, TRIGGER_KINDS } from './entities/job.ts';
import type { JobQueue } from './queue/job-queue.ts';
import { enqueueJob } from './services/job-service.ts';

export const ENQUEUE_PATH = '/internal/jobs/enqueue';

const EnqueueRequest = z.object({
  accountId: z.uuid(),
  sourceId: z.uuid().nullish(),
  kind: z.enum(JOB_KINDS),
  params: z.record(z.string(), z.unknown()).optional(),
  trigger: z.object({ kind: z.enum(TRIGGER_KINDS), id: z.string().nullish() }),
  idempotencyKey: z.string().min(1).max(300).nullish(),
  /** Start it this much later. A backup asked for again before it starts is that same job, so a burst of requests in the delay is one job. */
  delayMs: z.number().int().min(0).max(3_600_000).optional(),
});
export type EnqueueRequest = z.infer<typeof EnqueueRequest>;

/**
 * Routes for sibling services (the sources scheduler and webhook backups), behind the same internal token as /graphql.
 * They act for the service, not for a user: callers have done their own authorization.
 */
export function jobsInternalRoutes(orm: Orm, queue: JobQueue): Record<string, InternalRoute> {
  return {
    [ENQUEUE_PATH]: async (req, res) => {
      const parsed = EnqueueRequest.safeParse(await readJson(req));
      if (!parsed.success) return sendJson(res, 400, { error: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ') });
      const { delayMs, ...input } = parsed.data;
      const { job, created } = await enqueueJob(orm.em.fork(), queue, { ...input, startAfter: delayMs ? new Date(Date.now() + delayMs) : undefined });
      sendJson(res, 200, { job: { id: job.id, status: job.status, kind: job.kind }, created });
    },
  };
}
