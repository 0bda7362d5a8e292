import { defineEntity, p } from '@mikro-orm/core';
import { JOB_KINDS } from './job.ts';

/**
 * The analytics read model: what the jobs of one kind on one source that finished on one UTC day
 * added up to. Kept by the analytics consumer from job events (events/analytics-consumer.ts), so
 * analytics read a row per source and day, never the jobs themselves.
 */
export const JobDayStatsSchema = defineEntity({
  name: 'JobDayStats',
  tableName: 'job_day_stats',
  properties: {
    accountId: p.uuid().primary(),
    sourceId: p.uuid().primary(),
    /** `YYYY-MM-DD`, UTC: the day the jobs finished. */
    day: p.string().columnType('date').primary(),
    kind: p.enum(JOB_KINDS).primary(),
    /** Jobs that reached SUCCEEDED, FAILED or CANCELLED (a job retried by hand after failing counts each time it finished). */
    runs: p.integer().default(0),
    succeeded: p.integer().default(0),
    failed: p.integer().default(0),
    cancelled: p.integer().default(0),
    /** Succeeded, with some items skipped. */
    partial: p.integer().default(0),
    failedAuth: p.integer().default(0),
    failedConfig: p.integer().default(0),
    failedTransient: p.integer().default(0),
    failedRateLimited: p.integer().default(0),
    failedInternal: p.integer().default(0),
    failedUnavailable: p.integer().default(0),
    failedDamaged: p.integer().default(0),
    failedQuotaExceeded: p.integer().default(0),
    /** Items and logical bytes in the snapshots made (backups). */
    items: p.bigint('number').default(0),
    bytes: p.bigint('number').default(0),
    itemsAdded: p.bigint('number').default(0),
    itemsChanged: p.bigint('number').default(0),
    itemsDeleted: p.bigint('number').default(0),
    /** Jobs whose duration is known (they started), and the sum of those durations. */
    timed: p.integer().default(0),
    durationMsTotal: p.bigint('number').default(0),
    /** Durations as DDSketch bins: bucket key (services/durations.ts) → count. Bins of many rows add up. */
    durationBins: p.json<Record<string, number>>().defaultRaw(`'{}'`),
  },
  // An account's (or a roll-up's) range of one kind, and a source's range.
  indexes: [
    { name: 'job_day_stats_account_kind_day_idx', properties: ['accountId', 'kind', 'day'] },
    { name: 'job_day_stats_source_day_idx', properties: ['sourceId', 'day'] },
  ],
});

export class JobDayStats extends JobDayStatsSchema.class {}
JobDayStatsSchema.setClass(JobDayStats);
