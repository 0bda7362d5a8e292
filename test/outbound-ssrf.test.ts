/**
 * No request made for a user reaches inside the network: through the gateway, a REST definition's
 * `baseUrl` or a PostgreSQL connection string naming loopback, a private range or the metadata
 * address is refused with TARGET_NOT_ALLOWED before anything is sent, and the answer says nothing
 * about what listens there. The deployment here has no allow-list (the tests' default allows
 * loopback for their fakes).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboundPolicy, setOutboundPolicy } from '@listbackup/lib/outbound';
import { signUp, startStack, type SignedUp, type Stack } from '../gateway/test/support/stack.ts';

const CREATE = `mutation($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id status } }`;
const CONNECTIONS = `query($id: ID!) { account(id: $id) { connections { edges { node { id } } } } }`;

describe('outbound calls made for a user refuse internal addresses', () => {
  let stack: Stack;
  let user: SignedUp;
  let internal: http.Server;
  let internalPort: number;
  const hits: string[] = [];

  beforeAll(async () => {
    setOutboundPolicy(new OutboundPolicy());
    internal = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"internal admin API: token required"}');
    });
    await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
    internalPort = (internal.address() as AddressInfo).port;
    stack = await startStack();
    user = await signUp(stack);
  });
  afterAll(async () => {
    await stack?.close();
    await new Promise((resolve) => internal?.close(resolve));
  });

  const connectRest = (baseUrl: string) =>
    stack.graphql(
      CREATE,
      {
        input: {
          accountId: user.accountId,
          platformSlug: 'rest',
          apiKey: 'k_guess',
          params: [{ name: 'definition', value: JSON.stringify({ name: 'Probe', baseUrl, auth: { type: 'header', name: 'X-API-Key' }, resources: [{ name: 'users', path: 'users' }] }) }],
        },
      },
      user.accessToken,
    );
  const connectPostgres = (connectionString: string) =>
    stack.graphql(CREATE, { input: { accountId: user.accountId, platformSlug: 'postgresql', apiKey: connectionString } }, user.accessToken);

  it('refuses a REST API on loopback, a private range or the metadata address, in every spelling, and never calls it', async () => {
    const targets = [
      `http://127.0.0.1:${internalPort}/admin`,
      `http://localhost:${internalPort}/admin`,
      `http://2130706433:${internalPort}/admin`,
      `http://[::ffff:127.0.0.1]:${internalPort}/admin`,
      `http://[::1]:${internalPort}/admin`,
      `http://0.0.0.0:${internalPort}/admin`,
      'http://169.254.169.254/latest/meta-data',
      'http://10.0.0.1/api',
      'http://192.168.0.1/api',
      'http://100.100.100.200/latest',
    ];
    const messages = new Set<string>();
    for (const baseUrl of targets) {
      const result = await connectRest(baseUrl);
      expect(result.data, baseUrl).toBeNull();
      expect(result.errors?.map((error) => error.extensions?.code), baseUrl).toEqual(['TARGET_NOT_ALLOWED']);
      messages.add(result.errors![0].message);
    }
    expect(messages.size).toBe(1);
    expect([...messages][0]).not.toMatch(/401|token required|refused|127\.0|admin/i);
    expect(hits).toEqual([]);
    expect((await stack.graphql(CONNECTIONS, { id: user.accountId }, user.accessToken)).data.account.connections.edges).toEqual([]);
  });

  it('refuses a connection string to the product’s own PostgreSQL, and says nothing of the login', async () => {
    const own = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
    own.username = 'postgres';
    own.password = 'wrong-password';
    const byName = new URL(own);
    byName.hostname = 'localhost';
    for (const target of [own.toString(), byName.toString(), 'postgres://postgres:x@10.1.2.3:5432/postgres', 'postgresql://postgres@[::1]:5432/postgres']) {
      const result = await connectPostgres(target);
      expect(result.data, target).toBeNull();
      expect(result.errors?.map((error) => error.extensions?.code), target).toEqual(['TARGET_NOT_ALLOWED']);
      expect(result.errors![0].message).not.toMatch(/password|login|role|database|5432/i);
    }
  });

  it('says only TARGET_UNREACHABLE where nothing can be reached', async () => {
    const result = await connectRest('http://no-such-host.invalid/api');
    expect(result.errors?.map((error) => error.extensions?.code)).toEqual(['TARGET_UNREACHABLE']);
    expect(result.errors![0].message).not.toMatch(/ENOTFOUND|getaddrinfo|invalid/);
  });
});
