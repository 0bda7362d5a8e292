import { recordEvent } from './account-events.ts';
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { ROLE_ACTIONS, authorize, isAction, type Action } from '@listbackup/lib/access';
import type { Orm } from '@listbackup/lib/db';
import { AppError, ForbiddenError, NotFoundError, UnauthenticatedError } from '@listbackup/lib/errors';
import { graphqlErrorBody, readJson, sendJson } from '@listbackup/lib/http';
import type { Principal } from '@listbackup/lib/principal';
import type { InternalRoute } from '@listbackup/lib/subgraph';
import type { AccountsContext } from '../context.ts';
import { ApiKey } from '../entities/api-key.ts';
import { validName } from './account-service.ts';
import { lockAccountPlan } from '@listbackup/lib/events/account-plans';
import { assertRoomFor } from '@listbackup/lib/plan-limits';

export const API_KEY_PREFIX = 'lbk_';
/** Characters of the secret kept in clear (`lbk_` plus 8), to tell keys apart in lists. */
const SHOWN_PREFIX_LENGTH = API_KEY_PREFIX.length + 8;
/** `lastUsedAt` is a hint, not an audit trail: written at most this often per key. */
export const LAST_USED_RESOLUTION_MS = 60_000;
export const API_KEY_VERIFY_PATH = '/internal/api-keys/verify';

/** An API key acts as an admin at most, so scopes beyond admin's actions would never work. */
const API_KEY_ACTIONS = ROLE_ACTIONS.admin;

export function hashApiKeySecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export interface CreatedApiKey {
  apiKey: ApiKey;
  /** Shown once; only its hash is stored. */
  secret: string;
}

export interface NewApiKey {
  accountId: string;
  name: string;
  scopes: readonly string[];
}

/**
 * Creates a key for an account (`apikeys:manage`). Every scope must be a known action that the
 * caller's own role allows (and, for a caller that is itself an API key, one it holds), so a key
 * never carries more than its creator.
 */
export async function createApiKey(ctx: AccountsContext, input: NewApiKey): Promise<CreatedApiKey> {
  const role = await authorize(ctx, 'apikeys:manage', input.accountId);
  const name = validName(input.name, 'name');
  const scopes = [...new Set(input.scopes.map((scope) => scope.trim()))];
  if (scopes.length === 0) throw new AppError('INVALID_SCOPE', 'An API key needs at least one scope', { field: 'scopes' });
  for (const scope of scopes) {
    if (!isAction(scope)) throw new AppError('INVALID_SCOPE', `Unknown scope "${scope}"`, { field: 'scopes', scope });
    if (!API_KEY_ACTIONS.has(scope)) throw new AppError('INVALID_SCOPE', `API keys cannot hold the ${scope} scope`, { field: 'scopes', scope });
    if (!ROLE_ACTIONS[role].has(scope)) throw new ForbiddenError(`Your role (${role}) does not allow granting ${scope}`);
    const principal = ctx.principal;
    if (principal.kind === 'apiKey' && !principal.scopes.includes(scope)) {
      throw new ForbiddenError(`This API key cannot grant the ${scope} scope it does not hold`);
    }
  }

  const secret = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  const apiKey = await ctx.em.transactional(async (tx) => {
    const plan = await lockAccountPlan(tx, 'accounts', input.accountId);
    assertRoomFor(plan, 'apiKeys', await tx.count(ApiKey, { accountId: input.accountId, revokedAt: null }));
    const created = tx.create(ApiKey, {
      accountId: input.accountId,
      name,
      prefix: secret.slice(0, SHOWN_PREFIX_LENGTH),
      secretHash: hashApiKeySecret(secret),
      scopes: scopes as Action[],
      createdBy: ctx.principal.kind === 'user' ? ctx.principal.userId : null,
    });
    recordEvent(tx, ctx, 'apikey.created', created.accountId, created.id, { apiKeyId: created.id, name, prefix: created.prefix, scopes });
    return created;
  });
  ctx.loaders.apiKeysOfAccount.clear(input.accountId);
  return { apiKey, secret };
}

/** Every key of an account, revoked ones included (newest first). */
export async function listApiKeys(ctx: AccountsContext, accountId: string): Promise<ApiKey[]> {
  await authorize(ctx, 'apikeys:read', accountId);
  return ctx.loaders.apiKeysOfAccount.load(accountId);
}

/** Revokes a key at once: the gateway stops accepting it and it loses its role. Idempotent. */
export async function revokeApiKey(ctx: AccountsContext, id: string): Promise<ApiKey> {
  if (ctx.principal.kind === 'anonymous') throw new UnauthenticatedError();
  const apiKey = await ctx.loaders.apiKey.load(id);
  if (!apiKey) throw new NotFoundError('API key');
  await authorize(ctx, 'apikeys:manage', apiKey.accountId, 'API key');
  if (!apiKey.revokedAt) {
    apiKey.revokedAt = new Date();
    recordEvent(ctx.em, ctx, 'apikey.revoked', apiKey.accountId, apiKey.id, { apiKeyId: apiKey.id, name: apiKey.name });
    await ctx.em.flush();
  }
  ctx.access.clear();
  return apiKey;
}

export type ApiKeyPrincipal = Extract<Principal, { kind: 'apiKey' }>;

/**
 * The principal a secret stands for, or null when the secret is unknown or revoked. Records
 * `lastUsedAt`, at most once per `LAST_USED_RESOLUTION_MS`, in the same statement that finds the key.
 */
export async function verifyApiKeySecret(orm: Orm, secret: string): Promise<ApiKeyPrincipal | null> {
  if (!secret.startsWith(API_KEY_PREFIX) || secret.length > 200) return null;
  const em = orm.em.fork();
  const apiKey = await em.findOne(ApiKey, { secretHash: hashApiKeySecret(secret), revokedAt: null });
  if (!apiKey) return null;
  const now = new Date();
  await em.nativeUpdate(
    ApiKey,
    { id: apiKey.id, $or: [{ lastUsedAt: null }, { lastUsedAt: { $lt: new Date(now.getTime() - LAST_USED_RESOLUTION_MS) } }] },
    { lastUsedAt: now },
  );
  return { kind: 'apiKey', apiKeyId: apiKey.id, accountId: apiKey.accountId, scopes: [...apiKey.scopes] };
}

const VerifyRequest = z.object({ secret: z.string().max(200) });

/** `POST /internal/api-keys/verify {secret}` → `{principal}`, or 401 for an unknown or revoked key. */
export function apiKeyVerifyRoute(orm: Orm): InternalRoute {
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST') return sendJson(res, 405, graphqlErrorBody('BAD_REQUEST', 'Use POST'), { allow: 'POST' });
    const parsed = VerifyRequest.safeParse(await readJson(req));
    if (!parsed.success) return sendJson(res, 400, graphqlErrorBody('BAD_REQUEST', 'Expected {"secret": "lbk_..."}'));
    const principal = await verifyApiKeySecret(orm, parsed.data.secret);
    if (!principal) return sendJson(res, 401, graphqlErrorBody('UNAUTHENTICATED', 'Invalid or revoked API key'));
    return sendJson(res, 200, { principal });
  };
}
