import { defineEntity, p } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

export const SCHEDULE_KINDS = ['MANUAL', 'CRON'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

export const SourceSchema = defineEntity({
  name: 'Source',
  tableName: 'sources',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    accountId: p.uuid().index(),
    /** A Connection of the platforms subgraph (another schema, so no foreign key). */
    connectionId: p.uuid().index(),
    name: p.text(),
    resources: p.array(),
    paused: p.boolean().default(false),
    scheduleKind: p.enum(SCHEDULE_KINDS).default('MANUAL'),
    cron: p.text().nullable(),
    timeZone: p.text().nullable(),
    /** When the scheduler starts the next backup; null for manual, paused and deleted sources. */
    nextRunAt: p.datetime().nullable(),
    keepLast: p.integer().default(0),
    keepDaily: p.integer().default(0),
    keepWeekly: p.integer().default(0),
    keepMonthly: p.integer().default(0),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()).onUpdate(() => new Date()),
    /** Deleted sources are kept (without a schedule) so their remaining snapshots stay restorable. */
    deletedAt: p.datetime().nullable(),
  },
  indexes: [
    { name: 'sources_due_idx', properties: ['nextRunAt'], where: 'next_run_at is not null' },
    { name: 'sources_account_name_idx', properties: ['accountId', 'name', 'id'], where: 'deleted_at is null' },
  ],
});

export class Source extends SourceSchema.class {}
SourceSchema.setClass(Source);
