import { defineEntity, p } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

export const JOB_KINDS = ['BACKUP', 'EXPORT', 'RESTORE', 'VERIFY'] as const;
export const JOB_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;

export const JobSchema = defineEntity({
  name: 'Job',
  tableName: 'jobs',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    accountId: p.uuid().index(),
    sourceId: p.uuid().nullable(),
    kind: p.enum(JOB_KINDS),
    status: p.enum(JOB_STATUSES).default('QUEUED'),
    createdAt: p.datetime().onCreate(() => new Date()),
    startedAt: p.datetime().nullable(),
    finishedAt: p.datetime().nullable(),
  },
});

export class Job extends JobSchema.class {}
JobSchema.setClass(Job);
