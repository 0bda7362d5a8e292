import type http from 'node:http';
import { readBody } from '@listbackup/lib/http';
import { systemCaller, type ServiceClient } from '@listbackup/lib/internal-client';
import { passedHeaders } from './downloads.ts';

export const STRIPE_WEBHOOK_PATH = '/webhooks/stripe';
const BILLING_WEBHOOK_ROUTE = '/internal/stripe/webhook';
/** Stripe's events are a few kilobytes; its limit for a payload is far below this. */
const MAX_WEBHOOK_BYTES = 1024 * 1024;

/**
 * Stripe calls this (the endpoint registered at Stripe). It carries no ListBackup credentials: the
 * body goes to billing exactly as it came, with its `Stripe-Signature`, and billing verifies it.
 */
export async function proxyStripeWebhook(req: http.IncomingMessage, res: http.ServerResponse, billing: ServiceClient, requestId: string): Promise<void> {
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'POST' }).end();
    return;
  }
  const payload = await readBody(req, MAX_WEBHOOK_BYTES);
  const signature = req.headers['stripe-signature'];
  // Billing records each event id with its effect, so sending it again is safe.
  const upstream = await billing.request({
    method: 'POST',
    path: BILLING_WEBHOOK_ROUTE,
    caller: systemCaller(requestId),
    json: { payload, signature: Array.isArray(signature) ? signature[0] : (signature ?? '') },
    idempotent: true,
  });
  const body = Buffer.from(await upstream.body.arrayBuffer());
  res.writeHead(upstream.status, { ...passedHeaders(upstream.headers, ['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive']), 'content-length': String(body.length) });
  res.end(body);
}
