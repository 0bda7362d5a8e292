// The docker-compose topology as separate processes: five subgraphs and the gateway, each its own
// `node …/main.ts`, talking real HTTP and sharing events through real NATS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { streamName } from '@listbackup/lib/events/connect';
import { createTestDatabase } from './support/database.ts';
import { freePort, startProcess, stopProcess, waitForHealthy, type ServiceProcess } from './support/processes.ts';

const natsUrl = process.env.NATS_URL;
if (!natsUrl && process.env.CI === 'true') throw new Error('NATS_URL must be set in CI');

describe.skipIf(!natsUrl)('separate processes over NATS (as docker compose runs them)', () => {
  const processes: ServiceProcess[] = [];
  let gatewayUrl = '';
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const namespace = `topo${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    database = await createTestDatabase('lb_topology');
    const names = ['accounts', 'platforms', 'sources', 'jobs', 'billing'] as const;
    const ports = Object.fromEntries(await Promise.all(names.map(async (name) => [name, await freePort()] as const)));
    const url = (name: (typeof names)[number]) => `http://127.0.0.1:${ports[name]}/graphql`;
    const env = {
      DATABASE_URL: database.url,
      NATS_URL: natsUrl!,
      INTERNAL_TOKEN_SECRET: randomBytes(32).toString('hex'),
      EVENTS_NAMESPACE: namespace,
      ACCOUNTS_URL: url('accounts'),
      PLATFORMS_URL: url('platforms'),
      SOURCES_URL: url('sources'),
      JOBS_URL: url('jobs'),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      VAULT_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    };
    // Only the jobs subgraph (and its workers) hold the backup store and its keys.
    const storage = { STORAGE_KEYS: `s1:${randomBytes(32).toString('base64')}`, STORAGE_DIR: mkdtempSync(join(tmpdir(), 'lb-topology-objects-')) };
    // Accounts first: the others ask it for roles.
    for (const name of names) {
      const service = startProcess(name, `subgraphs/${name}/src/main.ts`, { ...env, ...(name === 'jobs' ? storage : {}), PORT: String(ports[name]) });
      processes.push(service);
      if (name === 'accounts') await waitForHealthy(service, `http://127.0.0.1:${ports[name]}/healthz`);
    }
    await Promise.all(processes.map((service) => waitForHealthy(service, url(service.name as (typeof names)[number]).replace('/graphql', '/healthz'))));
    const gatewayPort = await freePort();
    const gateway = startProcess('gateway', 'gateway/src/main.ts', {
      ...env,
      PORT: String(gatewayPort),
      PLATFORMS_URL: url('platforms'),
      SOURCES_URL: url('sources'),
      JOBS_URL: url('jobs'),
      BILLING_URL: url('billing'),
    });
    processes.push(gateway);
    gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    await waitForHealthy(gateway, `${gatewayUrl}/readyz`);
  });

  afterAll(async () => {
    const codes = await Promise.all(processes.map((service) => stopProcess(service)));
    await database?.drop();
    const nats = await connect({ servers: natsUrl });
    await (await nats.jetstreamManager()).streams.delete(streamName(namespace)).catch(() => {});
    await nats.close();
    expect(codes.every((code) => code === 0)).toBe(true);
  });

  const graphql = async (query: string, variables: Record<string, unknown> = {}, token?: string) => {
    const response = await fetch(`${gatewayUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data?: any; errors?: any[] };
  };

  it('signs up through the gateway, and billing (another process) gives the new account the Free plan via NATS', async () => {
    const email = `topo-${randomBytes(4).toString('hex')}@example.com`;
    const signUp = await graphql(
      `mutation($input: SignUpInput!) { signUp(input: $input) { accessToken user { email } } }`,
      { input: { email, password: 'correct horse battery staple', name: 'Topo' } },
    );
    expect(signUp.errors).toBeUndefined();
    const token = signUp.data.signUp.accessToken as string;

    // The account.created event travels accounts → outbox relay → NATS → billing's durable consumer.
    let plan: string | undefined;
    for (let i = 0; i < 100 && !plan; i++) {
      const result = await graphql(`{ me { memberships { edges { node { account { subscription { plan { code } } } } } } } }`, {}, token);
      expect(result.errors).toBeUndefined();
      plan = result.data.me.memberships.edges[0].node.account.subscription?.plan.code;
      if (!plan) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(plan).toBe('free');
  });

  it('answers readiness for every subgraph through the gateway', async () => {
    const response = await fetch(`${gatewayUrl}/readyz`);
    expect(response.status).toBe(200);
  });
});
