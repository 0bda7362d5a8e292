import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import type { EventBus } from '@listbackup/lib/events/bus';
import type { JobsService } from '../../src/index.ts';
import { Job, type JobKind } from '../../src/entities/job.ts';
import { JobLog } from '../../src/entities/job-log.ts';
import { enqueueJob } from '../../src/services/job-service.ts';
import type { TestSubgraph } from './subgraph-harness.ts';
import { waitFor } from './subgraph-harness.ts';

export const jobsService = (subgraph: TestSubgraph) => subgraph.service as JobsService;

/** The Job row as stored now. */
export async function jobRow(subgraph: TestSubgraph, id: string): Promise<Job> {
  return (await subgraph.service.orm.em.fork().findOne(Job, { id }))!;
}

export async function logLines(subgraph: TestSubgraph, id: string): Promise<JobLog[]> {
  return subgraph.service.orm.em.fork().find(JobLog, { jobId: id }, { orderBy: { id: 'asc' } });
}

/** Queues a job the way services do (row + queue message + job.created in one transaction). */
export async function enqueue(
  subgraph: TestSubgraph,
  accountId: string,
  kind: JobKind,
  params: Record<string, unknown>,
  options: { sourceId?: string | null; startAfter?: Date } = {},
): Promise<Job> {
  const { job } = await enqueueJob(subgraph.service.orm.em.fork(), jobsService(subgraph).queue, {
    accountId,
    sourceId: options.sourceId ?? null,
    kind,
    params,
    trigger: { kind: 'SYSTEM' },
    startAfter: options.startAfter,
  });
  return job;
}

export async function waitForStatus(subgraph: TestSubgraph, id: string, statuses: Job['status'][], timeoutMs = 20_000): Promise<Job> {
  let row: Job | undefined;
  await waitFor(async () => statuses.includes((row = await jobRow(subgraph, id)).status), `job ${id} to reach ${statuses.join(' or ')} (now ${row?.status})`, timeoutMs);
  return row!;
}

/** Every event on `pattern` from now on, in arrival order. */
export async function recordEvents(bus: EventBus, pattern: string): Promise<{ events: EventEnvelope[]; ofJob(id: string): EventEnvelope[]; stop(): Promise<void> }> {
  const events: EventEnvelope[] = [];
  const subscription = await bus.subscribe(pattern, (event) => void events.push(event));
  return {
    events,
    ofJob: (id) => events.filter((event) => (event.data as { jobId?: string }).jobId === id),
    stop: () => subscription.unsubscribe(),
  };
}
