import { defineEntity, p } from '@mikro-orm/core';

export const USAGE_KINDS = ['SOURCE', 'CONNECTION', 'MEMBER', 'API_KEY'] as const;
export type UsageKind = (typeof USAGE_KINDS)[number];

/**
 * One thing a plan limits (a source, a connection, a membership or invitation, an API key), kept
 * from the owning subgraph's events so that a downgrade can be checked against the account's usage.
 * `live` is false once it is deleted, revoked or removed; an event older than `changedAt` changes nothing.
 */
export const PlanUsageItemSchema = defineEntity({
  name: 'PlanUsageItem',
  tableName: 'plan_usage_items',
  properties: {
    kind: p.enum(USAGE_KINDS).primary(),
    itemId: p.uuid().primary(),
    accountId: p.uuid(),
    live: p.boolean(),
    /** A source's shortest gap between scheduled backups, in minutes; null for a manual schedule or an event without it. */
    backupIntervalMinutes: p.integer().nullable(),
    /** A source's retention in days; null for an event without it. */
    retentionDays: p.integer().nullable(),
    changedAt: p.datetime(),
  },
  primaryKeys: ['kind', 'itemId'],
  indexes: [{ properties: ['accountId', 'kind'] }],
});

export class PlanUsageItem extends PlanUsageItemSchema.class {}
PlanUsageItemSchema.setClass(PlanUsageItem);
