/**
 * Test kit for one subgraph on its own: a fresh database, a fixed-role access resolver, the
 * service started in-process on a free port, and a client that signs internal tokens the way the
 * gateway does. Meant for lib/ (shared test helpers) once the tree settles.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'nats';
import pg from 'pg';
import { SignJWT } from 'jose';
import type { AccessResolver, Role, VisibleAccount } from '@listbackup/lib/access';
import type { Principal } from '@listbackup/lib/principal';
import type { EventBus } from '@listbackup/lib/events/bus';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { INTERNAL_TOKEN_HEADER, signInternalToken } from '@listbackup/lib/internal-token';
import { createLogger } from '@listbackup/lib/logger';
import type { RunningService, ServiceRuntime } from '@listbackup/lib/service';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** A database of its own for one test file, on the server DATABASE_URL names. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = uniqueName('lb_test');
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Roles granted explicitly per (user or API key, account); anything not granted is no role. */
export class FixedAccess implements AccessResolver {
  readonly #grants = new Map<string, Role>();
  /** Where each account sits in the tree (root first, itself last); an account not placed is a root. */
  readonly #paths = new Map<string, string[]>();
  /** How many times a subgraph asked (each ask is one HTTP call to accounts in production). */
  calls = 0;

  grant(principal: Principal, accountId: string, role: Role): this {
    this.#grants.set(`${principalKey(principal)}|${accountId}`, role);
    return this;
  }

  /** Places `accountId` below `parentId` (the parent placed first, if it has a parent itself). */
  place(accountId: string, parentId: string): this {
    this.#paths.set(accountId, [...(this.#paths.get(parentId) ?? [parentId]), accountId]);
    return this;
  }

  async rolesOn(principal: Principal, accountIds: readonly string[]): Promise<(Role | null)[]> {
    this.calls++;
    return accountIds.map((id) => this.#grants.get(`${principalKey(principal)}|${id}`) ?? null);
  }

  async visibleAccounts(principal: Principal): Promise<VisibleAccount[]> {
    this.calls++;
    const prefix = `${principalKey(principal)}|`;
    return [...this.#grants]
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, role]) => {
        const accountId = key.slice(prefix.length);
        return { accountId, role, path: this.#paths.get(accountId) ?? [accountId] };
      });
  }
}

function principalKey(principal: Principal): string {
  if (principal.kind === 'user') return `user:${principal.userId}`;
  if (principal.kind === 'apiKey') return `key:${principal.apiKeyId}`;
  return 'anonymous';
}

export const newSecret = (): string => randomBytes(32).toString('base64url');

export const newUser = (): Principal => ({ kind: 'user', userId: randomUUID(), sessionId: randomUUID() });
export const ANONYMOUS: Principal = { kind: 'anonymous' };

export interface GraphQLResponse {
  status: number;
  data?: Record<string, any> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
}

export interface TestSubgraph {
  name: string;
  url: string;
  /** The test database the service runs on. */
  databaseUrl: string;
  service: RunningService;
  access: FixedAccess;
  secret: string;
  /** Every SQL statement the service ran since the last `resetQueries()`. */
  queries: string[];
  resetQueries(): void;
  /** Calls /graphql with a valid internal token for `principal`, or with the header given. */
  query(principal: Principal, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse>;
  queryWithHeader(header: string | undefined, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse>;
  close(): Promise<void>;
}

export interface StartOptions {
  bus?: EventBus;
  durablePrefix?: string;
  /** The internal token secret, for subgraphs of one test that call each other (they share it in a deployment). */
  secret?: string;
}

/** Starts a subgraph the way `npm start` does, but on port 0, a fresh database and fixed roles. */
export async function startTestSubgraph(
  name: string,
  start: (runtime: ServiceRuntime) => Promise<RunningService>,
  options: StartOptions = {},
): Promise<TestSubgraph> {
  const database = await createTestDatabase();
  const access = new FixedAccess();
  const secret = options.secret ?? randomBytes(32).toString('base64url');
  const bus = options.bus ?? new InProcessEventBus();
  const queries: string[] = [];
  let service: RunningService;
  try {
    service = await start({
      databaseUrl: database.url,
      bus,
      access,
      internalTokenSecret: secret,
      log: createLogger('test', 'silent'),
      port: 0,
      onQuery: (message) => queries.push(stripAnsi(message)),
      durablePrefix: options.durablePrefix,
    });
  } catch (error) {
    await database.drop();
    throw error;
  }
  const queryWithHeader = (header: string | undefined, query: string, variables?: Record<string, unknown>) => post(service.url, header, query, variables);
  return {
    name,
    url: service.url,
    databaseUrl: database.url,
    service,
    access,
    secret,
    queries,
    resetQueries: () => void queries.splice(0),
    queryWithHeader,
    async query(principal, query, variables) {
      return queryWithHeader(await signInternalToken(secret, name, { principal, requestId: randomUUID() }), query, variables);
    },
    async close() {
      await service.close();
      if (!options.bus) await bus.close();
      await database.drop();
    },
  };
}

async function post(url: string, header: string | undefined, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(header === undefined ? {} : { [INTERNAL_TOKEN_HEADER]: header }) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse, 'status'>;
  return { status: response.status, ...body };
}

/** Headers a subgraph must refuse: none, signed with another secret, expired, meant for another subgraph. */
export async function invalidTokens(subgraph: TestSubgraph, principal: Principal): Promise<Record<string, string | undefined>> {
  const claims = { principal, requestId: 'test' };
  const past = Math.floor(Date.now() / 1000) - 600;
  return {
    missing: undefined,
    garbage: 'not-a-token',
    forged: await signInternalToken(randomBytes(32).toString('base64url'), subgraph.name, claims),
    expired: await new SignJWT({ principal, rid: 'test' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('listbackup-gateway')
      .setAudience(subgraph.name)
      .setIssuedAt(past - 60)
      .setExpirationTime(past)
      .sign(new TextEncoder().encode(subgraph.secret)),
    wrongAudience: await signInternalToken(subgraph.secret, subgraph.name === 'accounts' ? 'jobs' : 'accounts', claims),
  };
}

// MikroORM's query log colours its lines.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const stripAnsi = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '');

/** SQL statements that read from `schema.table`. */
export function selectsFrom(queries: string[], schema: string, table: string): string[] {
  return queries.filter((sql) => /\bselect\b/i.test(sql) && sql.includes(`from "${schema}"."${table}"`));
}

export function errorCodes(response: GraphQLResponse): (string | undefined)[] {
  return (response.errors ?? []).map((error) => error.extensions?.code);
}

export const accountRefs = (ids: string[]) => ids.map((id) => ({ __typename: 'Account', id }));

/** Polls until `condition` holds; fails with `what` after `timeoutMs` (a bound, not a timing assertion). */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * Whether NATS with JetStream answers at NATS_URL. Outside CI a missing server skips the NATS
 * tests with a message saying why; in CI (`CI=true`) it is an error.
 */
export async function natsIsReachable(): Promise<boolean> {
  try {
    const connection = await connect({ servers: NATS_URL, timeout: 2_000, reconnect: false });
    try {
      await (await connection.jetstreamManager()).getAccountInfo();
    } finally {
      await connection.close();
    }
    return true;
  } catch (error) {
    const reason = `NATS with JetStream is not reachable at ${NATS_URL} (${(error as Error).message})`;
    if (process.env.CI === 'true') throw new Error(`${reason}; CI requires it`);
    console.warn(`Skipping NATS tests: ${reason}. Set NATS_URL or put nats-server on PATH.`);
    return false;
  }
}
