import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../src/embedded-postgres.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('startEmbeddedPostgres', () => {
  let root: string;
  let running: EmbeddedPostgresHandle | undefined;

  afterAll(async () => {
    await running?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('initialises, serves, stops, restarts with its data kept, and survives a stale postmaster.pid', { timeout: 120_000 }, async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'listbackup-embedded-pg-'));
    const dataDir = path.join(root, 'postgres');
    const port = await freePort();

    running = await startEmbeddedPostgres({ dataDir, port });
    const first = running;
    expect(first.url).toMatch(new RegExp(`^postgres://postgres:[^@]+@127\\.0\\.0\\.1:${port}/listbackup$`));
    expect(await query(first.url, 'select 1 as one')).toEqual([{ one: 1 }]);
    expect(await query(first.url, `select current_database() as db, current_setting('server_encoding') as enc`)).toEqual([
      { db: 'listbackup', enc: 'UTF8' },
    ]);
    await query(first.url, `create table kept (note text); insert into kept values ('still here ✓')`);
    await first.stop();
    await first.stop(); // idempotent
    running = undefined;
    await expect(query(first.url, 'select 1')).rejects.toThrow();

    running = await startEmbeddedPostgres({ dataDir, port });
    const second = running;
    expect(second.url).toBe(first.url);
    expect(await query(second.url, 'select note from kept')).toEqual([{ note: 'still here ✓' }]);
    await second.stop();
    running = undefined;

    // A run killed with SIGKILL leaves postmaster.pid behind; its pid is then dead.
    await writeFile(path.join(dataDir, 'postmaster.pid'), `999999999\n${dataDir}\n`);
    const lines: string[] = [];
    running = await startEmbeddedPostgres({ dataDir, port, log: (line) => lines.push(line) });
    expect(lines.some((line) => line.includes('stale'))).toBe(true);
    expect(await query(running.url, 'select count(*)::int as n from kept')).toEqual([{ n: 1 }]);

    // Port in use: a clear error, and the running server is untouched.
    await expect(startEmbeddedPostgres({ dataDir: path.join(root, 'other'), port })).rejects.toThrow(/port \d+ .*already in use/);
    expect(await query(running.url, 'select 1 as one')).toEqual([{ one: 1 }]);

    await running.stop();
    running = undefined;
  });

  it('stops its PostgreSQL cleanly when the process that started it is killed with SIGKILL', { timeout: 120_000 }, async () => {
    const dataDir = path.join(root ?? (root = await mkdtemp(path.join(os.tmpdir(), 'listbackup-embedded-pg-'))), 'killed');
    const port = await freePort();
    const module = new URL('../src/embedded-postgres.ts', import.meta.url).pathname;
    const starter = spawn(
      process.execPath,
      ['--input-type=module', '-e', `const { startEmbeddedPostgres } = await import(${JSON.stringify(module)}); const pg = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, port: ${port} }); console.log(pg.url); setInterval(() => {}, 1000);`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const url = await new Promise<string>((resolve, reject) => {
      starter.stdout.setEncoding('utf8').once('data', (line: string) => resolve(line.trim()));
      starter.once('exit', (code) => reject(new Error(`the starting process exited with ${code}`)));
    });
    await query(url, `create table kept (note text); insert into kept values ('written before the kill')`);

    starter.kill('SIGKILL');
    // A clean shutdown removes postmaster.pid; a server left running keeps it.
    const pidFile = path.join(dataDir, 'postmaster.pid');
    for (let attempt = 0; attempt < 600 && existsSync(pidFile); attempt++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(existsSync(pidFile)).toBe(false);
    await expect(query(url, 'select 1')).rejects.toThrow();

    // Nothing was left running for the next start to clean up, and nothing written was lost.
    const lines: string[] = [];
    running = await startEmbeddedPostgres({ dataDir, port, log: (line) => lines.push(line) });
    expect(lines.filter((line) => /left running|stale/.test(line))).toEqual([]);
    expect(await query(running.url, 'select note from kept')).toEqual([{ note: 'written before the kill' }]);
    await running.stop();
    running = undefined;
  });
});
