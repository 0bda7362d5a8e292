import { describe, expect, it } from 'vitest';
import { verifyWebhook, type WebhookRequest } from '../sdk/index.ts';
import { signGitHub } from '../testing/webhook-signers.ts';
import { definition } from './definition.ts';

const url = 'https://listbackup.example/webhooks/github';
const post = (body: string, headers: Record<string, string>): WebhookRequest => ({ method: 'POST', url, headers, body: Buffer.from(body, 'utf8') });
const issue = JSON.stringify({ action: 'edited', issue: { number: 7, title: 'Backups' }, repository: { full_name: 'octo/repo' } });

describe('GitHub webhooks', () => {
  it('accepts a delivery signed with X-Hub-Signature-256 and maps its event to the resources it changes', () => {
    const headers = signGitHub(issue, 'gh-secret', { event: 'issues', delivery: '72d3162e-cc78-11e3-81ab-4c9367dc0958' });
    expect(verifyWebhook(definition, post(issue, headers), ['gh-secret'])).toEqual({
      kind: 'events',
      events: [{ deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958', type: 'issues', resources: ['issues'] }],
    });
    const comment = signGitHub(issue, 'gh-secret', { event: 'issue_comment' });
    expect(verifyWebhook(definition, post(issue, comment), ['gh-secret'])).toMatchObject({ events: [{ type: 'issue_comment', resources: ['issues', 'pull_requests'] }] });
    const pull = signGitHub(issue, 'gh-secret', { event: 'pull_request_review' });
    expect(verifyWebhook(definition, post(issue, pull), ['gh-secret'])).toMatchObject({ events: [{ resources: ['pull_requests'] }] });
  });

  it('changes no resource on a ping', () => {
    const ping = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
    expect(verifyWebhook(definition, post(ping, signGitHub(ping, 'gh-secret', { event: 'ping' })), ['gh-secret'])).toMatchObject({ events: [{ type: 'ping', resources: [] }] });
  });

  it('refuses an altered body, a wrong secret and a missing signature', () => {
    const headers = signGitHub(issue, 'gh-secret', { event: 'issues' });
    expect(verifyWebhook(definition, post(issue.replace('Backups', 'Backdoor'), headers), ['gh-secret'])).toMatchObject({ kind: 'refused', code: 'WEBHOOK_SIGNATURE_INVALID' });
    expect(verifyWebhook(definition, post(issue, signGitHub(issue, 'not-the-secret', { event: 'issues' })), ['gh-secret'])).toMatchObject({ kind: 'refused', code: 'WEBHOOK_SIGNATURE_INVALID' });
    const { 'x-hub-signature-256': _, ...unsigned } = headers;
    expect(verifyWebhook(definition, post(issue, unsigned), ['gh-secret'])).toMatchObject({ kind: 'refused', code: 'WEBHOOK_SIGNATURE_MISSING' });
  });

  it('accepts the previous secret during a rollover', () => {
    expect(verifyWebhook(definition, post(issue, signGitHub(issue, 'old', { event: 'issues' })), ['new', 'old']).kind).toBe('events');
  });
});
