import { describe, expect, it } from 'vitest';
import { verifyWebhook, type WebhookRequest } from '../sdk/index.ts';
import { signBox } from '../testing/webhook-signers.ts';
import { definition } from './definition.ts';

const post = (body: string, headers: Record<string, string>): WebhookRequest => ({ method: 'POST', url: 'https://listbackup.example/webhooks/box', headers, body: Buffer.from(body, 'utf8') });
const now = new Date('2026-03-01T12:00:00Z');
const at = (offsetMs: number) => new Date(now.getTime() + offsetMs).toISOString().replace(/\.\d{3}Z$/, '-00:00');
const event = (trigger: string) =>
  JSON.stringify({ type: 'webhook_event', id: 'eb0c4e06-751f-442c-86f8-fd5bb404dbec', created_at: at(-1000), trigger, webhook: { id: '53', type: 'webhook' }, created_by: { type: 'user', id: '2' }, source: { id: '73', type: 'file', name: 'report.pdf' } });

describe('Box webhooks', () => {
  it('accepts a delivery signed with the primary and secondary keys and maps its trigger', () => {
    const body = event('FILE.UPLOADED');
    const headers = signBox(body, { primary: 'primary-key', secondary: 'secondary-key' }, { timestamp: at(0) });
    expect(verifyWebhook(definition, post(body, headers), ['primary-key', 'secondary-key'], now)).toEqual({
      kind: 'events',
      events: [{ deliveryId: 'eb0c4e06-751f-442c-86f8-fd5bb404dbec', type: 'FILE.UPLOADED', resources: ['files'] }],
    });
    const folder = event('FOLDER.RENAMED');
    expect(verifyWebhook(definition, post(folder, signBox(folder, { primary: 'primary-key' }, { timestamp: at(0) })), ['primary-key', 'secondary-key'], now)).toMatchObject({ events: [{ resources: ['files'] }] });
    const collaboration = event('COLLABORATION.CREATED');
    expect(verifyWebhook(definition, post(collaboration, signBox(collaboration, { primary: 'primary-key' }, { timestamp: at(0) })), ['primary-key'], now)).toMatchObject({ events: [{ resources: [] }] });
  });

  it('accepts a delivery whose primary key was just rotated while the secondary still matches', () => {
    const body = event('FILE.TRASHED');
    const headers = signBox(body, { primary: 'old-primary', secondary: 'secondary-key' }, { timestamp: at(0) });
    expect(verifyWebhook(definition, post(body, headers), ['new-primary', 'secondary-key'], now).kind).toBe('events');
  });

  it('refuses an altered body or timestamp, keys that both fail, no signature, and a delivery more than ten minutes old', () => {
    const body = event('FILE.UPLOADED');
    const headers = signBox(body, { primary: 'primary-key', secondary: 'secondary-key' }, { timestamp: at(0) });
    expect(verifyWebhook(definition, post(body.replace('report', 'other'), headers), ['primary-key', 'secondary-key'], now)).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    expect(verifyWebhook(definition, post(body, { ...headers, 'box-delivery-timestamp': at(1000) }), ['primary-key', 'secondary-key'], now)).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    expect(verifyWebhook(definition, post(body, headers), ['another', 'and-another'], now)).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    const { 'box-signature-primary': _, 'box-signature-secondary': __, ...unsigned } = headers;
    expect(verifyWebhook(definition, post(body, unsigned), ['primary-key'], now)).toMatchObject({ code: 'WEBHOOK_SIGNATURE_MISSING' });
    const stale = signBox(body, { primary: 'primary-key' }, { timestamp: at(-10 * 60_000 - 1000) });
    expect(verifyWebhook(definition, post(body, stale), ['primary-key'], now)).toMatchObject({ code: 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE' });
  });
});
