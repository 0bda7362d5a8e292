// Shared set-up for the identity tests: a fresh database per test file, the accounts subgraph
// started in-process with `startAccounts` (as `npm start` runs it) on an in-process event bus, and
// a client that calls it as the gateway would: internal token, optional client IP header.
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { decodeJwt } from 'jose';
import { createLogger } from '@listbackup/lib/logger';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import { INTERNAL_TOKEN_HEADER, signInternalToken } from '@listbackup/lib/internal-token';
import type { Principal } from '@listbackup/lib/principal';
import type { Orm } from '@listbackup/lib/db';
import type { RunningService } from '@listbackup/lib/service';
import { CLIENT_IP_HEADER } from '@listbackup/lib/subgraph';
import { startAccounts } from '../src/index.ts';

export const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const SECRET = `identity-test-${randomBytes(16).toString('hex')}`;
/** Passes the policy: long, uncommon, unrelated to any test email or name. */
export const GOOD_PASSWORD = 'correct horse battery staple 42';

export interface IdentityHarness {
  service: RunningService;
  orm: Orm;
  bus: InProcessEventBus;
  /** Every event the outbox relay published, in order. */
  published: EventEnvelope[];
  baseUrl: string;
  stop(): Promise<void>;
}

function databaseUrl(name: string): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates `lb_identity_<random>` on the server and starts accounts on it; `stop()` drops it again. */
export async function startHarness(): Promise<IdentityHarness> {
  const name = `lb_identity_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();

  const bus = new InProcessEventBus();
  const published: EventEnvelope[] = [];
  await bus.subscribe('lb.evt.>', (event) => {
    published.push(event);
  });
  const service = await startAccounts({
    databaseUrl: databaseUrl(name),
    bus,
    internalTokenSecret: SECRET,
    log: createLogger('accounts-test', 'silent'),
    port: 0,
    host: '127.0.0.1',
  });
  return {
    service,
    orm: service.orm,
    bus,
    published,
    baseUrl: new URL(service.url).origin,
    async stop() {
      await service.close();
      await bus.close();
      const client = new pg.Client({ connectionString: SERVER_URL });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

export interface GraphQLResponse<T = Record<string, any>> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; [key: string]: unknown } }[];
}

export interface CallOptions {
  /** Sent as `x-listbackup-client-ip`, as the gateway forwards it. */
  ip?: string;
}

export const ANON: Principal = { kind: 'anonymous' };

export function client(harness: IdentityHarness) {
  async function gql<T = Record<string, any>>(
    principal: Principal,
    query: string,
    variables: Record<string, unknown> = {},
    options: CallOptions = {},
  ): Promise<GraphQLResponse<T>> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      [INTERNAL_TOKEN_HEADER]: await signInternalToken(SECRET, 'accounts', { principal, requestId: randomUUID() }),
    };
    if (options.ip) headers[CLIENT_IP_HEADER] = options.ip;
    const response = await fetch(`${harness.baseUrl}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    const body = (await response.json()) as Omit<GraphQLResponse<T>, 'status'>;
    return { status: response.status, ...body };
  }
  return { gql };
}

/** The first error's code, failing loudly when the call unexpectedly succeeded. */
export function errorOf(response: GraphQLResponse): { code?: string; message: string; extensions: Record<string, unknown> } {
  if (!response.errors?.length) throw new Error(`expected an error, got ${JSON.stringify(response.data)}`);
  const [error] = response.errors;
  return { code: error.extensions?.code, message: error.message, extensions: error.extensions ?? {} };
}

/** The data of a call that must succeed. */
export function ok<T>(response: GraphQLResponse<T>): T {
  if (response.errors?.length || !response.data) throw new Error(`expected success, got ${JSON.stringify(response.errors)}`);
  return response.data;
}

/** Raw SQL against the subgraph's schema, to assert what is (and is not) stored. */
export async function rows<T = Record<string, any>>(orm: Orm, sql: string, params: unknown[] = []): Promise<T[]> {
  return orm.em.fork().execute<T[]>(sql, params as any[]);
}

const COUNTED = ['users', 'accounts', 'memberships', 'sessions', 'recovery_codes', 'outbox_events'] as const;

/** Row counts of the identity tables, to prove a refused request wrote nothing. */
export async function tableCounts(orm: Orm): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of COUNTED) {
    const [row] = await rows<{ n: string }>(orm, `select count(*) as n from accounts.${table}`);
    counts[table] = Number(row.n);
  }
  return counts;
}

export function uniqueEmail(label = 'user'): string {
  return `${label}.${randomBytes(5).toString('hex')}@example.com`;
}

export function uniqueIp(): string {
  const bytes = randomBytes(3);
  return `10.${bytes[0]}.${bytes[1]}.${bytes[2]}`;
}

/** The principal the gateway derives from an access token (it verifies the token first). */
export function principalOf(accessToken: string): Extract<Principal, { kind: 'user' }> {
  const claims = decodeJwt(accessToken);
  return { kind: 'user', userId: String(claims.sub), sessionId: String(claims.sid) };
}

/** Waits until the current 30-second TOTP step has at least 5 s left, so a test's codes do not straddle a step change. */
export async function awayFromStepBoundary(): Promise<void> {
  const left = 30_000 - (Date.now() % 30_000);
  if (left < 5_000) await sleep(left + 50);
}

export const AUTH_FIELDS = 'accessToken accessTokenExpiresAt refreshToken user { id email name totpEnabled }';

export const SIGN_UP = `mutation ($input: SignUpInput!) { signUp(input: $input) { ${AUTH_FIELDS} } }`;
export const LOG_IN = `mutation ($input: LogInInput!) { logIn(input: $input) { ${AUTH_FIELDS} } }`;
export const REFRESH = `mutation ($token: String!) { refreshSession(refreshToken: $token) { ${AUTH_FIELDS} } }`;

export interface AuthPayload {
  accessToken: string;
  accessTokenExpiresAt: string;
  refreshToken: string;
  user: { id: string; email: string; name: string; totpEnabled: boolean };
}

/**
 * The harness of one test file: started before its tests and stopped after them. `api.gql` calls
 * the subgraph; `api.signUp` signs a new user up (a unique address unless one is given).
 */
export function useIdentityHarness() {
  let harness: IdentityHarness | undefined;
  let call: ReturnType<typeof client>['gql'] | undefined;
  beforeAll(async () => {
    harness = await startHarness();
    call = client(harness).gql;
  });
  afterAll(async () => {
    await harness?.stop();
  });
  const api = {
    get harness(): IdentityHarness {
      if (!harness) throw new Error('the identity harness starts in beforeAll');
      return harness;
    },
    gql: (<T = Record<string, any>>(...args: Parameters<ReturnType<typeof client>['gql']>) => {
      if (!call) throw new Error('the identity harness starts in beforeAll');
      return call<T>(...args);
    }) as ReturnType<typeof client>['gql'],
    async signUp(name: string, email = uniqueEmail(), password = GOOD_PASSWORD): Promise<AuthPayload> {
      return ok(await api.gql<{ signUp: AuthPayload }>(ANON, SIGN_UP, { input: { email, password, name } })).signUp;
    },
  };
  return api;
}
