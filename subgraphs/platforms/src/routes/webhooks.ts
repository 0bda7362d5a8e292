import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Orm } from '@listbackup/lib/db';
import { readBody, sendJson } from '@listbackup/lib/http';
import type { InternalRoute } from '@listbackup/lib/subgraph';
import type { InternalClaims } from '@listbackup/lib/internal-token';
import type { PlatformsRuntime } from '../runtime.ts';
import { receiveWebhook } from '../services/webhook-service.ts';

export const WEBHOOKS_PATH = '/internal/webhooks/platforms';
/** The largest delivery the gateway passes on (docs/webhooks.md). */
export const MAX_WEBHOOK_BYTES = 5 * 1024 * 1024;
/** The delivery in base64 and its headers, as the gateway sends them. */
const MAX_FORWARDED_BYTES = Math.ceil(MAX_WEBHOOK_BYTES / 3) * 4 + 256 * 1024;

const ForwardedWebhook = z.object({
  platform: z.string().min(1).max(64),
  connectionId: z.string().max(64).optional(),
  method: z.string().min(1).max(16),
  url: z.string().min(1).max(8192),
  headers: z.record(z.string(), z.string()),
  /** The raw body, base64. */
  body: z.base64(),
});

/**
 * A platform's webhook as the gateway received it at `/webhooks/platforms/<slug>[/<connection id>]`:
 * method, public URL, headers and raw body, unchanged. The caller holds an internal token (the
 * gateway); whether the delivery is the platform's is decided by its signature alone.
 */
export function webhooksRoute(runtime: PlatformsRuntime, orm: Orm): InternalRoute {
  return async (req: IncomingMessage, res: ServerResponse, claims: InternalClaims) => {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'POST only' }, { allow: 'POST' });
    let forwarded: z.infer<typeof ForwardedWebhook>;
    try {
      forwarded = ForwardedWebhook.parse(JSON.parse(await readBody(req, MAX_FORWARDED_BYTES)));
    } catch (error) {
      if ((error as { status?: number }).status === 413) throw error;
      return sendJson(res, 400, { code: 'WEBHOOK_MALFORMED', message: 'The forwarded delivery is not in the shape the gateway sends' });
    }
    const headers = Object.fromEntries(Object.entries(forwarded.headers).map(([name, value]) => [name.toLowerCase(), value]));
    const answer = await receiveWebhook(runtime, orm.em.fork(), {
      platform: forwarded.platform,
      connectionId: forwarded.connectionId,
      requestId: claims.requestId,
      request: { method: forwarded.method.toUpperCase(), url: forwarded.url, headers, body: Buffer.from(forwarded.body, 'base64') },
    });
    res.writeHead(answer.status, { 'content-type': answer.contentType, 'content-length': Buffer.byteLength(answer.body), 'cache-control': 'no-store' });
    res.end(answer.body);
  };
}
