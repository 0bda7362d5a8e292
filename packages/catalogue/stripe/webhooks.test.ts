import { describe, expect, it } from 'vitest';
import { verifyWebhook, type WebhookRequest } from '../sdk/index.ts';
import { signStripe } from '../testing/webhook-signers.ts';
import { definition } from './definition.ts';

const post = (body: string, headers: Record<string, string>): WebhookRequest => ({ method: 'POST', url: 'https://listbackup.example/webhooks/stripe', headers, body: Buffer.from(body, 'utf8') });
const event = (type: string) => JSON.stringify({ id: 'evt_1NG8Du2eZvKYlo2CUI79vXWy', object: 'event', api_version: '2024-06-20', created: 1_686_089_970, type, data: { object: { id: 'sub_1', object: 'subscription' } } });
const now = new Date('2026-03-01T12:00:00Z');
const seconds = Math.floor(now.getTime() / 1000);

describe('Stripe webhooks', () => {
  it('accepts an event signed in Stripe-Signature and maps its type to the resources it changes', () => {
    const body = event('customer.subscription.updated');
    expect(verifyWebhook(definition, post(body, signStripe(body, 'whsec_test', { timestamp: seconds })), ['whsec_test'], now)).toEqual({
      kind: 'events',
      events: [{ deliveryId: 'evt_1NG8Du2eZvKYlo2CUI79vXWy', type: 'customer.subscription.updated', resources: ['subscriptions'] }],
    });
    for (const [type, resources] of [
      ['customer.updated', ['customers']],
      ['charge.refunded', ['charges']],
      ['invoice.paid', ['invoices']],
      ['product.created', ['products']],
      ['balance.available', []],
    ] as const) {
      const other = event(type);
      expect(verifyWebhook(definition, post(other, signStripe(other, 'whsec_test', { timestamp: seconds })), ['whsec_test'], now), type).toMatchObject({ events: [{ type, resources }] });
    }
  });

  it('refuses an altered body, a wrong secret, a missing header and a timestamp more than five minutes old', () => {
    const body = event('charge.succeeded');
    const headers = signStripe(body, 'whsec_test', { timestamp: seconds });
    expect(verifyWebhook(definition, post(body.replace('sub_1', 'sub_2'), headers), ['whsec_test'], now)).toMatchObject({ kind: 'refused', code: 'WEBHOOK_SIGNATURE_INVALID' });
    expect(verifyWebhook(definition, post(body, signStripe(body, 'whsec_other', { timestamp: seconds })), ['whsec_test'], now)).toMatchObject({ kind: 'refused', code: 'WEBHOOK_SIGNATURE_INVALID' });
    expect(verifyWebhook(definition, post(body, { 'content-type': 'application/json' }), ['whsec_test'], now)).toMatchObject({ kind: 'refused', code: 'WEBHOOK_SIGNATURE_MISSING' });
    expect(verifyWebhook(definition, post(body, signStripe(body, 'whsec_test', { timestamp: seconds - 301 })), ['whsec_test'], now)).toMatchObject({ kind: 'refused', code: 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE' });
  });

  it('accepts the endpoint secret before a roll as well as the new one', () => {
    const body = event('invoice.created');
    expect(verifyWebhook(definition, post(body, signStripe(body, 'whsec_old', { timestamp: seconds })), ['whsec_new', 'whsec_old'], now).kind).toBe('events');
  });
});
