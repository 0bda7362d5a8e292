import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Orm } from '@listbackup/lib/db';
import { NotFoundError } from '@listbackup/lib/errors';
import { readJson, sendJson } from '@listbackup/lib/http';
import type { InternalRoute } from '@listbackup/lib/subgraph';
import type { InternalClaims } from '@listbackup/lib/internal-token';
import type { PlatformsRuntime } from '../runtime.ts';
import { NEEDS_AUTHORIZATION } from '../services/connection-state.ts';
import { AccessTokenError, getAccessToken, markCredentialRefused } from '../services/token-service.ts';

export const CREDENTIALS_PATH = '/internal/connections/credentials';
export const CREDENTIALS_REFUSED_PATH = '/internal/connections/credentials-refused';

const CredentialsRequest = z.object({
  accountId: z.uuid(),
  connectionId: z.uuid(),
  /** The platform refused the last credential (HTTP 401): refresh it even if it looks valid. */
  forceRefresh: z.boolean().optional(),
});

/**
 * Credentials of a connection for a jobs worker. Trusts the internal token (only our services hold
 * the secret) as the other internal routes do; the connection must belong to `accountId`, which the
 * worker takes from the job row, so one tenant's job can never read another tenant's connection.
 * Answers 404 for a connection that is not there (or not this account's) and 409 with a stable code
 * (`transient` says whether trying later may help, `reauthorize` whether only authorizing the
 * connection again will) when the connection cannot be used.
 */
export function credentialsRoute(runtime: PlatformsRuntime, orm: Orm): InternalRoute {
  return async (req: IncomingMessage, res: ServerResponse, claims: InternalClaims) => {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'POST only' }, { allow: 'POST' });
    const parsed = CredentialsRequest.safeParse(await readJson(req).catch(() => undefined));
    if (!parsed.success) return sendJson(res, 400, { error: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ') });
    const { accountId, connectionId, forceRefresh } = parsed.data;
    try {
      const token = await getAccessToken(runtime, orm, { accountId, connectionId }, { forceRefresh });
      sendJson(res, 200, {
        connectionId: token.connectionId,
        accountId: token.accountId,
        platform: token.platform,
        authType: token.authType,
        ...(token.authType === 'API_KEY' ? { apiKey: token.token } : { accessToken: token.token }),
        headers: token.headers,
        apiRoot: token.apiBaseUrl,
        expiresAt: token.expiresAt?.toISOString() ?? null,
        // An API the connection describes itself (REST): the connector is built from this.
        ...(token.params.definition ? { definition: JSON.parse(token.params.definition) } : {}),
      }, { 'cache-control': 'no-store' });
    } catch (error) {
      if (error instanceof NotFoundError) return sendJson(res, 404, { code: 'NOT_FOUND', message: 'Connection not found' });
      if (error instanceof AccessTokenError) return sendJson(res, 409, { code: error.code, message: error.message, transient: error.transient, reauthorize: NEEDS_AUTHORIZATION.has(error.code) });
      runtime.log.error({ err: error, requestId: claims.requestId, connectionId }, 'reading connection credentials failed');
      sendJson(res, 500, { code: 'INTERNAL', message: 'Reading the credentials failed' });
    }
  };
}

const RefusedRequest = z.object({
  accountId: z.uuid(),
  connectionId: z.uuid(),
  /** SHA-256 (hex) of the access token or API key the platform refused. */
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  /** What the platform answered, for the connection's `lastError`. */
  message: z.string().min(1).max(2000),
});

/**
 * A jobs worker reports that the platform refused a connection's credential after a refresh: the
 * connection is marked EXPIRED (see `markCredentialRefused`). The same tenant rule as the
 * credentials route; answers 200 `{ marked }`, 404 for a connection not there or not this account's.
 */
export function credentialsRefusedRoute(runtime: PlatformsRuntime, orm: Orm): InternalRoute {
  return async (req: IncomingMessage, res: ServerResponse, claims: InternalClaims) => {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'POST only' }, { allow: 'POST' });
    const parsed = RefusedRequest.safeParse(await readJson(req).catch(() => undefined));
    if (!parsed.success) return sendJson(res, 400, { error: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ') });
    const { accountId, connectionId, fingerprint, message } = parsed.data;
    try {
      sendJson(res, 200, { marked: await markCredentialRefused(runtime, orm, { accountId, connectionId }, { fingerprint, message }) });
    } catch (error) {
      if (error instanceof NotFoundError) return sendJson(res, 404, { code: 'NOT_FOUND', message: 'Connection not found' });
      runtime.log.error({ err: error, requestId: claims.requestId, connectionId }, 'marking refused credentials failed');
      sendJson(res, 500, { code: 'INTERNAL', message: 'Marking the connection failed' });
    }
  };
}
