import { actorOf } from '@listbackup/lib/events/contract';
import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import { AccessChecker, authorize, can } from '@listbackup/lib/access';
import type { Em } from '@listbackup/lib/db';
import { NotFoundError, UnauthenticatedError, ValidationError } from '@listbackup/lib/errors';
import { enqueueEvent } from '@listbackup/lib/events/outbox';
import type { Principal } from '@listbackup/lib/principal';
import { isUuid } from '@listbackup/lib/ids';
import type { PlatformsContext } from '../context.ts';
import { Connection } from '../entities/connection.ts';
import { ConnectionSecret } from '../entities/connection-secret.ts';
import { Platform } from '../entities/platform.ts';
import { validCallbackSignature } from '../oauth/callback-signature.ts';
import { describeFailure, fillTemplate, requestTokens } from '../oauth/http.ts';
import { STATE_LIFETIME_MS, hashNonce, newNonce, newPkceVerifier, pkceChallenge, signState, verifyState } from '../oauth/state.ts';
import { findDefinition, type PlatformDefinition } from '@listbackup/catalogue';
import { effectiveOAuth, type PlatformsRuntime } from '../runtime.ts';
import { CODES, ConnectionError, clearError, connectionEvent, recordError, type Code } from './connection-state.ts';
import { assertRoomForConnection, identify, validName, validParams } from './connection-service.ts';
import { platformForNewConnection } from './platform-service.ts';
import { splitScopes } from './token-service.ts';

export interface StartOAuthInput {
  accountId: string;
  platformId?: string | null;
  platformSlug?: string | null;
  name?: string | null;
  params?: readonly { name: string; value: string }[] | null;
  connectionId?: string | null;
}

export interface OAuthStart {
  connection: Connection;
  authorizationUrl: string;
  expiresAt: Date;
}

/**
 * Starts the authorization code flow: a PENDING connection (or an existing one being authorized
 * again), a PKCE verifier sealed in the vault, and the platform's authorization URL carrying a
 * signed `state` that expires in 10 minutes and works once.
 */
export async function startOAuthConnection(ctx: PlatformsContext, input: StartOAuthInput): Promise<OAuthStart> {
  const runtime = ctx.platforms;
  await authorize(ctx, 'connections:manage', input.accountId);

  let existing: Connection | undefined;
  let platform: Platform;
  let definition: PlatformDefinition | undefined;
  if (input.connectionId) {
    existing = await ctx.loaders.connection.load(input.connectionId);
    if (!existing || existing.accountId !== input.accountId) throw new NotFoundError('Connection');
    if (existing.status === 'REVOKED') throw new ConnectionError(CODES.CONNECTION_REVOKED, 'A revoked connection cannot be authorized again: create a new one.');
    if (existing.authType === 'API_KEY') throw new ConnectionError(CODES.WRONG_AUTH_TYPE, 'This connection uses an API key, not OAuth.');
    if (input.params?.length) throw new ValidationError('An existing connection keeps its parameters', 'params');
    platform = await ctx.em.findOneOrFail(Platform, { id: existing.platformId });
    if ((input.platformId && input.platformId !== platform.id) || (input.platformSlug && input.platformSlug !== platform.slug)) {
      throw new ValidationError('The connection belongs to another platform', 'platformId');
    }
    definition = findDefinition(platform.slug);
    if (!definition) throw new ConnectionError(CODES.UNKNOWN_PLATFORM, `${platform.name} is no longer supported.`);
  } else {
    ({ platform, definition } = await platformForNewConnection(ctx, input));
  }

  const spec = effectiveOAuth(runtime, definition);
  if (!spec) {
    throw new ConnectionError(CODES.WRONG_AUTH_TYPE, `${definition.name} does not offer OAuth: connect it with an API key (createApiKeyConnection).`, { field: 'platformId' });
  }
  const client = runtime.clients[definition.slug];
  if (!client) {
    throw new ConnectionError(
      CODES.PLATFORM_NOT_CONFIGURED,
      `OAuth for ${definition.name} is not configured on this ListBackup: an operator must register an app with ${definition.name} and set its client id and secret.`,
    );
  }
  const params = existing ? { ...existing.params } : validParams(definition, definition.connectParams ?? [], input.params);
  const name = validName(input.name, existing?.name ?? (params.shop || params.subdomain ? `${definition.name} (${params.shop ?? params.subdomain})` : definition.name));

  const now = runtime.now();
  const expiresAt = now + STATE_LIFETIME_MS;
  const nonce = newNonce();
  const verifier = spec.pkce ? newPkceVerifier() : undefined;

  const connection = await ctx.em.fork().transactional(async (tx) => {
    let row: Connection;
    let secret: ConnectionSecret | null = null;
    if (existing) {
      row = await tx.findOneOrFail(Connection, { id: existing.id, accountId: existing.accountId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (row.status === 'REVOKED') throw new ConnectionError(CODES.CONNECTION_REVOKED, 'A revoked connection cannot be authorized again: create a new one.');
      // Working credentials keep working until the new authorization completes.
      if (row.status !== 'AUTHORIZED') row.status = 'PENDING';
      row.name = name;
      secret = await tx.findOne(ConnectionSecret, { connectionId: row.id, accountId: row.accountId });
    } else {
      await assertRoomForConnection(tx, input.accountId, new Date(now));
      row = tx.create(Connection, {
        id: randomUUID(),
        accountId: input.accountId,
        platformId: platform.id,
        name,
        status: 'PENDING',
        authType: 'OAUTH2',
        params,
        scopes: [],
        createdAt: new Date(now),
      });
      enqueueEvent(tx, connectionEvent('connection.created', row, definition.slug, {}, actorOf(ctx)));
    }
    row.pendingStateHash = hashNonce(nonce);
    row.pendingStateExpiresAt = new Date(expiresAt);
    row.updatedAt = new Date(now);
    if (!secret) secret = runtime.vault.create(tx, row.accountId, row.id);
    if (verifier) runtime.vault.seal(secret, 'pkce', verifier);
    else secret.pkceVerifier = null;
    return row;
  });

  const url = new URL(fillTemplate(spec.authorizeUrl, params));
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', client.clientId);
  url.searchParams.set('redirect_uri', runtime.redirectUrl);
  if (spec.scopes.length) url.searchParams.set('scope', spec.scopes.join(spec.scopeSeparator));
  url.searchParams.set('state', signState(runtime.stateKey, { connectionId: connection.id, accountId: connection.accountId, nonce, expiresAt }));
  if (verifier) {
    url.searchParams.set('code_challenge', pkceChallenge(verifier));
    url.searchParams.set('code_challenge_method', 'S256');
  }
  for (const [key, value] of Object.entries(spec.authorizeParams ?? {})) url.searchParams.set(key, value);
  return { connection, authorizationUrl: url.toString(), expiresAt: new Date(expiresAt) };
}

export type CallbackOutcome =
  | { ok: true; connection: Connection; platformName: string }
  | { ok: false; code: Code | 'INTERNAL_ERROR'; message: string; httpStatus: number; connection?: Connection; platformName?: string };

/**
 * Completes a flow from the query of the platform's redirect. The checks, in order:
 *
 * 1. `state` present, signed by us, naming an existing connection of the account it names — else
 *    nothing changes (we cannot tell whose flow it was).
 * 2. The platform's signature of the redirect valid, where it signs one (Shopify's `hmac`); its
 *    `iss` the platform's issuer (RFC 9207), where it is known, and present where it always comes; `code`
 *    (or `error`) and the platform's required callback parameters present and well-formed — else
 *    nothing changes, and the same state may still complete the flow.
 * 3. The state is consumed (single use); a second use changes nothing and says so.
 * 4. Expired state, a caller without access to the account, `error=…` from the platform, a
 *    callback parameter that contradicts the flow, or a code the token endpoint refuses: the
 *    connection becomes FAILED (an already AUTHORIZED one keeps working) with the reason.
 * 5. Otherwise the tokens are sealed in the vault and the connection is AUTHORIZED.
 *
 * `principal` is who sent the callback: anonymous through the public route (a browser redirect
 * carries no credentials), or a signed-in user when a web app forwards it, who must then be
 * allowed to manage the account's connections.
 */
export async function completeOAuthCallback(
  runtime: PlatformsRuntime,
  em: Em,
  query: Readonly<Record<string, string | undefined>>,
  principal: Principal,
  access = new AccessChecker(principal, runtime.access),
): Promise<CallbackOutcome> {
  const refuse = (code: Code, message: string, httpStatus = 400): CallbackOutcome => ({ ok: false, code, message, httpStatus });
  if (!query.state) {
    return refuse(CODES.CALLBACK_MISSING_PARAMS, 'The platform sent you back without the state parameter, so this connection cannot be completed. Start again from ListBackup.');
  }
  const state = verifyState(runtime.stateKeys, query.state);
  if (!state || !isUuid(state.connectionId) || !isUuid(state.accountId)) {
    return refuse(CODES.OAUTH_STATE_INVALID, 'This authorization link is not one ListBackup issued. Start again from ListBackup.');
  }
  const found = await em.findOne(Connection, { id: state.connectionId, accountId: state.accountId });
  const platform = found && (await em.findOne(Platform, { id: found.platformId }));
  const definition = platform ? findDefinition(platform.slug) : undefined;
  const spec = definition && effectiveOAuth(runtime, definition);
  if (!found || !platform || !definition || !spec) {
    return refuse(CODES.OAUTH_STATE_INVALID, 'This authorization link does not match a connection in progress. Start again from ListBackup.');
  }
  const platformName = definition.name;
  const withPlatform = (outcome: CallbackOutcome): CallbackOutcome => ({ ...outcome, platformName });

  // A redirect the platform did not sign, or missing pieces, are the redirect's fault, not the user's flow: change nothing.
  if (spec.callbackSignature) {
    const client = runtime.clients[definition.slug];
    if (!client || !validCallbackSignature(spec.callbackSignature, query, client)) {
      return withPlatform(refuse(CODES.CALLBACK_SIGNATURE_INVALID, `This redirect does not carry ${platformName}’s valid signature, so it was not accepted. Start again from ListBackup.`));
    }
  }
  if (spec.issuer && (query.iss !== undefined || spec.issuer.inAuthorizationResponse) && query.iss !== spec.issuer.identifier) {
    const why = query.iss === undefined ? `does not name the authorization server that sent it (“iss”), which ${platformName}’s always does` : `names another authorization server (“iss”) than ${platformName}’s`;
    return withPlatform(refuse(CODES.CALLBACK_ISSUER_MISMATCH, `This redirect ${why}, so it was not accepted. Start again from ListBackup.`));
  }
  const callbackParams: Record<string, string> = {};
  if (!query.error) {
    if (!query.code) return withPlatform(refuse(CODES.CALLBACK_MISSING_PARAMS, `${platformName} sent you back without an authorization code. Start again from ListBackup.`));
    for (const param of spec.callbackParams) {
      const value = query[param.name];
      if (!value) {
        if (param.required) return withPlatform(refuse(CODES.CALLBACK_MISSING_PARAMS, `${platformName} sent you back without "${param.name}" (${param.label}). Start again from ListBackup.`));
        continue;
      }
      if (!new RegExp(param.pattern).test(value)) return withPlatform(refuse(CODES.CALLBACK_PARAM_MISMATCH, `${platformName} sent an invalid "${param.name}". Start again from ListBackup.`));
      callbackParams[param.name] = value;
    }
  }

  const consumed = await em.fork().nativeUpdate(
    Connection,
    { id: state.connectionId, accountId: state.accountId, pendingStateHash: hashNonce(state.nonce) },
    { pendingStateHash: null, pendingStateExpiresAt: null },
  );
  if (consumed === 0) {
    return withPlatform(
      refuse(CODES.OAUTH_STATE_USED, 'This authorization link was already used (or replaced by a newer one). If the connection is not authorized, start again from ListBackup.', 409),
    );
  }

  const fail = async (code: Code, message: string, httpStatus = 400): Promise<CallbackOutcome> => {
    const connection = await markFailed(runtime, em, found.id, found.accountId, definition.slug, code, message);
    return { ok: false, code, message, httpStatus, connection, platformName };
  };
  if (state.expiresAt < runtime.now()) {
    return fail(CODES.OAUTH_STATE_EXPIRED, `This authorization link expired: it works for ${STATE_LIFETIME_MS / 60_000} minutes. Start again from ListBackup.`);
  }
  if (principal.kind !== 'anonymous' && !(await can({ access }, 'connections:manage', state.accountId))) {
    return fail(CODES.OAUTH_STATE_ACCOUNT_MISMATCH, 'This authorization was started for an account you cannot manage connections of, so it was not completed.', 403);
  }
  if (query.error) {
    if (query.error === 'access_denied') return fail(CODES.OAUTH_ACCESS_DENIED, `You declined access in ${platformName}, so nothing was connected.`);
    const detail = query.error_description ? `: ${query.error_description.slice(0, 200).replace(/[A-Za-z0-9+/=_.-]{24,}/g, '…')}` : '';
    return fail(CODES.OAUTH_PROVIDER_ERROR, `${platformName} reported an error ("${query.error.slice(0, 64)}")${detail}.`);
  }
  for (const [name, value] of Object.entries(callbackParams)) {
    const expected = found.params?.[name];
    if (expected !== undefined && expected !== value) {
      return fail(CODES.CALLBACK_PARAM_MISMATCH, `${platformName} answered for "${value}" but the connection was started for "${expected}".`);
    }
  }
  const client = runtime.clients[definition.slug];
  if (!client) return fail(CODES.PLATFORM_NOT_CONFIGURED, `OAuth for ${platformName} is no longer configured on this ListBackup.`, 500);

  const secret = await em.findOne(ConnectionSecret, { connectionId: found.id, accountId: found.accountId });
  const verifier = spec.pkce && secret ? runtime.vault.openPkceVerifier(secret) : null;
  const params = { ...found.params, ...callbackParams };
  const grant: Record<string, string> = { grant_type: 'authorization_code', code: query.code!, redirect_uri: runtime.redirectUrl };
  if (verifier) grant.code_verifier = verifier;
  const exchanged = await requestTokens(spec, fillTemplate(spec.tokenUrl, params), client, grant, runtime.httpTimeoutMs);
  if (!exchanged.ok) {
    const reason = describeFailure(exchanged.failure);
    if (exchanged.failure.kind === 'refused') return fail(CODES.OAUTH_CODE_REJECTED, `${platformName} refused the authorization (${reason}). Start again from ListBackup.`);
    if (exchanged.failure.kind === 'target') return fail(exchanged.failure.code, `Could not complete the authorization with ${platformName}: ${reason}.`, 502);
    return fail(CODES.OAUTH_TOKEN_ENDPOINT_UNAVAILABLE, `Could not complete the authorization with ${platformName}: ${reason}. Start again from ListBackup.`, 502);
  }
  const { tokens } = exchanged;
  for (const { name, path, pattern } of spec.tokenResponseParams) {
    const value = path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), tokens.body);
    if ((typeof value === 'string' || typeof value === 'number') && new RegExp(pattern).test(String(value))) params[name] = String(value);
  }
  // Who the tokens belong to, for the user's eyes; the connection works without it.
  const checked = await identify(runtime, definition, spec.identity, spec.credential, tokens.accessToken, params);
  if (checked.ok) Object.assign(params, checked.identity.params);
  else runtime.log.warn({ connectionId: found.id, reason: describeFailure(checked.failure) }, 'identity lookup after authorization failed');

  const now = runtime.now();
  const connection = await em.fork().transactional(async (tx) => {
    const row = await tx.findOneOrFail(Connection, { id: found.id, accountId: found.accountId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    const sealed = (await tx.findOne(ConnectionSecret, { connectionId: row.id, accountId: row.accountId })) ?? runtime.vault.create(tx, row.accountId, row.id);
    runtime.vault.seal(sealed, 'credentials', { kind: 'oauth2', accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, tokenType: tokens.tokenType });
    sealed.pkceVerifier = null;
    row.status = 'AUTHORIZED';
    row.authType = 'OAUTH2';
    row.params = params;
    row.scopes = tokens.scope ? splitScopes(tokens.scope) : spec.scopes;
    row.accessTokenExpiresAt = tokens.expiresIn ? new Date(now + tokens.expiresIn * 1000) : null;
    row.credentialExpiresAt = tokens.refreshTokenExpiresIn ? new Date(now + tokens.refreshTokenExpiresIn * 1000) : null;
    row.refreshFailingSince = null;
    row.authorizedAt = new Date(now);
    row.updatedAt = new Date(now);
    if (checked.ok) {
      row.externalAccountId = checked.identity.id;
      row.externalAccountName = checked.identity.name ?? null;
    }
    clearError(row);
    enqueueEvent(tx, connectionEvent('connection.authorized', row, definition.slug, { externalAccountId: row.externalAccountId ?? null }, actorOf({ principal })));
    return row;
  });
  return { ok: true, connection, platformName };
}

async function markFailed(runtime: PlatformsRuntime, em: Em, id: string, accountId: string, platformSlug: string, code: Code, message: string): Promise<Connection> {
  return em.fork().transactional(async (tx) => {
    const row = await tx.findOneOrFail(Connection, { id, accountId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    // A connection being authorized again keeps its working credentials; only the attempt failed.
    if (row.status !== 'AUTHORIZED') row.status = 'FAILED';
    recordError(row, code, message, new Date(runtime.now()));
    row.pendingStateHash = null;
    row.pendingStateExpiresAt = null;
    const secret = await tx.findOne(ConnectionSecret, { connectionId: id, accountId });
    if (secret) secret.pkceVerifier = null;
    enqueueEvent(tx, connectionEvent('connection.failed', row, platformSlug, { code, message }));
    return row;
  });
}

/** The GraphQL variant of the callback, for a web app that receives the redirect itself. */
export async function completeOAuthConnection(ctx: PlatformsContext, params: readonly { name: string; value: string }[]): Promise<Connection> {
  if (ctx.principal.kind === 'anonymous') throw new UnauthenticatedError();
  const query: Record<string, string> = {};
  for (const { name, value } of params) query[name] = value;
  const outcome = await completeOAuthCallback(ctx.platforms, ctx.em.fork(), query, ctx.principal, ctx.access);
  if (!outcome.ok) throw new ConnectionError(outcome.code as Code, outcome.message, outcome.connection ? { connectionId: outcome.connection.id } : {});
  return outcome.connection;
}
