import type http from 'node:http';
import { readBodyBytes, sendJson } from '@listbackup/lib/http';
import { InternalCallError, systemCaller, type ServiceClient } from '@listbackup/lib/internal-client';
import { passedHeaders } from './downloads.ts';

export const PLATFORM_WEBHOOK_PREFIX = '/webhooks/platforms/';
const PLATFORMS_WEBHOOK_ROUTE = '/internal/webhooks/platforms';
/** GitHub caps its payloads at 25 MB, but change notifications are far smaller; docs/webhooks.md. */
export const MAX_PLATFORM_WEBHOOK_BYTES = 5 * 1024 * 1024;

const ROUTE = /^\/webhooks\/platforms\/([a-z0-9][a-z0-9-]{0,63})(?:\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}))?\/?$/i;
/** Hop-by-hop and browser-only headers: never part of what a platform signs. */
const DROPPED_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'upgrade', 'proxy-authorization', 'cookie']);

/** The platform and connection a webhook path names, or null when it names none. */
export function platformWebhookRoute(pathname: string): { platform: string; connectionId?: string } | null {
  const match = ROUTE.exec(pathname);
  if (!match) return null;
  return { platform: match[1]!.toLowerCase(), ...(match[2] ? { connectionId: match[2].toLowerCase() } : {}) };
}

/**
 * A platform calls this (the endpoint registered at the platform, or the connection's own for
 * platforms that register one per connection). It carries no ListBackup credentials: method, public
 * URL, headers and the raw body go to platforms unchanged, which verifies the signature, and its
 * answer (a handshake's too) comes back as it is.
 */
export async function proxyPlatformWebhook(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  platforms: ServiceClient,
  route: { platform: string; connectionId?: string },
  target: { requestId: string; publicUrl: string; clientIp?: string },
): Promise<void> {
  // GET for the handshakes that come as one (Dropbox's challenge).
  if (req.method !== 'POST' && req.method !== 'GET') {
    res.writeHead(405, { allow: 'GET, POST' }).end();
    return;
  }
  const body = req.method === 'POST' ? await readBodyBytes(req, MAX_PLATFORM_WEBHOOK_BYTES) : Buffer.alloc(0);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !DROPPED_HEADERS.has(name)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  let upstream: Awaited<ReturnType<ServiceClient['request']>>;
  try {
    // Platforms records each delivery id, so sending it again is safe.
    upstream = await platforms.request({
      method: 'POST',
      path: PLATFORMS_WEBHOOK_ROUTE,
      caller: { ...systemCaller(target.requestId), clientIp: target.clientIp },
      json: { ...route, method: req.method, url: target.publicUrl, headers, body: body.toString('base64') },
      idempotent: true,
    });
  } catch (error) {
    if (!(error instanceof InternalCallError)) throw error;
    // The platform sends it again later.
    sendJson(res, 503, { code: 'WEBHOOK_UNAVAILABLE', message: 'Webhooks cannot be received right now; send it again later' }, { 'retry-after': '30' });
    return;
  }
  const answer = Buffer.from(await upstream.body.arrayBuffer());
  res.writeHead(upstream.status, { ...passedHeaders(upstream.headers, ['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive']), 'content-length': String(answer.length) });
  res.end(answer);
}
