import { describe, expect, it } from 'vitest';
import { verifyWebhook, type WebhookRequest } from '../sdk/index.ts';
import { signIntercom } from '../testing/webhook-signers.ts';
import { definition } from './definition.ts';

const url = 'https://listbackup.example/webhooks/intercom';
const post = (body: string, headers: Record<string, string>): WebhookRequest => ({ method: 'POST', url, headers, body: Buffer.from(body, 'utf8') });
const notification = (topic: string) =>
  JSON.stringify({ type: 'notification_event', app_id: 'ecahpwf5', data: { type: 'notification_event_data', item: { type: 'conversation', id: '147' } }, links: {}, id: 'notif_ccd8a4d2-9e7b-4b0a-a4f4-2c9f8f2d3c11', topic, delivery_status: 'pending', delivery_attempts: 1, created_at: 1_772_366_400 });

describe('Intercom webhooks', () => {
  it('answers the HEAD Intercom sends when the endpoint is registered', () => {
    expect(verifyWebhook(definition, { method: 'HEAD', url, headers: {}, body: Buffer.alloc(0) }, ['client-secret'])).toEqual({ kind: 'handshake', status: 200, contentType: 'text/plain; charset=utf-8', body: '' });
  });

  it('accepts a notification signed in X-Hub-Signature (sha1) and maps its topic to the workspace and resources', () => {
    const body = notification('conversation.user.replied');
    expect(verifyWebhook(definition, post(body, signIntercom(body, 'client-secret')), ['client-secret'])).toEqual({
      kind: 'events',
      events: [{ deliveryId: 'notif_ccd8a4d2-9e7b-4b0a-a4f4-2c9f8f2d3c11', type: 'conversation.user.replied', accountId: 'ecahpwf5', resources: ['conversations'] }],
    });
    for (const [topic, resources] of [
      ['contact.user.created', ['contacts']],
      ['ticket.state.updated', ['tickets']],
      ['ping', []],
    ] as const) {
      const other = notification(topic);
      expect(verifyWebhook(definition, post(other, signIntercom(other, 'client-secret')), ['client-secret']), topic).toMatchObject({ events: [{ type: topic, resources }] });
    }
  });

  it('refuses an altered body, a wrong secret, a sha256 signature and a missing header', () => {
    const body = notification('conversation.admin.closed');
    const headers = signIntercom(body, 'client-secret');
    expect(verifyWebhook(definition, post(body.replace('147', '148'), headers), ['client-secret'])).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    expect(verifyWebhook(definition, post(body, signIntercom(body, 'other')), ['client-secret'])).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    expect(verifyWebhook(definition, post(body, { 'x-hub-signature': headers['x-hub-signature']!.replace('sha1=', 'sha256=') }), ['client-secret'])).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    expect(verifyWebhook(definition, post(body, { 'content-type': 'application/json' }), ['client-secret'])).toMatchObject({ code: 'WEBHOOK_SIGNATURE_MISSING' });
  });

  it('accepts the client secret before a rotation as well as the new one', () => {
    const body = notification('contact.lead.updated');
    expect(verifyWebhook(definition, post(body, signIntercom(body, 'old')), ['new', 'old']).kind).toBe('events');
  });
});
