import { describe, expect, it } from 'vitest';
import { verifyWebhook, type WebhookRequest } from '../sdk/index.ts';
import { signZendesk } from '../testing/webhook-signers.ts';
import { definition } from './definition.ts';

const post = (body: string, headers: Record<string, string>): WebhookRequest => ({ method: 'POST', url: 'https://listbackup.example/webhooks/zendesk', headers, body: Buffer.from(body, 'utf8') });
const event = (type: string) =>
  JSON.stringify({ account_id: 22_129_848, detail: { id: '35436', status: 'OPEN' }, event: { current: 'OPEN', previous: 'NEW' }, id: 'cbe4028c-7239-495d-b020-f22348516046', subject: 'zen:ticket:35436', time: '2026-03-01T11:59:59.000Z', type, zendesk_event_version: '2022-11-06' });

describe('Zendesk webhooks', () => {
  it('accepts an event signed over its timestamp and body and maps its type to the resources it changes', () => {
    const body = event('zen:event-type:ticket.status_changed');
    expect(verifyWebhook(definition, post(body, signZendesk(body, 'zendesk-signing-secret')), ['zendesk-signing-secret'])).toEqual({
      kind: 'events',
      events: [{ deliveryId: 'cbe4028c-7239-495d-b020-f22348516046', type: 'zen:event-type:ticket.status_changed', resources: ['tickets'] }],
    });
    for (const [type, resources] of [
      ['zen:event-type:user.created', ['users']],
      ['zen:event-type:organization.deleted', ['organizations']],
      ['zen:event-type:article.published', ['articles']],
      ['zen:event-type:agent.state_changed', []],
    ] as const) {
      const other = event(type);
      expect(verifyWebhook(definition, post(other, signZendesk(other, 'zendesk-signing-secret')), ['zendesk-signing-secret']), type).toMatchObject({ events: [{ type, resources }] });
    }
  });

  it('refuses an altered body or timestamp, a wrong secret and a missing signature or timestamp', () => {
    const body = event('zen:event-type:ticket.created');
    const headers = signZendesk(body, 'zendesk-signing-secret', { timestamp: '2026-03-01T12:00:00Z' });
    expect(verifyWebhook(definition, post(body.replace('OPEN', 'SOLVED'), headers), ['zendesk-signing-secret'])).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    expect(verifyWebhook(definition, post(body, { ...headers, 'x-zendesk-webhook-signature-timestamp': '2026-03-01T12:00:01Z' }), ['zendesk-signing-secret'])).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    expect(verifyWebhook(definition, post(body, signZendesk(body, 'other')), ['zendesk-signing-secret'])).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    const { 'x-zendesk-webhook-signature': _, ...unsigned } = headers;
    expect(verifyWebhook(definition, post(body, unsigned), ['zendesk-signing-secret'])).toMatchObject({ code: 'WEBHOOK_SIGNATURE_MISSING' });
    const { 'x-zendesk-webhook-signature-timestamp': __, ...untimed } = headers;
    expect(verifyWebhook(definition, post(body, untimed), ['zendesk-signing-secret'])).toMatchObject({ code: 'WEBHOOK_SIGNATURE_MISSING' });
  });

  it('accepts the signing secret before a reset as well as the new one', () => {
    const body = event('zen:event-type:ticket.created');
    expect(verifyWebhook(definition, post(body, signZendesk(body, 'old')), ['new', 'old']).kind).toBe('events');
  });
});
