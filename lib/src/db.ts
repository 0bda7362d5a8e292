import { MikroORM, type EntityManager, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { Migration } from '@mikro-orm/migrations';
import type { EntitySchema } from '@mikro-orm/core';
import pg from 'pg';
import { watchPool } from './metrics.ts';

export type Orm = MikroORM;
export type Em = EntityManager;

export interface DatabaseOptions {
  url: string;
  /** The Postgres schema this subgraph owns. */
  schema: string;
  entities: EntitySchema<any, any>[];
  migrations: { name: string; class: new (...args: any[]) => Migration }[];
  /** Called with every SQL statement; tests use it to count queries. */
  onQuery?: (sql: string) => void;
  poolMax?: number;
}

/** Opens the subgraph's ORM on its own schema and brings the schema up to date. */
export async function openDatabase(options: DatabaseOptions): Promise<Orm> {
  await ensureSchema(options.url, options.schema);
  const config: Options = {
    clientUrl: options.url,
    schema: options.schema,
    entities: options.entities,
    extensions: [Migrator],
    migrations: {
      migrationsList: options.migrations,
      tableName: 'mikro_orm_migrations',
      schema: options.schema,
      snapshot: false,
      silent: true,
    },
    pool: { min: 0, max: options.poolMax ?? 10 },
    allowGlobalContext: false,
    ...(options.onQuery ? { debug: ['query'], logger: (message: string) => options.onQuery!(message) } : {}),
  };
  const orm = await MikroORM.init(config);
  await orm.migrator.up();
  watchPool(options.schema, await orm.driver.getConnection().getNativeClient());
  return orm;
}

async function ensureSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`create schema if not exists ${pg.escapeIdentifier(schema)}`);
  } catch (error) {
    // Two services creating the same schema concurrently race on the catalog; the loser can move on.
    if ((error as { code?: string }).code !== '23505') throw error;
  } finally {
    await client.end();
  }
}
