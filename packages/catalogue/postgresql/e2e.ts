import assert from 'node:assert/strict';
import pg from 'pg';
import type { E2EPlatform, Served } from '../testing/e2e.ts';
import { createDatabase } from '../testing/connector-run.ts';

/** No fake: a database of its own on the test server, reached through its connection string. */
export default {
  slug: 'postgresql',
  async start() {
    const database = await createDatabase('lb_e2e_pg');
    const sql = async <T extends pg.QueryResultRow>(text: string): Promise<T[]> => {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        return (await client.query<T>(text)).rows;
      } finally {
        await client.end();
      }
    };
    await sql(`
      create table customers (id int primary key, name text not null, balance numeric(12, 2), tags text[], updated_at timestamptz not null default now());
      insert into customers select i, 'Customer ' || i || ' “quoted” ☃', i * 10.5, array['a', 'b'], now() from generate_series(1, 1500) i;
      create schema billing;
      create table billing.invoices (number text primary key, customer int references customers(id), paid boolean, pdf bytea, updated_at timestamptz not null default now());
      insert into billing.invoices values ('INV-1', 1, true, '\\xdeadbeef'), ('INV-2', 2, false, null);
    `);
    const ndjson = async (relation: string, key: string) => Buffer.from(`${(await sql<{ line: string }>(`select row_to_json(t)::text as line from ${relation} t order by ${key}`)).map((row) => row.line).join('\n')}\n`);
    let before: unknown[] = [];
    const customers = () => sql('select id, name, balance::text, tags from customers order by id');
    return {
      connect: { kind: 'apiKey', apiKey: database.url },
      async served() {
        return new Map<string, Served>([
          ['tables/public/customers.ndjson', await ndjson('customers', 'id')],
          ['tables/billing/invoices.ndjson', await ndjson('billing.invoices', 'number')],
        ]);
      },
      restore: {
        resource: 'tables',
        async damage() {
          before = await customers();
          await sql('delete from billing.invoices; delete from customers');
        },
        async check() {
          assert.deepEqual(await customers(), before);
          assert.equal((await sql('select * from billing.invoices')).length, 2);
        },
      },
      // A table is one item: one with `updated_at` whose rows did not change is kept, not read.
      // There is no fake to count reads at; the job's log says which tables were read.
      incremental: {
        resource: 'tables',
        async change() {
          await sql(`update billing.invoices set paid = true, updated_at = now() where number = 'INV-2'`);
          return 'tables/billing/invoices.ndjson';
        },
      },
      close: () => database.drop(),
    };
  },
} satisfies E2EPlatform;
