import { hkdfSync } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '@listbackup/lib/config';
import { Keyring, LocalDirectoryStore, type ObjectStore, type Repository } from '@listbackup/engine';
import { type ConnectorRegistryOptions, createConnectorRegistry, envStem } from '@listbackup/catalogue';
import type { RetryPolicy } from '@listbackup/catalogue/sdk';
import { type CredentialsProvider, PlatformsCredentials } from './credentials.ts';

/** What the backup, export, restore and verify handlers need beyond the job runtime. */
export interface BackupSettings {
  /** Where chunks, manifests and exports live. */
  store: ObjectStore;
  /** Key-encryption keys that wrap each account's data key (kept in the store). */
  keyring: Keyring;
  /** A repository over `store` to share (the download route and the handlers of one process); made from store and keyring when absent. */
  repository?: Repository;
  /** Where a connection's credentials come from (the platforms subgraph's internal route). */
  credentials: CredentialsProvider;
  /** Signs download links; derive it with `downloadKey(internalTokenSecret)`. */
  downloadKey: Buffer;
  /** How long an export stays downloadable (default 24 h). */
  downloadTtlSeconds?: number;
  /** Connector base URLs (GitHub Enterprise, test fakes). */
  connectors?: ConnectorRegistryOptions;
  /** Connector retry overrides (tests shorten the backoff). */
  connectorRetry?: Partial<RetryPolicy>;
  /** Unreferenced chunks younger than this survive a prune (default: the engine's hour). */
  gcGraceMs?: number;
  /** How often an incremental resource is read in full again, to drop what was deleted at the platform (default a week). */
  fullRunEveryMs?: number;
  /** Clock of the incremental-backup schedule (tests move it forward instead of waiting a week). */
  now?: () => Date;
}

/** Storage settings as the environment gives them; `storageFromEnv` turns them into a store and a key ring. */
export interface StorageSettings {
  store: ObjectStore;
  keyring: Keyring;
  description: string;
}

/** The download-link key: its own key derived from the service secret, never the secret itself. */
export function downloadKey(internalTokenSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', internalTokenSecret, 'listbackup-jobs', 'download-link-v1', 32));
}

/**
 * Storage from the environment:
 * - `STORAGE_KEYS`: `id:base64key[,…]` (32-byte keys, current first) that wrap the accounts' data
 *   keys. Required unless `localKeyFile` is given (the single-process default keeps a generated key there).
 * - `STORAGE_S3_BUCKET` (+ `STORAGE_S3_REGION`, `STORAGE_S3_ENDPOINT`, `STORAGE_S3_PREFIX`,
 *   `STORAGE_S3_ACCESS_KEY_ID`, `STORAGE_S3_SECRET_ACCESS_KEY`): S3-compatible storage;
 *   otherwise `STORAGE_DIR` (default `<dataDir>/objects`).
 */
export async function storageFromEnv(env: NodeJS.ProcessEnv = process.env, options: { dataDir?: string; localKeyFile?: string } = {}): Promise<StorageSettings> {
  const problems: string[] = [];
  let keyring: Keyring | undefined;
  if (env.STORAGE_KEYS) {
    try {
      keyring = Keyring.parse(env.STORAGE_KEYS);
    } catch (error) {
      problems.push(`STORAGE_KEYS: ${(error as Error).message}`);
    }
  } else if (options.localKeyFile) {
    keyring = Keyring.fromFile(options.localKeyFile, { create: true });
  } else {
    problems.push('STORAGE_KEYS: is required: id:base64key[,id:base64key…], 32-byte keys, current first');
  }
  let store: ObjectStore | undefined;
  let description = '';
  if (env.STORAGE_S3_BUCKET) {
    const { S3Store } = await import('@listbackup/engine/s3');
    if (Boolean(env.STORAGE_S3_ACCESS_KEY_ID) !== Boolean(env.STORAGE_S3_SECRET_ACCESS_KEY)) problems.push('STORAGE_S3_ACCESS_KEY_ID and STORAGE_S3_SECRET_ACCESS_KEY go together');
    try {
      store = S3Store.fromConfig({
        bucket: env.STORAGE_S3_BUCKET,
        region: env.STORAGE_S3_REGION ?? 'us-east-1',
        endpoint: env.STORAGE_S3_ENDPOINT,
        prefix: env.STORAGE_S3_PREFIX,
        accessKeyId: env.STORAGE_S3_ACCESS_KEY_ID,
        secretAccessKey: env.STORAGE_S3_SECRET_ACCESS_KEY,
      });
      description = `S3 bucket ${env.STORAGE_S3_BUCKET}${env.STORAGE_S3_ENDPOINT ? ` at ${env.STORAGE_S3_ENDPOINT}` : ''}`;
    } catch (error) {
      problems.push(`STORAGE_S3_*: ${(error as Error).message}`);
    }
  } else {
    const dir = resolve(env.STORAGE_DIR ?? `${options.dataDir ?? '.data'}/objects`);
    mkdirSync(dir, { recursive: true });
    store = new LocalDirectoryStore(dir);
    description = `directory ${dir}`;
  }
  if (problems.length || !store || !keyring) throw new ConfigError(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  return { store, keyring, description };
}

/**
 * Everything a worker (or the jobs subgraph) needs for backups, from the environment: the storage
 * above, credentials from the platforms subgraph, download links signed with a key derived from the
 * service secret, and `CONNECTOR_<SLUG>_URL` (`CONNECTOR_GITHUB_URL`, `CONNECTOR_GOOGLE_DRIVE_URL`, …)
 * to point a connector elsewhere (GitHub Enterprise, a local fake).
 */
export async function backupSettingsFromEnv(
  env: NodeJS.ProcessEnv,
  options: { internalTokenSecret: string; platformsUrl: string; dataDir?: string; localKeyFile?: string },
): Promise<BackupSettings & { description: string }> {
  const storage = await storageFromEnv(env, { dataDir: options.dataDir, localKeyFile: options.localKeyFile });
  const baseUrls: Record<string, string> = {};
  for (const slug of createConnectorRegistry().slugs) {
    const url = env[`CONNECTOR_${envStem(slug)}_URL`];
    if (url) baseUrls[slug] = url;
  }
  const ttl = env.DOWNLOAD_TTL_SECONDS ? Number(env.DOWNLOAD_TTL_SECONDS) : undefined;
  if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0)) throw new ConfigError('Invalid configuration:\n  - DOWNLOAD_TTL_SECONDS: a whole number of seconds above 0');
  return {
    ...storage,
    credentials: new PlatformsCredentials(options.platformsUrl, options.internalTokenSecret),
    downloadKey: downloadKey(options.internalTokenSecret),
    downloadTtlSeconds: ttl,
    connectors: { baseUrls },
  };
}
