/**
 * Webhook deliveries signed the way each platform's documentation says it signs them, written
 * from the documentation and not from the catalogue's definitions, so that a test of the verifier
 * checks it against the platform and not against itself. Each returns the headers to send with the
 * body (lower-case names). Tests only.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import Stripe from 'stripe';

export type SignedHeaders = Record<string, string>;

const json = { 'content-type': 'application/json' };

function hmac(algorithm: 'sha256' | 'sha1', secret: string, ...parts: (string | Buffer)[]): Buffer {
  const mac = createHmac(algorithm, secret);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, with the event name and a delivery GUID. */
export function signGitHub(body: string, secret: string, options: { event: string; delivery?: string }): SignedHeaders {
  return {
    ...json,
    'x-github-event': options.event,
    'x-github-delivery': options.delivery ?? randomUUID(),
    'x-hub-signature-256': `sha256=${hmac('sha256', secret, body).toString('hex')}`,
  };
}

/** Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, made by Stripe's own library. */
export function signStripe(body: string, secret: string, options: { timestamp?: number } = {}): SignedHeaders {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return { ...json, 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp }) };
}

/** Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the body>`, with the topic, the shop's domain and the webhook id. */
export function signShopify(body: string, secret: string, options: { topic: string; shop: string; webhookId?: string }): SignedHeaders {
  return {
    ...json,
    'x-shopify-topic': options.topic,
    'x-shopify-shop-domain': options.shop,
    'x-shopify-webhook-id': options.webhookId ?? randomUUID(),
    'x-shopify-hmac-sha256': hmac('sha256', secret, body).toString('base64'),
  };
}

/** Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:<timestamp>:<body>">` with `X-Slack-Request-Timestamp` (unix seconds). */
export function signSlack(body: string, secret: string, options: { timestamp?: number } = {}): SignedHeaders {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  return { ...json, 'x-slack-request-timestamp': timestamp, 'x-slack-signature': `v0=${hmac('sha256', secret, `v0:${timestamp}:`, body).toString('hex')}` };
}

/**
 * HubSpot v3: `X-HubSpot-Signature-v3: <base64 HMAC-SHA256 of method + URI + body + timestamp>` with
 * `X-HubSpot-Request-Timestamp` (unix milliseconds); the URI with `%3A %2F %3F %40 %21 %24 %27 %28
 * %29 %2A %2C %3B` decoded.
 */
export function signHubSpot(body: string, secret: string, options: { method?: string; url: string; timestamp?: number }): SignedHeaders {
  const timestamp = String(options.timestamp ?? Date.now());
  const decoded: Record<string, string> = { '%3A': ':', '%2F': '/', '%3F': '?', '%40': '@', '%21': '!', '%24': '$', '%27': "'", '%28': '(', '%29': ')', '%2A': '*', '%2C': ',', '%3B': ';' };
  const uri = options.url.replace(/%[0-9A-Fa-f]{2}/g, (sequence) => decoded[sequence.toUpperCase()] ?? sequence);
  const signature = hmac('sha256', secret, `${options.method ?? 'POST'}${uri}${body}${timestamp}`).toString('base64');
  return { ...json, 'x-hubspot-request-timestamp': timestamp, 'x-hubspot-signature-v3': signature };
}

/**
 * Jira (webhooks an OAuth 2.0 app registers): `Authorization: Bearer <JWT>` signed HS256 with the
 * app's client secret, made by a JWT library; `X-Atlassian-Webhook-Identifier` names the delivery.
 */
export async function signJira(secret: string, options: { expiresInSeconds?: number; identifier?: string; issuedAt?: number } = {}): Promise<SignedHeaders> {
  const issuedAt = options.issuedAt ?? Math.floor(Date.now() / 1000);
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + (options.expiresInSeconds ?? 180))
    .sign(new TextEncoder().encode(secret));
  return { ...json, authorization: `Bearer ${token}`, 'x-atlassian-webhook-identifier': options.identifier ?? randomUUID() };
}

/** Dropbox: `X-Dropbox-Signature: <hex HMAC-SHA256 of the body>`, keyed with the app secret. */
export function signDropbox(body: string, appSecret: string): SignedHeaders {
  return { ...json, 'x-dropbox-signature': hmac('sha256', appSecret, body).toString('hex') };
}

/**
 * Box: `BOX-SIGNATURE-PRIMARY` and `BOX-SIGNATURE-SECONDARY`, each the base64 HMAC-SHA256 of the
 * body's bytes then the `BOX-DELIVERY-TIMESTAMP` (RFC 3339) bytes, keyed with the app's primary and
 * secondary signature keys; a key left out leaves its header out.
 */
export function signBox(body: string, keys: { primary?: string; secondary?: string }, options: { timestamp?: string; deliveryId?: string } = {}): SignedHeaders {
  const timestamp = options.timestamp ?? new Date().toISOString().replace(/\.\d{3}Z$/, '+00:00');
  return {
    ...json,
    'box-delivery-id': options.deliveryId ?? randomUUID(),
    'box-delivery-timestamp': timestamp,
    ...(keys.primary ? { 'box-signature-primary': hmac('sha256', keys.primary, body, timestamp).toString('base64') } : {}),
    ...(keys.secondary ? { 'box-signature-secondary': hmac('sha256', keys.secondary, body, timestamp).toString('base64') } : {}),
    'box-signature-version': '1',
    'box-signature-algorithm': 'HmacSHA256',
  };
}

/** Intercom: `X-Hub-Signature: sha1=<hex HMAC-SHA1 of the body>`, keyed with the app's client secret. */
export function signIntercom(body: string, clientSecret: string): SignedHeaders {
  return { ...json, 'x-hub-signature': `sha1=${hmac('sha1', clientSecret, body).toString('hex')}` };
}

/** Zendesk: `X-Zendesk-Webhook-Signature: <base64 HMAC-SHA256 of timestamp + body>` with `X-Zendesk-Webhook-Signature-Timestamp`. */
export function signZendesk(body: string, secret: string, options: { timestamp?: string } = {}): SignedHeaders {
  const timestamp = options.timestamp ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { ...json, 'x-zendesk-webhook-signature-timestamp': timestamp, 'x-zendesk-webhook-signature': hmac('sha256', secret, timestamp, body).toString('base64') };
}
