import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_IP_HEADER, InternalCallError, InternalClient, REQUEST_ID_HEADER, systemCaller, type Caller } from '../src/internal-client.ts';
import { INTERNAL_TOKEN_HEADER, verifyInternalToken } from '../src/internal-token.ts';

const secret = randomBytes(32).toString('base64url');

interface Seen {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  socket: object;
}

/** A real HTTP server that records what it was sent; `answer` decides the reply per request. */
let server: http.Server;
let url: string;
let seen: Seen[] = [];
let answer: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;
const sockets = new Set<object>();
let open = 0;
let mostOpenAtOnce = 0;

beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    seen.push({ method: req.method!, path: req.url!, headers: req.headers, body, socket: req.socket });
    answer(req, res, body);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    open++;
    mostOpenAtOnce = Math.max(mostOpenAtOnce, open);
    socket.on('close', () => open--);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

let client: InternalClient;
afterEach(async () => {
  await client?.close();
  seen = [];
  sockets.clear();
  mostOpenAtOnce = open;
});

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

describe('the internal client', () => {
  it('sends the internal token for the service, the request id and the client IP', async () => {
    client = new InternalClient({ internalTokenSecret: secret });
    answer = (_req, res, body) => json(res, 200, { echo: JSON.parse(body) });
    const caller: Caller = { principal: { kind: 'user', userId: 'u-1', sessionId: 's-1' }, requestId: 'req-42', clientIp: '203.0.113.9' };
    const body = await client.service('sources', url).json({ path: '/internal/things', caller, json: { a: 1 } });
    expect(body).toEqual({ echo: { a: 1 } });
    const [request] = seen;
    expect(request).toMatchObject({ method: 'POST', path: '/internal/things' });
    expect(request.headers[REQUEST_ID_HEADER]).toBe('req-42');
    expect(request.headers[CLIENT_IP_HEADER]).toBe('203.0.113.9');
    expect(verifyInternalToken(secret, 'sources', request.headers[INTERNAL_TOKEN_HEADER] as string)).toEqual({ principal: caller.principal, requestId: 'req-42' });
  });

  it('signs one token per caller and service, however many calls it makes', async () => {
    client = new InternalClient({ internalTokenSecret: secret });
    answer = (_req, res) => json(res, 200, {});
    const caller = systemCaller('one-request');
    const accounts = client.service('accounts', url);
    const jobs = client.service('jobs', url);
    await Promise.all([accounts.json({ path: '/a', caller }), accounts.json({ path: '/b', caller }), jobs.json({ path: '/c', caller })]);
    await accounts.json({ path: '/d', caller: systemCaller('another-request') });
    const tokens = seen.map((request) => request.headers[INTERNAL_TOKEN_HEADER]);
    const byPath = Object.fromEntries(seen.map((request) => [request.path, request.headers[INTERNAL_TOKEN_HEADER]]));
    expect(byPath['/a']).toBe(byPath['/b']);
    expect(byPath['/c']).not.toBe(byPath['/a']);
    expect(byPath['/d']).not.toBe(byPath['/a']);
    expect(new Set(tokens).size).toBe(3);
  });

  it('keeps connections alive and queues a burst on a bounded number of them', async () => {
    client = new InternalClient({ internalTokenSecret: secret, connectionsPerService: 4 });
    const held: (() => void)[] = [];
    answer = (_req, res) => held.push(() => json(res, 200, { ok: true }));
    const service = client.service('platforms', url);
    const calls = Array.from({ length: 40 }, (_, i) => service.json({ path: `/burst/${i}`, caller: systemCaller('burst') }));
    await expect.poll(() => held.length).toBe(4);
    // Four in flight, 36 waiting: release them in turns; every one is answered over the same four sockets.
    while (seen.length < 40 || held.length) {
      for (const release of held.splice(0)) release();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(await Promise.all(calls)).toHaveLength(40);
    expect(new Set(seen.map((request) => request.socket)).size).toBe(4);
    expect(mostOpenAtOnce).toBeLessThanOrEqual(4);
  });

  it('refuses at once beyond the queue bound, with a clear error', async () => {
    client = new InternalClient({ internalTokenSecret: secret, connectionsPerService: 1, maxQueuedPerService: 2 });
    const held: (() => void)[] = [];
    answer = (_req, res) => held.push(() => json(res, 200, {}));
    const service = client.service('billing', url);
    const accepted = [1, 2, 3].map((i) => service.json({ path: `/q/${i}`, caller: systemCaller('q') }));
    await expect(service.json({ path: '/q/4', caller: systemCaller('q') })).rejects.toThrow(/overloaded/);
    expect(seen.some((request) => request.path === '/q/4')).toBe(false);
    for (let released = 0; released < 3; ) {
      const ready = held.splice(0);
      for (const release of ready) release();
      released += ready.length;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(await Promise.all(accepted)).toHaveLength(3);
  });

  it('retries an idempotent call on 503 and on a dropped connection, boundedly; never a POST that is not idempotent', async () => {
    client = new InternalClient({ internalTokenSecret: secret, retryDelayMs: 1 });
    let failures = 2;
    answer = (req, res) => {
      if (req.url === '/reset' && failures-- > 0) return req.socket.destroy();
      if (failures-- > 0) return json(res, 503, { error: 'busy' });
      json(res, 200, { ok: true });
    };
    const service = client.service('jobs', url);
    expect(await service.json({ path: '/read', caller: systemCaller('r') })).toEqual({ ok: true });
    expect(seen.filter((request) => request.path === '/read')).toHaveLength(3);

    failures = 2;
    expect(await service.json({ path: '/reset', caller: systemCaller('r'), json: {}, idempotent: true })).toEqual({ ok: true });
    expect(seen.filter((request) => request.path === '/reset')).toHaveLength(3);

    failures = 5;
    const error = await service.json({ path: '/always-busy', caller: systemCaller('r') }).catch((e) => e);
    expect(error).toBeInstanceOf(InternalCallError);
    expect(error.status).toBe(503);
    expect(seen.filter((request) => request.path === '/always-busy')).toHaveLength(3); // 1 + 2 retries

    failures = 1;
    await expect(service.json({ path: '/write', caller: systemCaller('w'), json: { once: true } })).rejects.toMatchObject({ status: 503 });
    expect(seen.filter((request) => request.path === '/write')).toHaveLength(1);
  });

  it('gives up on a service that does not answer in time', async () => {
    client = new InternalClient({ internalTokenSecret: secret });
    answer = () => {}; // never answers
    const error = await client
      .service('accounts', url)
      .json({ path: '/slow', caller: systemCaller('t'), timeoutMs: 200, idempotent: false })
      .catch((e) => e);
    expect(error).toBeInstanceOf(InternalCallError);
    expect(error.message).toMatch(/accounts \/slow: unreachable \(UND_ERR_HEADERS_TIMEOUT\)/);
  });

  it('runs every attempt through its middleware, which may add headers and sees the outcome', async () => {
    client = new InternalClient({ internalTokenSecret: secret, retryDelayMs: 1 });
    let failures = 1;
    answer = (_req, res) => (failures-- > 0 ? json(res, 502, {}) : json(res, 200, { ok: true }));
    const outcomes: string[] = [];
    client.use(async (call, next) => {
      call.headers.traceparent = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
      const response = await next(call);
      outcomes.push(`${call.service} ${call.method} ${call.url.pathname} #${call.attempt} → ${response.status}`);
      return response;
    });
    await client.service('sources', url).json({ path: '/traced', caller: systemCaller('m') });
    expect(outcomes).toEqual(['sources GET /traced #1 → 502', 'sources GET /traced #2 → 200']);
    expect(seen.every((request) => String(request.headers.traceparent).startsWith('00-aaaa'))).toBe(true);
  });
});
