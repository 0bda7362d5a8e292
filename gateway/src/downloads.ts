import type http from 'node:http';
import type { Caller, ServiceClient } from '@listbackup/lib/internal-client';

/** The public GET routes (downloads, emailed links) and the subgraph route each is streamed from. */
export const DOWNLOAD_ROUTES: Record<string, { subgraph: string; path: string }> = {
  /** Snapshot exports. */
  '/downloads': { subgraph: 'jobs', path: '/internal/downloads' },
  /** Audit log exports (NDJSON or CSV). */
  '/downloads/audit-log': { subgraph: 'accounts', path: '/internal/audit-log/export' },
  /** Invoices (HTML or PDF). */
  '/downloads/invoice': { subgraph: 'billing', path: '/internal/invoices/download' },
  /** The link of an address verification email (a short page). */
  '/verify-email': { subgraph: 'accounts', path: '/internal/verify-email' },
};

/**
 * Downloads (`GET /downloads…?token=…`), streamed from the subgraph that owns them. The signed link
 * names the file; the caller's identity (the same `Authorization` header as for /graphql) goes
 * along, and the subgraph serves it only to whoever may read it in the link's account.
 */
export async function proxyDownload(req: http.IncomingMessage, res: http.ServerResponse, subgraph: ServiceClient, path: string, caller: Caller): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const search = new URL(req.url ?? '/', 'http://gateway').search;
  // An export can take long to stream; the timeout is for each pause in it, not the whole file.
  const upstream = await subgraph.request({ method: req.method, path: `${path}${search}`, caller, timeoutMs: 60_000 });
  res.writeHead(upstream.status, passedHeaders(upstream.headers, ['content-encoding', 'transfer-encoding', 'connection', 'keep-alive']));
  if (req.method === 'HEAD') {
    await upstream.body.dump();
    res.end();
    return;
  }
  for await (const piece of upstream.body) {
    if (!res.write(piece)) await new Promise<void>((resolve) => res.once('drain', resolve));
  }
  res.end();
}

/** The upstream's response headers without the hop-by-hop ones (and those named). */
export function passedHeaders(headers: http.IncomingHttpHeaders, dropped: string[]): Record<string, string | string[]> {
  const passed: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined && !dropped.includes(key)) passed[key] = value;
  }
  return passed;
}
