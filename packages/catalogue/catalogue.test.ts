import { readdirSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CATALOGUE, createConnectorRegistry, findPlatform, PLATFORM_DEFINITIONS, platformResources } from './index.ts';
import { authTypesOf, envStem, isDatabaseIdentity, isDefinedApiIdentity, type HttpIdentity, type IdentityEndpoint, type PlatformDefinition } from './platform.ts';
import { ConfigError } from './sdk/index.ts';

// The catalogue is reviewed data: these checks catch the slips a review misses.
const templateUrl = /^(https:\/\/|\{instance_url\}\/)[^\s]+$/;
/** An identity checked over a fixed HTTP endpoint (a database logs in; a defined API has its endpoint in each connection). */
const httpIdentity = (identity: IdentityEndpoint): Partial<HttpIdentity> => ('method' in identity ? identity : {});
/** A platform whose API each connection describes (REST): no API root, no resources of its own. */
const isDefinedApi = (platform: PlatformDefinition) => Boolean(platform.apiKey && isDefinedApiIdentity(platform.apiKey.identity));
/** Folders of this package that are not platforms. */
const NOT_PLATFORMS = new Set(['sdk', 'testing', 'node_modules']);

describe('the catalogue', () => {
  it('lists every platform folder, each under its own slug, once', () => {
    const here = new URL('.', import.meta.url);
    const folders = readdirSync(here).filter((name) => !NOT_PLATFORMS.has(name) && statSync(new URL(name, here)).isDirectory());
    expect(CATALOGUE.map((platform) => platform.definition.slug).sort()).toEqual(folders.sort());
  });

  it('covers the platforms the product promises, each with a way to connect', () => {
    const slugs = PLATFORM_DEFINITIONS.map((platform) => platform.slug);
    expect(slugs).toEqual(expect.arrayContaining([
      'stripe', 'shopify', 'hubspot', 'salesforce', 'quickbooks', 'xero', 'github', 'gitlab', 'google-drive',
      'dropbox', 'box', 'slack', 'notion', 'zendesk', 'mailchimp', 'jira', 'intercom', 'airtable',
    ]));
    expect(new Set(slugs).size).toBe(slugs.length);
    expect(new Set(slugs.map(envStem)).size).toBe(slugs.length);
    for (const platform of PLATFORM_DEFINITIONS) expect(authTypesOf(platform).length, platform.slug).toBeGreaterThan(0);
  });

  it('has https endpoints, compilable anchored patterns and complete OAuth facts', () => {
    for (const platform of PLATFORM_DEFINITIONS) {
      const where = platform.slug;
      // A database is reached through its connection string, not an API root.
      if (platform.category === 'DATABASE' || isDefinedApi(platform)) expect(platform.apiBaseUrl, where).toBe('');
      else expect(platform.apiBaseUrl, where).toMatch(templateUrl);
      expect(platform.rateLimits.length, where).toBeGreaterThan(0);
      for (const param of platform.connectParams ?? []) expect(param.pattern, where).toMatch(/^\^.*\$$/);
      const oauth = platform.oauth2;
      if (oauth) {
        expect(isDatabaseIdentity(oauth.identity), where).toBe(false);
        for (const url of [oauth.authorizeUrl, oauth.tokenUrl, oauth.revocation?.url, httpIdentity(oauth.identity).url, oauth.docsUrl]) if (url) expect(url, where).toMatch(templateUrl);
        expect(['client_secret_basic', 'client_secret_post'], where).toContain(oauth.tokenEndpointAuthMethod);
        for (const param of [...oauth.callbackParams, ...oauth.tokenResponseParams]) {
          expect(param.pattern, where).toMatch(/^\^.*\$$/);
          expect(() => new RegExp(param.pattern), where).not.toThrow();
        }
        if (oauth.rotatesRefreshTokens) expect(oauth.refreshTokens, where).toBe(true);
        // Every {placeholder} must be something the connection can know by then.
        const known = new Set([
          ...(platform.connectParams ?? []).map((param) => param.name),
          ...oauth.callbackParams.map((param) => param.name),
          ...oauth.tokenResponseParams.map((param) => param.name),
          ...Object.keys(httpIdentity(oauth.identity).params ?? {}),
          'token',
          'client_id',
        ]);
        for (const url of [oauth.authorizeUrl, oauth.tokenUrl, oauth.revocation?.url, httpIdentity(oauth.identity).url, platform.apiBaseUrl]) {
          for (const [, name] of (url ?? '').matchAll(/\{(\w+)\}/g)) expect(known.has(name), `${where}: {${name}} in ${url}`).toBe(true);
        }
      }
      const apiKey = platform.apiKey;
      if (apiKey) {
        expect(apiKey.pattern, where).toMatch(/^\^.*\$$/);
        expect(() => new RegExp(apiKey.pattern), where).not.toThrow();
        if (isDatabaseIdentity(apiKey.identity)) expect(platform.category, where).toBe('DATABASE');
        else if (!isDefinedApi(platform)) expect(httpIdentity(apiKey.identity).url, where).toMatch(templateUrl);
        expect(apiKey.hint.length, where).toBeGreaterThan(20);
      }
    }
  });

  it('records the platform-specific callback and token parameters', () => {
    const bySlug = Object.fromEntries(PLATFORM_DEFINITIONS.map((platform) => [platform.slug, platform]));
    expect(bySlug.shopify.oauth2!.callbackParams.find((param) => param.name === 'shop')?.required).toBe(true);
    expect(bySlug.quickbooks.oauth2!.callbackParams.find((param) => param.name === 'realmId')?.required).toBe(true);
    expect(bySlug.salesforce.oauth2!.tokenResponseParams.map((param) => param.name)).toContain('instance_url');
    expect(bySlug.xero.oauth2!.tokenEndpointAuthMethod).toBe('client_secret_basic');
    expect(bySlug.gitlab.oauth2!.tokenEndpointAuthMethod).toBe('client_secret_post');
    expect(new RegExp(bySlug.stripe.apiKey!.pattern).test('rk_test_51HxYzAbCdEfGhIjKl')).toBe(true);
    const postgres = new RegExp(bySlug.postgresql.apiKey!.pattern);
    for (const url of ['postgres://user:pass@host:5432/db', 'postgresql://u@db.example.com/app?sslmode=require', 'postgres://host']) expect(postgres.test(url), url).toBe(true);
    for (const url of ['mysql://user:pass@host/db', 'http://host/db', 'postgres:///db', 'postgres://host/db x', 'user:pass@host/db']) expect(postgres.test(url), url).toBe(false);
  });
});

describe('resources come from the connectors', () => {
  const registry = createConnectorRegistry();

  it('each connector serves its own folder and describes every resource it implements', () => {
    for (const slug of registry.slugs) {
      if (slug === 'rest') continue;
      const connector = registry.get(slug);
      expect(connector.slug, slug).toBe(slug);
      const names = connector.resources.map((resource) => resource.name);
      expect(new Set(names).size, slug).toBe(names.length);
      for (const resource of connector.resources) {
        expect(resource.description.length, `${slug}.${resource.name}`).toBeGreaterThan(5);
        if (resource.incremental) expect(resource.cursor, `${slug}.${resource.name}`).toBeTruthy();
      }
      // A webhook can only trigger what the connector backs up, and backs up incrementally.
      const incremental = connector.resources.filter((resource) => resource.incremental).map((resource) => resource.name);
      for (const event of findPlatform(slug)!.definition.webhooks?.events ?? []) for (const name of event.resources) expect(incremental, `${slug} webhook ${event.type}`).toContain(name);
    }
  });

  it('builds a connector on the connection’s own API root, unless the deployment names one', () => {
    const own = 'https://ghe.example.com/api/v3';
    expect(registry.get('github', undefined, own).http?.baseUrl).toBe(own);
    expect(createConnectorRegistry({ baseUrls: { github: 'http://127.0.0.1:9' } }).get('github', undefined, own).http?.baseUrl).toBe('http://127.0.0.1:9');
  });

  it('Platform.resources is what the connector implements, with its flags; none for an unknown platform', () => {
    const drive = platformResources('google-drive');
    expect(drive.map((resource) => resource.name)).toEqual(registry.get('google-drive').resources.map((resource) => resource.name));
    expect(drive.find((resource) => resource.name === 'files')).toMatchObject({ incremental: true, binaryContent: true, restorable: false, webhookTriggered: false });
    expect(platformResources('postgresql')).toEqual([expect.objectContaining({ name: 'tables', incremental: true, restorable: true, binaryContent: false })]);
    expect(platformResources('shopify').find((resource) => resource.name === 'products')).toMatchObject({ incremental: true, restorable: true, binaryContent: false });
    expect(platformResources('shopify').find((resource) => resource.name === 'orders')).toMatchObject({ incremental: true, restorable: false });
    expect(platformResources('xero').find((resource) => resource.name === 'contacts')).toMatchObject({ incremental: true, restorable: false, binaryContent: false });
    expect(platformResources('no-such-platform')).toEqual([]);
    expect(registry.has('no-such-platform')).toBe(false);
    expect(() => registry.get('no-such-platform')).toThrow(ConfigError);
  });
});
