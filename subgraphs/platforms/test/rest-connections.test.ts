// Connections to a REST API the user describes (the `rest` platform): the definition is checked
// when connecting, the key is tried on the API's first resource the way the definition sends it,
// and the connection offers the resources the definition names. Over real HTTP, against a local
// server speaking a generic JSON API.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestDefinition } from '@listbackup/lib/rest-definition';
import type { Principal } from '@listbackup/lib/principal';
import { OutboxEvent } from '@listbackup/lib/events/outbox';
import { Connection } from '../src/entities/connection.ts';
import { ConnectionSecret } from '../src/entities/connection-secret.ts';
import { errorCodes, newUser, type GraphQLResponse } from '../../jobs/test/support/subgraph-harness.ts';
import { FakeRest } from '@listbackup/catalogue/rest/fake';
import { startPlatformsHarness, type PlatformsHarness } from './support/platforms-harness.ts';

const CREATE = `mutation($input: CreateApiKeyConnectionInput!) {
  createApiKeyConnection(input: $input) { id name status externalAccountId externalAccountName resources { name description incremental cursor } platform { slug resources { name } } }
}`;
const CONNECTION = `query($id: ID!) { connection(id: $id) { id resources { name } } }`;
const TEST = `mutation($id: ID!) { testConnection(id: $id) { ok errorCode connection { status } } }`;

describe('REST API connections', () => {
  let h: PlatformsHarness;
  let api: FakeRest;
  let alice: Principal;
  let bob: Principal;
  const account = randomUUID();
  const otherAccount = randomUUID();

  const definition = (overrides: Partial<RestDefinition> = {}): RestDefinition => ({
    name: 'Acme CRM',
    baseUrl: `${api.url}/api`,
    auth: { type: 'header', name: 'X-API-Key' },
    resources: [
      { name: 'contacts', path: 'contacts', items: '/data', pagination: { style: 'cursor', nextCursor: '/next_cursor' }, incremental: { param: 'updated_since', field: '/updated_at' } },
      { name: 'orders', path: 'orders', items: '/results', pagination: { style: 'page', totalPages: '/total_pages' } },
    ],
    ...overrides,
  });
  const connect = (value: string, apiKey = 'k_valid') =>
    h.subgraph.query(alice, CREATE, { input: { accountId: account, platformSlug: 'rest', apiKey, params: [{ name: 'definition', value }] } });

  beforeAll(async () => {
    h = await startPlatformsHarness();
    api = await new FakeRest().start();
    api.add('contacts');
    alice = newUser();
    bob = newUser();
    h.subgraph.access.grant(alice, account, 'admin');
    h.subgraph.access.grant(bob, otherAccount, 'admin');
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
  });

  const em = () => h.service.orm.em.fork();
  const snapshot = async () => ({ connections: await em().count(Connection, {}), secrets: await em().count(ConnectionSecret, {}), outbox: await em().count(OutboxEvent, {}) });
  const expectRefused = async (result: GraphQLResponse, code: string, before: Awaited<ReturnType<typeof snapshot>>) => {
    expect(result.data).toBeNull();
    expect(errorCodes(result)).toEqual([code]);
    expect(await snapshot()).toEqual(before);
  };

  it('tries the key on the first resource as the definition sends it, and the connection offers the resources the definition names', async () => {
    api.requests.length = 0;
    const result = await connect(JSON.stringify(definition()));
    expect(result.errors).toBeUndefined();
    const connection = result.data!.createApiKeyConnection;
    expect(connection).toMatchObject({ name: 'REST API', status: 'AUTHORIZED', externalAccountId: `${api.url}/api`, externalAccountName: 'Acme CRM', platform: { slug: 'rest', resources: [] } });
    expect(connection.resources).toEqual([
      { name: 'contacts', description: 'GET contacts', incremental: true, cursor: 'updated_since=<newest /updated_at seen>' },
      { name: 'orders', description: 'GET orders', incremental: false, cursor: null },
    ]);
    const [probe] = api.requestsTo('/api/contacts');
    expect(probe.headers['x-api-key']).toBe('k_valid');
    expect(probe.headers.authorization).toBeUndefined();

    // The worker gets the definition with the key.
    const token = await h.service.getAccessToken(account, connection.id);
    expect(JSON.parse(token.params.definition)).toMatchObject({ name: 'Acme CRM', baseUrl: `${api.url}/api` });
    expect(token.headers).toEqual({});

    expect((await h.subgraph.query(alice, TEST, { id: connection.id })).data!.testConnection).toMatchObject({ ok: true, connection: { status: 'AUTHORIZED' } });
    // Another tenant sees neither the connection nor what it offers.
    const theirs = await h.subgraph.query(bob, CONNECTION, { id: connection.id });
    expect(errorCodes(theirs)).toEqual(['NOT_FOUND']);
  });

  it('refuses a definition that is not JSON or not valid, naming the problem, and stores nothing', async () => {
    const before = await snapshot();
    const calls = api.requests.length;
    const cases: [string, RegExp][] = [
      ['{"name": "Acme",', /"API definition" is not valid/],
      ['{not json}', /not JSON/],
      [JSON.stringify(definition({ baseUrl: 'ftp://files.example.com' })), /baseUrl/],
      [JSON.stringify(definition({ resources: [] })), /resources/],
      [JSON.stringify(definition({ resources: [{ name: 'a', path: 'a' }, { name: 'a', path: 'b' }] })), /names a resource twice/],
      [JSON.stringify(definition({ resources: [{ name: 'a', path: 'a', pagination: { style: 'cursor' } }] })), /neither nextCursor nor hasMore/],
    ];
    for (const [value, message] of cases) {
      const result = await connect(value);
      await expectRefused(result, 'BAD_USER_INPUT', before);
      expect(result.errors![0].message).toMatch(message);
    }
    const missing = await h.subgraph.query(alice, CREATE, { input: { accountId: account, platformSlug: 'rest', apiKey: 'k_valid' } });
    await expectRefused(missing, 'BAD_USER_INPUT', before);
    expect(missing.errors![0].message).toContain('needs "definition"');
    expect(api.requests.length).toBe(calls);
  });

  it('connects an API without authentication with an empty key, and sends none', async () => {
    const seen: (string | undefined)[] = [];
    const open: Server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/json' }).end('[{"id": 1}]');
    });
    await new Promise<void>((resolve) => open.listen(0, '127.0.0.1', resolve));
    try {
      const baseUrl = `http://127.0.0.1:${(open.address() as AddressInfo).port}/v1`;
      const result = await connect(JSON.stringify({ name: 'Open data', baseUrl, auth: { type: 'none' }, resources: [{ name: 'items', path: 'items' }] }), '');
      expect(result.errors).toBeUndefined();
      expect(result.data!.createApiKeyConnection).toMatchObject({ status: 'AUTHORIZED', externalAccountName: 'Open data', resources: [{ name: 'items' }] });
      expect(seen).toEqual([undefined]);
    } finally {
      await new Promise<void>((resolve) => open.close(() => resolve()));
    }
  });

  it('refuses a key the API rejects, and a definition whose first resource the API does not have, storing nothing', async () => {
    const before = await snapshot();
    // An API that wants a key refuses an empty one.
    await expectRefused(await connect(JSON.stringify(definition()), ''), 'API_KEY_REJECTED', before);
    const rejected = await connect(JSON.stringify(definition()), 'k_wrong');
    await expectRefused(rejected, 'API_KEY_REJECTED', before);
    expect(rejected.errors![0].message).not.toContain('k_wrong');
    const wrongPath = await connect(JSON.stringify(definition({ resources: [{ name: 'people', path: 'people' }] })));
    await expectRefused(wrongPath, 'PLATFORM_UNAVAILABLE', before);
    expect(wrongPath.errors![0].message).toContain('GET /api/people answered HTTP 404');
  });
});
