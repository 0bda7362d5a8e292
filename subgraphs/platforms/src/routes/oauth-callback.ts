import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Orm } from '@listbackup/lib/db';
import type { InternalRoute } from '@listbackup/lib/subgraph';
import type { InternalClaims } from '@listbackup/lib/internal-token';
import type { PlatformsRuntime } from '../runtime.ts';
import { completeOAuthCallback, type CallbackOutcome } from '../services/oauth-service.ts';

export const OAUTH_CALLBACK_PATH = '/oauth/callback';

/**
 * The page a browser lands on after approving (or declining) access at a platform. The gateway
 * proxies its public `GET /oauth/callback` here with an internal token. Whatever happens, the
 * answer is a small HTML page with a stable code, never a stack trace; the authorization code and
 * tokens appear in no log line.
 */
export function oauthCallbackRoute(runtime: PlatformsRuntime, orm: Orm): InternalRoute {
  return async (req: IncomingMessage, res: ServerResponse, claims: InternalClaims) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendPage(res, { ok: false, code: 'CALLBACK_MISSING_PARAMS', message: 'Open this page from the platform’s redirect.', httpStatus: 405 }, runtime.appUrl, { allow: 'GET' });
    }
    const log = runtime.log.child({ requestId: claims.requestId, route: OAUTH_CALLBACK_PATH });
    const url = new URL(req.url ?? '/', 'http://platforms');
    const query: Record<string, string> = {};
    for (const key of url.searchParams.keys()) if (!(key in query)) query[key] = url.searchParams.get(key)!;
    let outcome: CallbackOutcome;
    try {
      outcome = await completeOAuthCallback(runtime, orm.em.fork(), query, claims.principal);
    } catch (error) {
      log.error({ err: error }, 'OAuth callback failed unexpectedly');
      outcome = { ok: false, code: 'INTERNAL_ERROR', message: 'Something went wrong on our side. Start again from ListBackup in a moment.', httpStatus: 500 };
    }
    log.info(
      { connectionId: outcome.connection?.id, accountId: outcome.connection?.accountId, outcome: outcome.ok ? 'AUTHORIZED' : outcome.code },
      'OAuth callback handled',
    );
    sendPage(res, outcome, runtime.appUrl);
  };
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function sendPage(res: ServerResponse, outcome: CallbackOutcome, appUrl: string | undefined, headers: Record<string, string> = {}): void {
  const title = outcome.ok ? `${outcome.platformName} is connected` : `${outcome.platformName ?? 'The platform'} could not be connected`;
  const detail = outcome.ok
    ? `ListBackup can now back up “${outcome.connection.name}”. You can close this window.`
    : outcome.message;
  const back = appUrl ? `<p><a href="${escapeHtml(appUrl)}">Back to ListBackup</a></p>` : '';
  const code = outcome.ok ? 'AUTHORIZED' : outcome.code;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)} · ListBackup</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2328}h1{font-size:1.4rem}.code{color:#59636e;font:13px ui-monospace,monospace}</style>
</head><body data-outcome="${escapeHtml(code)}">
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(detail)}</p>
${back}
<p class="code">${outcome.ok ? 'Status' : 'Error'}: ${escapeHtml(code)}${outcome.connection ? ` · connection ${escapeHtml(outcome.connection.id)}` : ''}</p>
</body></html>
`;
  res.writeHead(outcome.ok ? 200 : outcome.httpStatus, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
    // The URL holds the authorization code: no Referer to the "Back" link, no framing, no scripts.
    'referrer-policy': 'no-referrer',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'x-listbackup-outcome': code,
    ...headers,
  });
  res.end(html);
}
