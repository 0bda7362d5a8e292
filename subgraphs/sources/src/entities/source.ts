import { defineEntity, p } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

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
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});

export class Source extends SourceSchema.class {}
SourceSchema.setClass(Source);
