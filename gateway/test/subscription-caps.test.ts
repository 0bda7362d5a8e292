/**
 * Issue 13's burst, scaled down: one user opens many websockets with many `jobEvents` subscriptions
 * at once. Within the caps every subscription starts, through a bounded keep-alive pool to the
 * subgraphs; past them the socket or the subscription is refused with a stable code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { createLogger } from '@listbackup/lib/logger';
import { readSupergraph } from '@listbackup/lib/supergraph';
import { startGateway, type RunningGateway } from '../src/index.ts';
import { DEFAULT_RATE_LIMITS, type RateLimits } from '../src/rate-limits.ts';
import { jobEventOf } from './support/job-events.ts';
import { signUp, startStack, type SignedUp, type Stack } from './support/stack.ts';

const SOCKETS = 30;
const PER_SOCKET = 10;

/** A TCP proxy in front of a subgraph, counting the connections the gateway opens to it. */
interface CountingProxy {
  url: string;
  connections: number;
  close(): Promise<void>;
}

async function countingProxy(target: string): Promise<CountingProxy> {
  const { hostname, port, pathname } = new URL(target);
  const sockets = new Set<net.Socket>();
  const proxy: CountingProxy = { url: '', connections: 0, close: async () => {} };
  const server = net.createServer((client) => {
    proxy.connections++;
    const upstream = net.connect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${pathname}`;
  proxy.close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return proxy;
}

let stack: Stack;
let alice: SignedUp;
let bob: SignedUp;
let proxies: Record<string, CountingProxy>;
const gateways: RunningGateway[] = [];

async function liveGateway(options: { rateLimits?: RateLimits; limits?: Record<string, number>; trustProxy?: boolean } = {}): Promise<string> {
  const gateway = await startGateway({
    port: 0,
    supergraphSdl: readSupergraph(),
    subgraphUrls: Object.fromEntries(Object.values(stack.services).map((service) => [service.name, proxies[service.name].url])),
    accountsUrl: stack.services.accounts.url,
    internalTokenSecret: stack.internalTokenSecret,
    log: createLogger('gateway', process.env.LOG_LEVEL ?? 'silent'),
    databaseUrl: stack.databaseUrl,
    rateLimits: options.rateLimits ?? DEFAULT_RATE_LIMITS,
    trustProxy: options.trustProxy,
    subscriptions: { bus: stack.bus, limits: options.limits },
  });
  gateways.push(gateway);
  return gateway.url.replace(/^http/, 'ws');
}

async function sql(text: string, values: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    await client.query(text, values);
  } finally {
    await client.end();
  }
}

/** A queued backup job of the account, as triggerSync leaves it. */
async function seedJob(accountId: string): Promise<{ accountId: string; sourceId: string; jobId: string }> {
  const connectionId = randomUUID();
  const sourceId = randomUUID();
  const jobId = randomUUID();
  await sql(
    `insert into platforms.connections (id, account_id, platform_id, name, status, created_at)
     select $1, $2, id, 'Stripe live', 'AUTHORIZED', now() from platforms.platforms where slug = 'stripe'`,
    [connectionId, accountId],
  );
  await sql(`insert into sources.sources (id, account_id, connection_id, name, resources, created_at, updated_at) values ($1, $2, $3, 'Stripe charges', '{charges}', now(), now())`, [
    sourceId,
    accountId,
    connectionId,
  ]);
  await sql(
    `insert into jobs.jobs (id, account_id, source_id, kind, status, params, trigger_kind, progress, created_at, updated_at)
     values ($1, $2, $3, 'BACKUP', 'QUEUED', '{}', 'USER', '{"itemsDone":0,"bytesDone":0}', now(), now())`,
    [jobId, accountId, sourceId],
  );
  return { accountId, sourceId, jobId };
}

beforeAll(async () => {
  stack = await startStack();
  proxies = Object.fromEntries(await Promise.all(Object.values(stack.services).map(async (service) => [service.name, await countingProxy(service.url)] as const)));
  [alice, bob] = await Promise.all([signUp(stack), signUp(stack)]);
});
afterAll(async () => {
  for (const gateway of gateways) await gateway.close();
  for (const proxy of Object.values(proxies ?? {})) await proxy.close();
  await stack?.close();
});

interface Socket {
  client: Client;
  closes: { code: number; reason: string }[];
}

function socket(url: string, token: string): Socket {
  const closes: Socket['closes'] = [];
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { Authorization: `Bearer ${token}` },
    on: { closed: (event) => closes.push({ code: (event as CloseEvent).code, reason: String((event as CloseEvent).reason) }) },
  });
  return { client, closes };
}

interface Live {
  results: any[];
  errors?: any[];
  stop: () => void;
}

function jobEvents(client: Client, accountId: string, index: number): Live {
  const live: Live = { results: [], stop: () => {} };
  // Each of the ten selects differently, so they are ten distinct subscriptions, not one shared.
  live.stop = client.subscribe(
    { query: `subscription Watch${index}($account: ID!) { jobEvents(accountId: $account) { id status progress { itemsDone } w${index}: id } }`, variables: { account: accountId } },
    { next: (result) => live.results.push(result), error: (error) => (live.errors = error as any[]), complete: () => {} },
  );
  return live;
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const codeOf = (live: Live) => (live.errors ?? []).map((error) => error.extensions?.code);

describe('a burst of websockets and subscriptions from one user', () => {
  it(`starts every one of ${SOCKETS} sockets × ${PER_SOCKET} subscriptions, over a bounded pool, and refuses the socket and the subscription past the caps`, async () => {
    const url = await liveGateway({ limits: { socketsPerPrincipal: SOCKETS, perPrincipal: SOCKETS * PER_SOCKET } });
    const job = await seedJob(alice.accountId);
    for (const proxy of Object.values(proxies)) proxy.connections = 0;

    const sockets = Array.from({ length: SOCKETS }, () => socket(url, alice.accessToken));
    const lives = sockets.flatMap(({ client }) => Array.from({ length: PER_SOCKET }, (_, index) => jobEvents(client, alice.accountId, index)));
    // Started: each has sent the job's current state.
    await waitFor(() => lives.every((live) => live.results.length >= 1 || live.errors), 'every subscription to start');
    expect(lives.filter((live) => live.errors).map((live) => live.errors)).toEqual([]);
    for (const live of lives) expect(live.results[0]).toEqual({ data: { jobEvents: expect.objectContaining({ id: job.jobId, status: 'QUEUED' }) } });
    expect(sockets.flatMap(({ closes }) => closes)).toEqual([]);
    // 300 starts, each asking the subgraphs as the caller, went through at most the pool's 64 connections per subgraph.
    for (const name of ['accounts', 'jobs']) {
      expect(proxies[name].connections).toBeGreaterThan(0);
      expect(proxies[name].connections).toBeLessThanOrEqual(64);
    }

    // Every subscription is live: an event reaches all of them.
    await stack.bus.publishEphemeral(jobEventOf('job.progress', job, { status: 'RUNNING', itemsDone: 40 }));
    await waitFor(() => lives.every((live) => live.results.length >= 2), 'the event on every subscription');
    for (const live of lives) expect(live.results[1].data.jobEvents).toMatchObject({ id: job.jobId, status: 'RUNNING', progress: { itemsDone: 40 } });

    // One socket more is refused at connection_init, with its close code and a reason naming the cap.
    const extra = socket(url, alice.accessToken);
    const refused = jobEvents(extra.client, alice.accountId, 0);
    await waitFor(() => extra.closes.length > 0, 'the extra socket to close');
    expect(extra.closes[0].code).toBe(4030);
    expect(extra.closes[0].reason).toMatch(new RegExp(`^TOO_MANY_CONNECTIONS: at most ${SOCKETS} open websockets`));
    expect(refused.results).toEqual([]);

    // One subscription more, on a socket already open, is refused with TOO_MANY_SUBSCRIPTIONS.
    const over = jobEvents(sockets[0].client, alice.accountId, 11);
    await waitFor(() => over.errors !== undefined, 'the extra subscription to be refused');
    expect(codeOf(over)).toEqual(['TOO_MANY_SUBSCRIPTIONS']);

    // Another user is not held to alice's caps.
    await seedJob(bob.accountId);
    const bobs = socket(url, bob.accessToken);
    const bobLive = jobEvents(bobs.client, bob.accountId, 0);
    await waitFor(() => bobLive.results.length > 0 || bobLive.errors !== undefined, "bob's subscription");
    expect(bobLive.errors).toBeUndefined();

    // Closing a socket gives its places back.
    await sockets[1].client.dispose();
    const again = socket(url, alice.accessToken);
    const started = jobEvents(again.client, alice.accountId, 0);
    await waitFor(() => started.results.length > 0 || started.errors !== undefined || again.closes.length > 0, 'a socket after one closed');
    expect(again.closes).toEqual([]);
    expect(started.errors).toBeUndefined();

    for (const { client } of [...sockets, extra, bobs, again]) await client.dispose();
  }, 240_000);
});

describe('websocket rate limits', () => {
  it('refuses connects past the per-principal rate with close code 4029 and RATE_LIMITED, and subscriptions past theirs with RATE_LIMITED and retryAfter', async () => {
    const url = await liveGateway({
      rateLimits: { ...DEFAULT_RATE_LIMITS, websocketsPerPrincipal: { points: 2, durationSeconds: 600 }, subscriptionsPerPrincipal: { points: 3, durationSeconds: 600 } },
    });
    // Counts are shared by every gateway of the database: a user of its own starts from zero.
    const carol = await signUp(stack);
    await seedJob(carol.accountId);
    const first = socket(url, carol.accessToken);
    const second = socket(url, carol.accessToken);
    const third = socket(url, carol.accessToken);
    const lives = [first, first, second].map(({ client }, index) => jobEvents(client, carol.accountId, index));
    await waitFor(() => lives.every((live) => live.results.length > 0), 'three subscriptions');
    const fourth = jobEvents(second.client, carol.accountId, 3);
    await waitFor(() => fourth.errors !== undefined, 'the fourth subscription to be refused');
    expect(codeOf(fourth)).toEqual(['RATE_LIMITED']);
    expect(fourth.errors![0].extensions.retryAfter).toBeGreaterThan(0);

    jobEvents(third.client, carol.accountId, 0);
    await waitFor(() => third.closes.length > 0, 'the third socket to close');
    expect(third.closes[0].code).toBe(4029);
    expect(third.closes[0].reason).toMatch(/^RATE_LIMITED: .*retry after \d+ s/);
    for (const { client } of [first, second, third]) await client.dispose();
  });

  it('answers upgrades past the per-IP rate with HTTP 429 and Retry-After', async () => {
    const url = await liveGateway({ rateLimits: { ...DEFAULT_RATE_LIMITS, websocketsPerIp: { points: 1, durationSeconds: 600 } }, trustProxy: true });
    const upgrade = () =>
      new Promise<{ status: number; retryAfter?: string; body: string }>((resolve, reject) => {
        const ws = new WebSocket(url, 'graphql-transport-ws', { headers: { 'x-forwarded-for': '203.0.113.50' } });
        ws.on('open', () => {
          ws.close();
          resolve({ status: 101, body: '' });
        });
        ws.on('unexpected-response', (_request, response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'] as string | undefined, body }));
        });
        ws.on('error', (error) => {
          if (!/Unexpected server response/.test(error.message)) reject(error);
        });
      });
    expect((await upgrade()).status).toBe(101);
    const refused = await upgrade();
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(JSON.parse(refused.body).errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'websocketsPerIp' });
  });
});
