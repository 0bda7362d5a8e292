/**
 * Live job status through the federated gateway: both websocket protocols, real clients, tenant
 * isolation, bad input, sharing and release of bus subscriptions, across gateway processes.
 * The five subgraphs and the gateway are real; job events are published the way the jobs worker does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { ApolloClient, gql, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { SubscriptionClient } from 'subscriptions-transport-ws';
import { SignJWT, importJWK } from 'jose';
import type { EventBus, EventHandler, EventSubscription, SubscribeOptions } from '@listbackup/lib/events/bus';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import { jobEventOf, type JobEventType, type JobStatePatch } from './support/job-events.ts';
import { NatsEventBus } from '@listbackup/lib/events/nats-bus';
import { createLogger } from '@listbackup/lib/logger';
import { readSupergraph } from '@listbackup/lib/supergraph';
import { startGateway, type RunningGateway, type SubgraphRequest } from '../src/index.ts';
import { postGraphQL, signUp, startStack, type SignedUp, type Stack } from './support/stack.ts';

/** The bus as the gateway sees it, counting the subscriptions it holds open. */
class CountingBus implements EventBus {
  readonly inner: EventBus;
  open = 0;
  opened = 0;
  constructor(inner: EventBus) {
    this.inner = inner;
  }
  publish(event: EventEnvelope) {
    return this.inner.publish(event);
  }
  publishEphemeral(event: EventEnvelope) {
    return this.inner.publishEphemeral(event);
  }
  async subscribe(pattern: string, handler: EventHandler, opts?: SubscribeOptions): Promise<EventSubscription> {
    const subscription = await this.inner.subscribe(pattern, handler, opts);
    this.open++;
    this.opened++;
    let done = false;
    return {
      unsubscribe: async () => {
        if (!done) this.open--;
        done = true;
        await subscription.unsubscribe();
      },
    };
  }
  ready() {
    return this.inner.ready();
  }

  close() {
    return Promise.resolve();
  }
}

let stack: Stack;
let bus: CountingBus;
let gateway: RunningGateway;
let wsUrl: string;
const requests: SubgraphRequest[] = [];
let alice: SignedUp;
let bob: SignedUp;
const PER_SOCKET = 4;

beforeAll(async () => {
  stack = await startStack();
  bus = new CountingBus(stack.bus);
  gateway = await startLiveGateway(bus, { perSocket: PER_SOCKET });
  wsUrl = gateway.url.replace(/^http/, 'ws');
  [alice, bob] = await Promise.all([signUp(stack, undefined, 'Alice'), signUp(stack, undefined, 'Bob')]);
});
afterAll(async () => {
  await gateway?.close();
  await stack?.close();
});

function startLiveGateway(eventBus: EventBus, limits: { perSocket?: number; perAccount?: number } = {}) {
  return startGateway({
    port: 0,
    supergraphSdl: readSupergraph(),
    subgraphUrls: Object.fromEntries(Object.values(stack.services).map((service) => [service.name, service.url])),
    accountsUrl: stack.services.accounts.url,
    internalTokenSecret: stack.internalTokenSecret,
    log: createLogger('gateway', process.env.LOG_LEVEL ?? 'silent'),
    onSubgraphRequest: (request) => requests.push(request),
    subscriptions: { bus: eventBus, limits },
  });
}

async function sql(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

interface Seeded {
  accountId: string;
  sourceId: string;
  jobId: string;
}

/** A Stripe connection, a source and a queued backup job of the account (as triggerSync leaves them). */
async function seedJob(accountId: string, sourceName = 'Stripe charges'): Promise<Seeded> {
  const connectionId = randomUUID();
  const sourceId = randomUUID();
  const jobId = randomUUID();
  await sql(
    `insert into platforms.connections (id, account_id, platform_id, name, status, created_at)
     select $1, $2, id, 'Stripe live', 'AUTHORIZED', now() from platforms.platforms where slug = 'stripe'`,
    [connectionId, accountId],
  );
  await sql(`insert into sources.sources (id, account_id, connection_id, name, resources, created_at, updated_at) values ($1, $2, $3, $4, '{charges}', now(), now())`, [
    sourceId,
    accountId,
    connectionId,
    sourceName,
  ]);
  await addJob(accountId, sourceId, jobId);
  return { accountId, sourceId, jobId };
}

async function addJob(accountId: string, sourceId: string, jobId = randomUUID()): Promise<string> {
  await sql(
    `insert into jobs.jobs (id, account_id, source_id, kind, status, params, trigger_kind, progress, created_at, updated_at)
     values ($1, $2, $3, 'BACKUP', 'QUEUED', '{}', 'USER', '{"itemsDone":0,"bytesDone":0}', now(), now())`,
    [jobId, accountId, sourceId],
  );
  return jobId;
}

interface JobPatch {
  status?: JobStatePatch['status'];
  itemsDone?: number;
  itemsTotal?: number;
}

/**
 * Moves the job's row and publishes its event as the jobs worker does: state changes stored and
 * published durably, progress ticks ephemeral. The event carries the job's state in `data.job`.
 */
async function publishJob(seeded: Seeded, type: JobEventType, patch: JobPatch, through: EventBus = stack.bus): Promise<void> {
  const status = patch.status ?? 'RUNNING';
  const itemsDone = patch.itemsDone ?? 0;
  const itemsTotal = patch.itemsTotal ?? 100;
  const ephemeral = type === 'job.progress';
  if (!ephemeral) {
    await sql(`update jobs.jobs set status = $2, progress = $3, updated_at = now() where id = $1`, [seeded.jobId, status, JSON.stringify({ itemsDone, itemsTotal, bytesDone: itemsDone * 1000 })]);
  }
  const event = jobEventOf(type, seeded, { status, itemsDone, itemsTotal });
  if (ephemeral) await through.publishEphemeral(event);
  else await through.publish(event);
}

const WATCH_JOB = `subscription WatchJob($id: ID!) {
  jobUpdated(id: $id) {
    id
    status
    progress { percent itemsDone bytesDone etaSeconds }
    source { name connection { platform { name } } }
  }
}`;

/** A subscription's messages as a test reads them. */
class Received<T = any> {
  readonly results: T[] = [];
  errors: unknown;
  completed = false;
  #waiters = new Set<() => void>();

  push(result: T) {
    this.results.push(result);
    this.#wake();
  }
  fail(error: unknown) {
    if (process.env.DEBUG_LIVE) console.log('subscription error', error, (error as any)?.code, (error as any)?.reason);
    this.errors = error;
    this.#wake();
  }
  complete() {
    this.completed = true;
    this.#wake();
  }
  /** Waits until `ready()` holds (each new message re-checks); fails with what arrived after 15 s. */
  async until(ready: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!ready()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out waiting for ${what}; received ${JSON.stringify({ results: this.results, errors: this.errors, completed: this.completed })}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(left, 250));
        this.#waiters.add(wake);
      });
    }
  }
  count(n: number) {
    return this.until(() => this.results.length >= n, `${n} results`);
  }
  #wake() {
    for (const wake of [...this.#waiters]) wake();
  }
}

function wsClient(token: string | undefined, url = wsUrl, params?: Record<string, unknown>): Client & { closes: { code: number; reason: string }[] } {
  const closes: { code: number; reason: string }[] = [];
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    lazy: true,
    retryAttempts: 0,
    connectionParams: params ?? (token ? { Authorization: `Bearer ${token}` } : {}),
    on: { closed: (event) => closes.push({ code: (event as CloseEvent).code, reason: String((event as CloseEvent).reason) }) },
  });
  return Object.assign(client, { closes });
}

function subscribe(client: Client, query: string, variables: Record<string, unknown>): { received: Received; stop: () => void } {
  const received = new Received();
  const stop = client.subscribe(
    { query, variables },
    { next: (result) => received.push(result), error: (error) => received.fail(error), complete: () => received.complete() },
  );
  return { received, stop };
}

const statuses = (received: Received) => received.results.map((result) => result.data?.jobUpdated?.status);
const waitFor = async (check: () => boolean, what: string) => {
  const deadline = Date.now() + 15_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('jobUpdated over graphql-transport-ws (graphql-ws client)', () => {
  it('sends the current state, then RUNNING, rising progress and SUCCEEDED, with fields of every subgraph, then completes', async () => {
    const job = await seedJob(alice.accountId);
    const client = wsClient(alice.accessToken);
    const { received } = subscribe(client, WATCH_JOB, { id: job.jobId });
    await received.count(1);
    expect(received.results[0].data.jobUpdated.status).toBe('QUEUED');

    await publishJob(job, 'job.started', { status: 'RUNNING' });
    await received.count(2);
    for (const [index, itemsDone] of [10, 40, 75].entries()) {
      await publishJob(job, 'job.progress', { status: 'RUNNING', itemsDone });
      await received.count(3 + index);
    }
    await publishJob(job, 'job.completed', { status: 'SUCCEEDED', itemsDone: 100 });
    await received.until(() => received.completed, 'completion');

    expect(statuses(received)).toEqual(['QUEUED', 'RUNNING', 'RUNNING', 'RUNNING', 'RUNNING', 'SUCCEEDED']);
    const items = received.results.slice(2, 5).map((result) => result.data.jobUpdated.progress.itemsDone);
    expect(items).toEqual([10, 40, 75]);
    expect(received.results[3].data.jobUpdated.progress.percent).toBe(40);
    for (const result of received.results) {
      expect(result.errors).toBeUndefined();
      expect(result.data.jobUpdated.id).toBe(job.jobId);
      expect(result.data.jobUpdated.source).toEqual({ name: 'Stripe charges', connection: { platform: { name: 'Stripe' } } });
    }
    await client.dispose();
  });

  it('delivers CANCELLED when the job is cancelled, then completes', async () => {
    const job = await seedJob(alice.accountId);
    const client = wsClient(alice.accessToken);
    const { received } = subscribe(client, WATCH_JOB, { id: job.jobId });
    await received.count(1);
    await publishJob(job, 'job.started', { status: 'RUNNING' });
    await received.count(2);
    await publishJob(job, 'job.cancelled', { status: 'CANCELLED', itemsDone: 5 });
    await received.until(() => received.completed, 'completion');
    expect(statuses(received)).toEqual(['QUEUED', 'RUNNING', 'CANCELLED']);
    await client.dispose();
  });

  it('ignores a progress tick that arrives after the job ended (ephemeral overtaking durable)', async () => {
    const job = await seedJob(alice.accountId);
    const client = wsClient(alice.accessToken);
    const { received } = subscribe(client, `subscription ($id: ID!) { jobUpdated(id: $id) { status progress { itemsDone } } }`, { id: job.jobId });
    await received.count(1);
    await publishJob(job, 'job.completed', { status: 'SUCCEEDED', itemsDone: 100 });
    await publishJob(job, 'job.progress', { status: 'RUNNING', itemsDone: 99 });
    await received.until(() => received.completed, 'completion');
    expect(received.results.map((result) => result.data.jobUpdated.status)).toEqual(['QUEUED', 'SUCCEEDED']);
    await client.dispose();
  });

  it('answers queries over the same websocket', async () => {
    const client = wsClient(alice.accessToken);
    const { received } = subscribe(client, '{ me { id } }', {});
    await received.until(() => received.completed, 'completion');
    expect(received.results).toEqual([{ data: { me: { id: alice.userId } } }]);
    await client.dispose();
  });
});

describe('jobEvents (the account stream)', () => {
  it('sends the queued and running jobs first, then every change of any job of the account, filtered by source when asked', async () => {
    const account = (await signUp(stack, undefined, 'Carol')) as SignedUp;
    const first = await seedJob(account.accountId, 'Stripe charges');
    const second = await seedJob(account.accountId, 'Stripe invoices');
    const client = wsClient(account.accessToken);
    const query = `subscription ($account: ID!, $source: ID) { jobEvents(accountId: $account, sourceId: $source) { id status source { name } } }`;
    const all = subscribe(client, query, { account: account.accountId });
    const onlySecond = subscribe(client, query, { account: account.accountId, source: second.sourceId });
    await all.received.count(2);
    await onlySecond.received.count(1);
    expect(new Set(all.received.results.map((result) => result.data.jobEvents.id))).toEqual(new Set([first.jobId, second.jobId]));
    expect(onlySecond.received.results[0].data.jobEvents).toEqual({ id: second.jobId, status: 'QUEUED', source: { name: 'Stripe invoices' } });

    await publishJob(first, 'job.started', { status: 'RUNNING' });
    await publishJob(second, 'job.started', { status: 'RUNNING' });
    await all.received.count(4);
    await onlySecond.received.count(2);
    expect(all.received.results.slice(2).map((result) => result.data.jobEvents.status)).toEqual(['RUNNING', 'RUNNING']);
    expect(onlySecond.received.results.map((result) => result.data.jobEvents.id)).toEqual([second.jobId, second.jobId]);
    expect(all.received.completed).toBe(false);
    await client.dispose();
  });
});

describe('other clients', () => {
  it('Apollo Client with GraphQLWsLink receives the live job with fields of every subgraph', async () => {
    const job = await seedJob(alice.accountId);
    const link = new GraphQLWsLink(createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${alice.accessToken}` }, retryAttempts: 0 }));
    const apollo = new ApolloClient({ link, cache: new InMemoryCache() });
    const received = new Received();
    const subscription = apollo.subscribe({ query: gql(WATCH_JOB), variables: { id: job.jobId } }).subscribe({
      next: (result) => received.push(result),
      error: (error) => received.fail(error),
      complete: () => received.complete(),
    });
    await received.count(1);
    await publishJob(job, 'job.started', { status: 'RUNNING' });
    await received.count(2);
    await publishJob(job, 'job.progress', { itemsDone: 30 });
    await received.count(3);
    await publishJob(job, 'job.completed', { status: 'SUCCEEDED', itemsDone: 100 });
    await received.until(() => received.completed, 'completion');
    expect(received.results.map((result) => [result.data.jobUpdated.status, result.data.jobUpdated.progress.itemsDone])).toEqual([
      ['QUEUED', 0],
      ['RUNNING', 0],
      ['RUNNING', 30],
      ['SUCCEEDED', 100],
    ]);
    expect(received.results.every((result) => result.data.jobUpdated.source.connection.platform.name === 'Stripe')).toBe(true);
    subscription.unsubscribe();
    apollo.stop();
    await (link.client as Client).dispose();
  });

  it('the legacy graphql-ws protocol (subscriptions-transport-ws, as GraphQL Playground speaks it)', async () => {
    const job = await seedJob(alice.accountId);
    const client = new SubscriptionClient(wsUrl, { connectionParams: { Authorization: `Bearer ${alice.accessToken}` }, reconnect: false }, WebSocket);
    const received = new Received();
    const subscription = client.request({ query: WATCH_JOB, variables: { id: job.jobId } }).subscribe({
      next: (result) => received.push(result),
      error: (error) => received.fail(error),
      complete: () => received.complete(),
    });
    await received.count(1);
    await publishJob(job, 'job.started', { status: 'RUNNING' });
    await received.count(2);
    await publishJob(job, 'job.progress', { itemsDone: 60 });
    await received.count(3);
    await publishJob(job, 'job.completed', { status: 'SUCCEEDED', itemsDone: 100 });
    await received.until(() => received.completed, 'completion');
    expect(received.results.map((result: any) => result.data.jobUpdated.status)).toEqual(['QUEUED', 'RUNNING', 'RUNNING', 'SUCCEEDED']);
    expect(received.results[2].data.jobUpdated).toMatchObject({ progress: { itemsDone: 60 }, source: { name: 'Stripe charges', connection: { platform: { name: 'Stripe' } } } });

    // Errors reach the legacy client as its `error` message, and the socket stays usable.
    const failed = new Received();
    client.request({ query: WATCH_JOB, variables: { id: randomUUID() } }).subscribe({ next: (r) => failed.push(r), error: (e) => failed.fail(e), complete: () => failed.complete() });
    await failed.until(() => failed.errors !== undefined, 'the error');
    // subscriptions-transport-ws hands its observer the first error of the `error` message.
    expect(failed.errors).toMatchObject({ message: 'Job not found', path: ['jobUpdated'], extensions: { code: 'NOT_FOUND' } });
    const again = new Received();
    client.request({ query: '{ me { id } }' }).subscribe({ next: (r) => again.push(r), error: (e) => again.fail(e), complete: () => again.complete() });
    await again.until(() => again.completed, 'the query');
    expect(again.results).toEqual([{ data: { me: { id: alice.userId } } }]);
    subscription.unsubscribe();
    client.close();
  });

  it('the legacy protocol refuses a missing or forged credential with connection_error and 4403', async () => {
    for (const payload of [{}, { Authorization: 'Bearer not-a-token' }]) {
      const socket = new WebSocket(wsUrl, 'graphql-ws');
      const messages: any[] = [];
      const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
      socket.on('message', (data) => messages.push(JSON.parse(data.toString())));
      await new Promise((resolve) => socket.once('open', resolve));
      socket.send(JSON.stringify({ type: 'connection_init', payload }));
      const { code, reason } = await closed;
      expect(code).toBe(4403);
      expect(reason).toMatch(/^Forbidden/);
      expect(messages).toEqual([{ type: 'connection_error', payload: expect.objectContaining({ message: expect.any(String) }) }]);
    }
  });
});

describe('tenant isolation', () => {
  it("another account's job or account stream gets the same not-found as a query, and none of its events", async () => {
    const aliceJob = await seedJob(alice.accountId);
    const bobJob = await seedJob(bob.accountId);
    const asQuery = await stack.graphql('query ($id: ID!) { job(id: $id) { id } }', { id: aliceJob.jobId }, bob.accessToken);
    const accountQuery = await stack.graphql('query ($id: ID!) { account(id: $id) { id } }', { id: alice.accountId }, bob.accessToken);
    const unknown = await stack.graphql('query ($id: ID!) { job(id: $id) { id } }', { id: randomUUID() }, bob.accessToken);

    const client = wsClient(bob.accessToken);
    const stolenJob = subscribe(client, WATCH_JOB, { id: aliceJob.jobId });
    const stolenAccount = subscribe(client, 'subscription ($a: ID!) { jobEvents(accountId: $a) { id status } }', { a: alice.accountId });
    const own = subscribe(client, 'subscription ($a: ID!) { jobEvents(accountId: $a) { id status } }', { a: bob.accountId });
    await stolenJob.received.until(() => stolenJob.received.errors !== undefined, 'the job error');
    await stolenAccount.received.until(() => stolenAccount.received.errors !== undefined, 'the account error');
    await own.received.count(1); // bob's own queued job

    // The same message and code as the query, and as a job that does not exist.
    const jobError = (stolenJob.received.errors as any[])[0];
    expect(jobError.message).toBe(asQuery.errors![0].message);
    expect(jobError.extensions.code).toBe(asQuery.errors![0].extensions!.code);
    expect(jobError.message).toBe(unknown.errors![0].message);
    const accountError = (stolenAccount.received.errors as any[])[0];
    expect(accountError.message).toBe(accountQuery.errors![0].message);
    expect(accountError.extensions.code).toBe(accountQuery.errors![0].extensions!.code);

    // Alice's job runs; then Bob's own job moves, which is all Bob's stream may show.
    await publishJob(aliceJob, 'job.started', { status: 'RUNNING' });
    await publishJob(aliceJob, 'job.progress', { itemsDone: 50 });
    await publishJob(aliceJob, 'job.completed', { status: 'SUCCEEDED', itemsDone: 100 });
    await publishJob(bobJob, 'job.started', { status: 'RUNNING' });
    await own.received.count(2);
    expect(own.received.results.map((result) => result.data.jobEvents.id)).toEqual([bobJob.jobId, bobJob.jobId]);
    expect(stolenJob.received.results).toEqual([]);
    expect(stolenAccount.received.results).toEqual([]);
    await client.dispose();
  });

  it('an event published on an account subject cannot feed another account, whatever its data says', async () => {
    const aliceJob = await seedJob(alice.accountId);
    const client = wsClient(alice.accessToken);
    const { received } = subscribe(client, WATCH_JOB, { id: aliceJob.jobId });
    await received.count(1);
    // Bob's account publishes an event naming Alice's job: it travels on Bob's subject, which Alice's subscription does not listen to.
    const forged = jobEventOf('job.completed', { ...aliceJob, accountId: bob.accountId }, { status: 'SUCCEEDED' });
    await stack.bus.publish(forged);
    await publishJob(aliceJob, 'job.started', { status: 'RUNNING' });
    await received.count(2);
    expect(statuses(received)).toEqual(['QUEUED', 'RUNNING']);
    await client.dispose();
  });
});

describe('bad input gets clear errors; the socket and other subscriptions go on', () => {
  it('unknown job, malformed operation, unknown field, bad variables, too many subscriptions', async () => {
    const job = await seedJob(alice.accountId);
    const client = wsClient(alice.accessToken);
    const healthy = subscribe(client, WATCH_JOB, { id: job.jobId });
    await healthy.received.count(1);

    const attempt = async (query: string, variables: Record<string, unknown>) => {
      const { received } = subscribe(client, query, variables);
      await received.until(() => received.errors !== undefined, `an error for ${query}`);
      return (received.errors as any[])[0];
    };
    expect(await attempt(WATCH_JOB, { id: randomUUID() })).toMatchObject({ message: 'Job not found', extensions: { code: 'NOT_FOUND' } });
    expect(await attempt('subscription { jobUpdated(id: "x") { status ', {})).toMatchObject({ message: expect.stringMatching(/Syntax Error/), extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
    expect(await attempt('subscription ($id: ID!) { jobUpdated(id: $id) { nope } }', { id: job.jobId })).toMatchObject({
      message: 'Cannot query field "nope" on type "Job".',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    expect(await attempt('subscription { jobDeleted(id: "x") { id } }', {})).toMatchObject({ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    expect(await attempt(WATCH_JOB, {})).toMatchObject({ message: expect.stringMatching(/\$id/), extensions: { code: 'BAD_USER_INPUT' } });

    // The socket holds PER_SOCKET subscriptions: the next one is refused, the open ones are not disturbed.
    const extra = await Promise.all(Array.from({ length: PER_SOCKET - 1 }, () => subscribe(client, WATCH_JOB, { id: job.jobId })));
    await Promise.all(extra.map(({ received }) => received.count(1)));
    expect(await attempt(WATCH_JOB, { id: job.jobId })).toMatchObject({ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } });
    for (const { stop } of extra) stop();

    await publishJob(job, 'job.started', { status: 'RUNNING' });
    await healthy.received.count(2);
    expect(statuses(healthy.received)).toEqual(['QUEUED', 'RUNNING']);
    expect(healthy.received.errors).toBeUndefined();
    expect(client.closes).toEqual([]);
    await client.dispose();
  });

  it('a missing, malformed or forged credential closes the socket with 4403 Forbidden', async () => {
    for (const params of [{}, { Authorization: 'Bearer nope' }, { authToken: forgeToken(alice.accessToken) }, { apiKey: 'lbk_not_a_real_key' }]) {
      const client = wsClient(undefined, wsUrl, params);
      const { received } = subscribe(client, WATCH_JOB, { id: randomUUID() });
      await received.until(() => received.errors !== undefined, 'the close');
      expect(client.closes[0]?.code).toBe(4403);
      expect(client.closes[0]?.reason).toMatch(/^Forbidden/);
      await client.dispose();
    }
  });

  it('ends the socket when the access token expires', async () => {
    const { rows } = await sql(`select kid, private_jwk from accounts.signing_keys where retired_at is null order by created_at desc limit 1`);
    const key = await importJWK(rows[0].private_jwk, 'EdDSA');
    const claims = JSON.parse(Buffer.from(alice.accessToken.split('.')[1], 'base64url').toString());
    const shortLived = await new SignJWT({ sid: claims.sid })
      .setProtectedHeader({ alg: 'EdDSA', kid: rows[0].kid })
      .setSubject(alice.userId)
      .setIssuer('listbackup')
      .setAudience('listbackup-api')
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + 2)
      .sign(key);
    const job = await seedJob(alice.accountId);
    const client = wsClient(shortLived);
    const { received } = subscribe(client, WATCH_JOB, { id: job.jobId });
    await received.count(1);
    await received.until(() => received.errors !== undefined, 'the socket to close at expiry');
    expect(client.closes[0]).toEqual({ code: 4403, reason: expect.stringMatching(/expired/) });
    await waitFor(() => gateway.subscriptions.stats().subscribers === 0, 'the subscription to be released');
    await client.dispose();
  });

  it('a subscription over plain HTTP gets an error pointing to the websocket', async () => {
    const result = await postGraphQL(gateway.url, WATCH_JOB, { id: randomUUID() }, alice.accessToken);
    expect(result.status).toBe(400);
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_REQUEST' } });
    expect(result.errors?.[0].message).toMatch(/websocket.*ws:\/\/127\.0\.0\.1:\d+\/graphql/);
  });
});

describe('sharing and releasing bus subscriptions', () => {
  it('releases the bus subscription as soon as the last subscriber unsubscribes', async () => {
    await waitFor(() => bus.open === 0, 'a quiet bus');
    const job = await seedJob(alice.accountId);
    const client = wsClient(alice.accessToken);
    const first = subscribe(client, WATCH_JOB, { id: job.jobId });
    await first.received.count(1);
    expect(bus.open).toBe(1);
    first.stop();
    await waitFor(() => bus.open === 0, 'the bus subscription to be released');
    expect(gateway.subscriptions.stats()).toMatchObject({ groups: 0, subscribers: 0, busSubscriptions: 0 });

    // Disconnecting releases it too.
    const second = subscribe(client, WATCH_JOB, { id: job.jobId });
    await second.received.count(1);
    expect(bus.open).toBe(1);
    await client.dispose();
    await waitFor(() => bus.open === 0, 'the bus subscription to be released on disconnect');
  });

  it('identical subscriptions share one bus subscription and one execution per event', async () => {
    await waitFor(() => bus.open === 0, 'a quiet bus');
    const job = await seedJob(alice.accountId);
    const clients = [wsClient(alice.accessToken), wsClient(alice.accessToken), wsClient(alice.accessToken)];
    const subs = clients.map((client) => subscribe(client, WATCH_JOB, { id: job.jobId }));
    await Promise.all(subs.map(({ received }) => received.count(1)));
    const opened = bus.opened;
    expect(bus.open).toBe(1);
    expect(gateway.subscriptions.stats()).toMatchObject({ groups: 1, subscribers: 3 });

    requests.length = 0;
    await publishJob(job, 'job.progress', { itemsDone: 20 });
    await Promise.all(subs.map(({ received }) => received.count(2)));
    // source.name and platform.name: one sources fetch and one platforms fetch for all three clients.
    expect(requests.filter((request) => request.subgraph === 'sources')).toHaveLength(1);
    expect(requests.filter((request) => request.subgraph === 'platforms')).toHaveLength(1);
    expect(subs.map(({ received }) => received.results[1].data.jobUpdated.progress.itemsDone)).toEqual([20, 20, 20]);

    subs[0].stop();
    subs[1].stop();
    await waitFor(() => gateway.subscriptions.stats().subscribers === 1, 'two to leave');
    expect(bus.open).toBe(1);
    expect(bus.opened).toBe(opened);
    await Promise.all(clients.map((client) => client.dispose()));
    await waitFor(() => bus.open === 0, 'release');
  });
});

describe('supergraph changes', () => {
  it('end open subscriptions with SUPERGRAPH_CHANGED; new ones work on the new supergraph', async () => {
    const own = await startLiveGateway(stack.bus);
    try {
      const url = own.url.replace(/^http/, 'ws');
      const job = await seedJob(alice.accountId);
      const client = wsClient(alice.accessToken, url);
      const before = subscribe(client, WATCH_JOB, { id: job.jobId });
      await before.received.count(1);
      own.updateSupergraph(`${readSupergraph()}\n# reloaded\n`);
      await before.received.until(() => before.received.errors !== undefined, 'the subscription to end');
      expect((before.received.errors as any[])[0]).toMatchObject({ message: expect.stringMatching(/supergraph changed/), extensions: { code: 'SUPERGRAPH_CHANGED' } });

      const after = subscribe(client, WATCH_JOB, { id: job.jobId });
      await after.received.count(1);
      await publishJob(job, 'job.started', { status: 'RUNNING' });
      await after.received.count(2);
      expect(statuses(after.received)).toEqual(['QUEUED', 'RUNNING']);
      await client.dispose();
    } finally {
      await own.close();
    }
  });
});

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

describe('across processes over NATS', () => {
  it('two gateways on the same NATS deliver the same event to their own clients', async () => {
    const namespace = `lbt${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    let buses: NatsEventBus[];
    try {
      buses = await Promise.all([0, 1, 2].map(() => NatsEventBus.connect(NATS_URL, { namespace, stream: `${namespace.toUpperCase()}_EVENTS` })));
    } catch (error) {
      if (process.env.CI) throw error;
      console.warn(`NATS not reachable at ${NATS_URL}: skipping (${(error as Error).message})`);
      return;
    }
    const [busA, busB, publisher] = buses;
    const [one, two] = await Promise.all([startLiveGateway(busA), startLiveGateway(busB)]);
    try {
      const job = await seedJob(alice.accountId);
      const clients = [wsClient(alice.accessToken, one.url.replace(/^http/, 'ws')), wsClient(alice.accessToken, two.url.replace(/^http/, 'ws'))];
      const subs = clients.map((client) => subscribe(client, WATCH_JOB, { id: job.jobId }));
      await Promise.all(subs.map(({ received }) => received.count(1)));
      await publishJob(job, 'job.started', { status: 'RUNNING' }, publisher);
      await Promise.all(subs.map(({ received }) => received.count(2)));
      await publishJob(job, 'job.progress', { itemsDone: 42 }, publisher);
      await Promise.all(subs.map(({ received }) => received.count(3)));
      await publishJob(job, 'job.completed', { status: 'SUCCEEDED', itemsDone: 100 }, publisher);
      await Promise.all(subs.map(({ received }) => received.until(() => received.completed, 'completion')));
      for (const { received } of subs) {
        expect(statuses(received)).toEqual(['QUEUED', 'RUNNING', 'RUNNING', 'SUCCEEDED']);
        expect(received.results[2].data.jobUpdated.progress.itemsDone).toBe(42);
      }
      await Promise.all(clients.map((client) => client.dispose()));
    } finally {
      await Promise.all([one.close(), two.close()]);
      const manager = await publisher.connection.jetstreamManager();
      await manager.streams.delete(publisher.stream).catch(() => undefined);
      await Promise.all(buses.map((each) => each.close()));
    }
  });
});

/** The same claims re-signed by a key the gateway does not trust. */
function forgeToken(token: string): string {
  const [header, payload] = token.split('.');
  return `${header}.${payload}.${Buffer.alloc(64, 7).toString('base64url')}`;
}
