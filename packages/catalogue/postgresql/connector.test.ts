import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresConnector } from './connector.ts';
import { AuthError, ConfigError, type Cursor, fetchResource, readAll, type RestoreItem, restoreResource } from '../sdk/index.ts';
import { collect, type CollectedItem, createDatabase } from '../testing/connector-run.ts';
import { OutboundPolicy, outboundPolicy, setOutboundPolicy } from '@listbackup/lib/outbound';

const SCHEMA = `
  create schema shop;
  create table shop.customers (
    id serial primary key,
    email text not null,
    name text,
    balance numeric(14, 2),
    tags text[],
    profile jsonb,
    avatar bytea,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  );
  create table shop.orders (
    id bigint generated always as identity primary key,
    customer_id int not null references shop.customers(id),
    total numeric not null,
    total_cents bigint generated always as ((total * 100)::bigint) stored,
    placed_at timestamp(6),
    flags boolean[],
    note varchar(200),
    updated_at timestamptz not null default now()
  );
  create table public.events (
    id uuid primary key,
    payload json,
    ratio double precision,
    big bigint,
    happened interval,
    at timestamptz(3)
  );
  create table public.logs (line text, n int);
`;

const SEED = `
  insert into shop.customers (email, name, balance, tags, profile, avatar, created_at, updated_at)
  select 'c' || g || '@example.com',
         case when g % 7 = 0 then null else 'Name "' || g || E'"\\n\\ttab ünïcødé ✓' end,
         (g * 1234.56)::numeric(14, 2),
         array['a' || g, 'b,c', null],
         jsonb_build_object('n', g, 'nested', jsonb_build_object('x', array[1, 2, 3]), 'big', 12345678901234567890::numeric),
         case when g % 3 = 0 then decode(md5(g::text), 'hex') else null end,
         timestamptz '2024-01-01 00:00:00.123456+00' + g * interval '1 minute',
         timestamptz '2024-02-01 00:00:00.654321+00' + g * interval '1 second'
    from generate_series(1, 2500) g;
  insert into shop.orders (customer_id, total, placed_at, flags, note, updated_at)
  select 1 + g % 2500, g * 1.0001, timestamp '2024-03-01 12:00:00.000001' + g * interval '1 hour', array[g % 2 = 0, null], 'note ' || g, timestamptz '2024-03-01 00:00:00+00'
    from generate_series(1, 1200) g;
  insert into public.events values
    ('7c9e6679-7425-40de-944b-e07fc1f90ae7', '{"k": [1, "two", null], "f": 1.5e300}', 0.1, 9223372036854775807, '1 day 02:03:04.5', '2024-05-05 05:05:05.555+02'),
    ('00000000-0000-0000-0000-000000000000', null, 'NaN', -9223372036854775808, '-3 years', null),
    ('11111111-1111-1111-1111-111111111111', '"just a string"', '-Infinity', 0, '0', '1999-12-31 23:59:59.999+00');
  insert into public.logs values ('first', 1), ('first', 1), (null, null), ('emoji 🚀', 3);
`;

async function rowsOf(url: string, relation: string, order: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ r: string }>(`select row_to_json(t)::text as r from ${relation} t order by ${order}`)).rows.map((r) => r.r);
  } finally {
    await client.end();
  }
}

async function run_(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function restoreItems(items: CollectedItem[]): AsyncIterable<RestoreItem> {
  return (async function* () {
    for (const item of items) {
      yield {
        id: item.id,
        path: item.path,
        metadata: item.metadata,
        // hand the body back in uneven slices, as the engine's chunks would arrive
        content: async function* () {
          for (let i = 0; i < item.body.length; i += 7919) yield item.body.subarray(i, i + 7919);
        },
      };
    }
  })();
}

const TABLES: [string, string][] = [
  ['shop.customers', 'id'],
  ['shop.orders', 'id'],
  ['public.events', 'id'],
  ['public.logs', 'line, n'],
];

describe('PostgreSQL connector', () => {
  const connector = createPostgresConnector();
  let source: Awaited<ReturnType<typeof createDatabase>>;
  const targets: Awaited<ReturnType<typeof createDatabase>>[] = [];
  const credentials = (url: string) => ({ credentials: async () => ({ connectionString: url }) });

  beforeAll(async () => {
    source = await createDatabase('lb_pgsrc');
    await run_(source.url, SCHEMA);
    await run_(source.url, SEED);
  });
  afterAll(async () => {
    await source?.drop();
    for (const target of targets) await target.drop();
  });

  it('exports every table as NDJSON rows, streamed a cursor batch at a time', async () => {
    const run = fetchResource(connector, 'tables', credentials(source.url));
    const seen: { path: string; chunks: number; lines: number }[] = [];
    for await (const item of run) {
      let chunks = 0;
      let lines = 0;
      for await (const chunk of item.content()) {
        chunks++;
        lines += Buffer.from(chunk).toString('utf8').split('\n').length - 1;
      }
      seen.push({ path: item.path, chunks, lines });
    }
    expect(seen).toEqual([
      { path: 'tables/public/events.ndjson', chunks: 1, lines: 3 },
      { path: 'tables/public/logs.ndjson', chunks: 1, lines: 4 },
      { path: 'tables/shop/customers.ndjson', chunks: 3, lines: 2500 },
      { path: 'tables/shop/orders.ndjson', chunks: 2, lines: 1200 },
    ]);
    expect(run.cursor).toMatchObject({ tables: { 'shop.customers': { rows: '2500' }, 'shop.orders': { rows: '1200' } } });
  });

  it('restores into a new database with rows equal to the source, column types included', async () => {
    const { items } = await collect(connector, 'tables', credentials(source.url));
    const target = await createDatabase('lb_pgdst');
    targets.push(target);
    const result = await restoreResource(connector, 'tables', restoreItems(items), credentials(target.url));
    expect(result).toEqual({ restored: 4, units: 2500 + 1200 + 3 + 4 });
    for (const [relation, order] of TABLES) {
      const [original, restored] = [await rowsOf(source.url, relation, order), await rowsOf(target.url, relation, order)];
      expect(restored.length).toBe(original.length);
      expect(restored).toEqual(original);
    }
    const types = async (url: string) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const result = await client.query(`select table_schema, table_name, column_name, data_type, numeric_precision, numeric_scale, datetime_precision from information_schema.columns where table_schema in ('shop', 'public') order by 1, 2, ordinal_position`);
      await client.end();
      return result.rows;
    };
    expect(await types(target.url)).toEqual(await types(source.url));
    // a second backup, of the restored database, is byte-identical to the first
    const again = await collect(connector, 'tables', credentials(target.url));
    expect(again.items.map((i) => i.body.toString('utf8'))).toEqual(items.map((i) => i.body.toString('utf8')));
  });

  it('refuses to restore over a table that has rows, and changes nothing', async () => {
    const { items } = await collect(connector, 'tables', credentials(source.url));
    const target = targets[0];
    await run_(target.url, `delete from shop.orders where id > 1000`);
    const before = await rowsOf(target.url, 'shop.orders', 'id');
    const error = await restoreResource(connector, 'tables', restoreItems(items), credentials(target.url)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/already has rows/);
    expect(await rowsOf(target.url, 'shop.orders', 'id')).toEqual(before);

    const replaced = await restoreResource(connector, 'tables', restoreItems(items), { ...credentials(target.url), options: { existing: 'replace' } });
    expect(replaced.restored).toBe(4);
    expect(await rowsOf(target.url, 'shop.orders', 'id')).toEqual(await rowsOf(source.url, 'shop.orders', 'id'));
  });

  it('an incremental run skips tables whose updated_at and row count did not move', async () => {
    const first = await collect(connector, 'tables', credentials(source.url));
    const unchanged = await collect(connector, 'tables', { ...credentials(source.url), cursor: first.cursor });
    // tables without updated_at cannot be known unchanged: they are always exported
    expect(unchanged.items.map((i) => i.id)).toEqual(['public.events', 'public.logs']);

    await run_(source.url, `update shop.customers set name = 'changed', updated_at = now() where id = 42`);
    const changed = await collect(connector, 'tables', { ...credentials(source.url), cursor: unchanged.cursor as Cursor });
    expect(changed.items.map((i) => i.id)).toEqual(['public.events', 'public.logs', 'shop.customers']);
    const customer = changed.items[2].body.toString('utf8').split('\n').map((l) => (l ? JSON.parse(l) : null)).find((r) => r?.id === 42);
    expect(customer.name).toBe('changed');

    await run_(source.url, `delete from shop.orders where id = 7`);
    const deleted = await collect(connector, 'tables', { ...credentials(source.url), cursor: changed.cursor as Cursor });
    expect(deleted.items.map((i) => i.id)).toEqual(['public.events', 'public.logs', 'shop.orders']);
    expect(deleted.items[2].metadata.rows).toBe(1199);
  });

  it('limits the backup to chosen schemas or tables', async () => {
    const shopOnly = await collect(connector, 'tables', { ...credentials(source.url), settings: { schemas: ['shop'] } });
    expect(shopOnly.items.map((i) => i.id)).toEqual(['shop.customers', 'shop.orders']);
    const one = await collect(connector, 'tables', { ...credentials(source.url), settings: { tables: ['public.logs'] } });
    expect(one.items.map((i) => i.id)).toEqual(['public.logs']);
    await expect(collect(connector, 'tables', { ...credentials(source.url), settings: { tables: ['public.nope'] } })).rejects.toBeInstanceOf(ConfigError);
  });

  it('a database that does not exist is a CONFIG failure; a refused login an AuthError after one refresh', async () => {
    const missing = new URL(source.url);
    missing.pathname = '/lb_does_not_exist_4242';
    const error = await collect(connector, 'tables', credentials(missing.toString())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ failureType: 'CONFIG', platformCode: '3D000' });

    // a role that may not log in is refused (28000), or asked for a password it does not have (28P01)
    const role = `lb_nologin_${Date.now()}`;
    await run_(source.url, `create role ${role} nologin`);
    try {
      const asRole = new URL(source.url);
      asRole.username = role;
      let refreshes = 0;
      const refused = await collect(connector, 'tables', {
        credentials: async () => ({ connectionString: asRole.toString() }),
        refreshCredentials: async () => {
          refreshes++;
          return { connectionString: asRole.toString() };
        },
      }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(AuthError);
      expect(refused).toMatchObject({ failureType: 'AUTH', platformCode: expect.stringMatching(/^28/) }); // class 28: invalid authorization
      expect(refreshes).toBe(1);

      // rotated credentials: the refresh hands working ones and the run goes on
      const rotated = await collect(connector, 'tables', {
        settings: { tables: ['public.logs'] },
        credentials: async () => ({ connectionString: asRole.toString() }),
        refreshCredentials: async () => ({ connectionString: source.url }),
      });
      expect(rotated.items.map((i) => i.id)).toEqual(['public.logs']);
    } finally {
      await run_(source.url, `drop role ${role}`);
    }
  });

  it('refuses a database at an address the outbound policy does not allow, without logging in', async () => {
    const allowed = outboundPolicy();
    setOutboundPolicy(new OutboundPolicy());
    try {
      const error = await collect(connector, 'tables', credentials(source.url)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ failureType: 'CONFIG', platformCode: 'TARGET_NOT_ALLOWED' });
    } finally {
      setOutboundPolicy(allowed);
    }
  });

  it('reads every table in the snapshot taken when the run began', async () => {
    const run = fetchResource(connector, 'tables', { ...credentials(source.url), settings: { schemas: ['public'] } });
    const lines: number[] = [];
    let inserted = false;
    try {
      for await (const item of run) {
        if (!inserted) {
          // written after the run began: a table read later in the same run must not see it
          await run_(source.url, `insert into public.logs values ('late', 99)`);
          inserted = true;
        }
        lines.push((await readAll(item.content())).toString('utf8').trim().split('\n').length);
      }
      expect(lines).toEqual([3, 4]);
    } finally {
      await run_(source.url, `delete from public.logs where line = 'late'`);
    }
  });

  it('content read after the run finished still works (each table then reads on its own)', async () => {
    const run = fetchResource(connector, 'tables', { ...credentials(source.url), settings: { tables: ['public.logs'] } });
    const items = [];
    for await (const item of run) items.push(item);
    const body = await readAll(items[0].content());
    expect(body.toString('utf8').trim().split('\n')).toHaveLength(4);
  });
});
