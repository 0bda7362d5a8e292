// Shared set-up for the tenancy tests: a fresh database per test file, the accounts subgraph
// started in-process on it, users seeded straight into the tables, and a client that calls the
// subgraph as the gateway would (internal token in `x-listbackup-internal`).
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { createLogger } from '@listbackup/lib/logger';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { INTERNAL_TOKEN_HEADER, signInternalToken } from '@listbackup/lib/internal-token';
import type { Principal } from '@listbackup/lib/principal';
import type { Orm } from '@listbackup/lib/db';
import type { RunningService } from '@listbackup/lib/service';
import { startAccounts, type AccountsOptions } from '../src/index.ts';
import { Session } from '../src/entities/session.ts';
import { User } from '../src/entities/user.ts';
import type { Account } from '../src/entities/account.ts';
import { createPersonalAccount } from '../src/services/account-service.ts';

export const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const SECRET = `test-secret-${randomBytes(16).toString('hex')}`;

export interface TenancyHarness {
  service: RunningService;
  bus: InProcessEventBus;
  databaseUrl: string;
  orm: Orm;
  /** Every SQL statement the subgraph ran (clear it before counting). */
  queries: string[];
  /** Base URL of the subgraph (no path). */
  baseUrl: string;
  stop(): Promise<void>;
}

function databaseUrl(name: string): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates `lb_<random>` on the server, starts accounts on it; `stop()` drops it again. */
export async function startHarness(options: AccountsOptions = {}): Promise<TenancyHarness> {
  const name = `lb_tenancy_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();

  const bus = new InProcessEventBus();
  const queries: string[] = [];
  const service = await startAccounts({
    databaseUrl: databaseUrl(name),
    bus,
    internalTokenSecret: SECRET,
    log: createLogger('accounts-test', 'silent'),
    port: 0,
    host: '127.0.0.1',
    // The outbox relay and the audit log's consumer run in the background; their statements are not the request's.
    onQuery: (sql) => {
      const plain = sql.replaceAll(String.fromCharCode(27), '').replace(/\[\d+m/g, '').replace(/^\[query\] /, '');
      if (!/outbox_events|audit_(entries|chains)/.test(plain) && !/^(begin|commit|rollback)\b/i.test(plain)) queries.push(sql);
    },
  }, options);
  const baseUrl = new URL(service.url).origin;
  return {
    service,
    bus,
    databaseUrl: databaseUrl(name),
    orm: service.orm,
    queries,
    baseUrl,
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

export interface SeededUser {
  user: User;
  /** The personal account created at "sign-up", owned by the user. */
  account: Account;
  principal: Principal;
  email: string;
}

/** A user as sign-up would leave it: the user row, its personal account and owner membership. */
export async function seedUser(orm: Orm, label = 'user'): Promise<SeededUser> {
  const email = `${label}-${randomBytes(4).toString('hex')}@example.test`;
  const em = orm.em.fork();
  const { user, account } = await em.transactional(async (tx) => {
    const user = tx.create(User, { email, name: `${label} person`, passwordHash: 'not-a-real-hash' });
    const account = await createPersonalAccount(tx, user);
    return { user, account };
  });
  return { user, account, email, principal: await signedIn(orm, user.id) };
}

/** A principal of `userId` with a live session, as signing in leaves it (roles need one). */
export async function signedIn(orm: Orm, userId: string): Promise<Principal> {
  const em = orm.em.fork();
  const session = em.create(Session, { userId, refreshTokenHash: randomBytes(32).toString('hex'), expiresAt: new Date(Date.now() + 86_400_000) });
  await em.flush();
  return { kind: 'user', userId, sessionId: session.id };
}

export interface GraphQLResponse<T = Record<string, any>> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; [key: string]: unknown } }[];
}

export function client(harness: TenancyHarness) {
  async function gql<T = Record<string, any>>(principal: Principal | null, query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<T>> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (principal) headers[INTERNAL_TOKEN_HEADER] = await signInternalToken(SECRET, 'accounts', { principal, requestId: randomUUID() });
    const response = await fetch(`${harness.baseUrl}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    const body = (await response.json()) as Omit<GraphQLResponse<T>, 'status'>;
    return { status: response.status, ...body };
  }

  async function post(path: string, principal: Principal | null, payload: unknown): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (principal) headers[INTERNAL_TOKEN_HEADER] = await signInternalToken(SECRET, 'accounts', { principal, requestId: randomUUID() });
    const response = await fetch(`${harness.baseUrl}${path}`, { method: 'POST', headers, body: JSON.stringify(payload) });
    return { status: response.status, body: await response.json() };
  }

  return { gql, post };
}

/** The first error's code, failing loudly when the call unexpectedly succeeded. */
export function errorCode(response: GraphQLResponse): string | undefined {
  if (!response.errors?.length) throw new Error(`expected an error, got ${JSON.stringify(response.data)}`);
  return response.errors[0].extensions?.code;
}

/** Runs raw SQL against the subgraph's schema, for asserting what is (not) stored. */
export async function rows<T = Record<string, unknown>>(orm: Orm, sql: string, params: unknown[] = []): Promise<T[]> {
  return orm.em.fork().execute<T[]>(sql, params as any[]);
}

export const ACCOUNT_FIELDS = 'id name parent { id } myRole';
