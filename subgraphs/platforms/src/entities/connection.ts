import { defineEntity, p } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

export const CONNECTION_STATUSES = ['PENDING', 'AUTHORIZED', 'FAILED', 'EXPIRED', 'REVOKED'] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

export const ConnectionSchema = defineEntity({
  name: 'Connection',
  tableName: 'connections',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    accountId: p.uuid().index(),
    platformId: p.uuid(),
    name: p.text(),
    status: p.enum(CONNECTION_STATUSES).default('PENDING'),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});

export class Connection extends ConnectionSchema.class {}
ConnectionSchema.setClass(Connection);
