// A PostgreSQL database connected like an API-key platform: the connection string is the key, the
// identity check is a login to the real test server, and the string is never shown or logged.
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@listbackup/lib/principal';
import { OutboxEvent } from '@listbackup/lib/events/outbox';
import { Connection } from '../src/entities/connection.ts';
import { ConnectionSecret } from '../src/entities/connection-secret.ts';
import { errorCodes, newUser, type GraphQLResponse } from '../../jobs/test/support/subgraph-harness.ts';
import { createLoginRole } from '../../../test/support/database.ts';
import { startPlatformsHarness, type PlatformsHarness } from './support/platforms-harness.ts';

type LoginRole = Awaited<ReturnType<typeof createLoginRole>>;

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const CREATE = `mutation($input: CreateApiKeyConnectionInput!) {
  createApiKeyConnection(input: $input) { id name status authType externalAccountId externalAccountName params { name value } lastTestedAt platform { slug category } }
}`;
const TEST = `mutation($id: ID!) { testConnection(id: $id) { ok errorCode message connection { id status lastError lastErrorCode externalAccountName } } }`;

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The login role's URL for a database, in another scheme or on another port. */
function urlOf(role: LoginRole, database: string, scheme = 'postgres', port?: number): string {
  const url = new URL(role.url(database));
  if (port) url.port = String(port);
  return url.toString().replace(/^postgres(ql)?:/, `${scheme}:`);
}

describe('PostgreSQL connections', () => {
  let h: PlatformsHarness;
  let alice: Principal;
  const account = randomUUID();
  const database = `lb_pgconn_${randomBytes(5).toString('hex')}`;
  let role: LoginRole;
  let password: string;
  let connectionString: string;

  beforeAll(async () => {
    role = await createLoginRole('lb_pgconn');
    password = role.password;
    await admin(`create database ${database} owner ${role.user}`);
    connectionString = urlOf(role, database);
    h = await startPlatformsHarness();
    alice = newUser();
    h.subgraph.access.grant(alice, account, 'admin');
  });
  afterAll(async () => {
    await h?.close();
    await admin(`drop database if exists ${database} with (force)`);
    await role?.drop();
  });

  const em = () => h.service.orm.em.fork();
  const snapshot = async () => ({
    connections: await em().count(Connection, {}),
    secrets: await em().count(ConnectionSecret, {}),
    outbox: await em().count(OutboxEvent, {}),
  });
  const expectRefused = async (result: GraphQLResponse, code: string, before: Awaited<ReturnType<typeof snapshot>>, key: string) => {
    expect(result.data).toBeNull();
    expect(errorCodes(result)).toEqual([code]);
    expect(JSON.stringify(result)).not.toContain(key);
    expect(JSON.stringify(result)).not.toContain(password);
    expect(await snapshot()).toEqual(before);
  };
  /** The connection string, or its password, anywhere in the captured log lines or the platforms schema. */
  const leaked = async () => {
    const dump = await em().getConnection().execute<{ row: string }[]>(
      `select row_to_json(t)::text as row from (select * from platforms.connection_secrets) t
       union all select row_to_json(t)::text from (select * from platforms.connections) t
       union all select row_to_json(t)::text from (select * from platforms.outbox_events) t`,
    );
    const text = [...h.logs, ...h.subgraph.queries, ...dump.map(({ row }) => row)].join('\n');
    return { rows: dump.length, leak: text.includes(password) || text.includes(connectionString) };
  };

  let connectionId: string;

  it('logs in to check the connection string, seals it, and names the connection user@database', async () => {
    const result = await h.subgraph.query(alice, CREATE, { input: { accountId: account, platformSlug: 'postgresql', apiKey: connectionString } });
    expect(result.errors).toBeUndefined();
    const connection = result.data!.createApiKeyConnection;
    const server = new URL(DATABASE_URL);
    expect(connection).toMatchObject({
      name: 'PostgreSQL',
      status: 'AUTHORIZED',
      authType: 'API_KEY',
      externalAccountName: `${role.user}@${database}`,
      externalAccountId: `${role.user}@${server.hostname}:${server.port || 5432}/${database}`,
      params: [],
      platform: { slug: 'postgresql', category: 'DATABASE' },
    });
    expect(JSON.stringify(result)).not.toContain(password);
    connectionId = connection.id;

    // The jobs worker gets the string back as the key, and in no header.
    const token = await h.service.getAccessToken(account, connectionId);
    expect(token).toMatchObject({ authType: 'API_KEY', platform: 'postgresql', token: connectionString, headers: {}, apiBaseUrl: '' });
    expect((await h.waitForEvent('connection.authorized', connectionId)).data).toMatchObject({ externalAccountId: connection.externalAccountId });
  });

  it('tests the connection by logging in again', async () => {
    const result = await h.subgraph.query(alice, TEST, { id: connectionId });
    expect(result.errors).toBeUndefined();
    expect(result.data!.testConnection).toMatchObject({ ok: true, errorCode: null, connection: { status: 'AUTHORIZED', lastErrorCode: null, externalAccountName: `${role.user}@${database}` } });
    expect(result.data!.testConnection.message).toContain(`${role.user}@${database}`);
    expect(JSON.stringify(result)).not.toContain(password);
  });

  describe('bad input: a clear error with a stable code, and nothing stored', () => {
    it('refuses a URL of another scheme, or no URL, as INVALID_API_KEY_FORMAT without echoing it', async () => {
      const before = await snapshot();
      for (const key of [urlOf(role, database, 'mysql'), urlOf(role, database, 'http'), `postgres:///${database}`, `host=127.0.0.1 dbname=${database} password=${password}`]) {
        const result = await h.subgraph.query(alice, CREATE, { input: { accountId: account, platformSlug: 'postgresql', apiKey: key } });
        await expectRefused(result, 'INVALID_API_KEY_FORMAT', before, key);
        expect(result.errors![0].message).toContain('postgres://user:password@host:5432/database');
      }
    });

    it('refuses a database that does not exist as API_KEY_REJECTED, and a server that is not there as TARGET_UNREACHABLE, saying no more', async () => {
      const before = await snapshot();
      const unreachable = urlOf(role, database, 'postgresql', 1);
      const missing = urlOf(role, `${database}_missing`);
      for (const [key, code, why] of [
        [unreachable, 'TARGET_UNREACHABLE', 'its address could not be reached'],
        [missing, 'API_KEY_REJECTED', 'does not exist'],
      ] as const) {
        const result = await h.subgraph.query(alice, CREATE, { input: { accountId: account, platformSlug: 'postgresql', apiKey: key } });
        await expectRefused(result, code, before, key);
        expect(result.errors![0].message).toContain(why);
      }
    });
  });

  it('marks the connection FAILED when the database is gone, then AUTHORIZED once it is back', async () => {
    await admin(`drop database ${database} with (force)`);
    try {
      const failed = await h.subgraph.query(alice, TEST, { id: connectionId });
      expect(failed.errors).toBeUndefined();
      expect(failed.data!.testConnection).toMatchObject({ ok: false, errorCode: 'CREDENTIALS_REFUSED', connection: { status: 'FAILED', lastErrorCode: 'CREDENTIALS_REFUSED' } });
      expect(failed.data!.testConnection.message).toContain('does not exist');
      expect(JSON.stringify(failed)).not.toContain(password);
    } finally {
      await admin(`create database ${database} owner ${role.user}`);
    }
    const back = await h.subgraph.query(alice, TEST, { id: connectionId });
    expect(back.data!.testConnection).toMatchObject({ ok: true, connection: { status: 'AUTHORIZED', lastErrorCode: null } });
  });

  it('never writes the connection string in a log line or in clear in any row', async () => {
    const { rows, leak } = await leaked();
    // The capture is real: the flows above were logged (the refusals with their reasons), and the rows are there.
    const logText = h.logs.join('\n');
    expect(logText).toContain(connectionId);
    expect(logText).toContain('its address could not be reached');
    expect(h.subgraph.queries.join('\n')).toContain('insert into "platforms"."connection_secrets"');
    expect(rows).toBeGreaterThan(0);
    expect(leak).toBe(false);
  });
});
