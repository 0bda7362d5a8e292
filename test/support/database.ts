import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const serverUrl = () => process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh database on the test server; `drop()` removes it. */
export async function createTestDatabase(prefix = 'lb'): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl() });
  await admin.connect();
  await admin.query(`create database ${pg.escapeIdentifier(name)}`);
  await admin.end();
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl() });
      await client.connect();
      await client.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
      await client.end();
    },
  };
}

/**
 * A login role with a password of its own on the test server, for tests that put credentials in a
 * connection string: the embedded server checks passwords (scram-sha-256), a trust server accepts
 * them anyway, so the same test runs on both. `url(database)` logs in as the role.
 */
export async function createLoginRole(prefix = 'lb_role'): Promise<{ user: string; password: string; url(database: string): string; drop(): Promise<void> }> {
  const user = `${prefix}_${randomBytes(5).toString('hex')}`;
  const password = `pw${randomBytes(12).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: serverUrl() });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`create role ${pg.escapeIdentifier(user)} login createdb password ${pg.escapeLiteral(password)}`);
  return {
    user,
    password,
    url(database) {
      const url = new URL(serverUrl());
      url.username = user;
      url.password = password;
      url.pathname = `/${database}`;
      return url.toString();
    },
    async drop() {
      await admin(`drop role if exists ${pg.escapeIdentifier(user)}`);
    },
  };
}
