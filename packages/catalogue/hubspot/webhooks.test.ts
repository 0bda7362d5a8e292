import { describe, expect, it } from 'vitest';
import { verifyWebhook, type WebhookRequest } from '../sdk/index.ts';
import { signHubSpot } from '../testing/webhook-signers.ts';
import { definition } from './definition.ts';

// The URL HubSpot calls, with an escape v3 decodes (%3A) before signing and one it does not (%20).
const url = 'https://listbackup.example/webhooks/hubspot?source=crm%3Acontacts&label=a%20b';
const post = (body: string, headers: Record<string, string>, at = url): WebhookRequest => ({ method: 'POST', url: at, headers, body: Buffer.from(body, 'utf8') });
const now = new Date('2026-03-01T12:00:00Z');
const batch = JSON.stringify([
  { eventId: 1, subscriptionId: 4412, portalId: 62515, appId: 1160452, occurredAt: now.getTime() - 2000, subscriptionType: 'contact.propertyChange', attemptNumber: 0, objectId: 123, propertyName: 'email', propertyValue: 'a@example.com', changeSource: 'CRM' },
  { eventId: 2, subscriptionId: 4413, portalId: 62515, appId: 1160452, occurredAt: now.getTime() - 1000, subscriptionType: 'deal.creation', attemptNumber: 0, objectId: 456, changeSource: 'CRM' },
  { eventId: 3, subscriptionId: 4414, portalId: 62515, appId: 1160452, occurredAt: now.getTime() - 500, subscriptionType: 'conversation.newMessage', attemptNumber: 0, objectId: 789 },
]);

describe('HubSpot webhooks', () => {
  it('accepts a batch signed with the v3 signature over method, URI, body and timestamp, one event per entry', () => {
    const outcome = verifyWebhook(definition, post(batch, signHubSpot(batch, 'hs-client-secret', { url, timestamp: now.getTime() })), ['hs-client-secret'], now);
    if (outcome.kind !== 'events') throw new Error(`expected events, got ${JSON.stringify(outcome)}`);
    expect(outcome.events.map(({ type, accountId, resources }) => ({ type, accountId, resources }))).toEqual([
      { type: 'contact.propertyChange', accountId: '62515', resources: ['contacts'] },
      { type: 'deal.creation', accountId: '62515', resources: ['deals'] },
      { type: 'conversation.newMessage', accountId: '62515', resources: [] },
    ]);
    expect(new Set(outcome.events.map((event) => event.deliveryId)).size).toBe(3);
  });

  it('refuses an altered body, another URL, a wrong secret, a missing signature and a timestamp more than five minutes old', () => {
    const headers = signHubSpot(batch, 'hs-client-secret', { url, timestamp: now.getTime() });
    expect(verifyWebhook(definition, post(batch.replace('62515', '62516'), headers), ['hs-client-secret'], now)).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    expect(verifyWebhook(definition, post(batch, headers, url.replace('contacts', 'deals')), ['hs-client-secret'], now)).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    expect(verifyWebhook(definition, post(batch, signHubSpot(batch, 'other', { url, timestamp: now.getTime() })), ['hs-client-secret'], now)).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    const { 'x-hubspot-signature-v3': _, ...unsigned } = headers;
    expect(verifyWebhook(definition, post(batch, unsigned), ['hs-client-secret'], now)).toMatchObject({ code: 'WEBHOOK_SIGNATURE_MISSING' });
    const stale = now.getTime() - 5 * 60_000 - 1000;
    expect(verifyWebhook(definition, post(batch, signHubSpot(batch, 'hs-client-secret', { url, timestamp: stale })), ['hs-client-secret'], now)).toMatchObject({ code: 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE' });
  });

  it('accepts the client secret before a rotation as well as the new one', () => {
    expect(verifyWebhook(definition, post(batch, signHubSpot(batch, 'old', { url, timestamp: now.getTime() })), ['new', 'old'], now).kind).toBe('events');
  });
});
