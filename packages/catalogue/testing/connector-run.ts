/** Helpers for connector tests: run a resource to the end, collect items with their content. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type Connector, type Credentials, type Cursor, fetchResource, type FetchRunInit, readAll } from '../sdk/index.ts';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Tests shorten backoff; rate-limit waits the platform names stay as named. */
export const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 50 };

export interface CollectedItem {
  id: string;
  path: string;
  updatedAt?: string;
  metadata: Record<string, unknown>;
  body: Buffer;
}

export interface Collected {
  items: CollectedItem[];
  cursor: Cursor | undefined;
}

/** Credentials that count refreshes: `token` first, `refreshed` after a refresh. */
export function tokenCredentials(field: keyof Credentials, token: string, refreshed = token) {
  const state = { current: token, refreshes: 0 };
  return {
    state,
    credentials: async (): Promise<Credentials> => ({ [field]: state.current }),
    refreshCredentials: async (): Promise<Credentials> => {
      state.refreshes++;
      state.current = refreshed;
      return { [field]: state.current };
    },
  };
}

export async function collect<S>(connector: Connector<S>, resource: string, init: FetchRunInit): Promise<Collected> {
  const run = fetchResource(connector, resource, { retry: FAST_RETRY, ...init });
  const items: CollectedItem[] = [];
  for await (const item of run) items.push({ id: item.id, path: item.path, updatedAt: item.updatedAt, metadata: item.metadata, body: await readAll(item.content()) });
  return { items, cursor: run.cursor };
}

export function json(item: CollectedItem): any {
  return JSON.parse(item.body.toString('utf8'));
}

/** A database of its own on the test server; `drop` removes it. */
export async function createDatabase(prefix = 'lb_conn'): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop: () => adminQuery(`drop database if exists ${name} with (force)`) };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
