// The distributed form over TLS 1.3: five subgraphs, the gateway and a jobs worker as separate
// processes, each with a certificate from a local CA made by scripts/dev-certs.sh, NATS over TLS with
// client certificates, and PostgreSQL of the test's own taking TLS only, reached with
// sslmode=verify-full. A subgraph answers only callers showing a certificate from that CA.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import pg from 'pg';
import { parse } from 'yaml';
import { Agent, request } from 'undici';
import { connect } from 'nats';
import { openDatabase } from '@listbackup/lib/db';
import { streamName } from '@listbackup/lib/events/connect';
import { database as billingDatabase } from '../subgraphs/billing/src/database.ts';
import { issueCertificate, makeCertificates } from './support/certs.ts';
import { createTestDatabase } from './support/database.ts';
import { freePort, startProcess, stopProcess, type ServiceProcess } from './support/processes.ts';
import { postgresBinariesMissing, startTlsPostgres, type TlsPostgres } from './support/tls-postgres.ts';

const hasNatsServer = spawnSync('nats-server', ['--version']).status === 0;
if (!hasNatsServer && process.env.CI === 'true') throw new Error('nats-server must be on PATH in CI');
if (postgresBinariesMissing) {
  if (process.env.CI === 'true') throw new Error(`PostgreSQL over TLS must be tested in CI: ${postgresBinariesMissing}`);
  console.warn(`PostgreSQL over TLS (sslmode=verify-full) is not tested: ${postgresBinariesMissing}. The services use the test PostgreSQL without TLS.`);
}

const NAMES = ['accounts', 'platforms', 'sources', 'jobs', 'billing'] as const;
type Name = (typeof NAMES)[number];

describe.skipIf(!hasNatsServer)('separate processes over TLS 1.3 with certificates from the local CA', () => {
  const root = mkdtempSync(join(tmpdir(), 'lb-topology-tls-'));
  const cert = makeCertificates(join(root, 'certs'), [...NAMES, 'gateway', 'worker', 'nats', 'postgres', 'tester']);
  const otherCert = makeCertificates(join(root, 'other-ca'), ['tester']);
  const pem = (path: string) => readFileSync(path, 'utf8');
  const trusted = new Agent({ connect: { ca: pem(cert('ca.crt')), cert: pem(cert('tester.crt')), key: pem(cert('tester.key')) } });

  const processes: ServiceProcess[] = [];
  let nats: ChildProcess | undefined;
  let natsUrl = '';
  let ports = {} as Record<Name, number>;
  let gatewayUrl = '';
  let workerPort = 0;
  let database: { url: string; drop(): Promise<void> } | undefined;
  let postgres: TlsPostgres | undefined;
  let env: Record<string, string> = {};
  const verifyFull = (rootCert: string) => ({ sslmode: 'verify-full', sslrootcert: rootCert });
  const namespace = `topotls${randomBytes(4).toString('hex')}`;

  const get = async (url: string, agent: Agent) => {
    const response = await request(url, { dispatcher: agent });
    return { status: response.statusCode, body: (await response.body.json()) as any };
  };

  const waitFor = async (service: ServiceProcess, url: string) => {
    // Generous: on a loaded machine a subgraph process takes 20 s and more to start.
    for (const deadline = Date.now() + 100_000; Date.now() < deadline; ) {
      if (service.child.exitCode !== null) throw new Error(`${service.name} exited with ${service.child.exitCode}:\n${service.output()}`);
      const status = await get(url, trusted).then(
        (response) => response.status,
        () => 0,
      );
      if (status === 200) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`${service.name} did not become healthy:\n${service.output()}`);
  };

  beforeAll(async () => {
    const natsPort = await freePort();
    nats = spawn(
      'nats-server',
      ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', join(root, 'nats'), '--tls', '--tlscert', cert('nats.crt'), '--tlskey', cert('nats.key'), '--tlscacert', cert('ca.crt'), '--tlsverify'],
      { stdio: 'ignore' },
    );
    natsUrl = `tls://127.0.0.1:${natsPort}`;
    if (postgresBinariesMissing) database = await createTestDatabase('lb_topology_tls');
    else {
      postgres = await startTlsPostgres({ certFile: cert('postgres.crt'), keyFile: cert('postgres.key') });
      const admin = new pg.Client({ connectionString: postgres.url('postgres', verifyFull(cert('ca.crt'))) });
      await admin.connect();
      await admin.query('create database listbackup');
      await admin.end();
      database = { url: postgres.url('listbackup', verifyFull(cert('ca.crt'))), drop: async () => {} };
    }
    ports = Object.fromEntries(await Promise.all(NAMES.map(async (name) => [name, await freePort()] as const))) as Record<Name, number>;
    const url = (name: Name) => `https://127.0.0.1:${ports[name]}/graphql`;
    env = {
      DATABASE_URL: database.url,
      NATS_URL: natsUrl,
      INTERNAL_TOKEN_SECRET: randomBytes(32).toString('hex'),
      EVENTS_NAMESPACE: namespace,
      ACCOUNTS_URL: url('accounts'),
      PLATFORMS_URL: url('platforms'),
      SOURCES_URL: url('sources'),
      JOBS_URL: url('jobs'),
      BILLING_URL: url('billing'),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      VAULT_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      TLS_CA_FILE: cert('ca.crt'),
    };
    const tlsOf = (name: string) => ({ TLS_CERT_FILE: cert(`${name}.crt`), TLS_KEY_FILE: cert(`${name}.key`) });
    const storage = { STORAGE_KEYS: `s1:${randomBytes(32).toString('base64')}`, STORAGE_DIR: join(root, 'objects') };
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const name of NAMES) {
      const service = startProcess(name, `subgraphs/${name}/src/main.ts`, { ...env, ...tlsOf(name), ...(name === 'jobs' ? storage : {}), PORT: String(ports[name]) });
      processes.push(service);
      if (name === 'accounts') await waitFor(service, url('accounts').replace('/graphql', '/healthz'));
    }
    await Promise.all(processes.map((service) => waitFor(service, url(service.name as Name).replace('/graphql', '/healthz'))));
    const gatewayPort = await freePort();
    const gateway = startProcess('gateway', 'gateway/src/main.ts', { ...env, ...tlsOf('gateway'), PORT: String(gatewayPort) });
    processes.push(gateway);
    gatewayUrl = `https://127.0.0.1:${gatewayPort}`;
    await waitFor(gateway, `${gatewayUrl}/readyz`);
    workerPort = await freePort();
    const worker = startProcess('worker', 'subgraphs/jobs/src/worker.ts', { ...env, ...tlsOf('worker'), ...storage, METRICS_PORT: String(workerPort) });
    processes.push(worker);
    await waitFor(worker, `https://127.0.0.1:${workerPort}/healthz`);
  }, 300_000);

  afterAll(async () => {
    const codes = await Promise.all(processes.map((service) => stopProcess(service)));
    await database?.drop();
    await postgres?.stop();
    if (natsUrl) {
      const client = await connect({ servers: natsUrl, tls: { caFile: cert('ca.crt'), certFile: cert('tester.crt'), keyFile: cert('tester.key') } }).catch(() => undefined);
      await (await client?.jetstreamManager())?.streams.delete(streamName(namespace)).catch(() => {});
      await client?.close();
    }
    nats?.kill();
    await trusted.close();
    rmSync(root, { recursive: true, force: true });
    expect(codes.every((code) => code === 0)).toBe(true);
  });

  const graphql = async (query: string, variables: Record<string, unknown> = {}, token?: string) => {
    const response = await request(`${gatewayUrl}/graphql`, {
      method: 'POST',
      dispatcher: trusted,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.body.json()) as { data?: any; errors?: any[] };
  };

  /** Starts `name` with `changes` to the environment and waits for it to exit: its code and output. */
  const runUntilExit = async (name: Name, changes: Record<string, string>) => {
    const service = startProcess(name, `subgraphs/${name}/src/main.ts`, { ...env, TLS_CERT_FILE: cert(`${name}.crt`), TLS_KEY_FILE: cert(`${name}.key`), PORT: String(await freePort()), ...changes });
    const code = await new Promise<number | null>((resolve) => service.child.once('exit', resolve));
    return { code, output: service.output() };
  };

  it('signs up through the gateway over HTTPS, and billing gets account.created over NATS with TLS', async () => {
    const email = `topo-tls-${randomBytes(4).toString('hex')}@example.com`;
    const signUp = await graphql(`mutation($input: SignUpInput!) { signUp(input: $input) { accessToken user { email } } }`, {
      input: { email, password: 'correct horse battery staple', name: 'Topo' },
    });
    expect(signUp.errors).toBeUndefined();
    expect(signUp.data.signUp.user.email).toBe(email);
    const token = signUp.data.signUp.accessToken as string;

    let plan: string | undefined;
    for (let i = 0; i < 100 && !plan; i++) {
      const result = await graphql(`{ me { email memberships { edges { node { account { subscription { plan { code } } } } } } } }`, {}, token);
      expect(result.errors).toBeUndefined();
      expect(result.data.me.email).toBe(email);
      plan = result.data.me.memberships.edges[0].node.account.subscription?.plan.code;
      if (!plan) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(plan).toBe('free');
  });

  it('speaks TLS 1.3 only', async () => {
    const negotiated = await new Promise<string | null>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: ports.accounts, ca: pem(cert('ca.crt')) }, () => {
        resolve(socket.getProtocol());
        socket.end();
      });
      socket.once('error', reject);
    });
    expect(negotiated).toBe('TLSv1.3');
    const old = await new Promise<string>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port: ports.accounts, ca: pem(cert('ca.crt')), maxVersion: 'TLSv1.2' }, () => {
        resolve(`connected with ${socket.getProtocol()}`);
        socket.end();
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    expect(old).not.toMatch(/^connected/);
  });

  it('refuses a plain-HTTP caller', async () => {
    // Node's fetch, plain HTTP, at the subgraph's port: the server only speaks TLS and drops the connection.
    await expect(fetch(`http://127.0.0.1:${ports.accounts}/graphql`, { method: 'POST', body: '{"query":"{__typename}"}' })).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${ports.accounts}/healthz`)).rejects.toThrow();
  });

  it('refuses a caller whose certificate another CA issued, and one without a certificate', async () => {
    const body = JSON.stringify({ query: '{ __typename }' });
    const call = async (agent: Agent) => {
      const response = await request(`https://127.0.0.1:${ports.accounts}/graphql`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body });
      return { status: response.statusCode, body: (await response.body.json()) as any };
    };
    const wrongCa = new Agent({ connect: { ca: pem(cert('ca.crt')), cert: pem(otherCert('tester.crt')), key: pem(otherCert('tester.key')) } });
    const anonymous = new Agent({ connect: { ca: pem(cert('ca.crt')) } });
    try {
      for (const agent of [wrongCa, anonymous]) {
        const refused = await call(agent);
        expect(refused.status).toBe(403);
        expect(refused.body.errors[0].extensions.code).toBe('FORBIDDEN');
      }
      // The probes stay open without a certificate, as the kubelet calls them.
      expect((await get(`https://127.0.0.1:${ports.accounts}/healthz`, anonymous)).status).toBe(200);
      // A certificate from the CA gets past TLS; the internal token is still required behind it.
      const unsigned = await call(trusted);
      expect(unsigned.status).toBe(401);
      expect(unsigned.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    } finally {
      await wrongCa.close();
      await anonymous.close();
    }
  });

  it('is refused by a caller that trusts another CA', async () => {
    const trustsOther = new Agent({ connect: { ca: pem(otherCert('ca.crt')), cert: pem(otherCert('tester.crt')), key: pem(otherCert('tester.key')) } });
    try {
      const error = await get(`https://127.0.0.1:${ports.accounts}/healthz`, trustsOther).then(
        () => undefined,
        (failure: Error & { code?: string; cause?: { code?: string } }) => failure.code ?? failure.cause?.code ?? failure.message,
      );
      expect(error).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|unable to verify/i);
    } finally {
      await trustsOther.close();
    }
  });
  it("speaks TLS 1.3 on the worker's /healthz and /metrics, answers /metrics only to a CA certificate, and refuses plain HTTP", async () => {
    const anonymous = new Agent({ connect: { ca: pem(cert('ca.crt')) } });
    try {
      expect(await get(`https://127.0.0.1:${workerPort}/healthz`, anonymous)).toEqual({ status: 200, body: { status: 'ok' } });
      const refused = await request(`https://127.0.0.1:${workerPort}/metrics`, { dispatcher: anonymous });
      expect(refused.statusCode).toBe(403);
      await refused.body.dump();
      const scraped = await request(`https://127.0.0.1:${workerPort}/metrics`, { dispatcher: trusted });
      expect(scraped.statusCode).toBe(200);
      expect(await scraped.body.text()).toMatch(/^process_cpu_user_seconds_total /m);
    } finally {
      await anonymous.close();
    }
    await expect(fetch(`http://127.0.0.1:${workerPort}/healthz`)).rejects.toThrow();
    const negotiated = await new Promise<string | null>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: workerPort, ca: pem(cert('ca.crt')) }, () => {
        resolve(socket.getProtocol());
        socket.end();
      });
      socket.once('error', reject);
    });
    expect(negotiated).toBe('TLSv1.3');
  });

  it('passes the health check docker-compose.yml gives each service, run as the containers run it: its readiness over TLS', async () => {
    const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, any> };
    const served: Record<string, Record<string, string>> = {
      ...Object.fromEntries(NAMES.map((name) => [name, { PORT: String(ports[name]) }])),
      gateway: { PORT: new URL(gatewayUrl).port },
      worker: { METRICS_PORT: String(workerPort) },
    };
    for (const [name, portEnv] of Object.entries(served)) {
      const [, command, ...args] = compose.services[name].healthcheck.test as string[];
      expect(command, name).toBe('node');
      const run = () => spawnSync(process.execPath, args.map((arg) => arg.replaceAll('$$', '$')), { env: { ...process.env, ...portEnv, NODE_EXTRA_CA_CERTS: cert('ca.crt') } }).status;
      // Readiness may take a moment after start (the queue, the store): poll, as Docker retries.
      await expect.poll(run, { timeout: 60_000, interval: 500 }).toBe(0);
    }
  });

  describe.skipIf(Boolean(postgresBinariesMissing))('PostgreSQL with sslmode=verify-full', () => {
    it('carries every connection of the services over TLS 1.3, and refuses a caller without TLS', async () => {
      const client = new pg.Client({ connectionString: database!.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ ssl: boolean; version: string | null; count: number }>(
          `select s.ssl, s.version, count(*)::int as count from pg_stat_activity a join pg_stat_ssl s using (pid)
            where a.datname = 'listbackup' and a.backend_type = 'client backend' and a.pid <> pg_backend_pid() group by 1, 2`,
        );
        // Five subgraphs, the gateway's readiness and the worker hold connections; every one is TLS 1.3.
        expect(rows.map(({ ssl, version }) => ({ ssl, version }))).toEqual([{ ssl: true, version: 'TLSv1.3' }]);
        expect(rows[0].count).toBeGreaterThanOrEqual(NAMES.length);
      } finally {
        await client.end();
      }
      const plain = new pg.Client({ connectionString: postgres!.url('listbackup', { sslmode: 'disable' }) });
      await expect(plain.connect()).rejects.toMatchObject({ code: '28000', message: expect.stringMatching(/no encryption/) });
    });

    it('stops a service whose sslrootcert is another CA, naming PostgreSQL and the certificate', async () => {
      const exited = await runUntilExit('billing', { DATABASE_URL: postgres!.url('listbackup', verifyFull(otherCert('ca.crt'))) });
      expect(exited.code, exited.output).toBe(2);
      expect(exited.output).toMatch(/Cannot connect to PostgreSQL at localhost:\d+ \(sslmode=verify-full\): the server certificate is not issued by the CA in sslrootcert \(UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    }, 180_000);

    it('refuses verify-full towards an IP address, whose certificate node-postgres would check against "localhost"', async () => {
      const byAddress = postgres!.url('listbackup', verifyFull(cert('ca.crt'))).replace('//postgres@localhost:', '//postgres@127.0.0.1:');
      await expect(openDatabase({ url: byAddress, ...billingDatabase })).rejects.toThrow(
        'DATABASE_URL: with sslmode=verify-full, name the PostgreSQL server by its host name, not the address 127.0.0.1',
      );
    });

    it("stops a service when the server's certificate is for another host name, though the CA issued it", async () => {
      // A second cluster presenting a certificate of the same CA for db.example.internal, dialled as localhost.
      const other = await startTlsPostgres(issueCertificate(join(root, 'certs'), 'db.example.internal'));
      try {
        const exited = await runUntilExit('billing', { DATABASE_URL: other.url('postgres', verifyFull(cert('ca.crt'))) });
        expect(exited.code, exited.output).toBe(2);
        expect(exited.output).toMatch(/Cannot connect to PostgreSQL at localhost:\d+ \(sslmode=verify-full\): the server certificate is not issued for this host name \(ERR_TLS_CERT_ALTNAME_INVALID/);
        expect(exited.output).toMatch(/DNS:db\.example\.internal/);
      } finally {
        await other.stop();
      }
    }, 180_000);
  });
});
