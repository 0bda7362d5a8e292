import type http from 'node:http';
import { systemCaller, type ServiceClient } from '@listbackup/lib/internal-client';
import { passedHeaders } from './downloads.ts';

export const OAUTH_CALLBACK_PATH = '/oauth/callback';

/**
 * The browser lands here after approving a connection at a platform. Only this path of the
 * platforms subgraph is public: the query goes through unchanged, cookies and credentials do not,
 * and the subgraph's result page comes back as it is.
 */
export async function proxyOAuthCallback(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  platforms: ServiceClient,
  target: { requestId: string; clientIp?: string; userAgent?: string },
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const search = new URL(req.url ?? '/', 'http://gateway').search;
  // The callback redeems a one-time code: it is sent once, never retried.
  const upstream = await platforms.request({
    method: req.method,
    path: `${OAUTH_CALLBACK_PATH}${search}`,
    caller: { ...systemCaller(target.requestId), clientIp: target.clientIp, userAgent: target.userAgent },
    idempotent: false,
  });
  const body = Buffer.from(await upstream.body.arrayBuffer());
  res.writeHead(upstream.status, { ...passedHeaders(upstream.headers, ['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive']), 'content-length': String(body.length) });
  res.end(req.method === 'HEAD' ? undefined : body);
}
