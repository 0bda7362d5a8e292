import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { graphiqlAsset, graphiqlPage } from './graphiql.ts';
import { landingPage } from './landing.ts';
import { playgroundAsset, playgroundPage } from './playground.ts';

export { EXAMPLE_OPERATION, GRAPHQL_PATH } from './shared.ts';

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};

/** The IDE pages and their assets: `/`, `/playground`, `/graphiql`. False when the path is not theirs. */
export async function serveIde(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const { pathname } = url;
  if (pathname === '/') return sendHtml(res, landingPage());
  if (pathname === '/playground' || pathname === '/playground/') return sendHtml(res, playgroundPage(req));
  if (pathname === '/graphiql' || pathname === '/graphiql/') return sendHtml(res, graphiqlPage());
  if (pathname.startsWith('/playground/assets/')) return sendFile(res, playgroundAsset(pathname.slice('/playground/assets/'.length)));
  if (pathname.startsWith('/graphiql/assets/')) return sendFile(res, await graphiqlAsset(pathname.slice('/graphiql/assets/'.length)));
  return false;
}

function sendHtml(res: http.ServerResponse, html: string): true {
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-cache',
    // Everything comes from this origin; the pages talk to this gateway only.
    'content-security-policy':
      "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws: wss:; worker-src 'self' blob:",
    'x-content-type-options': 'nosniff',
  });
  res.end(html);
  return true;
}

async function sendFile(res: http.ServerResponse, file: string | undefined): Promise<boolean> {
  if (!file) return false;
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) return false;
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
    'content-length': info.size,
    'cache-control': 'public, max-age=3600',
    'x-content-type-options': 'nosniff',
  });
  await new Promise<void>((resolve, reject) => {
    createReadStream(file).on('error', reject).pipe(res).on('finish', resolve).on('error', reject);
  });
  return true;
}
