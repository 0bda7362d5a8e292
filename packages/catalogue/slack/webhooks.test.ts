import { describe, expect, it } from 'vitest';
import { verifyWebhook, type WebhookRequest } from '../sdk/index.ts';
import { signSlack } from '../testing/webhook-signers.ts';
import { definition } from './definition.ts';

const post = (body: string, headers: Record<string, string>): WebhookRequest => ({ method: 'POST', url: 'https://listbackup.example/webhooks/slack', headers, body: Buffer.from(body, 'utf8') });
const now = new Date('2026-03-01T12:00:00Z');
const seconds = Math.floor(now.getTime() / 1000);
const callback = (type: string) =>
  JSON.stringify({ token: 'XXYYZZ', team_id: 'T0001', api_app_id: 'A0001', event: { type, channel: 'C0001', user: 'U0001', text: 'hello', ts: '1772366400.000100' }, type: 'event_callback', event_id: 'Ev0001', event_time: seconds });

describe('Slack webhooks', () => {
  it('answers a signed url_verification with its challenge, and refuses an unsigned one', () => {
    const body = JSON.stringify({ token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl', challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P', type: 'url_verification' });
    expect(verifyWebhook(definition, post(body, signSlack(body, 'slack-signing', { timestamp: seconds })), ['slack-signing'], now)).toEqual({
      kind: 'handshake',
      status: 200,
      contentType: 'text/plain; charset=utf-8',
      body: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
    });
    expect(verifyWebhook(definition, post(body, { 'content-type': 'application/json' }), ['slack-signing'], now)).toMatchObject({ kind: 'refused', code: 'WEBHOOK_SIGNATURE_MISSING' });
  });

  it('accepts an event callback signed with the signing secret and maps it to the workspace and resources', () => {
    const body = callback('message');
    expect(verifyWebhook(definition, post(body, signSlack(body, 'slack-signing', { timestamp: seconds })), ['slack-signing'], now)).toEqual({
      kind: 'events',
      events: [{ deliveryId: 'Ev0001', type: 'message', accountId: 'T0001', resources: ['messages'] }],
    });
    const file = callback('file_shared');
    expect(verifyWebhook(definition, post(file, signSlack(file, 'slack-signing', { timestamp: seconds })), ['slack-signing'], now)).toMatchObject({ events: [{ resources: ['files'] }] });
    const channel = callback('channel_created');
    expect(verifyWebhook(definition, post(channel, signSlack(channel, 'slack-signing', { timestamp: seconds })), ['slack-signing'], now)).toMatchObject({ events: [{ resources: [] }] });
  });

  it('refuses an altered body, a wrong secret, a missing timestamp and one more than five minutes away', () => {
    const body = callback('message');
    const headers = signSlack(body, 'slack-signing', { timestamp: seconds });
    expect(verifyWebhook(definition, post(body.replace('hello', 'bye'), headers), ['slack-signing'], now)).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    expect(verifyWebhook(definition, post(body, signSlack(body, 'other', { timestamp: seconds })), ['slack-signing'], now)).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    const { 'x-slack-request-timestamp': _, ...untimed } = headers;
    expect(verifyWebhook(definition, post(body, untimed), ['slack-signing'], now)).toMatchObject({ code: 'WEBHOOK_SIGNATURE_MISSING' });
    expect(verifyWebhook(definition, post(body, signSlack(body, 'slack-signing', { timestamp: seconds - 301 })), ['slack-signing'], now)).toMatchObject({ code: 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE' });
  });

  it('accepts the signing secret before a regeneration as well as the new one', () => {
    const body = callback('message');
    expect(verifyWebhook(definition, post(body, signSlack(body, 'old', { timestamp: seconds })), ['new', 'old'], now).kind).toBe('events');
  });
});
