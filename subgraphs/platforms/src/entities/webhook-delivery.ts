import { defineEntity, p } from '@mikro-orm/core';

/**
 * A platform webhook delivery that was verified and acted on, by the platform's own delivery id
 * (GitHub's `X-GitHub-Delivery`, Stripe's event id, …): the same id again is a replay, answered
 * 200 and ignored.
 */
export const WebhookDeliverySchema = defineEntity({
  name: 'WebhookDelivery',
  tableName: 'webhook_deliveries',
  properties: {
    platform: p.text().primary(),
    deliveryId: p.text().primary(),
    eventType: p.text(),
    receivedAt: p.datetime().onCreate(() => new Date()),
  },
  primaryKeys: ['platform', 'deliveryId'],
  indexes: [{ name: 'webhook_deliveries_received_idx', properties: ['receivedAt'] }],
});

export class WebhookDelivery extends WebhookDeliverySchema.class {}
WebhookDeliverySchema.setClass(WebhookDelivery);
