import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { PlatformDefinition, WebhookSpec } from '../platform.ts';
import { signJira, signStripe } from '../testing/webhook-signers.ts';
import { verifyWebhook, type WebhookRequest } from './webhooks.ts';

/** A platform that exists only here, so each test states the one scheme it exercises. */
function platform(webhooks: WebhookSpec): PlatformDefinition {
  return { slug: 'example', name: 'Example', category: 'OTHER', description: '', websiteUrl: 'https://example.com', apiBaseUrl: 'https://api.example.com', rateLimits: [], webhooks };
}

const bodyHmac = platform({
  signature: { scheme: 'hmac', algorithm: 'sha256', headers: ['X-Signature'], prefix: 'sha256=', encoding: 'hex' },
  deliveryId: { header: 'X-Delivery' },
  eventType: { path: 'event' },
  accountId: { path: 'account.id' },
  events: [
    { type: 'order.*', resources: ['orders'] },
    { type: 'order.refunded', resources: ['refunds'] },
    { type: 'customer.updated', resources: ['customers'] },
  ],
  docsUrl: 'https://example.com/webhooks',
});

const body = JSON.stringify({ event: 'order.refunded', account: { id: 42 } });
const hex = (secret: string, content: string) => createHmac('sha256', secret).update(content).digest('hex');

function post(content: string, headers: Record<string, string>, url = 'https://listbackup.example/webhooks/example'): WebhookRequest {
  return { method: 'POST', url, headers, body: Buffer.from(content, 'utf8') };
}

describe('verifyWebhook: an HMAC of the body', () => {
  it('accepts a delivery signed with the secret and reads its type, account, id and the resources its type changes', () => {
    const outcome = verifyWebhook(bodyHmac, post(body, { 'x-signature': `sha256=${hex('s3cret', body)}`, 'x-delivery': 'd-1' }), ['s3cret']);
    expect(outcome).toEqual({ kind: 'events', events: [{ deliveryId: 'd-1', type: 'order.refunded', accountId: '42', resources: ['orders', 'refunds'] }] });
  });

  it('accepts the older secret during a rollover, and the newer one', () => {
    for (const secret of ['new-secret', 'old-secret']) {
      const outcome = verifyWebhook(bodyHmac, post(body, { 'x-signature': `sha256=${hex(secret, body)}` }), ['new-secret', 'old-secret']);
      expect(outcome.kind, secret).toBe('events');
    }
  });

  it('refuses an altered body, a wrong secret, a missing or malformed signature, and an unconfigured secret', () => {
    const signature = `sha256=${hex('s3cret', body)}`;
    const cases: [string, WebhookRequest, readonly string[], string][] = [
      ['altered body', post(body.replace('42', '43'), { 'x-signature': signature }), ['s3cret'], 'WEBHOOK_SIGNATURE_INVALID'],
      ['wrong secret', post(body, { 'x-signature': `sha256=${hex('not-it', body)}` }), ['s3cret'], 'WEBHOOK_SIGNATURE_INVALID'],
      ['missing header', post(body, {}), ['s3cret'], 'WEBHOOK_SIGNATURE_MISSING'],
      ['no prefix', post(body, { 'x-signature': hex('s3cret', body) }), ['s3cret'], 'WEBHOOK_SIGNATURE_INVALID'],
      ['not hex', post(body, { 'x-signature': 'sha256=zz' }), ['s3cret'], 'WEBHOOK_SIGNATURE_INVALID'],
      ['truncated', post(body, { 'x-signature': signature.slice(0, -2) }), ['s3cret'], 'WEBHOOK_SIGNATURE_INVALID'],
      ['no secret configured', post(body, { 'x-signature': signature }), [], 'WEBHOOK_SIGNATURE_INVALID'],
    ];
    for (const [name, request, secrets, code] of cases) expect(verifyWebhook(bodyHmac, request, secrets), name).toMatchObject({ kind: 'refused', code });
  });

  it('uses the sha256 of the signed content as the delivery id when the platform gives none', () => {
    const outcome = verifyWebhook(bodyHmac, post(body, { 'x-signature': `sha256=${hex('s3cret', body)}` }), ['s3cret']);
    const other = JSON.stringify({ event: 'order.refunded', account: { id: 42 }, n: 2 });
    const second = verifyWebhook(bodyHmac, post(other, { 'x-signature': `sha256=${hex('s3cret', other)}` }), ['s3cret']);
    if (outcome.kind !== 'events' || second.kind !== 'events') throw new Error('expected events');
    expect(outcome.events[0]!.deliveryId).toMatch(/^[0-9a-f]{64}$/);
    expect(second.events[0]!.deliveryId).not.toBe(outcome.events[0]!.deliveryId);
  });

  it('maps an event type no entry names to no resource, and refuses a delivery without a type or not JSON', () => {
    const unknown = JSON.stringify({ event: 'ping' });
    expect(verifyWebhook(bodyHmac, post(unknown, { 'x-signature': `sha256=${hex('k', unknown)}` }), ['k'])).toMatchObject({ kind: 'events', events: [{ type: 'ping', resources: [] }] });
    const untyped = JSON.stringify({ account: { id: 1 } });
    expect(verifyWebhook(bodyHmac, post(untyped, { 'x-signature': `sha256=${hex('k', untyped)}` }), ['k'])).toMatchObject({ kind: 'refused', code: 'WEBHOOK_MALFORMED' });
    expect(verifyWebhook(bodyHmac, post('not json', { 'x-signature': `sha256=${hex('k', 'not json')}` }), ['k'])).toMatchObject({ kind: 'refused', code: 'WEBHOOK_MALFORMED' });
  });

  it('checks the signature before reading the body', () => {
    expect(verifyWebhook(bodyHmac, post('not json', { 'x-signature': `sha256=${hex('other', 'not json')}` }), ['k'])).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
  });

  it('refuses a GET, and a platform that sends no webhooks', () => {
    expect(verifyWebhook(bodyHmac, { ...post(body, {}), method: 'GET' }, ['k'])).toMatchObject({ kind: 'refused', code: 'WEBHOOK_MALFORMED' });
    expect(verifyWebhook({ ...bodyHmac, webhooks: undefined }, post(body, {}), ['k'])).toMatchObject({ kind: 'refused', code: 'WEBHOOK_MALFORMED' });
  });
});

describe('verifyWebhook: a signed timestamp', () => {
  const timestamped = platform({
    signature: {
      scheme: 'hmac',
      algorithm: 'sha256',
      headers: ['X-Signature'],
      encoding: 'base64',
      signed: ['method', 'url', 'body', { text: '|' }, 'timestamp'],
      timestamp: { header: 'X-Timestamp', format: 'unix-milliseconds', toleranceSeconds: 300 },
      decodeUrl: ['%3A', '%2F'],
    },
    eventType: { path: 'event' },
    events: [],
    docsUrl: 'https://example.com/webhooks',
  });
  const now = new Date('2026-03-01T12:00:00Z');
  const url = 'https://listbackup.example/webhooks/example?next=a%2Fb%3Ac%20d';
  const sign = (timestamp: number, secret = 'k') =>
    createHmac('sha256', secret).update(`POST${'https://listbackup.example/webhooks/example?next=a/b:c%20d'}${body}|${timestamp}`).digest('base64');

  it('accepts a delivery signed over method, URL (the listed escapes decoded), body and timestamp within the tolerance', () => {
    for (const skew of [0, -299_000, 299_000]) {
      const timestamp = now.getTime() + skew;
      expect(verifyWebhook(timestamped, post(body, { 'x-signature': sign(timestamp), 'x-timestamp': String(timestamp) }, url), ['k'], now).kind, String(skew)).toBe('events');
    }
  });

  it('refuses a timestamp outside the tolerance, a changed timestamp, a missing or unreadable one', () => {
    const stale = now.getTime() - 301_000;
    expect(verifyWebhook(timestamped, post(body, { 'x-signature': sign(stale), 'x-timestamp': String(stale) }, url), ['k'], now)).toMatchObject({ code: 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE' });
    const early = now.getTime() + 301_000;
    expect(verifyWebhook(timestamped, post(body, { 'x-signature': sign(early), 'x-timestamp': String(early) }, url), ['k'], now)).toMatchObject({ code: 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE' });
    const signedAt = now.getTime();
    expect(verifyWebhook(timestamped, post(body, { 'x-signature': sign(signedAt), 'x-timestamp': String(signedAt + 1) }, url), ['k'], now)).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    expect(verifyWebhook(timestamped, post(body, { 'x-signature': sign(signedAt) }, url), ['k'], now)).toMatchObject({ code: 'WEBHOOK_SIGNATURE_MISSING' });
    expect(verifyWebhook(timestamped, post(body, { 'x-signature': sign(signedAt), 'x-timestamp': 'yesterday' }, url), ['k'], now)).toMatchObject({ code: 'WEBHOOK_MALFORMED' });
  });

  it('refuses a URL other than the one signed', () => {
    const timestamp = now.getTime();
    const other = url.replace('/example', '/other');
    expect(verifyWebhook(timestamped, post(body, { 'x-signature': sign(timestamp), 'x-timestamp': String(timestamp) }, other), ['k'], now)).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
  });
});

describe('verifyWebhook: Stripe-Signature and JWT schemes', () => {
  const stripeLike = platform({ signature: { scheme: 'stripe', header: 'Stripe-Signature', toleranceSeconds: 300 }, eventType: { path: 'event' }, events: [], docsUrl: 'https://example.com' });
  const jwtLike = platform({ signature: { scheme: 'jwt-hs256', header: 'Authorization' }, eventType: { path: 'event' }, events: [], docsUrl: 'https://example.com' });

  it('accepts a Stripe-Signature with one v1 per secret, any of which matches', () => {
    const t = Math.floor(Date.now() / 1000);
    const header = `t=${t},v1=${hex('whsec_new', `${t}.${body}`)},v1=${hex('whsec_old', `${t}.${body}`)}`;
    expect(verifyWebhook(stripeLike, post(body, { 'stripe-signature': header }), ['whsec_old']).kind).toBe('events');
    expect(verifyWebhook(stripeLike, post(body, { 'stripe-signature': header }), ['whsec_other'])).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    expect(verifyWebhook(stripeLike, post(body, { 'stripe-signature': `v1=${hex('whsec_old', body)}` }), ['whsec_old'])).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
  });

  it('refuses a Stripe-Signature older than the tolerance', () => {
    const now = new Date();
    const headers = signStripe(body, 'whsec_k', { timestamp: Math.floor(now.getTime() / 1000) - 301 });
    expect(verifyWebhook(stripeLike, post(body, headers), ['whsec_k'], now)).toMatchObject({ code: 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE' });
  });

  it('accepts a bearer JWT signed HS256 with the secret; refuses another secret, an expired token, alg none', async () => {
    const now = new Date();
    const good = await signJira('client-secret');
    expect(verifyWebhook(jwtLike, post(body, good), ['client-secret'], now).kind).toBe('events');
    expect(verifyWebhook(jwtLike, post(body, good), ['another'], now)).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    const expired = await signJira('client-secret', { issuedAt: Math.floor(now.getTime() / 1000) - 600, expiresInSeconds: 60 });
    expect(verifyWebhook(jwtLike, post(body, expired), ['client-secret'], now)).toMatchObject({ code: 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE' });
    const [, claims] = good.authorization!.slice('Bearer '.length).split('.');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${claims}.`;
    expect(verifyWebhook(jwtLike, post(body, { authorization: `Bearer ${none}` }), ['client-secret'], now)).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    expect(verifyWebhook(jwtLike, post(body, {}), ['client-secret'], now)).toMatchObject({ code: 'WEBHOOK_SIGNATURE_MISSING' });
  });
});

describe('verifyWebhook: batches and handshakes', () => {
  const batched = platform({
    signature: { scheme: 'hmac', algorithm: 'sha256', headers: ['X-Signature'], encoding: 'hex' },
    handshake: { style: 'query-challenge', param: 'challenge' },
    batch: 'changes',
    deliveryId: { path: 'id' },
    eventType: { path: 'kind' },
    accountId: { path: 'owner' },
    events: [{ type: 'file', resources: ['files'] }],
    docsUrl: 'https://example.com',
  });

  it('reads every event of a batch, each with its own id and account', () => {
    const content = JSON.stringify({ changes: [{ id: 'e1', kind: 'file', owner: 'a' }, { kind: 'file', owner: 'b' }] });
    const outcome = verifyWebhook(batched, post(content, { 'x-signature': hex('k', content) }), ['k']);
    if (outcome.kind !== 'events') throw new Error(`expected events, got ${JSON.stringify(outcome)}`);
    expect(outcome.events.map((event) => [event.accountId, event.resources])).toEqual([
      ['a', ['files']],
      ['b', ['files']],
    ]);
    expect(outcome.events[0]!.deliveryId).toBe('e1');
    expect(outcome.events[1]!.deliveryId).toMatch(/^[0-9a-f]{64}:1$/);
    const notBatch = JSON.stringify({ changes: {} });
    expect(verifyWebhook(batched, post(notBatch, { 'x-signature': hex('k', notBatch) }), ['k'])).toMatchObject({ code: 'WEBHOOK_MALFORMED' });
  });

  it('answers a challenge GET with the challenge as text/plain, and refuses one without a challenge or with a space in it', () => {
    const get = (query: string): WebhookRequest => ({ method: 'GET', url: `https://listbackup.example/webhooks/example${query}`, headers: {}, body: Buffer.alloc(0) });
    expect(verifyWebhook(batched, get('?challenge=abc123'), ['k'])).toEqual({ kind: 'handshake', status: 200, contentType: 'text/plain; charset=utf-8', body: 'abc123' });
    expect(verifyWebhook(batched, get(''), ['k'])).toMatchObject({ kind: 'refused', code: 'WEBHOOK_MALFORMED' });
    expect(verifyWebhook(batched, get('?challenge=%3Cscript%3E%20x'), ['k'])).toMatchObject({ kind: 'refused', code: 'WEBHOOK_MALFORMED' });
    expect(verifyWebhook(batched, { ...get(''), url: 'http://[::1' }, ['k'])).toMatchObject({ kind: 'refused', code: 'WEBHOOK_MALFORMED' });
  });
});
