import type { Orm } from '@listbackup/lib/db';
import type { Logger } from '@listbackup/lib/logger';
import type { EventBus, EventSubscription } from '@listbackup/lib/events/bus';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import { runIdempotent } from '@listbackup/lib/events/outbox';
import { finishedJobOf, recordFinishedJob, recordSourceFacts, sourceFactsOf } from '../services/analytics-records.ts';

export const JOB_EVENTS_PATTERN = 'lb.evt.*.job.>';
export const SOURCE_EVENTS_PATTERN = 'lb.evt.*.source.>';
/** The consumer names recorded with each applied event id (processed_events). */
export const JOB_ANALYTICS_CONSUMER = 'jobs.analytics.jobs';
export const SOURCE_ANALYTICS_CONSUMER = 'jobs.analytics.sources';

/** Applies a finished job's event to the read models, once per event id; other job events pass by. */
export async function handleJobEvent(orm: Orm, event: EventEnvelope): Promise<boolean> {
  const job = finishedJobOf(event);
  if (!job) return false;
  return runIdempotent(orm.em.fork(), JOB_ANALYTICS_CONSUMER, event, (tx) => recordFinishedJob(tx, job));
}

/** Applies a `source.*` event's facts (account, platform, schedule, paused, deleted), once per event id. */
export async function handleSourceEvent(orm: Orm, event: EventEnvelope): Promise<boolean> {
  const facts = sourceFactsOf(event);
  if (!facts) return false;
  return runIdempotent(orm.em.fork(), SOURCE_ANALYTICS_CONSUMER, event, (tx) => recordSourceFacts(tx, facts));
}

/**
 * The analytics consumer: two durable subscriptions (NATS 2.9 filters one subject per consumer),
 * shared by every jobs replica. A handler that fails is retried by the bus; an event it cannot read
 * is skipped (retrying cannot fix it).
 */
export async function consumeAnalyticsEvents(orm: Orm, bus: EventBus, log: Logger, durablePrefix = 'lb'): Promise<EventSubscription[]> {
  const jobs = await bus.subscribe(JOB_EVENTS_PATTERN, (event) => handleJobEvent(orm, event).then(() => undefined), { durable: `${durablePrefix}-jobs-analytics-jobs` });
  try {
    const sources = await bus.subscribe(SOURCE_EVENTS_PATTERN, (event) => handleSourceEvent(orm, event).then(() => undefined), {
      durable: `${durablePrefix}-jobs-analytics-sources`,
    });
    log.debug('analytics consumer started');
    return [jobs, sources];
  } catch (error) {
    await jobs.unsubscribe();
    throw error;
  }
}
