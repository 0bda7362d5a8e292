// A PostgreSQL cluster of a test's own that takes TLS only (hostssl, TLS 1.3), with a server
// certificate from the local CA: initdb and pg_ctl of the machine's PostgreSQL (PG_BINDIR, by default
// PostgreSQL 15 as Debian installs it), in a temporary directory, on a free port.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './processes.ts';

export const PG_BINDIR = process.env.PG_BINDIR ?? '/usr/lib/postgresql/15/bin';
const binary = (name: string) => join(PG_BINDIR, name);

/** Why no cluster can be started here, or undefined when the binaries are present. */
export const postgresBinariesMissing = ['initdb', 'pg_ctl', 'postgres'].every((name) => existsSync(binary(name)))
  ? undefined
  : `no PostgreSQL binaries in ${PG_BINDIR} (install postgresql-15, or point PG_BINDIR at a bin directory with initdb and pg_ctl)`;

/** PostgreSQL refuses to run as root: as root, the cluster runs as the system user `postgres`. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('Running as root, a PostgreSQL cluster needs the system user postgres (useradd --system postgres)');
  }
}

export interface TlsPostgres {
  port: number;
  /** `postgres://postgres@localhost:<port>/<database>` with `params` (sslmode, sslrootcert, …). */
  url(database: string, params?: Record<string, string>): string;
  /** The server's log, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export interface TlsPostgresOptions {
  /** The server's certificate and key (PEM files), issued by the local CA. */
  certFile: string;
  keyFile: string;
}

export async function startTlsPostgres(options: TlsPostgresOptions): Promise<TlsPostgres> {
  const owner = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'lb-pg-tls-'));
  const data = join(dir, 'data');
  const own = (path: string) => owner && chownSync(path, owner.uid, owner.gid);
  own(dir);
  // The server reads its key only when it owns it and nobody else may read it.
  copyFileSync(options.certFile, join(dir, 'server.crt'));
  copyFileSync(options.keyFile, join(dir, 'server.key'));
  chmodSync(join(dir, 'server.key'), 0o600);
  own(join(dir, 'server.crt'));
  own(join(dir, 'server.key'));

  const run = (name: string, args: string[]) => {
    const result = spawnSync(binary(name), args, { encoding: 'utf8', ...(owner ?? {}) });
    if (result.status !== 0) throw new Error(`${name} ${args.join(' ')} failed (${result.status}):\n${result.stdout}${result.stderr}${existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8') : ''}`);
  };
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '-N']);
  const port = await freePort();
  appendFileSync(
    join(data, 'postgresql.conf'),
    [
      `port = ${port}`,
      `listen_addresses = 'localhost'`,
      `unix_socket_directories = '${dir}'`,
      'ssl = on',
      `ssl_cert_file = '${join(dir, 'server.crt')}'`,
      `ssl_key_file = '${join(dir, 'server.key')}'`,
      `ssl_min_protocol_version = 'TLSv1.3'`,
      'max_connections = 200',
      'fsync = off',
      '',
    ].join('\n'),
  );
  // TLS or nothing: a plain connection finds no rule and is refused.
  writeFileSync(join(data, 'pg_hba.conf'), 'hostssl all all all trust\n');
  run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '120', 'start']);

  let stopped = false;
  return {
    port,
    url(database, params = {}) {
      const url = new URL(`postgres://postgres@localhost:${port}/${database}`);
      for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
      return url.toString();
    },
    log: () => (existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8') : ''),
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
