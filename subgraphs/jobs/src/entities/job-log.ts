import { defineEntity, p } from '@mikro-orm/core';

export const JOB_LOG_LEVELS = ['INFO', 'WARN', 'ERROR'] as const;
export type JobLogLevel = (typeof JOB_LOG_LEVELS)[number];

/** One line of a job's log. The id orders lines within a job (and is the page cursor). */
export const JobLogSchema = defineEntity({
  name: 'JobLog',
  tableName: 'job_logs',
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    jobId: p.uuid(),
    /** Denormalised from the job so every read is scoped by tenant without a join. */
    accountId: p.uuid(),
    at: p.datetime().onCreate(() => new Date()),
    level: p.enum(JOB_LOG_LEVELS).default('INFO'),
    message: p.text(),
    attempt: p.integer().default(0),
  },
  indexes: [{ name: 'job_logs_job_id_idx', properties: ['jobId', 'id'] }],
});

export class JobLog extends JobLogSchema.class {}
JobLogSchema.setClass(JobLog);
