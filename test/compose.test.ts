// docker-compose.yml: checked by `docker compose config` where the CLI is installed, and read here
// for what the distributed form promises: TLS on every hop, backups in MinIO, two gateways and two
// workers behind the load balancer, and every file it mounts present (or made by npm run certs).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';

const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, any> };
const services = compose.services;
const NODE_SERVICES = ['accounts', 'platforms', 'sources', 'jobs', 'billing', 'worker', 'gateway'];
const CERTS = readFileSync('scripts/dev-certs.sh', 'utf8').match(/names=\$\{\*:-([^}]+)\}/)![1].split(' ');

const env = {
  ...process.env,
  INTERNAL_TOKEN_SECRET: 'x'.repeat(64),
  VAULT_KEYS: `k1:${Buffer.alloc(32).toString('base64')}`,
  STORAGE_KEYS: `s1:${Buffer.alloc(32).toString('base64')}`,
};
const hasComposeCli = spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0;
if (!hasComposeCli) console.warn('docker compose is not installed: `docker compose config` is skipped, the static checks still run');

describe('docker-compose.yml', () => {
  it.skipIf(!hasComposeCli)('passes docker compose config', () => {
    const result = spawnSync('docker', ['compose', '-f', 'docker-compose.yml', 'config', '--quiet'], { env, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('talks TLS between every service: https service URLs, PostgreSQL verify-full, NATS tls://, MinIO over https', () => {
    for (const name of NODE_SERVICES) {
      const environment = services[name].environment as Record<string, string>;
      for (const key of ['ACCOUNTS_URL', 'PLATFORMS_URL', 'SOURCES_URL', 'JOBS_URL', 'BILLING_URL']) expect(environment[key], `${name} ${key}`).toMatch(/^https:\/\//);
      const database = new URL(environment.DATABASE_URL);
      expect(database.searchParams.get('sslmode'), name).toBe('verify-full');
      expect(database.searchParams.get('sslrootcert'), name).toBe('/certs/ca.crt');
      expect(environment.NATS_URL, name).toMatch(/^tls:\/\//);
      expect([environment.TLS_CERT_FILE, environment.TLS_KEY_FILE, environment.TLS_CA_FILE], name).toEqual(['/certs/service.crt', '/certs/service.key', '/certs/ca.crt']);
      // Each container gets its own certificate and key, and never the CA's key.
      const mounts = (services[name].volumes as string[]).filter((volume) => volume.startsWith('./.certs/'));
      expect(mounts.map((m) => m.split(':')[1]).sort(), name).toEqual(['/certs/ca.crt', '/certs/service.crt', '/certs/service.key']);
      expect(mounts.some((m) => m.includes('ca.key')), name).toBe(false);
    }
    expect(services.postgres.command.join(' ')).toMatch(/ssl=on.*ssl_min_protocol_version=TLSv1\.3/s);
    expect(readFileSync('deploy/compose/pg_hba.conf', 'utf8')).not.toMatch(/^host\s/m);
    expect(readFileSync('deploy/compose/nats.conf', 'utf8')).toMatch(/verify: true[\s\S]*min_version: "1\.3"/);
    expect(services.minio.command).toContain('--certs-dir');
    // The workers' only server, /healthz, /readyz and /metrics, is HTTPS too (test/topology-tls.test.ts runs this check).
    expect(services.worker.healthcheck.test.join(' ')).toMatch(/fetch\(`https:\/\/127\.0\.0\.1:/);
  });

  it("checks each service's health by the readiness it serves: /readyz on its own port (a worker's METRICS_PORT)", () => {
    const workerConfig = readFileSync('subgraphs/jobs/src/worker.ts', 'utf8');
    const metricsDefault = workerConfig.match(/METRICS_PORT: port\((\d+)\)/)![1];
    for (const name of NODE_SERVICES) {
      const test = (services[name].healthcheck?.test ?? []) as string[];
      expect(test.slice(0, 3), name).toEqual(['CMD', 'node', '-e']);
      const url = /fetch\(`(https:\/\/127\.0\.0\.1:\$\$\{process\.env\.(\w+)(?: \|\| (\d+))?\}(\/\w+))`\)/.exec(test[3]);
      expect(url, `${name}: ${test[3]}`).not.toBeNull();
      const [, , variable, fallback, path] = url!;
      expect(path, name).toBe('/readyz');
      if (name === 'worker') {
        expect([variable, fallback]).toEqual(['METRICS_PORT', metricsDefault]);
      } else {
        expect(variable, name).toBe('PORT');
        expect(services[name].environment.PORT, name).toMatch(/^\d+$/);
      }
    }
    // The load balancer sends requests only to ready gateways.
    expect(readFileSync('deploy/compose/haproxy.cfg', 'utf8')).toMatch(/option httpchk GET \/readyz/);
  });

  it('keeps the backups in MinIO through the S3 store, shared by the jobs subgraph and the workers', () => {
    for (const name of ['jobs', 'worker']) {
      const environment = services[name].environment as Record<string, string>;
      expect(environment.STORAGE_S3_BUCKET, name).toBe('listbackup');
      expect(environment.STORAGE_S3_ENDPOINT, name).toBe('https://minio:9000');
      expect(environment.STORAGE_DIR, name).toBeUndefined();
      // Tiering moves packs only to classes MinIO knows.
      expect(environment.STORAGE_S3_STORAGE_CLASSES, name).toBe('warm=REDUCED_REDUNDANCY,cold=REDUCED_REDUNDANCY');
    }
    expect(services['minio-bucket'].entrypoint.join(' ')).toMatch(/mc mb --ignore-existing store\/listbackup/);
  });

  it('runs two gateways and two workers, the gateways behind the load balancer', () => {
    expect(services.gateway.deploy.replicas).toBe(2);
    expect(services.worker.deploy.replicas).toBe(2);
    expect(services.gateway.ports).toBeUndefined();
    expect(services.lb.ports).toEqual(['4000:4000']);
    const haproxy = readFileSync('deploy/compose/haproxy.cfg', 'utf8');
    expect(haproxy).toMatch(/server-template gateway 2 gateway:4000 .*ssl verify required ca-file \/certs\/ca\.crt/);
    expect(haproxy).toMatch(/bind :4000 ssl crt \/certs\/lb\.pem/);
  });

  it('mounts only files that exist or that npm run certs makes', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of (service.volumes ?? []) as string[]) {
        const source = volume.split(':')[0];
        if (!source.startsWith('./')) continue;
        if (source.startsWith('./.certs/')) {
          const file = source.slice('./.certs/'.length);
          expect(file === 'ca.crt' || CERTS.includes(file.replace(/\.(crt|key|pem)$/, '')), `${name}: ${source}`).toBe(true);
        } else expect(existsSync(source), `${name}: ${source}`).toBe(true);
      }
    }
  });
});
