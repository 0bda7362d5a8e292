/**
 * Kit for running the product's backup handlers (BACKUP, RESTORE) through the jobs runtime without
 * the rest of the stack: a stand-in for the sources subgraph's internal routes (the source a job
 * names, and the snapshot catalogue the handler records into), and a jobs subgraph with its embedded
 * worker, a temporary object store and fixed connection credentials.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { EventBus } from '@listbackup/lib/events/bus';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { startJobs } from '../../src/index.ts';
import type { SourceInfo, RecordSnapshotInput } from '../../src/clients/sources-client.ts';
import { createRepository } from '../../src/backup/engine-runtime.ts';
import { type ConnectionCredentials, StaticCredentials } from '../../src/backup/credentials.ts';
import { type BackupSettings, downloadKeys } from '../../src/backup/settings.ts';
import type { ConnectorRegistryOptions } from '@listbackup/catalogue';
import { Keyring, LocalDirectoryStore, type ObjectStore, type Repository } from '@listbackup/engine';
import type { RetryPolicy } from '../../src/worker/retry-policy.ts';
import type { Job } from '../../src/entities/job.ts';
import { DATABASE_URL, startTestSubgraph, uniqueName, type TestSubgraph } from '../support/subgraph-harness.ts';
import { enqueue, logLines, waitForStatus } from '../support/jobs-support.ts';

/** The sources subgraph's internal routes the backup handlers call, answered from memory. */
export class FakeSources {
  readonly sources = new Map<string, SourceInfo>();
  readonly recorded: RecordSnapshotInput[] = [];
  /** Jobs whose flagged snapshot someone acknowledged (as acknowledgeSnapshotAnomaly does in sources). */
  readonly acknowledged = new Set<string>();
  url = '';
  #server: Server | undefined;

  add(accountId: string, connectionId: string, resources: string[]): SourceInfo {
    const source: SourceInfo = {
      id: randomUUID(),
      accountId,
      connectionId,
      name: `source on ${connectionId}`,
      resources,
      paused: false,
      deleted: false,
      retention: { keepLast: 10, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 },
    };
    this.sources.set(source.id, source);
    return source;
  }

  async start(): Promise<this> {
    this.#server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, any>;
      const reply = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      switch (req.url) {
        case '/internal/sources/get':
          return reply(200, { source: this.sources.get(body.id) ?? null });
        case '/internal/snapshots': {
          if (!this.recorded.some((r) => r.jobId === body.jobId)) this.recorded.push(body as RecordSnapshotInput);
          return reply(200, { snapshot: { id: `snap-${body.jobId}` } });
        }
        case '/internal/snapshots/list':
          return reply(200, {
            snapshots: this.recorded
              .filter((r) => r.sourceId === body.sourceId)
              .map((r) => ({ id: `snap-${r.jobId}`, jobId: r.jobId, createdAt: r.createdAt, manifestKey: r.manifestKey, held: Boolean(r.anomaly) && !this.acknowledged.has(r.jobId) })),
          });
        case '/internal/snapshots/delete':
          return reply(200, { deleted: 0 });
        default:
          return reply(404, { message: 'not found' });
      }
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    if (!this.#server) return;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server!.close(() => resolve()));
  }
}

export interface BackupRig {
  subgraph: TestSubgraph;
  repository: Repository;
  sources: FakeSources;
  credentials: StaticCredentials;
  /** The event bus the jobs subgraph publishes on (job events, through its outbox). */
  bus: EventBus;
  /** Runs a job of `kind` through the worker and returns its row once it SUCCEEDED (fails the test with the job's log otherwise). */
  run(accountId: string, kind: 'BACKUP' | 'RESTORE', sourceId: string, params?: Record<string, unknown>): Promise<Job>;
  close(): Promise<void>;
}

/** The jobs subgraph with its worker running the product's handlers (registerDefaultHandlers), storage in a temporary directory (or `overrides.store`). */
export async function startBackupRig(
  connectors: ConnectorRegistryOptions,
  connections: Record<string, ConnectionCredentials>,
  overrides: Pick<BackupSettings, 'fullRunEveryMs' | 'now' | 'gcGraceMs' | 'gcDelayMs' | 'connectorRetry'> & { store?: ObjectStore; retryPolicy?: Partial<RetryPolicy> } = {},
): Promise<BackupRig> {
  const storageDir = await mkdtemp(join(tmpdir(), 'lb-restore-'));
  const sources = await new FakeSources().start();
  const { store = new LocalDirectoryStore(storageDir), retryPolicy, ...settings } = overrides;
  const keyring = new Keyring([{ id: 'test-1', key: randomBytes(32) }]);
  const repository = createRepository({ store, keyring });
  const credentials = new StaticCredentials(connections);
  const bus = new InProcessEventBus();
  let subgraph: TestSubgraph;
  try {
    subgraph = await startTestSubgraph('jobs', (runtime) =>
      startJobs(runtime, {
        sourcesUrl: sources.url,
        backup: { store, keyring, repository, credentials, downloadKeys: downloadKeys(runtime.internalTokenSecret), connectors, ...settings, connectorRetry: { baseDelayMs: 5, maxDelayMs: 20, ...settings.connectorRetry } },
        worker: { pollIntervalMs: 100, retryPolicy: { baseDelayMs: 50, maxDelayMs: 200, ...retryPolicy } },
      }),
      { bus },
    );
  } catch (error) {
    await repository.close();
    await sources.close();
    await bus.close();
    await rm(storageDir, { recursive: true, force: true });
    throw error;
  }
  return {
    subgraph,
    repository,
    sources,
    credentials,
    bus,
    async run(accountId, kind, sourceId, params = {}) {
      const job = await enqueue(subgraph, accountId, kind, params, { sourceId });
      const done = await waitForStatus(subgraph, job.id, ['SUCCEEDED', 'FAILED', 'CANCELLED'], 120_000);
      if (done.status !== 'SUCCEEDED') {
        const log = (await logLines(subgraph, job.id)).map((line) => `${line.level} ${line.message}`).join('\n');
        throw new Error(`${kind} job ended ${done.status} (${done.failureType}: ${done.failureReason})\n${log}`);
      }
      return done;
    },
    async close() {
      await subgraph.close();
      await repository.close();
      await sources.close();
      await bus.close();
      await rm(storageDir, { recursive: true, force: true });
    },
  };
}

/** A fresh database on the test server, dropped by `drop()`. */
export async function freshDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = uniqueName('lb_restore');
  await adminQuery(`create database ${name}`);
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop: () => adminQuery(`drop database if exists ${name} with (force)`) };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Runs `fn` with a client on `url`. */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
