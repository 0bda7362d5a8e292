import { hkdfSync } from 'node:crypto';
import { keyringSecrets } from '@listbackup/lib/internal-token';
import type { AccessResolver } from '@listbackup/lib/access';
import type { Logger } from '@listbackup/lib/logger';
import { Keyring, generateKek } from '@listbackup/lib/vault';
import { DEFAULT_REDIRECT_URL, type EndpointOverrides, type OAuthClient, type PlatformsOptions } from './config.ts';
import type { ApiKeySpec, IdentityEndpoint, OAuth2Spec, PlatformDefinition, Revocation } from '@listbackup/catalogue';
import { CredentialVault } from './services/credential-vault.ts';

/** What the platforms services need beyond a request: keys, OAuth clients, endpoints, clock. */
export interface PlatformsRuntime {
  vault: CredentialVault;
  redirectUrl: string;
  clients: Readonly<Record<string, OAuthClient>>;
  overrides: Readonly<Record<string, EndpointOverrides>>;
  /** By platform slug: the secrets its webhooks may be signed with, current first. */
  webhookSecrets: Readonly<Record<string, readonly string[]>>;
  /** HMAC key of OAuth `state` values. */
  /** Signs OAuth states. */
  stateKey: Buffer;
  /** Verify OAuth states: one per secret of INTERNAL_TOKEN_SECRET, so a state outlives its rotation (stateKey is the first). */
  stateKeys: readonly Buffer[];
  appUrl?: string;
  httpTimeoutMs: number;
  now(): number;
  log: Logger;
  access: AccessResolver;
}

export function createPlatformsRuntime(options: PlatformsOptions, deps: { internalTokenSecret: string; log: Logger; access: AccessResolver }): PlatformsRuntime {
  let keyring: Keyring;
  if (options.vault instanceof Keyring) keyring = options.vault;
  else if (typeof options.vault === 'string') keyring = Keyring.parse(options.vault);
  else {
    deps.log.warn('no vault keys configured: credentials are encrypted under a temporary key and unreadable after a restart');
    keyring = new Keyring([generateKek('ephemeral')]);
  }
  // Keys of their own, derived from each service secret, so a state is never mistaken for another token.
  const stateKeys = keyringSecrets(deps.internalTokenSecret).map((secret) => Buffer.from(hkdfSync('sha256', secret, 'listbackup-platforms', 'oauth-state-v1', 32)));
  return {
    vault: new CredentialVault(keyring),
    redirectUrl: options.oauthRedirectUrl ?? DEFAULT_REDIRECT_URL,
    clients: options.oauthClients ?? {},
    overrides: options.endpointOverrides ?? {},
    webhookSecrets: options.webhookSecrets ?? {},
    stateKey: stateKeys[0],
    stateKeys,
    appUrl: options.appUrl,
    httpTimeoutMs: options.httpTimeoutMs ?? 15_000,
    now: options.now ?? Date.now,
    log: deps.log,
    access: deps.access,
  };
}

/** The platform's OAuth 2 facts with this deployment's endpoint overrides applied. */
export function effectiveOAuth(runtime: PlatformsRuntime, platform: PlatformDefinition): OAuth2Spec | undefined {
  const spec = platform.oauth2;
  if (!spec) return undefined;
  const override = runtime.overrides[platform.slug] ?? {};
  const revocation: Revocation | undefined = spec.revocation && override.revokeUrl ? { ...spec.revocation, url: override.revokeUrl } : spec.revocation;
  return {
    ...spec,
    authorizeUrl: override.authorizeUrl ?? spec.authorizeUrl,
    tokenUrl: override.tokenUrl ?? spec.tokenUrl,
    revocation,
    issuer: override.issuer ? { identifier: override.issuer, inAuthorizationResponse: true } : override.authorizeUrl ? undefined : spec.issuer,
    identity: withIdentityOverride(spec.identity, override),
  };
}

export function effectiveApiKey(runtime: PlatformsRuntime, platform: PlatformDefinition): ApiKeySpec | undefined {
  const spec = platform.apiKey;
  if (!spec) return undefined;
  return { ...spec, identity: withIdentityOverride(spec.identity, runtime.overrides[platform.slug] ?? {}) };
}

function withIdentityOverride(identity: IdentityEndpoint, override: EndpointOverrides): IdentityEndpoint {
  return override.identityUrl ? { ...identity, url: override.identityUrl } : identity;
}
