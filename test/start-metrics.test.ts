/**
 * `npm start` itself (scripts/start.ts as a process, the way the README runs it), and its one
 * `/metrics`: scraped before and after a Stripe backup through its gateway, the metrics issue 12
 * names move — the jobs' items, bytes and outcomes, GraphQL per operation and per subgraph fetch,
 * the internal calls, the event consumers — and the sampled ones (pools, the queue, the outbox,
 * websockets and subscriptions) are there. Once on the in-process event bus (no NATS_URL, as a
 * newcomer runs it) and once on NATS, where the durable consumers' lag is there too.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamName } from '@listbackup/lib/events/connect';
import { FakeStripe } from '@listbackup/catalogue/testing/fakes';
import { STRIPE_KEY, startIdentity } from './support/backup-stack.ts';
import { createTestDatabase } from './support/database.ts';
import { scrape } from './support/metrics.ts';
import { freePort, type ServiceProcess, startProcess, stopProcess, waitForHealthy } from './support/processes.ts';

const CUSTOMERS = 25;
const natsUrl = process.env.NATS_URL;
if (!natsUrl && process.env.CI === 'true') throw new Error('NATS_URL must be set in CI');
const BUSES = [{ bus: 'the in-process event bus', natsUrl: '' }, ...(natsUrl ? [{ bus: 'NATS', natsUrl }] : [])];

describe.each(BUSES)('npm start on $bus: /metrics moves during a backup', ({ natsUrl }) => {
  const namespace = `start${randomBytes(4).toString('hex')}`;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let stripe: FakeStripe;
  let identity: Awaited<ReturnType<typeof startIdentity>>;
  let dataDir = '';
  let started: ServiceProcess;
  let origin = '';

  beforeAll(async () => {
    database = await createTestDatabase('lb_start');
    stripe = await new FakeStripe().start();
    stripe.keys.add(STRIPE_KEY);
    for (let i = 0; i < CUSTOMERS; i++) stripe.add('customers', { description: `customer ${i} ${randomBytes(100).toString('hex')}` });
    identity = await startIdentity();
    dataDir = await mkdtemp(join(tmpdir(), 'lb-start-'));
    const [gateway, accounts, platforms, sources, jobs, billing] = await Promise.all(Array.from({ length: 6 }, () => freePort()));
    origin = `http://127.0.0.1:${gateway}`;
    started = startProcess('npm start', 'scripts/start.ts', {
      DATABASE_URL: database.url,
      // Empty means unset: the in-process event bus, as on a newcomer's machine.
      NATS_URL: natsUrl,
      EVENTS_NAMESPACE: namespace,
      PORT: String(gateway),
      ACCOUNTS_PORT: String(accounts),
      PLATFORMS_PORT: String(platforms),
      SOURCES_PORT: String(sources),
      JOBS_PORT: String(jobs),
      BILLING_PORT: String(billing),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      CONNECTOR_STRIPE_URL: `${stripe.url}/v1`,
      PLATFORM_STRIPE_IDENTITY_URL: identity.url,
    });
    await waitForHealthy(started, `${origin}/readyz`, 1_500);
  }, 600_000);

  afterAll(async () => {
    const code = started ? await stopProcess(started) : 0;
    await database?.drop();
    if (natsUrl) {
      const nats = await connect({ servers: natsUrl });
      await (await nats.jetstreamManager()).streams.delete(streamName(namespace)).catch(() => {});
      await nats.close();
    }
    await stripe?.close();
    await identity?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    expect(code, started?.output()).toBe(0);
  }, 120_000);

  const graphql = async (query: string, variables: Record<string, unknown>, token?: string) => {
    const response = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const result = (await response.json()) as { data?: any; errors?: unknown[] };
    if (result.errors) throw new Error(`${query}: ${JSON.stringify(result.errors)}`);
    return result.data;
  };

  it('shows the jobs, GraphQL, internal-call, pool, queue and outbox metrics, moving across one backup', { timeout: 300_000 }, async () => {
    const { signUp } = await graphql(`mutation ($input: SignUpInput!) { signUp(input: $input) { accessToken user { memberships { edges { node { account { id } } } } } } }`, {
      input: { email: `start-${randomBytes(4).toString('hex')}@example.com`, password: 'correct horse battery staple', name: 'Start' },
    });
    const token = signUp.accessToken as string;
    const accountId = signUp.user.memberships.edges[0].node.account.id as string;
    const { createApiKeyConnection: connection } = await graphql(
      `mutation ($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id } }`,
      { input: { accountId, platformSlug: 'stripe', name: 'Stripe', apiKey: STRIPE_KEY } },
      token,
    );
    const { createSource: source } = await graphql(
      `mutation ($input: CreateSourceInput!) { createSource(input: $input) { id } }`,
      { input: { accountId, connectionId: connection.id, name: 'Payments', resources: ['customers'], schedule: { kind: 'MANUAL' }, retention: { keepLast: 5 } } },
      token,
    );

    const before = await scrape(`${origin}/metrics`);
    const { triggerSync: job } = await graphql(`mutation Backup($id: ID!) { triggerSync(sourceId: $id) { id } }`, { id: source.id }, token);
    await expect
      .poll(async () => (await graphql(`query ($id: ID!) { job(id: $id) { status } }`, { id: job.id }, token)).job.status, { timeout: 240_000, interval: 200 })
      .toBe('SUCCEEDED');
    const after = await scrape(`${origin}/metrics`);
    const delta = (name: string, labels?: Record<string, string>) => (after.value(name, labels) ?? 0) - (before.value(name, labels) ?? 0);

    // The job, counted by the worker inside npm start.
    expect(delta('listbackup_job_items_total', { kind: 'BACKUP' })).toBe(CUSTOMERS);
    expect(delta('listbackup_job_bytes_total', { kind: 'BACKUP' })).toBeGreaterThan(CUSTOMERS * 200);
    expect(delta('listbackup_jobs_finished_total', { kind: 'BACKUP', status: 'SUCCEEDED' })).toBe(1);
    expect(delta('listbackup_job_attempts_total', { kind: 'BACKUP', outcome: 'succeeded' })).toBe(1);
    expect(delta('listbackup_job_attempt_throughput_bytes_per_second_count', { kind: 'BACKUP' })).toBe(1);
    // RED per operation at the gateway and in the subgraphs, and the gateway's fetches per subgraph.
    expect(delta('listbackup_graphql_requests_total', { service: 'gateway', operation: 'Backup', outcome: 'ok' })).toBe(1);
    expect(delta('listbackup_graphql_requests_total', { service: 'jobs', outcome: 'ok' })).toBeGreaterThan(0);
    expect(delta('listbackup_graphql_subgraph_fetches_total', { subgraph: 'jobs', outcome: 'ok' })).toBeGreaterThan(0);
    expect(delta('listbackup_internal_requests_total', { service: 'platforms', status: '200' })).toBeGreaterThan(0);
    // The job's events, relayed from the outbox, handled by the durable consumers (here on the in-process bus).
    expect(delta('listbackup_event_consumer_events_total', { outcome: 'ok' })).toBeGreaterThan(0);
    // Sampled at scrape time: the pools, the queue, the outbox, the websockets.
    expect(after.value('listbackup_db_pool_connections', { pool: 'jobs', state: 'total' })).toBeGreaterThan(0);
    expect(after.value('listbackup_queue_jobs', { queue: 'jobs.backup', state: 'ready' })).toBe(0);
    expect(after.value('listbackup_queue_oldest_ready_age_seconds', { queue: 'jobs.backup' })).toBe(0);
    expect(after.value('listbackup_outbox_unsent_events', { service: 'jobs' })).toBeGreaterThanOrEqual(0);
    expect(after.value('listbackup_outbox_lag_seconds', { service: 'jobs' })).toBeGreaterThanOrEqual(0);
    expect(after.value('listbackup_websocket_connections', { protocol: 'graphql-transport-ws' })).toBe(0);
    expect(after.value('listbackup_subscriptions_active')).toBe(0);
    expect(after.value('process_resident_memory_bytes')).toBeGreaterThan(0);
    if (natsUrl) {
      expect(after.value('listbackup_event_consumer_pending_messages'), 'durable consumer lag').toBeGreaterThanOrEqual(0);
      expect(after.value('listbackup_event_consumer_ack_pending_messages')).toBeGreaterThanOrEqual(0);
    }
  });
});
