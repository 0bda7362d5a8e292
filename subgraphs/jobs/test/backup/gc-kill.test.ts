/**
 * A worker process killed (SIGKILL) in the middle of a GC job, on an S3 store: the repository it
 * leaves is consistent (verify reads every chunk, what is kept restores byte for byte), its lock
 * on the account's data goes with its connection, and a second worker retries the job after the
 * lease runs out and finishes freeing the bytes. The store is an S3-compatible server (s3rver)
 * behind a relay that stops passing requests after the worker's tenth deletion of a pack or pack
 * index, so the kill falls at the same point of the run every time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import S3rver from '@20minutes/s3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring, layout, listSnapshots, Repository, runBackup, type SnapshotHeader, snapshotItems, StoreKeyProvider, verify } from '@listbackup/engine';
import { S3Store } from '@listbackup/engine/s3';
import { startJobs } from '../../src/index.ts';
import { enqueue, jobRow, logLines, waitForStatus } from '../support/jobs-support.ts';
import { startTestSubgraph, type TestSubgraph } from '../support/subgraph-harness.ts';

const WORKER_ENTRY = fileURLToPath(new URL('../../src/worker.ts', import.meta.url));
const LEASE_SECONDS = 10;
const BUCKET = 'listbackup-gc-kill';
const PREFIX = 'objects/';
const STORAGE_KEYS = `s1:${randomBytes(32).toString('base64')}`;

/** Passes requests to the S3 server until it has passed `deletesBeforeHold` pack deletions; later requests hang until `open()`. */
class Relay {
  url = '';
  packDeletes = 0;
  #server: http.Server | undefined;
  #holding = false;
  #held: (() => void) | null = null;
  readonly #sockets = new Set<Socket>();
  readonly reached: Promise<void>;
  readonly target: string;
  readonly deletesBeforeHold: number;

  constructor(target: string, deletesBeforeHold: number) {
    this.target = target;
    this.deletesBeforeHold = deletesBeforeHold;
    this.reached = new Promise((resolve) => (this.#held = resolve));
  }

  async start(): Promise<this> {
    this.#server = http.createServer((req, res) => {
      if (this.#holding) return; // the request never gets an answer: the process dies waiting
      if (req.method === 'DELETE' && /\/(packs|pack-index)\//.test(req.url ?? '') && ++this.packDeletes > this.deletesBeforeHold) {
        this.#holding = true;
        this.#held?.();
        return;
      }
      const upstream = http.request(new URL(req.url ?? '/', this.target), { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  /** Passes everything from now on; requests held so far are dropped with their connections. */
  open(): void {
    this.#holding = false;
    this.packDeletes = Number.NEGATIVE_INFINITY;
    for (const socket of this.#sockets) socket.destroy();
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve());
  }
}

function s3(endpoint: string): S3Store {
  return S3Store.fromConfig({ endpoint, region: 'us-east-1', bucket: BUCKET, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', prefix: PREFIX }, { conditionalWrites: false });
}

async function storedBytes(store: S3Store, accountId: string): Promise<number> {
  let bytes = 0;
  for await (const object of store.list(layout.account(accountId))) bytes += object.size;
  return bytes;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('a worker killed in the middle of a GC job (S3 store)', () => {
  const children: ChildProcess[] = [];
  let storageDir = '';
  let server: InstanceType<typeof S3rver>;
  let s3Url = '';
  let relay: Relay;
  let subgraph: TestSubgraph;
  let databaseUrl = '';
  const accountId = randomUUID();
  const keyring = Keyring.parse(STORAGE_KEYS);
  const kept = new Map<string, Buffer>();

  function spawnWorker(endpoint: string): ChildProcess {
    const child = spawn(process.execPath, [WORKER_ENTRY], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: databaseUrl,
        INTERNAL_TOKEN_SECRET: subgraph.secret,
        METRICS_PORT: '0',
        JOB_LEASE_SECONDS: String(LEASE_SECONDS),
        JOB_SUPERVISE_INTERVAL_SECONDS: '1',
        JOB_POLL_INTERVAL_MS: '200',
        LOG_LEVEL: 'error',
        STORAGE_KEYS,
        STORAGE_S3_BUCKET: BUCKET,
        STORAGE_S3_ENDPOINT: endpoint,
        STORAGE_S3_PREFIX: PREFIX,
        STORAGE_S3_ACCESS_KEY_ID: 'S3RVER',
        STORAGE_S3_SECRET_ACCESS_KEY: 'S3RVER',
        // The data is seconds old; no other writer shares the store.
        GC_GRACE_SECONDS: '0',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(child);
    return child;
  }

  /** What a restarted process finds: every chunk intact, the kept source's items byte for byte. */
  async function expectConsistent(): Promise<SnapshotHeader[]> {
    const store = s3(s3Url);
    const repository = new Repository({ store, keys: new StoreKeyProvider(store, keyring) });
    const account = await repository.account(accountId);
    const report = await verify(account);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    const snapshots = await listSnapshots(account);
    const restored = new Map<string, string>();
    for (const header of snapshots) {
      for await (const item of snapshotItems(account, header)) {
        const hash = createHash('sha256');
        for await (const piece of account.readItem(item.chunks, { expectedContentHash: item.contentHash })) hash.update(piece);
        restored.set(item.id, hash.digest('hex'));
      }
    }
    expect(restored).toEqual(new Map([...kept].map(([id, data]) => [id, sha256(data)])));
    return snapshots;
  }

  beforeAll(async () => {
    storageDir = await mkdtemp(join(tmpdir(), 'lb-gc-kill-'));
    server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: storageDir, allowMismatchedSignatures: true });
    s3Url = `http://127.0.0.1:${((await server.run()) as AddressInfo).port}`;
    await s3(s3Url).client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    relay = await new Relay(s3Url, 10).start();
    subgraph = await startTestSubgraph('jobs', (runtime) => {
      databaseUrl = runtime.databaseUrl;
      return startJobs(runtime, { sourcesUrl: 'http://127.0.0.1:9', leaseSeconds: LEASE_SECONDS });
    });
  }, 120_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await subgraph?.close();
    await relay?.close();
    await server?.close();
    if (storageDir) await rm(storageDir, { recursive: true, force: true });
  });

  it('leaves a repository that verifies and restores, and the retried job frees the rest', { timeout: 300_000 }, async () => {
    // Small packs, so deleting a source's snapshot frees many of them.
    const store = s3(s3Url);
    const writer = new Repository({ store, keys: new StoreKeyProvider(store, keyring), packSize: 64 * 1024 });
    for (let i = 0; i < 3; i++) kept.set(`kept-${i}`, randomBytes(100_000));
    const items = (data: Map<string, Buffer>) => [...data].map(([id, bytes]) => ({ id, path: `${id}.bin`, content: () => [bytes] }));
    await runBackup(writer, { accountId, sourceId: 'kept', items: items(kept) });
    const gone = new Map(Array.from({ length: 12 }, (_, i) => [`gone-${i}`, randomBytes(100_000)] as const));
    const goneBackup = await runBackup(writer, { accountId, sourceId: 'gone', items: items(gone) });
    await writer.close();
    const before = await storedBytes(store, accountId);

    const job = await enqueue(subgraph, accountId, 'GC', { forget: [goneBackup.snapshot.id] });
    const first = spawnWorker(relay.url);
    await relay.reached;
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    expect(await jobRow(subgraph, job.id)).toMatchObject({ status: 'RUNNING', attempts: 1 });

    // Killed after ten of its deletions: the snapshot is forgotten, part of its data is gone.
    const atKill = await expectConsistent();
    expect(atKill.map((s) => s.sourceId)).toEqual(['kept']);
    const partly = await storedBytes(store, accountId);
    expect(partly).toBeLessThan(before);

    relay.open();
    spawnWorker(relay.url);
    const done = await waitForStatus(subgraph, job.id, ['SUCCEEDED', 'FAILED'], 180_000);
    expect(done.status, done.failureReason ?? '').toBe('SUCCEEDED');
    expect(done.attempts).toBe(2);
    expect((await logLines(subgraph, job.id)).map((line) => line.message)).toContain('Attempt 1 stopped: its worker stopped responding');
    await expectConsistent();
    const after = await storedBytes(store, accountId);
    expect(after).toBeLessThan(partly);
    // What is left is the kept source: its three items and little more.
    expect(after).toBeLessThan(before - 12 * 100_000);
  });
});
