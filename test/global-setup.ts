// Gives every test file a PostgreSQL and (where it can) a NATS server: the ones named by
// DATABASE_URL / NATS_URL, or else an embedded PostgreSQL and a nats-server found on PATH.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { startEmbeddedPostgres } from '@listbackup/lib/embedded-postgres';

const cleanups: (() => Promise<void> | void)[] = [];

/**
 * Two test files run at once, and some start a dozen services, each with its pools: more than the
 * 100 connections PostgreSQL allows by default. A server named by DATABASE_URL needs as many
 * (.ci/run raises the machine's; README says so).
 */
const TEST_MAX_CONNECTIONS = 400;

export async function setup(): Promise<void> {
  if (!process.env.DATABASE_URL) {
    const dir = mkdtempSync(join(tmpdir(), 'lb-test-pg-'));
    const postgres = await startEmbeddedPostgres({ dataDir: dir, port: await freePort(), maxConnections: TEST_MAX_CONNECTIONS });
    process.env.DATABASE_URL = postgres.url;
    cleanups.push(async () => {
      await postgres.stop();
      rmSync(dir, { recursive: true, force: true });
    });
  }
  if (!process.env.NATS_URL && spawnSync('nats-server', ['--version']).status === 0) {
    const dir = mkdtempSync(join(tmpdir(), 'lb-test-nats-'));
    const natsPort = await freePort();
    const server: ChildProcess = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', dir], { stdio: 'ignore' });
    process.env.NATS_URL = `nats://127.0.0.1:${natsPort}`;
    await new Promise((resolve) => setTimeout(resolve, 500));
    cleanups.push(() => {
      server.kill();
      rmSync(dir, { recursive: true, force: true });
    });
  }
}

export async function teardown(): Promise<void> {
  for (const cleanup of cleanups.reverse()) await cleanup();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
