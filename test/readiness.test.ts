/**
 * Readiness of the jobs subgraph and of a jobs worker, the processes that use NATS, the queue and
 * the object store: each is taken away in turn (the NATS server stopped, pg-boss's schema moved
 * aside, the S3 server stopped) and /readyz answers 503 naming it and why, then 200 once it is back.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import S3rver from '@20minutes/s3rver';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { HttpAccessResolver } from '@listbackup/lib/access';
import { connectNatsBus, streamName } from '@listbackup/lib/events/connect';
import type { NatsEventBus } from '@listbackup/lib/events/nats-bus';
import { createLogger } from '@listbackup/lib/logger';
import { startMetricsServer, type MetricsServer } from '@listbackup/lib/metrics';
import { Keyring } from '@listbackup/engine';
import { S3Store } from '@listbackup/engine/s3';
import { startJobs, type JobsService } from '../subgraphs/jobs/src/index.ts';
import { startJobWorker, type RunningWorker } from '../subgraphs/jobs/src/worker/index.ts';
import { PlatformsCredentials } from '../subgraphs/jobs/src/backup/credentials.ts';
import { downloadKeys } from '../subgraphs/jobs/src/backup/settings.ts';
import { PGBOSS_SCHEMA } from '../subgraphs/jobs/src/queue/job-queue.ts';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const natsServer = spawnSync('nats-server', ['--version']).status === 0;
if (!natsServer && process.env.CI === 'true') throw new Error('nats-server must be on PATH in CI');

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function sql(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Whether something accepts TCP connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

interface Readiness {
  status: number;
  body: { status: string; checks: Record<string, string>; failed?: string[] };
}

const readyz = async (url: string): Promise<Readiness> => {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Readiness['body'] };
};

describe.skipIf(!natsServer)('readiness with NATS, the queue and the object store', () => {
  const dirs: string[] = [];
  let nats: ChildProcess | undefined;
  let natsPort: number;
  let natsDir: string;
  let s3: InstanceType<typeof S3rver> | undefined;
  let s3Port: number;
  let s3Dir: string;
  let bus: NatsEventBus;
  let jobs: JobsService;
  let worker: RunningWorker;
  let workerProbe: MetricsServer;
  let databaseUrl: string;
  const dbName = `lb_${randomBytes(6).toString('hex')}`;
  const namespace = `rd${randomBytes(4).toString('hex')}`;

  const startNats = async () => {
    nats = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', natsDir], { stdio: 'ignore' });
    const deadline = Date.now() + 20_000;
    while (!(await listening(natsPort))) {
      if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${natsPort}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const stopNats = async () => {
    const exited = new Promise((resolve) => nats!.once('exit', resolve));
    nats!.kill('SIGKILL');
    await exited;
    nats = undefined;
  };
  const startS3 = async () => {
    s3 = new S3rver({ address: '127.0.0.1', port: s3Port, silent: true, directory: s3Dir, allowMismatchedSignatures: true });
    await s3.run();
  };
  const stopS3 = async () => {
    await s3!.close();
    s3 = undefined;
  };

  /** Both processes' /readyz, once they agree on `expected` (checks change state when the client notices). */
  const both = async (expected: number): Promise<Readiness[]> => {
    const urls = [`${new URL(jobs.url).origin}/readyz`, workerProbe.url.replace(/\/metrics$/, '/readyz')];
    let seen: Readiness[] = [];
    await expect
      .poll(
        async () => {
          seen = await Promise.all(urls.map(readyz));
          return seen.map((answer) => answer.status);
        },
        { timeout: 60_000, interval: 200 },
      )
      .toEqual([expected, expected]);
    return seen;
  };

  beforeAll(async () => {
    natsPort = await freePort();
    s3Port = await freePort();
    natsDir = await mkdtemp(join(tmpdir(), 'lb-readiness-nats-'));
    s3Dir = await mkdtemp(join(tmpdir(), 'lb-readiness-s3-'));
    dirs.push(natsDir, s3Dir);
    await startNats();
    await startS3();
    const store = S3Store.fromConfig({ endpoint: `http://127.0.0.1:${s3Port}`, region: 'us-east-1', bucket: 'backups', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });
    await store.client.send(new CreateBucketCommand({ Bucket: 'backups' }));

    await sql(DATABASE_URL, `create database ${dbName}`);
    const url = new URL(DATABASE_URL);
    url.pathname = `/${dbName}`;
    databaseUrl = url.toString();
    const secret = randomBytes(32).toString('base64url');
    const log = createLogger('readiness', process.env.LOG_LEVEL ?? 'silent');
    bus = await connectNatsBus(`nats://127.0.0.1:${natsPort}`, namespace);
    const backup = { store, keyring: new Keyring([{ id: 'k1', key: randomBytes(32) }]), credentials: new PlatformsCredentials('http://127.0.0.1:9/graphql', secret), downloadKeys: downloadKeys(secret) };
    jobs = await startJobs(
      { databaseUrl, bus, internalTokenSecret: secret, log, port: 0, durablePrefix: namespace, access: new HttpAccessResolver('http://127.0.0.1:9/graphql', secret) },
      { sourcesUrl: 'http://127.0.0.1:9', backup, maintenanceIntervalMs: 0 },
    );
    worker = await startJobWorker({ databaseUrl, bus, log, internalTokenSecret: secret, sourcesUrl: 'http://127.0.0.1:9', backup });
    workerProbe = await startMetricsServer(0, { host: '127.0.0.1', readiness: worker.readiness });
  }, 120_000);

  afterAll(async () => {
    await workerProbe?.close();
    await worker?.close();
    await jobs?.close();
    if (bus && nats) await (await bus.connection.jetstreamManager()).streams.delete(streamName(namespace)).catch(() => {});
    await bus?.close().catch(() => {});
    if (nats) await stopNats();
    if (s3) await stopS3();
    await sql(DATABASE_URL, `drop database if exists ${dbName} with (force)`).catch(() => {});
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('is ready with every check passing', { timeout: 90_000 }, async () => {
    for (const answer of await both(200)) {
      expect(answer.body).toMatchObject({ status: 'ready', checks: { database: 'ok', events: 'ok', queue: 'ok', store: 'ok' } });
      expect(answer.body.failed).toBeUndefined();
    }
  });

  it('is not ready while NATS is down, saying so, and ready again once it is back', { timeout: 120_000 }, async () => {
    await stopNats();
    for (const answer of await both(503)) {
      expect(answer.body.status).toBe('unavailable');
      expect(answer.body.failed).toEqual(['events']);
      expect(answer.body.checks.events).toMatch(/^disconnected from NATS \(127\.0\.0\.1:\d+\); reconnecting$|^no answer within/);
      expect(answer.body.checks).toMatchObject({ database: 'ok', queue: 'ok', store: 'ok' });
    }
    await startNats();
    for (const answer of await both(200)) expect(answer.body.checks.events).toBe('ok');
  });

  it("is not ready while pg-boss's schema is gone, saying so, and ready again once it is back", { timeout: 120_000 }, async () => {
    await sql(databaseUrl, `alter schema ${PGBOSS_SCHEMA} rename to ${PGBOSS_SCHEMA}_away`);
    try {
      for (const answer of await both(503)) {
        expect(answer.body.failed).toEqual(['queue']);
        expect(answer.body.checks.queue).toMatch(/^pg-boss does not answer \(.*does not exist\)$/);
      }
    } finally {
      await sql(databaseUrl, `alter schema ${PGBOSS_SCHEMA}_away rename to ${PGBOSS_SCHEMA}`);
    }
    for (const answer of await both(200)) expect(answer.body.checks.queue).toBe('ok');
  });

  it('is not ready while the object store is down, saying so, and ready again once it is back', { timeout: 120_000 }, async () => {
    await stopS3();
    for (const answer of await both(503)) {
      expect(answer.body.failed).toEqual(['store']);
      expect(answer.body.checks.store).toMatch(/^the bucket does not answer \(|no answer within/);
    }
    await startS3();
    for (const answer of await both(200)) expect(answer.body.checks.store).toBe('ok');
  });
});
