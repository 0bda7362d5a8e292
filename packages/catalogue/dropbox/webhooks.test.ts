import { describe, expect, it } from 'vitest';
import { verifyWebhook, type WebhookRequest } from '../sdk/index.ts';
import { signDropbox } from '../testing/webhook-signers.ts';
import { definition } from './definition.ts';

const url = 'https://listbackup.example/webhooks/dropbox';
const post = (body: string, headers: Record<string, string>): WebhookRequest => ({ method: 'POST', url, headers, body: Buffer.from(body, 'utf8') });
const notification = JSON.stringify({ list_folder: { accounts: ['dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc', 'dbid:AACx5V7s3ATKVvdFbfRbKf2Ts1uLMeJkJlU'] }, delta: { users: [12345678, 23456789] } });

describe('Dropbox webhooks', () => {
  it('answers the verification GET with its challenge as text/plain', () => {
    const request: WebhookRequest = { method: 'GET', url: `${url}?challenge=KPzKcv2PrfCx8JcLNWJ4VJ4DBCCR9Ou5`, headers: {}, body: Buffer.alloc(0) };
    expect(verifyWebhook(definition, request, ['app-secret'])).toEqual({ kind: 'handshake', status: 200, contentType: 'text/plain; charset=utf-8', body: 'KPzKcv2PrfCx8JcLNWJ4VJ4DBCCR9Ou5' });
  });

  it('accepts a notification signed in X-Dropbox-Signature, one event per account it lists', () => {
    const outcome = verifyWebhook(definition, post(notification, signDropbox(notification, 'app-secret')), ['app-secret']);
    if (outcome.kind !== 'events') throw new Error(`expected events, got ${JSON.stringify(outcome)}`);
    expect(outcome.events.map(({ type, accountId, resources }) => ({ type, accountId, resources }))).toEqual([
      { type: 'list_folder', accountId: 'dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc', resources: ['files'] },
      { type: 'list_folder', accountId: 'dbid:AACx5V7s3ATKVvdFbfRbKf2Ts1uLMeJkJlU', resources: ['files'] },
    ]);
    expect(outcome.events[0]!.deliveryId).not.toBe(outcome.events[1]!.deliveryId);
  });

  it('refuses an altered body, a wrong secret and a missing signature', () => {
    const headers = signDropbox(notification, 'app-secret');
    expect(verifyWebhook(definition, post(notification.replace('dbid:AAH4', 'dbid:AAH5'), headers), ['app-secret'])).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    expect(verifyWebhook(definition, post(notification, signDropbox(notification, 'other')), ['app-secret'])).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    expect(verifyWebhook(definition, post(notification, { 'content-type': 'application/json' }), ['app-secret'])).toMatchObject({ code: 'WEBHOOK_SIGNATURE_MISSING' });
  });

  it('accepts the app secret before a rotation as well as the new one', () => {
    expect(verifyWebhook(definition, post(notification, signDropbox(notification, 'old')), ['new', 'old']).kind).toBe('events');
  });
});

describe('Dropbox notification ids', () => {
  it('are the same for a replay within the minute and new for the same notification later, which carries nothing else to tell', () => {
    const headers = signDropbox(notification, 'app-secret');
    const ids = (at: string) => {
      const outcome = verifyWebhook(definition, post(notification, headers), ['app-secret'], new Date(at));
      if (outcome.kind !== 'events') throw new Error(`expected events, got ${JSON.stringify(outcome)}`);
      return outcome.events.map((event) => event.deliveryId);
    };
    expect(ids('2026-03-01T12:00:05Z')).toEqual(ids('2026-03-01T12:00:55Z'));
    expect(ids('2026-03-01T12:01:05Z')).not.toEqual(ids('2026-03-01T12:00:05Z'));
  });
});
