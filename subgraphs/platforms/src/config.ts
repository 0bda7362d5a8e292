import { z } from 'zod';
import { ConfigError } from '@listbackup/lib/config';
import { Keyring, EnvelopeError } from '@listbackup/lib/vault';
import { PLATFORM_DEFINITIONS, envStem, type PlatformDefinition } from '@listbackup/catalogue';

/** OAuth client credentials of one platform, registered by the operator of this deployment. */
export interface OAuthClient {
  clientId: string;
  /** The secret the platform is called with. */
  clientSecret: string;
  /**
   * Older secrets still accepted during a rollover (`OAUTH_<SLUG>_CLIENT_SECRET=new,old`): a call the
   * platform refuses as `invalid_client` is made again with the next one, and a callback signed with
   * any of them is valid.
   */
  previousClientSecrets?: readonly string[];
}

/**
 * Endpoint URLs that replace the definition's for one platform: for a sandbox (QuickBooks, Salesforce
 * test orgs), a self-hosted instance, or a local server in tests.
 */
export interface EndpointOverrides {
  authorizeUrl?: string;
  tokenUrl?: string;
  revokeUrl?: string;
  /** The identity endpoint `testConnection` calls (for both auth types). */
  identityUrl?: string;
  /**
   * The issuer of the authorization server `authorizeUrl` points at, which sends it as `iss` (RFC
   * 9207). Without it, an overridden `authorizeUrl` drops the definition's issuer: another server
   * names itself differently.
   */
  issuer?: string;
}

export interface PlatformsOptions {
  /** Key-encryption keys: a Keyring, or a `VAULT_KEYS` string. Without one a temporary key is used (tests only). */
  vault?: Keyring | string;
  /** The public URL of the OAuth callback, as registered with each platform. Default `http://localhost:4000/oauth/callback`. */
  oauthRedirectUrl?: string;
  /** By platform slug. A platform without a client here answers PLATFORM_NOT_CONFIGURED to `startOAuthConnection`. */
  oauthClients?: Record<string, OAuthClient>;
  /** By platform slug. */
  endpointOverrides?: Record<string, EndpointOverrides>;
  /** The web app, linked from the OAuth result page. */
  appUrl?: string;
  /** Timeout of every call to a platform. Default 15 s. */
  httpTimeoutMs?: number;
  /** The clock (tests move it to expire states and tokens). */
  now?: () => number;
  /** The outbox relay's poll interval. */
  outboxIntervalMs?: number;
  /** How often connections whose credential expires soon are looked for (`connection.expiring`). Default hourly. */
  expiryCheckIntervalMs?: number;
  /**
   * By platform slug: the secrets its webhooks are signed with, the current one first; during a
   * rollover the old one too. A platform without any answers WEBHOOK_NOT_CONFIGURED (docs/webhooks.md).
   */
  webhookSecrets?: Record<string, readonly string[]>;
}

export const DEFAULT_REDIRECT_URL = 'http://localhost:4000/oauth/callback';

const httpUrl = () => z.url({ protocol: /^https?$/ });

/**
 * Reads the platforms settings from the environment, listing every problem at once:
 *
 * - `VAULT_KEYS`: `id:base64key[,…]`, current key first (required unless `localKeyFile` is given,
 *   the single-process default, where a key is generated and kept in that file).
 * - `OAUTH_REDIRECT_URL`: the public callback URL (default `http://localhost:4000/oauth/callback`).
 * - `APP_URL`: the web app, linked from the OAuth result page.
 * - `OAUTH_<SLUG>_CLIENT_ID` and `OAUTH_<SLUG>_CLIENT_SECRET`, both or neither, per OAuth platform
 *   (`<SLUG>` is the slug in capitals with `_` for `-`: `OAUTH_GOOGLE_DRIVE_CLIENT_ID`). During a
 *   rollover of the client secret at the platform, `new,old` (see OAuthClient.previousClientSecrets).
 * - `PLATFORM_<SLUG>_AUTHORIZE_URL`, `_TOKEN_URL`, `_REVOKE_URL`, `_IDENTITY_URL`: endpoint overrides;
 *   `PLATFORM_<SLUG>_ISSUER`: the issuer identifier of that authorization server, which then must
 *   send it as `iss` with every authorization response (RFC 9207).
 * - `PLATFORM_<SLUG>_WEBHOOK_SECRET`: the secret the platform signs its webhooks with, per platform
 *   that sends them; `new,old` while the platform's secret is being rolled over (docs/webhooks.md).
 */
export function platformsOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  options: { localKeyFile?: string; definitions?: readonly PlatformDefinition[] } = {},
): PlatformsOptions {
  const definitions = options.definitions ?? PLATFORM_DEFINITIONS;
  const shape: Record<string, z.ZodType> = {
    VAULT_KEYS: options.localKeyFile ? z.string().optional() : z.string({ error: 'is required: id:base64key[,id:base64key…], 32-byte keys, current first' }),
    OAUTH_REDIRECT_URL: httpUrl().default(DEFAULT_REDIRECT_URL),
    APP_URL: httpUrl().optional(),
  };
  for (const platform of definitions) {
    const stem = envStem(platform.slug);
    if (platform.oauth2) {
      shape[`OAUTH_${stem}_CLIENT_ID`] = z.string().min(1).optional();
      shape[`OAUTH_${stem}_CLIENT_SECRET`] = z.string().min(1).optional();
    }
    for (const endpoint of ['AUTHORIZE', 'TOKEN', 'REVOKE', 'IDENTITY']) shape[`PLATFORM_${stem}_${endpoint}_URL`] = httpUrl().optional();
    if (platform.oauth2) shape[`PLATFORM_${stem}_ISSUER`] = httpUrl().optional();
    shape[`PLATFORM_${stem}_WEBHOOK_SECRET`] = z.string().min(1).optional();
  }
  // Every problem is listed, not just those of the first check that fails.
  const result = z.object(shape).safeParse(env);
  const problems = result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  if (env.VAULT_KEYS) {
    try {
      Keyring.parse(env.VAULT_KEYS);
    } catch (error) {
      if (!(error instanceof EnvelopeError)) throw error;
      problems.push(`VAULT_KEYS: ${error.message}`);
    }
  }
  const known = new Set(definitions.map((platform) => envStem(platform.slug)));
  for (const platform of definitions) {
    const stem = envStem(platform.slug);
    const id = env[`OAUTH_${stem}_CLIENT_ID`];
    const secret = env[`OAUTH_${stem}_CLIENT_SECRET`];
    if (secret !== undefined && splitSecrets(secret).length === 0) problems.push(`OAUTH_${stem}_CLIENT_SECRET: no secret in it (new,old during a rollover)`);
    if (Boolean(id) !== Boolean(secret)) problems.push(`OAUTH_${stem}_CLIENT_${id ? 'SECRET' : 'ID'}: is required with OAUTH_${stem}_CLIENT_${id ? 'ID' : 'SECRET'}`);
    const webhookSecret = env[`PLATFORM_${stem}_WEBHOOK_SECRET`];
    if (webhookSecret !== undefined && !platform.webhooks) problems.push(`PLATFORM_${stem}_WEBHOOK_SECRET: ${platform.name} sends no webhooks ListBackup reads`);
    else if (webhookSecret !== undefined && splitSecrets(webhookSecret).length === 0) problems.push(`PLATFORM_${stem}_WEBHOOK_SECRET: no secret in it (new,old during a rollover)`);
  }
  // A typo in a platform name would otherwise silently leave it unconfigured.
  for (const name of Object.keys(env)) {
    const match = /^(?:OAUTH_(.+)_CLIENT_(?:ID|SECRET)|PLATFORM_(.+)_(?:(?:AUTHORIZE|TOKEN|REVOKE|IDENTITY)_URL|ISSUER|WEBHOOK_SECRET))$/.exec(name);
    if (match && !known.has(match[1] ?? match[2])) problems.push(`${name}: no platform of that name (known: ${[...known].join(', ')})`);
  }
  if (problems.length || !result.success) throw new ConfigError(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  const values = result.data as Record<string, string | undefined>;

  const oauthClients: Record<string, OAuthClient> = {};
  const endpointOverrides: Record<string, EndpointOverrides> = {};
  const webhookSecrets: Record<string, string[]> = {};
  for (const platform of definitions) {
    const stem = envStem(platform.slug);
    const clientId = values[`OAUTH_${stem}_CLIENT_ID`];
    const [clientSecret, ...previousClientSecrets] = splitSecrets(values[`OAUTH_${stem}_CLIENT_SECRET`]);
    if (clientId && clientSecret) oauthClients[platform.slug] = { clientId, clientSecret, ...(previousClientSecrets.length ? { previousClientSecrets } : {}) };
    const overrides: EndpointOverrides = {
      authorizeUrl: values[`PLATFORM_${stem}_AUTHORIZE_URL`],
      tokenUrl: values[`PLATFORM_${stem}_TOKEN_URL`],
      revokeUrl: values[`PLATFORM_${stem}_REVOKE_URL`],
      identityUrl: values[`PLATFORM_${stem}_IDENTITY_URL`],
      issuer: values[`PLATFORM_${stem}_ISSUER`],
    };
    if (Object.values(overrides).some(Boolean)) endpointOverrides[platform.slug] = overrides;
    const secrets = splitSecrets(values[`PLATFORM_${stem}_WEBHOOK_SECRET`]);
    if (secrets.length) webhookSecrets[platform.slug] = secrets;
  }
  return {
    vault: values.VAULT_KEYS ? Keyring.parse(values.VAULT_KEYS) : Keyring.fromFile(options.localKeyFile!, { create: true }),
    oauthRedirectUrl: values.OAUTH_REDIRECT_URL,
    appUrl: values.APP_URL,
    oauthClients,
    endpointOverrides,
    webhookSecrets,
  };
}

/** `new,old` → `['new', 'old']`, blanks dropped. */
const splitSecrets = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((secret) => secret.trim())
    .filter(Boolean);
