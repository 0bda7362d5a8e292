import { hkdfSync } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '@listbackup/lib/config';
import { keyringSecrets } from '@listbackup/lib/internal-token';
import { Keyring, LocalDirectoryStore, type ObjectStore, type Repository, type StorageTier } from '@listbackup/engine';
import type { S3StoreOptions } from '@listbackup/engine/s3';
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
  /** Download-link keys, one per internal token secret (`downloadKeys(INTERNAL_TOKEN_SECRET)`): the first signs, every one verifies. */
  downloadKeys: readonly Buffer[];
  /** How long an export stays downloadable (default 24 h). */
  downloadTtlSeconds?: number;
  /** Connector base URLs (GitHub Enterprise, test fakes). */
  connectors?: ConnectorRegistryOptions;
  /** Connector retry overrides (tests shorten the backoff). */
  connectorRetry?: Partial<RetryPolicy>;
  /** Unreferenced chunks younger than this survive a prune (default: the engine's hour). */
  gcGraceMs?: number;
  /** How long after a deletion its GC job runs (default 2 minutes: deletions close together make one run). */
  gcDelayMs?: number;
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

/**
 * The download-link keys: one derived from each secret of `INTERNAL_TOKEN_SECRET` (never a secret
 * itself), newest first, so links keep working while the secret rotates.
 */
export function downloadKeys(internalTokenSecret: string): Buffer[] {
  return keyringSecrets(internalTokenSecret).map((secret) => Buffer.from(hkdfSync('sha256', secret, 'listbackup-jobs', 'download-link-v1', 32)));
}

/**
 * Storage from the environment:
 * - `STORAGE_KEYS`: `id:base64key[,…]` (32-byte keys, current first) that wrap the accounts' data
 *   keys. Required unless `localKeyFile` is given (the single-process default keeps a generated key there).
 * - `STORAGE_S3_BUCKET` (+ `STORAGE_S3_REGION`, `STORAGE_S3_ENDPOINT`, `STORAGE_S3_PREFIX`,
 *   `STORAGE_S3_ACCESS_KEY_ID`, `STORAGE_S3_SECRET_ACCESS_KEY`): S3-compatible storage;
 *   otherwise `STORAGE_DIR` (default `<dataDir>/objects`). `STORAGE_S3_STORAGE_CLASSES`
 *   (`warm=STANDARD_IA,cold=GLACIER_IR`, the default) names the classes tiering moves packs to,
 *   for servers that know other ones (MinIO knows STANDARD and REDUCED_REDUNDANCY).
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
    const storageClasses = parseStorageClasses(env.STORAGE_S3_STORAGE_CLASSES, problems);
    try {
      store = S3Store.fromConfig(
        {
        bucket: env.STORAGE_S3_BUCKET,
        region: env.STORAGE_S3_REGION ?? 'us-east-1',
        endpoint: env.STORAGE_S3_ENDPOINT,
        prefix: env.STORAGE_S3_PREFIX,
        accessKeyId: env.STORAGE_S3_ACCESS_KEY_ID,
        secretAccessKey: env.STORAGE_S3_SECRET_ACCESS_KEY,
        },
        { storageClasses },
      );
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

/** `tier=CLASS[,…]` of STORAGE_S3_STORAGE_CLASSES (hot, warm, cold), or a problem. */
function parseStorageClasses(value: string | undefined, problems: string[]): S3StoreOptions['storageClasses'] {
  if (!value) return undefined;
  const classes: NonNullable<S3StoreOptions['storageClasses']> = {};
  for (const pair of value.split(',')) {
    const [tier, name] = pair.split('=').map((part) => part.trim());
    if (!['hot', 'warm', 'cold'].includes(tier) || !/^[A-Z_]+$/.test(name ?? '')) {
      problems.push(`STORAGE_S3_STORAGE_CLASSES: "${pair}" is not tier=CLASS (tiers hot, warm, cold; e.g. warm=STANDARD_IA,cold=GLACIER_IR)`);
      return undefined;
    }
    classes[tier as StorageTier] = name as NonNullable<S3StoreOptions['storageClasses']>[StorageTier];
  }
  return classes;
}

/**
 * Everything a worker (or the jobs subgraph) needs for backups, from the environment: the storage
 * above, credentials from the platforms subgraph, download links signed with a key derived from the
 * service secret, and `CONNECTOR_<SLUG>_URL` (`CONNECTOR_GITHUB_URL`, `CONNECTOR_GOOGLE_DRIVE_URL`, …)
 * to point a connector elsewhere (GitHub Enterprise, a local fake), and `GC_GRACE_SECONDS`, how
 * old unreferenced data must be before a GC frees it (default 3600).
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
  const grace = env.GC_GRACE_SECONDS ? Number(env.GC_GRACE_SECONDS) : undefined;
  if (grace !== undefined && !(Number.isInteger(grace) && grace >= 0)) throw new ConfigError('Invalid configuration:\n  - GC_GRACE_SECONDS: a whole number of seconds, 0 or more');
  return {
    ...storage,
    credentials: new PlatformsCredentials(options.platformsUrl, options.internalTokenSecret),
    downloadKeys: downloadKeys(options.internalTokenSecret),
    downloadTtlSeconds: ttl,
    gcGraceMs: grace === undefined ? undefined : grace * 1000,
    connectors: { baseUrls },
  };
}
