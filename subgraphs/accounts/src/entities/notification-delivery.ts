import { defineEntity, p } from '@mikro-orm/core';

export const DELIVERY_CHANNELS = ['EMAIL', 'WEBHOOK', 'SLACK'] as const;
export type DeliveryChannel = (typeof DELIVERY_CHANNELS)[number];
/** PENDING (first attempt due), RETRYING (an attempt failed, another is due), DELIVERED, DEAD (given up: the dead letter). */
export const DELIVERY_STATUSES = ['PENDING', 'RETRYING', 'DELIVERED', 'DEAD'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * One notification to one recipient (an address, an endpoint). Its id is the `webhook-id` and the
 * email's Message-ID, the same on every attempt, so a receiver drops a repeat.
 */
export const DeliverySchema = defineEntity({
  name: 'Delivery',
  tableName: 'notification_deliveries',
  properties: {
    id: p.uuid().primary(),
    /** The notification it carries; null for a message of its own (`subject` and `text`). */
    notificationId: p.uuid().nullable().index(),
    subject: p.text().nullable(),
    /** Cleared once sent: such messages carry one-time links. */
    text: p.text().nullable().lazy(),
    accountId: p.uuid().index(),
    channel: p.enum(DELIVERY_CHANNELS),
    /** The endpoint of a webhook or Slack delivery. */
    endpointId: p.uuid().nullable().index(),
    /** The user of an email delivery. */
    userId: p.uuid().nullable(),
    /** An email address, or the endpoint's URL when it was queued. */
    recipient: p.text(),
    status: p.enum(DELIVERY_STATUSES),
    attempts: p.integer().default(0),
    nextAttemptAt: p.datetime().nullable(),
    /** A worker holds it until then; past it, another worker may try (the first one died). */
    lockedUntil: p.datetime().nullable(),
    lastResponseCode: p.integer().nullable(),
    lastError: p.text().nullable(),
    deliveredAt: p.datetime().nullable(),
    createdAt: p.datetime(),
  },
  indexes: [{ name: 'notification_deliveries_due_index', properties: ['nextAttemptAt'], where: "status in ('PENDING', 'RETRYING')" }],
});
export class Delivery extends DeliverySchema.class {}
DeliverySchema.setClass(Delivery);

/** One attempt of a delivery: the delivery log shown per endpoint. */
export const DeliveryAttemptSchema = defineEntity({
  name: 'DeliveryAttempt',
  tableName: 'notification_delivery_attempts',
  properties: {
    id: p.uuid().primary(),
    deliveryId: p.uuid().index(),
    accountId: p.uuid(),
    endpointId: p.uuid().nullable(),
    attemptedAt: p.datetime(),
    succeeded: p.boolean(),
    responseCode: p.integer().nullable(),
    latencyMs: p.integer(),
    error: p.text().nullable(),
  },
  indexes: [{ name: 'notification_delivery_attempts_endpoint_index', properties: ['endpointId', 'attemptedAt'] }],
});
export class DeliveryAttempt extends DeliveryAttemptSchema.class {}
DeliveryAttemptSchema.setClass(DeliveryAttempt);
