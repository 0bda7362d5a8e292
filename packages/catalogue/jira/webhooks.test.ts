import { describe, expect, it } from 'vitest';
import { verifyWebhook, type WebhookRequest } from '../sdk/index.ts';
import { signJira } from '../testing/webhook-signers.ts';
import { definition } from './definition.ts';

const post = (body: string, headers: Record<string, string>): WebhookRequest => ({ method: 'POST', url: 'https://listbackup.example/webhooks/jira', headers, body: Buffer.from(body, 'utf8') });
const event = (webhookEvent: string) => JSON.stringify({ timestamp: 1_772_366_400_000, webhookEvent, issue_event_type_name: 'issue_updated', issue: { id: '10002', key: 'PROJ-2', fields: { summary: 'Backups' } }, matchedWebhookIds: [1] });

describe('Jira webhooks (registered by the OAuth 2.0 app)', () => {
  it('accepts a delivery whose bearer JWT is signed with the client secret and maps its event', async () => {
    const body = event('jira:issue_updated');
    const headers = await signJira('jira-client-secret', { identifier: '1234-abcd' });
    expect(verifyWebhook(definition, post(body, headers), ['jira-client-secret'])).toEqual({
      kind: 'events',
      events: [{ deliveryId: '1234-abcd', type: 'jira:issue_updated', resources: ['issues', 'attachments'] }],
    });
    const comment = event('comment_created');
    expect(verifyWebhook(definition, post(comment, await signJira('jira-client-secret')), ['jira-client-secret'])).toMatchObject({ events: [{ resources: ['issues'] }] });
    const property = event('issue_property_set');
    expect(verifyWebhook(definition, post(property, await signJira('jira-client-secret')), ['jira-client-secret'])).toMatchObject({ events: [{ resources: [] }] });
  });

  it('refuses a JWT signed with another secret, an expired one and a missing Authorization', async () => {
    const body = event('jira:issue_created');
    expect(verifyWebhook(definition, post(body, await signJira('other')), ['jira-client-secret'])).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    const issuedAt = Math.floor(Date.now() / 1000) - 3600;
    expect(verifyWebhook(definition, post(body, await signJira('jira-client-secret', { issuedAt, expiresInSeconds: 180 })), ['jira-client-secret'])).toMatchObject({ code: 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE' });
    expect(verifyWebhook(definition, post(body, { 'content-type': 'application/json' }), ['jira-client-secret'])).toMatchObject({ code: 'WEBHOOK_SIGNATURE_MISSING' });
  });

  it('accepts the client secret before a rotation as well as the new one', async () => {
    expect(verifyWebhook(definition, post(event('jira:issue_deleted'), await signJira('old')), ['new', 'old']).kind).toBe('events');
  });
});
