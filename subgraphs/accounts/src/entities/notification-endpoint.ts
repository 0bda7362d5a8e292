import { defineEntity, p } from '@mikro-orm/core';
import { NOTIFICATION_EVENTS, type NotificationEvent } from './notification.ts';

export const ENDPOINT_KINDS = ['WEBHOOK', 'SLACK'] as const;
export type EndpointKind = (typeof ENDPOINT_KINDS)[number];

/**
 * Where an account's notifications go besides people: a signed webhook (Standard Webhooks) or a
 * Slack-compatible incoming webhook. Disabled by the worker when it keeps failing.
 */
export const NotificationEndpointSchema = defineEntity({
  name: 'NotificationEndpoint',
  tableName: 'notification_endpoints',
  properties: {
    id: p.uuid().primary(),
    accountId: p.uuid().index(),
    kind: p.enum(ENDPOINT_KINDS),
    name: p.text(),
    url: p.text(),
    events: p.array<NotificationEvent>(),
    /** `whsec_…`, the signing secret of a webhook (null for Slack): shown once, at creation and rotation. */
    secret: p.text().nullable().lazy(),
    /** After a rotation the old secret signs too, for a day, so receivers can switch without a gap. */
    previousSecret: p.text().nullable().lazy(),
    previousSecretUntil: p.datetime().nullable(),
    enabled: p.boolean().default(true),
    disabledAt: p.datetime().nullable(),
    disabledReason: p.text().nullable(),
    consecutiveFailures: p.integer().default(0),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});
export class NotificationEndpoint extends NotificationEndpointSchema.class {}
NotificationEndpointSchema.setClass(NotificationEndpoint);

export { NOTIFICATION_EVENTS };
