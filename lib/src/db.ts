import { MikroORM, type EntityManager, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { Migration } from '@mikro-orm/migrations';
import type { EntitySchema } from '@mikro-orm/core';
import { isIP } from 'node:net';
import pg from 'pg';
import { ConfigError } from './config.ts';
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
  assertVerifiableHost(options.url);
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
    // The ORM reads only host, port, user, password and database from the URL; handing pg the URL too
    // keeps its TLS parameters (sslmode=verify-full, sslrootcert, …).
    driverOptions: { connectionString: options.url },
    allowGlobalContext: false,
    ...(options.onQuery ? { debug: ['query'], logger: (message: string) => options.onQuery!(message) } : {}),
  };
  const orm = await MikroORM.init(config);
  // Replicas starting together would each create the migrations table; one migrates at a time.
  const lock = new pg.Client({ connectionString: options.url });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock(hashtext($1))', [`migrations:${options.schema}`]);
    await orm.migrator.up();
  } finally {
    await lock.end();
  }
  watchPool(options.schema, await orm.driver.getConnection().getNativeClient());
  return orm;
}

async function ensureSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (error) {
    throw refusedConnection(url, error as NodeJS.ErrnoException) ?? error;
  }
  try {
    await client.query(`create schema if not exists ${pg.escapeIdentifier(schema)}`);
  } catch (error) {
    // Two services creating the same schema concurrently race on the catalog; the loser can move on.
    if ((error as { code?: string }).code !== '23505') throw error;
  } finally {
    await client.end();
  }
}

/**
 * node-postgres gives TLS no server name for a host that is an IP address, and Node then checks the
 * certificate against the name "localhost": verify-full would accept any certificate of the CA
 * naming localhost, and refuse one naming the address. Refused before any connection.
 */
function assertVerifiableHost(url: string): void {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  if (target.searchParams.get('sslmode') === 'verify-full' && isIP(host)) {
    throw new ConfigError(`DATABASE_URL: with sslmode=verify-full, name the PostgreSQL server by its host name, not the address ${host} (its certificate could not be checked against it)`);
  }
}

// A server certificate the URL's sslrootcert does not vouch for, one issued for another name, or a
// server that only takes TLS: settings to fix, not an outage to wait out, so the process stops saying so.
const TLS_REFUSALS = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID']);

function refusedConnection(url: string, error: NodeJS.ErrnoException): ConfigError | undefined {
  const target = new URL(url);
  const where = `PostgreSQL at ${target.hostname}:${target.port || 5432} (sslmode=${target.searchParams.get('sslmode') ?? 'unset'})`;
  if (error.code && TLS_REFUSALS.has(error.code)) {
    const hint = error.code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? 'the server certificate is not issued for this host name' : "the server certificate is not issued by the CA in sslrootcert";
    return new ConfigError(`Cannot connect to ${where}: ${hint} (${error.code}: ${error.message})`);
  }
  if (error.code === '28000' || /does not support SSL/i.test(error.message)) return new ConfigError(`Cannot connect to ${where}: ${error.message}`);
  return undefined;
}
