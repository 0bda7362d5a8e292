import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { decodeJwt, UnsecuredJWT } from 'jose';
import pino from 'pino';
import { startGateway, type RunningGateway, type SubgraphRequest } from '../src/index.ts';
import { issueAccessToken, newSigningKey, startFakeAccounts, type FakeAccounts, type SigningKey } from './support/fake-accounts.ts';
import { fakeSupergraph, startFakeSubgraphs, type FakeSubgraphs } from './support/fake-subgraphs.ts';

// The gateway alone, in front of two small subgraphs served by the shared subgraph server and a
// stand-in for the accounts routes it calls. The five real subgraphs are in stack.test.ts.
const secret = randomBytes(32).toString('hex');
let accounts: FakeAccounts;
let subgraphs: FakeSubgraphs;
let gateway: RunningGateway;
let key: SigningKey;
let clock = 0;
const sent: SubgraphRequest[] = [];

async function post(body: unknown, headers: Record<string, string> = {}, url = gateway.url) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as { data?: any; errors?: any[] } };
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  key = await newSigningKey();
  accounts = await startFakeAccounts(secret, [key]);
  subgraphs = await startFakeSubgraphs(secret);
  gateway = await startGateway({
    port: 0,
    supergraphSdl: fakeSupergraph(),
    subgraphUrls: subgraphs.urls,
    accountsUrl: accounts.url,
    internalTokenSecret: secret,
    log: pino({ level: 'silent' }),
    onSubgraphRequest: (request) => sent.push(request),
    auth: { now: () => clock },
  });
});
afterAll(async () => {
  await gateway?.close();
  await subgraphs?.close();
  await accounts?.close();
});
beforeEach(() => {
  sent.length = 0;
});

describe('identity reaches every subgraph', () => {
  it('signs one token per subgraph, for that subgraph, carrying the verified user and the request id', async () => {
    const token = await issueAccessToken({ key, userId: 'user-9', sessionId: 'sess-1' });
    const { status, body, headers } = await post(
      { query: '{ whoami { kind userId requestId clientIp } item(id: "3") { name price seenBy { kind userId requestId } } }' },
      // A client cannot pass its own gateway token or client IP on to subgraphs.
      { ...bearer(token), 'x-request-id': 'req-abc.123', 'x-listbackup-client-ip': '6.6.6.6', 'x-listbackup-internal': 'forged' },
    );
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({
      whoami: { kind: 'user', userId: 'user-9', requestId: 'req-abc.123', clientIp: '127.0.0.1' },
      item: { name: 'item 3', price: 300, seenBy: { kind: 'user', userId: 'user-9', requestId: 'req-abc.123' } },
    });
    expect(headers.get('x-request-id')).toBe('req-abc.123');
    expect(sent.map((request) => request.subgraph).sort()).toEqual(['alpha', 'beta']);
  });

  it('sends anonymous callers on as anonymous', async () => {
    const { body } = await post({ query: '{ whoami { kind userId } }' });
    expect(body.data.whoami).toEqual({ kind: 'anonymous', userId: null });
  });

  it('replaces a request id that is not sane', async () => {
    const { body, headers } = await post({ query: '{ whoami { requestId } }' }, { 'x-request-id': 'bad id\twith spaces' });
    expect(body.data.whoami.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(headers.get('x-request-id')).toBe(body.data.whoami.requestId);
  });

  it('batches the representations of a list into one _entities request', async () => {
    const { body } = await post({ query: '{ items(count: 50) { id price } }' });
    expect(body.data.items).toHaveLength(50);
    expect(body.data.items[49]).toEqual({ id: '49', price: 4900 });
    const entityCalls = sent.filter((request) => request.query.includes('_entities'));
    expect(entityCalls).toHaveLength(1);
    expect((entityCalls[0].variables!.representations as unknown[]).length).toBe(50);
  });
});

describe('bad credentials', () => {
  const badTokens: [string, () => Promise<string>][] = [
    ['malformed', async () => 'Bearer not.a.token'],
    ['expired', async () => `Bearer ${await issueAccessToken({ key, expiresAt: Math.floor(Date.now() / 1000) - 1 })}`],
    ['wrong key', async () => `Bearer ${await issueAccessToken({ key: { ...(await newSigningKey()), kid: key.kid } })}`],
    ['alg none', async () => `Bearer ${new UnsecuredJWT({ sid: 's' }).setSubject('u').setIssuer('listbackup').setAudience('listbackup-api').encode()}`],
    ['not Bearer', async () => 'Token abc'],
    ['unknown API key', async () => 'Bearer lbk_nope'],
  ];
  it.each(badTokens)('answers a %s credential with 401 UNAUTHENTICATED and reaches no subgraph', async (_name, header) => {
    const { status, body, headers } = await post({ query: '{ whoami { kind } }' }, { authorization: await header() });
    expect(status).toBe(401);
    expect(body.data).toBeUndefined();
    expect(body.errors).toHaveLength(1);
    expect(body.errors![0].extensions).toEqual({ code: 'UNAUTHENTICATED' });
    expect(body.errors![0].message).toMatch(/token|API key|Authorization/);
    expect(headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    expect(sent).toHaveLength(0);
  });

  it('accepts an API key and stops accepting it once revoked (verdicts are reused up to 30 s)', async () => {
    const apiKey = `lbk_${randomBytes(16).toString('hex')}`;
    accounts.apiKeys.set(apiKey, { apiKeyId: 'key-1', accountId: 'acc-1', scopes: ['jobs:read'] });
    const before = await post({ query: '{ whoami { kind apiKeyId } }' }, bearer(apiKey));
    expect(before.body.data.whoami).toEqual({ kind: 'apiKey', apiKeyId: 'key-1' });

    accounts.apiKeys.get(apiKey)!.revoked = true;
    clock += 30_000;
    const after = await post({ query: '{ whoami { kind apiKeyId } }' }, bearer(apiKey));
    expect(after.status).toBe(401);
    expect(after.body.errors![0].message).toMatch(/revoked/);
  });
});

describe('errors', () => {
  it('passes a subgraph error code through unchanged', async () => {
    const { body } = await post({ query: '{ item(id: "missing") { name } }' });
    expect(body.errors![0]).toMatchObject({ message: 'Item not found', path: ['item'], extensions: { code: 'NOT_FOUND' } });
  });

  it('masks an unexpected subgraph error', async () => {
    const { body } = await post({ query: '{ broken }' });
    expect(body.errors![0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(JSON.stringify(body)).not.toContain('postgres://');
  });

  it('reports a bad query with its own code', async () => {
    const { status, body } = await post({ query: '{ whoami { nope } }' });
    // GraphQL over HTTP: 200 for a client that accepts only application/json, 400 for graphql-response+json.
    expect(status).toBe(200);
    expect(body.errors![0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const strict = await post({ query: '{ whoami { nope } }' }, { accept: 'application/graphql-response+json' });
    expect(strict.status).toBe(400);
    expect(strict.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
    expect(strict.body.errors![0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(sent).toHaveLength(0);
  });

  it('refuses a GET without a CSRF preflight header', async () => {
    const response = await fetch(`${gateway.url}?query=${encodeURIComponent('{ whoami { kind } }')}`);
    expect(response.status).toBe(400);
    expect(sent).toHaveLength(0);
  });

  it('masks a subgraph that refuses the gateway (mismatched secret) instead of leaking its answer', async () => {
    const other = await startGateway({
      port: 0,
      supergraphSdl: fakeSupergraph(),
      subgraphUrls: subgraphs.urls,
      accountsUrl: accounts.url,
      internalTokenSecret: randomBytes(32).toString('hex'),
      log: pino({ level: 'silent' }),
    });
    try {
      const { body } = await post({ query: '{ whoami { kind } }' }, {}, other.url);
      expect(body.data).toBeNull();
      expect(body.errors).toEqual([{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
    } finally {
      await other.close();
    }
  });
});

describe('start-up', () => {
  it('refuses to start without a URL for every subgraph of the supergraph', async () => {
    const starting = startGateway({
      port: 0,
      supergraphSdl: fakeSupergraph(),
      subgraphUrls: { alpha: subgraphs.urls.alpha },
      accountsUrl: accounts.url,
      internalTokenSecret: secret,
      log: pino({ level: 'silent' }),
    });
    await expect(starting).rejects.toThrow(/No URL configured for subgraph "beta"/);
  });
});

describe('routes', () => {
  const origin = () => new URL(gateway.url).origin;

  it('serves /healthz', async () => {
    const response = await fetch(`${origin()}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('serves the public JWKS of accounts at /.well-known/jwks.json', async () => {
    const response = await fetch(`${origin()}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: key.publicJwk.x, kid: key.kid, alg: 'EdDSA', use: 'sig' }] });
  });

  it('answers unknown paths with 404', async () => {
    expect((await fetch(`${origin()}/nope`)).status).toBe(404);
  });

  it('sends each subgraph a short-lived token addressed to it alone', async () => {
    const tokens: Record<string, string> = {};
    const recorder = http.createServer((req, res) => {
      tokens[req.url!] = String(req.headers['x-listbackup-internal']);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { whoami: { kind: 'user' } } }));
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    const { port } = recorder.address() as AddressInfo;
    const recorded = await startGateway({
      port: 0,
      supergraphSdl: fakeSupergraph(),
      subgraphUrls: { alpha: `http://127.0.0.1:${port}/alpha`, beta: `http://127.0.0.1:${port}/beta` },
      accountsUrl: accounts.url,
      internalTokenSecret: secret,
      log: pino({ level: 'silent' }),
    });
    try {
      await post({ query: '{ whoami { kind } }' }, bearer(await issueAccessToken({ key, userId: 'u-1' })), recorded.url);
    } finally {
      await recorded.close();
      recorder.close();
    }
    const claims = decodeJwt(tokens['/alpha']);
    expect(claims.aud).toBe('alpha');
    expect(claims.principal).toEqual({ kind: 'user', userId: 'u-1', sessionId: 'session-1' });
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(60);
  });

  it('is ready only while every subgraph is ready', async () => {
    const ready = await fetch(`${origin()}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { alpha: 'ok', beta: 'ok' } });

    await subgraphs.beta.close();
    const notReady = await fetch(`${origin()}/readyz`);
    expect(notReady.status).toBe(503);
    const report = (await notReady.json()) as { status: string; failed: string[]; checks: Record<string, string> };
    expect(report.status).toBe('unavailable');
    expect(report.failed).toEqual(['beta']);
    expect(report.checks.beta).toMatch(/unreachable/);
  });
});
