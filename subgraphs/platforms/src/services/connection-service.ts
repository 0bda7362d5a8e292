import { actorOf } from '@listbackup/lib/events/contract';
import type { Actor } from '@listbackup/lib/events/envelope';
import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import { authorize, type Action } from '@listbackup/lib/access';
import type { Em } from '@listbackup/lib/db';
import { NotFoundError, ValidationError } from '@listbackup/lib/errors';
import { normalizeName } from '@listbackup/lib/text';
import { enqueueEvent } from '@listbackup/lib/events/outbox';
import { pageSize, timeCursor, timeKey, toPage, type Page } from '@listbackup/lib/pagination';
import { EnvelopeError } from '@listbackup/lib/vault';
import type { PlatformsContext } from '../context.ts';
import { Connection, type ConnectionStatus } from '../entities/connection.ts';
import { ConnectionSecret } from '../entities/connection-secret.ts';
import { Platform } from '../entities/platform.ts';
import { describeFailure, fetchIdentity, fillTemplate, MissingParameterError, revokeTokens, type Failure, type Identity } from '../oauth/http.ts';
import { findDefinition, isDatabaseIdentity, isDefinedApiIdentity, platformResources, type CatalogueResource, type AuthType, type CredentialHeader, type IdentityEndpoint, type ParameterSpec, type PlatformDefinition } from '@listbackup/catalogue';
import { effectiveApiKey, effectiveOAuth, type PlatformsRuntime } from '../runtime.ts';
import { checkDefinedApi } from './defined-api-identity.ts';
import { checkPostgres } from './database-identity.ts';
import { CODES, ConnectionError, clearError, connectionEvent, recordError } from './connection-state.ts';
import { findPlatformBySlug, getPlatform, platformForNewConnection } from './platform-service.ts';
import { AccessTokenError, obtainToken } from './token-service.ts';
import { lockAccountPlan } from '@listbackup/lib/events/account-plans';
import { assertRoomFor } from '@listbackup/lib/plan-limits';

/**
 * Refuses a new connection when the account's connections fill its plan: every one not revoked that
 * was ever authorized, and each OAuth flow in progress (its place is held while its state is valid,
 * 10 minutes, so the flow's completion needs no check of its own). Counted under the account's plan
 * lock, held to the end of `tx`, so two creates cannot both take the last place.
 */
export async function assertRoomForConnection(tx: Em, accountId: string, now: Date): Promise<void> {
  const plan = await lockAccountPlan(tx, 'platforms', accountId);
  const count = await tx.count(Connection, { accountId, status: { $ne: 'REVOKED' }, $or: [{ authorizedAt: { $ne: null } }, { pendingStateExpiresAt: { $gt: now } }] });
  assertRoomFor(plan, 'connections', count);
}

/** A connection the caller may read; any other is "not found", whether it exists or not. */
export async function getConnection(ctx: PlatformsContext, id: string): Promise<Connection> {
  return connectionFor(ctx, id, 'connections:read');
}

/** What a source on the connection can back up: what the connector implements (for REST, what the connection's definition names). */
export async function listConnectionResources(ctx: PlatformsContext, connection: Connection): Promise<CatalogueResource[]> {
  const platform = await getPlatform(ctx, connection.platformId);
  return platformResources(platform.slug, connectionDefinition(connection));
}

/** The API definition a REST connection was created with (checked then), parsed. */
function connectionDefinition(connection: Connection): unknown {
  const text = connection.params?.definition;
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A page of an account's connections, oldest first. */
export async function listConnections(ctx: PlatformsContext, accountId: string, first?: number | null, after?: string | null): Promise<Page<Connection>> {
  const size = pageSize(first);
  const scope = { list: 'Account.connections', owner: accountId };
  const cursor = timeKey(scope, after);
  await authorize(ctx, 'connections:read', accountId);
  const rows = await ctx.loaders.connectionPages.load({ parentId: accountId, limit: size + 1, after: cursor });
  return toPage(rows, size, timeCursor(scope));
}

async function connectionFor(ctx: PlatformsContext, id: string, action: Action): Promise<Connection> {
  const connection = await ctx.loaders.connection.load(id);
  if (!connection) throw new NotFoundError('Connection');
  await authorize(ctx, action, connection.accountId, 'Connection');
  return connection;
}

const MAX_NAME = 100;

export function validName(name: string | null | undefined, fallback: string): string {
  const value = normalizeName(name ?? fallback);
  if (!value) throw new ValidationError('The name cannot be empty', 'name');
  if (value.length > MAX_NAME) throw new ValidationError(`The name is limited to ${MAX_NAME} characters`, 'name');
  return value;
}

/** Checks user-given parameters against the platform's list: all required, none unknown, each matching its pattern. */
export function validParams(platform: PlatformDefinition, specs: ParameterSpec[], given: readonly { name: string; value: string }[] | null | undefined): Record<string, string> {
  const params: Record<string, string> = {};
  for (const { name, value } of given ?? []) {
    const spec = specs.find((candidate) => candidate.name === name);
    if (!spec) {
      const known = specs.map((candidate) => candidate.name).join(', ');
      throw new ValidationError(`${platform.name} takes no parameter "${name}"${known ? ` (it takes: ${known})` : ''}`, 'params');
    }
    if (name in params) throw new ValidationError(`Parameter "${name}" is given twice`, 'params');
    const trimmed = value.trim();
    if (!new RegExp(spec.pattern).test(trimmed)) throw new ValidationError(`"${spec.label}" is not valid: ${spec.description}`, 'params');
    const problem = spec.check?.(trimmed);
    if (problem) throw new ValidationError(problem, 'params');
    params[name] = trimmed;
  }
  for (const spec of specs) {
    if (!(spec.name in params)) throw new ValidationError(`${platform.name} needs "${spec.name}" (${spec.label}): ${spec.description}`, 'params');
  }
  return params;
}

/**
 * Checks a credential and finds whom it belongs to: the platform's identity endpoint (a URL that
 * lacks a parameter is a failure rather than a crash), or, for a database, a login with the
 * connection string.
 */
export async function identify(
  runtime: PlatformsRuntime,
  definition: PlatformDefinition,
  identity: IdentityEndpoint,
  credential: CredentialHeader,
  token: string,
  params: Record<string, string>,
): Promise<{ ok: true; identity: Identity } | { ok: false; failure: Failure }> {
  if (isDatabaseIdentity(identity)) return checkPostgres(token, runtime.httpTimeoutMs);
  if (isDefinedApiIdentity(identity)) return checkDefinedApi(params.definition, token, runtime.httpTimeoutMs);
  let url: string;
  try {
    url = fillTemplate(identity.url, params);
  } catch (error) {
    if (!(error instanceof MissingParameterError)) throw error;
    return { ok: false, failure: { kind: 'unavailable', reason: error.message } };
  }
  return fetchIdentity(identity, url, credential, token, definition.apiHeaders, runtime.httpTimeoutMs);
}

export interface ApiKeyInput {
  accountId: string;
  platformId?: string | null;
  platformSlug?: string | null;
  name?: string | null;
  apiKey: string;
  params?: readonly { name: string; value: string }[] | null;
}

/**
 * Connects a platform with an API key: checks its format, then asks the platform who it belongs
 * to. A malformed key, a key the platform refuses, or a platform that does not answer stores
 * nothing. The key is sealed in the vault and never returned.
 */
export async function createApiKeyConnection(ctx: PlatformsContext, input: ApiKeyInput): Promise<Connection> {
  await authorize(ctx, 'connections:manage', input.accountId);
  const { platform, definition } = await platformForNewConnection(ctx, input);
  const key = apiKeyOf(ctx, definition, input.apiKey);
  const given = validParams(definition, definition.connectParams ?? [], input.params);
  const name = validName(input.name, definition.name);
  const { apiKey, params, identity } = await checkApiKey(ctx, definition, key, given, { accountId: input.accountId });
  const now = new Date(ctx.platforms.now());
  const created = await ctx.em.fork().transactional(async (tx) => {
    await assertRoomForConnection(tx, input.accountId, now);
    const connection = tx.create(Connection, {
      id: randomUUID(),
      accountId: input.accountId,
      platformId: platform.id,
      name,
      status: 'AUTHORIZED',
      authType: 'API_KEY',
      params: { ...params, ...identity.params },
      scopes: [],
      externalAccountId: identity.id,
      externalAccountName: identity.name ?? null,
      createdAt: now,
      updatedAt: now,
      authorizedAt: now,
      lastTestedAt: now,
    });
    const secret = ctx.platforms.vault.create(tx, connection.accountId, connection.id);
    ctx.platforms.vault.seal(secret, 'credentials', { kind: 'apiKey', apiKey });
    enqueueEvent(tx, connectionEvent('connection.created', connection, definition.slug, {}, actorOf(ctx)));
    enqueueEvent(tx, connectionEvent('connection.authorized', connection, definition.slug, { externalAccountId: connection.externalAccountId ?? null }, actorOf(ctx)));
    return connection;
  });
  ctx.log.info({ accountId: created.accountId, connectionId: created.id, platform: definition.slug, externalAccountId: created.externalAccountId }, 'API-key connection created');
  return created;
}

/**
 * Replaces the key of an API-key connection (a rolled Stripe key, for example): the new key is
 * checked like a new connection's and must belong to the same account at the platform. The
 * connection keeps its id, sources and history; a refused key changes nothing.
 */
export async function replaceConnectionApiKey(ctx: PlatformsContext, id: string, newKey: string): Promise<Connection> {
  const found = await connectionFor(ctx, id, 'connections:manage');
  if (found.status === 'REVOKED') throw new ConnectionError(CODES.CONNECTION_REVOKED, 'This connection was revoked: connect the platform again (createApiKeyConnection).');
  if (found.authType !== 'API_KEY') {
    throw new ConnectionError(CODES.WRONG_AUTH_TYPE, 'This connection authorizes with OAuth, not an API key: authorize it again (startOAuthConnection with its connectionId).', { field: 'apiKey' });
  }
  const platform = await getPlatform(ctx, found.platformId);
  const definition = findDefinition(platform.slug);
  if (!definition) throw new ConnectionError(CODES.UNKNOWN_PLATFORM, `${platform.name} is no longer supported.`);
  const key = apiKeyOf(ctx, definition, newKey);
  const { apiKey, params, identity } = await checkApiKey(ctx, definition, key, found.params ?? {}, { accountId: found.accountId, connectionId: found.id });
  if (found.externalAccountId && identity.id !== found.externalAccountId) {
    throw new ConnectionError(
      CODES.API_KEY_OTHER_ACCOUNT,
      `This key belongs to ${identity.name ?? identity.id} at ${definition.name}, not to ${found.externalAccountName ?? found.externalAccountId}, whose data this connection backs up: connect it as a new connection (createApiKeyConnection). Nothing was saved.`,
      { field: 'apiKey' },
    );
  }
  const now = new Date(ctx.platforms.now());
  const replaced = await ctx.em.fork().transactional(async (tx) => {
    const row = await tx.findOneOrFail(Connection, { id: found.id, accountId: found.accountId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (row.status === 'REVOKED') throw new ConnectionError(CODES.CONNECTION_REVOKED, 'This connection was revoked: connect the platform again (createApiKeyConnection).');
    const secret = (await tx.findOne(ConnectionSecret, { connectionId: row.id, accountId: row.accountId })) ?? ctx.platforms.vault.create(tx, row.accountId, row.id);
    ctx.platforms.vault.seal(secret, 'credentials', { kind: 'apiKey', apiKey });
    const wasAuthorized = row.status === 'AUTHORIZED';
    row.status = 'AUTHORIZED';
    row.params = { ...params, ...identity.params };
    row.externalAccountId = identity.id;
    row.externalAccountName = identity.name ?? row.externalAccountName ?? null;
    row.authorizedAt = now;
    row.lastTestedAt = now;
    row.updatedAt = now;
    clearError(row);
    if (!wasAuthorized) enqueueEvent(tx, connectionEvent('connection.authorized', row, definition.slug, { externalAccountId: row.externalAccountId ?? null }, actorOf(ctx)));
    return row;
  });
  ctx.log.info({ accountId: replaced.accountId, connectionId: replaced.id, platform: definition.slug }, 'API key of a connection replaced');
  return replaced;
}

/** The platform's API-key settings and the key, trimmed, when it has the platform's format. */
function apiKeyOf(ctx: PlatformsContext, definition: PlatformDefinition, given: string): { spec: NonNullable<ReturnType<typeof effectiveApiKey>>; apiKey: string } {
  const spec = effectiveApiKey(ctx.platforms, definition);
  if (!spec) {
    throw new ConnectionError(CODES.WRONG_AUTH_TYPE, `${definition.name} does not take an API key: connect it with startOAuthConnection.`, { field: 'apiKey' });
  }
  const apiKey = given.trim();
  if (!new RegExp(spec.pattern).test(apiKey)) {
    throw new ConnectionError(CODES.INVALID_API_KEY_FORMAT, `That is not a ${definition.name} ${spec.label.toLowerCase()}. ${spec.hint}`, { field: 'apiKey' });
  }
  return { spec, apiKey };
}

/**
 * Asks the platform whose key it is, with the connection's parameters and those the key itself
 * carries. A key the platform refuses, or a platform that does not answer, throws before anything
 * is stored.
 */
async function checkApiKey(
  ctx: PlatformsContext,
  definition: PlatformDefinition,
  { spec, apiKey }: ReturnType<typeof apiKeyOf>,
  known: Record<string, string>,
  logged: Record<string, string>,
): Promise<{ apiKey: string; params: Record<string, string>; identity: Identity }> {
  const params = { ...known };
  for (const [name, pattern] of Object.entries(spec.paramsFromKey ?? {})) {
    const match = new RegExp(pattern).exec(apiKey);
    if (match?.[1]) params[name] = match[1];
  }
  const checked = await identify(ctx.platforms, definition, spec.identity, spec.credential, apiKey, params);
  if (checked.ok) return { apiKey, params, identity: checked.identity };
  const reason = describeFailure(checked.failure);
  ctx.log.info({ ...logged, platform: definition.slug, outcome: checked.failure.kind, reason }, 'API key not accepted; nothing stored');
  if (checked.failure.kind === 'target') {
    throw new ConnectionError(checked.failure.code, `Could not check the key with ${definition.name}: ${reason}. Nothing was saved.`);
  }
  if (checked.failure.kind === 'refused') {
    throw new ConnectionError(CODES.API_KEY_REJECTED, `${definition.name} refused this key (${reason}). Check that it is active and has read access.`, { field: 'apiKey' });
  }
  throw new ConnectionError(CODES.PLATFORM_UNAVAILABLE, `Could not check the key with ${definition.name}: ${reason}. Nothing was saved; try again.`);
}

export async function renameConnection(ctx: PlatformsContext, id: string, name: string): Promise<Connection> {
  const connection = await connectionFor(ctx, id, 'connections:manage');
  connection.name = validName(name, '');
  connection.updatedAt = new Date(ctx.platforms.now());
  await ctx.em.flush();
  return connection;
}

export interface ConnectionTestResult {
  ok: boolean;
  connection: Connection;
  errorCode?: string | null;
  message: string;
}

/**
 * Calls the platform's identity endpoint with the stored credentials (refreshing an expiring
 * access token first) and records the outcome: AUTHORIZED and the external account when it
 * answers, FAILED when it refuses the credentials, the status unchanged when it cannot be reached.
 */
export async function testConnection(ctx: PlatformsContext, id: string): Promise<ConnectionTestResult> {
  const found = await connectionFor(ctx, id, 'connections:manage');
  const runtime = ctx.platforms;
  const result = await ctx.em.fork().transactional(async (tx): Promise<ConnectionTestResult | { error: Error }> => {
    const got = await obtainToken(runtime, tx, { accountId: found.accountId, connectionId: found.id }, {}, ['AUTHORIZED', 'FAILED']);
    if ('error' in got) {
      const { error } = got;
      if (error instanceof AccessTokenError && error.code.startsWith('TOKEN_REFRESH') && got.connection) {
        got.connection.lastTestedAt = new Date(runtime.now());
        return { ok: false, connection: got.connection, errorCode: error.code, message: error.message };
      }
      return { error };
    }
    const { connection, definition, token } = got;
    const spec = token.authType === 'API_KEY' ? effectiveApiKey(runtime, definition)! : effectiveOAuth(runtime, definition)!;
    const checked = await identify(runtime, definition, spec.identity, spec.credential, token.token, connection.params ?? {});
    const now = new Date(runtime.now());
    connection.lastTestedAt = now;
    connection.updatedAt = now;
    if (checked.ok) {
      const wasFailed = connection.status !== 'AUTHORIZED';
      connection.status = 'AUTHORIZED';
      connection.externalAccountId = checked.identity.id;
      connection.externalAccountName = checked.identity.name ?? connection.externalAccountName ?? null;
      connection.params = { ...connection.params, ...checked.identity.params };
      clearError(connection);
      if (wasFailed) enqueueEvent(tx, connectionEvent('connection.authorized', connection, definition.slug, { externalAccountId: connection.externalAccountId ?? null }, actorOf(ctx)));
      const who = checked.identity.name ? ` as ${checked.identity.name}` : '';
      return { ok: true, connection, message: `${definition.name} answered: connected${who}.` };
    }
    const reason = describeFailure(checked.failure);
    if (checked.failure.kind === 'refused') {
      const message = `${definition.name} refused the stored credentials (${reason}).`;
      const wasAuthorized = connection.status === 'AUTHORIZED';
      connection.status = 'FAILED';
      recordError(connection, CODES.CREDENTIALS_REFUSED, message, now);
      if (wasAuthorized) enqueueEvent(tx, connectionEvent('connection.failed', connection, definition.slug, { code: CODES.CREDENTIALS_REFUSED, message }, actorOf(ctx)));
      return { ok: false, connection, errorCode: CODES.CREDENTIALS_REFUSED, message };
    }
    const message = `Could not reach ${definition.name}: ${reason}.`;
    const code = checked.failure.kind === 'target' ? checked.failure.code : CODES.PLATFORM_UNAVAILABLE;
    recordError(connection, code, message, now);
    return { ok: false, connection, errorCode: code, message };
  });
  if ('error' in result) throw result.error;
  return result;
}

export interface RevokeResult {
  connection: Connection;
  revokedAtPlatform: boolean;
  message: string;
}

/**
 * Revokes the credentials at the platform where it has an API for that, then erases them (the
 * vault row with its data key) whatever the platform said, and marks the connection REVOKED.
 */
export async function revokeConnection(ctx: PlatformsContext, id: string): Promise<RevokeResult> {
  const found = await connectionFor(ctx, id, 'connections:manage');
  return revokeAndErase(ctx.platforms, ctx.em, found, actorOf(ctx));
}

/** The revocation itself, for a member's `revokeConnection` and for an account's purge. */
export async function revokeAndErase(runtime: PlatformsRuntime, em: Em, found: { id: string; accountId: string }, actor: Actor): Promise<RevokeResult> {
  return em.fork().transactional(async (tx) => {
    const connection = await tx.findOneOrFail(Connection, { id: found.id, accountId: found.accountId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (connection.status === 'REVOKED') return { connection, revokedAtPlatform: false, message: 'This connection was already revoked.' };
    const platform = await tx.findOneOrFail(Platform, { id: connection.platformId });
    const definition = findDefinition(platform.slug);
    const secret = await tx.findOne(ConnectionSecret, { connectionId: connection.id, accountId: connection.accountId });
    let credentials = null;
    try {
      credentials = secret ? runtime.vault.openCredentials(secret) : null;
    } catch (error) {
      if (!(error instanceof EnvelopeError)) throw error;
      runtime.log.error({ connectionId: connection.id, err: error }, 'stored credentials do not decrypt; erasing them without revoking at the platform');
    }

    let revokedAtPlatform = false;
    let message: string;
    const now = new Date(runtime.now());
    const where = definition?.name ?? platform.name;
    if (!credentials) {
      message = 'No credentials were stored; nothing to revoke at the platform.';
    } else if (credentials.kind === 'apiKey') {
      message = `Erased the API key. ${where} does not let ListBackup revoke keys: delete or roll it in ${where} too.`;
    } else {
      const spec = definition && effectiveOAuth(runtime, definition);
      const client = definition && runtime.clients[definition.slug];
      if (!spec?.revocation) {
        message = `Erased the tokens. ${where} has no API to revoke them: remove ListBackup from the connected apps in ${where}.`;
      } else if (!client) {
        message = `Erased the tokens. OAuth for ${where} is not configured here, so they were not revoked at ${where}: remove ListBackup there.`;
      } else {
        let url: string | undefined;
        try {
          url = fillTemplate(spec.revocation.url, { ...connection.params, token: '{token}', client_id: '{client_id}' });
        } catch (error) {
          if (!(error instanceof MissingParameterError)) throw error;
        }
        const answer = url ? await revokeTokens(spec.revocation, url, client, credentials, spec.credential, runtime.httpTimeoutMs) : undefined;
        if (answer?.ok) {
          revokedAtPlatform = true;
          message = `Revoked at ${where} and erased.`;
        } else {
          const reason = answer && !answer.ok ? describeFailure(answer.failure) : 'the connection lacks a parameter';
          message = `Erased the tokens, but ${where} did not confirm the revocation (${reason}): remove ListBackup from the connected apps in ${where}.`;
          const failure = answer && !answer.ok ? answer.failure : undefined;
          recordError(connection, failure?.kind === 'refused' ? CODES.CREDENTIALS_REFUSED : failure?.kind === 'target' ? failure.code : CODES.PLATFORM_UNAVAILABLE, message, now);
        }
      }
    }
    if (secret) tx.remove(secret);
    connection.status = 'REVOKED';
    connection.revokedAt = now;
    connection.updatedAt = now;
    connection.accessTokenExpiresAt = null;
    connection.pendingStateHash = null;
    connection.pendingStateExpiresAt = null;
    enqueueEvent(tx, connectionEvent('connection.revoked', connection, platform.slug, { revokedAtPlatform }, actor));
    return { connection, revokedAtPlatform, message };
  });
}

export interface NewConnection {
  accountId: string;
  platformSlug: string;
  name: string;
  status?: ConnectionStatus;
  authType?: AuthType;
  createdAt?: Date;
}

/**
 * Writes a connection without any authorization or credentials: for seeding and tests. The
 * connection flows (OAuth, API key) authorize the caller and go through the vault instead.
 */
export async function createConnectionRecord(em: Em, input: NewConnection): Promise<Connection> {
  const platform = await findPlatformBySlug(em, input.platformSlug);
  if (!platform) throw new ValidationError(`Unknown platform "${input.platformSlug}"`, 'platformSlug');
  const connection = em.create(Connection, {
    accountId: input.accountId,
    platformId: platform.id,
    name: input.name,
    status: input.status ?? 'PENDING',
    authType: input.authType ?? null,
    createdAt: input.createdAt ?? new Date(),
  });
  await em.persist(connection).flush();
  return connection;
}
