import type http from 'node:http';
import { ANONYMOUS } from '@listbackup/lib/principal';
import { INTERNAL_TOKEN_HEADER, signInternalToken } from '@listbackup/lib/internal-token';
import { CLIENT_IP_HEADER, USER_AGENT_HEADER } from '@listbackup/lib/subgraph';

export const OAUTH_CALLBACK_PATH = '/oauth/callback';

/**
 * The browser lands here after approving a connection at a platform. Only this path of the
 * platforms subgraph is public: the query goes through unchanged, cookies and credentials do not,
 * and the subgraph's result page comes back as it is.
 */
export async function proxyOAuthCallback(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: { platformsUrl: string; internalTokenSecret: string; requestId: string; clientIp?: string; userAgent?: string },
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const search = new URL(req.url ?? '/', 'http://gateway').search;
  const token = await signInternalToken(target.internalTokenSecret, 'platforms', { principal: ANONYMOUS, requestId: target.requestId });
  const upstream = await fetch(`${new URL(target.platformsUrl).origin}${OAUTH_CALLBACK_PATH}${search}`, {
    method: req.method,
    headers: { [INTERNAL_TOKEN_HEADER]: token, 'x-request-id': target.requestId, ...(target.clientIp ? { [CLIENT_IP_HEADER]: target.clientIp } : {}), ...(target.userAgent ? { [USER_AGENT_HEADER]: target.userAgent } : {}) },
    redirect: 'manual',
  });
  const headers: Record<string, string> = {};
  upstream.headers.forEach((value, key) => {
    if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive'].includes(key)) headers[key] = value;
  });
  const body = Buffer.from(await upstream.arrayBuffer());
  res.writeHead(upstream.status, { ...headers, 'content-length': String(body.length) });
  res.end(req.method === 'HEAD' ? undefined : body);
}
