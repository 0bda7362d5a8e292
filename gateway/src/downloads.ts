import type http from 'node:http';
import type { Principal } from '@listbackup/lib/principal';
import { INTERNAL_TOKEN_HEADER, signInternalToken } from '@listbackup/lib/internal-token';
import { CLIENT_IP_HEADER, USER_AGENT_HEADER } from '@listbackup/lib/subgraph';

/** The public download routes and the subgraph route each is streamed from. */
export const DOWNLOAD_ROUTES: Record<string, { subgraph: string; path: string }> = {
  /** Snapshot exports. */
  '/downloads': { subgraph: 'jobs', path: '/internal/downloads' },
  /** Audit log exports (NDJSON or CSV). */
  '/downloads/audit-log': { subgraph: 'accounts', path: '/internal/audit-log/export' },
};

/**
 * Downloads (`GET /downloads…?token=…`), streamed from the subgraph that owns them. The signed link
 * names the file; the caller's identity (the same `Authorization` header as for /graphql) goes
 * along, and the subgraph serves it only to whoever may read it in the link's account.
 */
export async function proxyDownload(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: { subgraph: string; url: string; path: string; internalTokenSecret: string; requestId: string; principal: Principal; clientIp?: string; userAgent?: string },
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const search = new URL(req.url ?? '/', 'http://gateway').search;
  const token = await signInternalToken(target.internalTokenSecret, target.subgraph, { principal: target.principal, requestId: target.requestId });
  const upstream = await fetch(`${new URL(target.url).origin}${target.path}${search}`, {
    method: req.method,
    headers: { [INTERNAL_TOKEN_HEADER]: token, 'x-request-id': target.requestId, ...(target.clientIp ? { [CLIENT_IP_HEADER]: target.clientIp } : {}), ...(target.userAgent ? { [USER_AGENT_HEADER]: target.userAgent } : {}) },
    redirect: 'manual',
  });
  const headers: Record<string, string> = {};
  upstream.headers.forEach((value, key) => {
    if (!['content-encoding', 'transfer-encoding', 'connection', 'keep-alive'].includes(key)) headers[key] = value;
  });
  res.writeHead(upstream.status, headers);
  if (!upstream.body || req.method === 'HEAD') {
    res.end();
    return;
  }
  for await (const piece of upstream.body as unknown as AsyncIterable<Uint8Array>) {
    if (!res.write(piece)) await new Promise<void>((resolve) => res.once('drain', resolve));
  }
  res.end();
}
