import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@listbackup/lib/config';
import { type Keyring, formatKeys, generateKek } from '@listbackup/lib/vault';
import { findDefinition } from '@listbackup/catalogue';
import { platformsOptionsFromEnv } from '../src/config.ts';

const VAULT_KEYS = formatKeys([generateKek('k2'), generateKek('k1')]);

describe('platforms configuration from the environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lb-platforms-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the vault keys, OAuth clients per platform and endpoint overrides', () => {
    const options = platformsOptionsFromEnv({
      VAULT_KEYS,
      OAUTH_GITLAB_CLIENT_ID: 'gl-id',
      OAUTH_GITLAB_CLIENT_SECRET: 'gl-secret',
      OAUTH_GOOGLE_DRIVE_CLIENT_ID: 'gd-id.apps.googleusercontent.com',
      OAUTH_GOOGLE_DRIVE_CLIENT_SECRET: 'gd-secret',
      PLATFORM_QUICKBOOKS_IDENTITY_URL: 'https://sandbox-quickbooks.api.intuit.com/v3/company/{realmId}/companyinfo/{realmId}',
      PLATFORM_GITLAB_AUTHORIZE_URL: 'https://gitlab.acme.example/oauth/authorize',
      PLATFORM_GITLAB_ISSUER: 'https://gitlab.acme.example',
      OAUTH_REDIRECT_URL: 'https://api.listbackup.example/oauth/callback',
    });
    expect((options.vault as Keyring).ids).toEqual(['k2', 'k1']);
    expect(options.oauthClients).toEqual({ gitlab: { clientId: 'gl-id', clientSecret: 'gl-secret' }, 'google-drive': { clientId: 'gd-id.apps.googleusercontent.com', clientSecret: 'gd-secret' } });
    expect(options.endpointOverrides).toEqual({
      quickbooks: { identityUrl: 'https://sandbox-quickbooks.api.intuit.com/v3/company/{realmId}/companyinfo/{realmId}' },
      gitlab: { authorizeUrl: 'https://gitlab.acme.example/oauth/authorize', issuer: 'https://gitlab.acme.example' },
    });
    expect(options.oauthRedirectUrl).toBe('https://api.listbackup.example/oauth/callback');
  });

  it('reads a client secret in rollover as new,old: the first is sent, the others still accepted', () => {
    const options = platformsOptionsFromEnv({ VAULT_KEYS, OAUTH_GITLAB_CLIENT_ID: 'gl-id', OAUTH_GITLAB_CLIENT_SECRET: 'gl-new, gl-old' });
    expect(options.oauthClients).toEqual({ gitlab: { clientId: 'gl-id', clientSecret: 'gl-new', previousClientSecrets: ['gl-old'] } });
    expect(() => platformsOptionsFromEnv({ VAULT_KEYS, OAUTH_GITLAB_CLIENT_ID: 'gl-id', OAUTH_GITLAB_CLIENT_SECRET: ' , ' })).toThrow(/OAUTH_GITLAB_CLIENT_SECRET: no secret in it/);
  });

  it('reads webhook secrets per platform that sends webhooks, new,old during a rollover, and refuses one for a platform that sends none', () => {
    const github = findDefinition('github')!;
    expect(github.webhooks).toBeDefined();
    const silent = { ...findDefinition('airtable')!, webhooks: undefined };
    const definitions = [github, silent];
    expect(platformsOptionsFromEnv({ VAULT_KEYS, PLATFORM_GITHUB_WEBHOOK_SECRET: 'wh-new, wh-old' }, { definitions }).webhookSecrets).toEqual({ github: ['wh-new', 'wh-old'] });
    expect(platformsOptionsFromEnv({ VAULT_KEYS }, { definitions }).webhookSecrets).toEqual({});
    expect(() => platformsOptionsFromEnv({ VAULT_KEYS, PLATFORM_AIRTABLE_WEBHOOK_SECRET: 'x' }, { definitions })).toThrow(/PLATFORM_AIRTABLE_WEBHOOK_SECRET: Airtable sends no webhooks/);
    expect(() => platformsOptionsFromEnv({ VAULT_KEYS, PLATFORM_GITHUB_WEBHOOK_SECRET: ' , ' }, { definitions })).toThrow(/PLATFORM_GITHUB_WEBHOOK_SECRET: no secret in it/);
    expect(() => platformsOptionsFromEnv({ VAULT_KEYS, PLATFORM_GITHUBB_WEBHOOK_SECRET: 'x' }, { definitions })).toThrow(/PLATFORM_GITHUBB_WEBHOOK_SECRET: no platform of that name/);
  });

  it('defaults the redirect URL to the local gateway and needs no OAuth client at all', () => {
    const options = platformsOptionsFromEnv({ VAULT_KEYS });
    expect(options.oauthRedirectUrl).toBe('http://localhost:4000/oauth/callback');
    expect(options.oauthClients).toEqual({});
  });

  it('lists every problem at once: no vault keys, half a client, a bad URL', () => {
    let error: unknown;
    try {
      platformsOptionsFromEnv({ OAUTH_XERO_CLIENT_ID: 'x', PLATFORM_GITLAB_TOKEN_URL: 'not a url' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('VAULT_KEYS');
    expect(message).toContain('OAUTH_XERO_CLIENT_SECRET: is required with OAUTH_XERO_CLIENT_ID');
    expect(message).toContain('PLATFORM_GITLAB_TOKEN_URL');
  });

  it('refuses malformed vault keys and a platform name it does not know', () => {
    expect(() => platformsOptionsFromEnv({ VAULT_KEYS: 'k1:c2hvcnQ=' })).toThrow(/VAULT_KEYS: Key "k1" must be 32 bytes/);
    expect(() => platformsOptionsFromEnv({ VAULT_KEYS, OAUTH_GITHUBB_CLIENT_ID: 'x' })).toThrow(/OAUTH_GITHUBB_CLIENT_ID: no platform of that name/);
  });

  it('generates and keeps a local key file for the single-process default', () => {
    const file = join(dir, 'vault-keys');
    const first = platformsOptionsFromEnv({}, { localKeyFile: file }).vault as Keyring;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = platformsOptionsFromEnv({}, { localKeyFile: file }).vault as Keyring;
    expect(second.current.id).toBe(first.current.id);
    // VAULT_KEYS, when set, wins over the file.
    expect((platformsOptionsFromEnv({ VAULT_KEYS }, { localKeyFile: file }).vault as Keyring).current.id).toBe('k2');
  });
});
