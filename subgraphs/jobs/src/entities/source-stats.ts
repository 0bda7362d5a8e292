import { defineEntity, p } from '@mikro-orm/core';

/**
 * What analytics and anomaly detection keep per source, one row each: the source's facts as its
 * `source.*` events told them (account, platform, schedule), its last backups from job events, and
 * the history of how much each backup changed (exponentially weighted, so it stays one row).
 */
export const SourceStatsSchema = defineEntity({
  name: 'SourceStats',
  tableName: 'source_stats',
  properties: {
    sourceId: p.uuid().primary(),
    accountId: p.uuid().index(),
    platformId: p.uuid().nullable(),
    platformSlug: p.text().nullable(),
    scheduleKind: p.text().nullable(),
    cron: p.text().nullable(),
    timeZone: p.text().nullable(),
    paused: p.boolean().default(false),
    deletedAt: p.datetime().nullable(),
    /** The time of the newest `source.*` event applied: an older one arriving late changes nothing. */
    factsAsOf: p.datetime().nullable(),
    lastSuccessAt: p.datetime().nullable(),
    lastSuccessJobId: p.uuid().nullable(),
    lastFinishedAt: p.datetime().nullable(),
    lastStatus: p.text().nullable(),
    /** Backups compared with their parent snapshot that entered the history below. */
    changeObservations: p.integer().default(0),
    /** Exponentially weighted mean and variance of the share of the parent's items each backup deleted … */
    deletedShareMean: p.double().default(0),
    deletedShareVariance: p.double().default(0),
    /** … and changed. */
    changedShareMean: p.double().default(0),
    changedShareVariance: p.double().default(0),
  },
});

export class SourceStats extends SourceStatsSchema.class {}
SourceStatsSchema.setClass(SourceStats);
