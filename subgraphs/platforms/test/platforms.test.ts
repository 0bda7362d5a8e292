import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@listbackup/lib/principal';
import { ValidationError } from '@listbackup/lib/errors';
import { startPlatforms } from '../src/index.ts';
import { PLATFORM_DEFINITIONS } from '@listbackup/catalogue';
import { Connection } from '../src/entities/connection.ts';
import { Platform } from '../src/entities/platform.ts';
import { createConnectionRecord } from '../src/services/connection-service.ts';
import { syncPlatformCatalogue } from '../src/services/platform-service.ts';
import {
  ANONYMOUS,
  accountRefs,
  errorCodes,
  invalidTokens,
  newUser,
  selectsFrom,
  startTestSubgraph,
  type TestSubgraph,
} from '../../jobs/test/support/subgraph-harness.ts';

const CONNECTION = `query($id: ID!) { connection(id: $id) { id name status createdAt account { id } platform { id slug name category } } }`;
const ACCOUNT_CONNECTIONS = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Account { id connections { edges { node { id name } } } } } }`;
const CONNECTION_PAGE = `query($reps: [_Any!]!, $first: Int, $after: String) { _entities(representations: $reps) {
  ... on Account { connections(first: $first, after: $after) { edges { cursor node { name account { id } } } pageInfo { hasNextPage endCursor } } } } }`;
const nodes = <T>(connection: { edges: { node: T }[] }) => connection.edges.map((edge) => edge.node);
const CONNECTION_ENTITY = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Connection { id name } } }`;

describe('platforms subgraph', () => {
  let subgraph: TestSubgraph;
  let alice: Principal;
  let bob: Principal;
  const accountA = randomUUID();
  const accountB = randomUUID();
  let stripeA: Connection;
  let githubA: Connection;
  let shopifyB: Connection;

  beforeAll(async () => {
    subgraph = await startTestSubgraph('platforms', startPlatforms);
    alice = newUser();
    bob = newUser();
    subgraph.access.grant(alice, accountA, 'viewer').grant(bob, accountB, 'owner');
    const em = subgraph.service.orm.em.fork();
    stripeA = await createConnectionRecord(em, { accountId: accountA, platformSlug: 'stripe', name: 'Stripe live', status: 'AUTHORIZED', createdAt: new Date('2026-01-01T10:00:00Z') });
    githubA = await createConnectionRecord(em, { accountId: accountA, platformSlug: 'github', name: 'GitHub org', createdAt: new Date('2026-01-01T11:00:00Z') });
    shopifyB = await createConnectionRecord(em, { accountId: accountB, platformSlug: 'shopify', name: 'Shop', status: 'FAILED' });
  });
  afterAll(async () => {
    await subgraph?.close();
  });

  it('has migrations that match the entities exactly', async () => {
    expect((await subgraph.service.orm.schema.getUpdateSchemaSQL()).trim()).toBe('');
  });

  describe('platforms catalogue', () => {
    it('lists every platform of the catalogue with its category, to anyone', async () => {
      const result = await subgraph.query(ANONYMOUS, '{ platforms { id slug name category } }');
      expect(result.errors).toBeUndefined();
      const bySlug = Object.fromEntries(result.data!.platforms.map((p: { slug: string }) => [p.slug, p]));
      expect(Object.keys(bySlug).sort()).toEqual(PLATFORM_DEFINITIONS.map((p) => p.slug).sort());
      expect(Object.keys(bySlug).length).toBeGreaterThanOrEqual(15);
      expect(bySlug.stripe).toMatchObject({ name: 'Stripe', category: 'PAYMENTS' });
      expect(bySlug.github).toMatchObject({ name: 'GitHub', category: 'DEVELOPER' });
      expect(bySlug.shopify).toMatchObject({ name: 'Shopify', category: 'COMMERCE' });
      expect(bySlug.hubspot).toMatchObject({ name: 'HubSpot', category: 'CRM' });
      expect(bySlug.quickbooks).toMatchObject({ name: 'QuickBooks Online', category: 'ACCOUNTING' });
      expect(bySlug['google-drive']).toMatchObject({ name: 'Google Drive', category: 'FILES' });
      expect(bySlug.slack).toMatchObject({ name: 'Slack', category: 'COMMUNICATION' });
      expect(bySlug.notion).toMatchObject({ name: 'Notion', category: 'PRODUCTIVITY' });
      expect(bySlug.zendesk).toMatchObject({ name: 'Zendesk', category: 'SUPPORT' });
      expect(bySlug.mailchimp).toMatchObject({ name: 'Mailchimp', category: 'MARKETING' });
    });

    it('filters by category and by a search over name, slug and description', async () => {
      const accounting = await subgraph.query(ANONYMOUS, '{ platforms(category: ACCOUNTING) { slug } }');
      expect(accounting.data!.platforms.map((p: { slug: string }) => p.slug).sort()).toEqual(['quickbooks', 'xero']);
      const search = await subgraph.query(ANONYMOUS, '{ platforms(search: "drive") { slug } }');
      expect(search.data!.platforms.map((p: { slug: string }) => p.slug)).toEqual(['google-drive']);
      const byDescription = await subgraph.query(ANONYMOUS, '{ platforms(search: "INTUIT") { slug } }');
      expect(byDescription.data!.platforms.map((p: { slug: string }) => p.slug)).toEqual(['quickbooks']);
      const both = await subgraph.query(ANONYMOUS, '{ platforms(category: FILES, search: "box") { slug } }');
      expect(both.data!.platforms.map((p: { slug: string }) => p.slug)).toEqual(['box', 'dropbox']);
      // LIKE wildcards in the search are literal characters, not patterns.
      const wildcard = await subgraph.query(ANONYMOUS, '{ platforms(search: "%") { slug } }');
      expect(wildcard.data!.platforms).toEqual([]);
    });

    it('answers platform(id | slug) with the documented authentication facts, resources and rate limits', async () => {
      const FIELDS = `id slug name description websiteUrl authTypes
        oauth { authorizeUrl tokenUrl revokeUrl scopes pkce tokenEndpointAuthMethod callbackParams tokenResponseParams refreshTokens rotatesRefreshTokens configured docsUrl }
        apiKey { label header pattern hint docsUrl }
        connectParams { name label pattern }
        resources { name incremental cursor }
        rateLimits { scope limit windowSeconds description }`;
      const stripe = (await subgraph.query(ANONYMOUS, `{ platform(slug: "stripe") { ${FIELDS} } }`)).data!.platform;
      expect(stripe).toMatchObject({ slug: 'stripe', authTypes: ['API_KEY'], oauth: null, apiKey: { header: 'Authorization', label: 'Secret or restricted key' } });
      const pattern = new RegExp(stripe.apiKey.pattern);
      expect(['sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'sk_test_4eC39HqLyjWDarjtT1zdp7dc', 'rk_live_51HxYzAbCdEfGh'].every((key) => pattern.test(key))).toBe(true);
      expect(['pk_live_4eC39HqLyjWDarjtT1zdp7dc', 'sk_prod_4eC39HqLyjWDarjtT1zdp7dc', 'whsec_abc'].some((key) => pattern.test(key))).toBe(false);
      expect(stripe.resources.map((r: { name: string }) => r.name)).toEqual(expect.arrayContaining(['customers', 'charges', 'invoices', 'subscriptions', 'products']));
      expect(stripe.rateLimits[0]).toMatchObject({ limit: 100, windowSeconds: 1 });

      const byId = (await subgraph.query(ANONYMOUS, `query($id: ID) { platform(id: $id) { slug } }`, { id: stripe.id })).data!.platform;
      expect(byId.slug).toBe('stripe');

      const quickbooks = (await subgraph.query(ANONYMOUS, `{ platform(slug: "quickbooks") { ${FIELDS} } }`)).data!.platform;
      expect(quickbooks.oauth).toMatchObject({
        authorizeUrl: 'https://appcenter.intuit.com/connect/oauth2',
        tokenUrl: 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer',
        revokeUrl: 'https://developer.api.intuit.com/v2/oauth2/tokens/revoke',
        tokenEndpointAuthMethod: 'CLIENT_SECRET_BASIC',
        callbackParams: ['realmId'],
        rotatesRefreshTokens: true,
        configured: false,
      });
      const shopify = (await subgraph.query(ANONYMOUS, `{ platform(slug: "shopify") { ${FIELDS} } }`)).data!.platform;
      expect(shopify.oauth).toMatchObject({ authorizeUrl: 'https://{shop}/admin/oauth/authorize', pkce: false, tokenEndpointAuthMethod: 'CLIENT_SECRET_POST', callbackParams: ['shop', 'host'] });
      expect(shopify.connectParams.map((p: { name: string }) => p.name)).toEqual(['shop']);
      const salesforce = (await subgraph.query(ANONYMOUS, `{ platform(slug: "salesforce") { ${FIELDS} } }`)).data!.platform;
      expect(salesforce.oauth).toMatchObject({ pkce: true, tokenResponseParams: ['instance_url', 'identity_url'] });
      const github = (await subgraph.query(ANONYMOUS, `{ platform(slug: "github") { ${FIELDS} } }`)).data!.platform;
      expect(github.authTypes).toEqual(['OAUTH2', 'API_KEY']);
    });

    it('gives NOT_FOUND for an unknown platform and BAD_USER_INPUT without exactly one of id and slug', async () => {
      for (const query of ['{ platform(slug: "myspace") { id } }', `{ platform(id: "${randomUUID()}") { id } }`, '{ platform(id: "nope") { id } }']) {
        expect(errorCodes(await subgraph.query(ANONYMOUS, query))).toEqual(['NOT_FOUND']);
      }
      expect(errorCodes(await subgraph.query(ANONYMOUS, '{ platform { id } }'))).toEqual(['BAD_USER_INPUT']);
      expect(errorCodes(await subgraph.query(ANONYMOUS, '{ platform(id: "x", slug: "stripe") { id } }'))).toEqual(['BAD_USER_INPUT']);
    });

    it('re-syncing the catalogue updates changed rows in place and adds new ones, keeping ids', async () => {
      const em = subgraph.service.orm.em.fork();
      const before = await em.findOneOrFail(Platform, { slug: 'stripe' });
      const extra = { ...PLATFORM_DEFINITIONS[0], slug: `test-${randomUUID().slice(0, 8)}`, name: 'Test platform', category: 'OTHER' as const };
      await syncPlatformCatalogue(em, [...PLATFORM_DEFINITIONS.map((p) => (p.slug === 'stripe' ? { ...p, name: 'Stripe (renamed)' } : p)), extra]);
      const after = await em.fork().findOneOrFail(Platform, { slug: 'stripe' });
      expect(after).toMatchObject({ id: before.id, name: 'Stripe (renamed)', category: 'PAYMENTS' });
      expect(await em.fork().count(Platform, { slug: extra.slug })).toBe(1);
      await syncPlatformCatalogue(em);
      expect(await em.fork().count(Platform, { slug: 'stripe' })).toBe(1);
      expect((await em.fork().findOneOrFail(Platform, { slug: 'stripe' })).name).toBe('Stripe');
      await em.fork().nativeDelete(Platform, { slug: extra.slug });
    });
  });

  describe('connection(id)', () => {
    it('returns a connection of an account the caller can see, with its platform', async () => {
      const result = await subgraph.query(alice, CONNECTION, { id: stripeA.id });
      expect(result.errors).toBeUndefined();
      expect(result.data!.connection).toMatchObject({
        id: stripeA.id,
        name: 'Stripe live',
        status: 'AUTHORIZED',
        account: { id: accountA },
        platform: { id: stripeA.platformId, slug: 'stripe', name: 'Stripe', category: 'PAYMENTS' },
      });
      expect(new Date(result.data!.connection.createdAt).getTime()).toBe(stripeA.createdAt.getTime());
    });

    it('answers the same NOT_FOUND for an unknown id, a malformed id and another tenant’s connection', async () => {
      const unknown = await subgraph.query(alice, CONNECTION, { id: randomUUID() });
      const malformed = await subgraph.query(alice, CONNECTION, { id: 'not-a-uuid' });
      const foreign = await subgraph.query(alice, CONNECTION, { id: shopifyB.id });
      for (const result of [unknown, malformed, foreign]) {
        expect(result.data).toBeNull();
        expect(errorCodes(result)).toEqual(['NOT_FOUND']);
        expect(result.errors![0].message).toBe('Connection not found');
      }
    });

    it('refuses an anonymous caller and an API key without the connections:read scope', async () => {
      const anonymous = await subgraph.query(ANONYMOUS, CONNECTION, { id: stripeA.id });
      expect(anonymous.data).toBeNull();
      expect(errorCodes(anonymous)).toEqual(['UNAUTHENTICATED']);

      const key: Principal = { kind: 'apiKey', apiKeyId: randomUUID(), accountId: accountA, scopes: ['jobs:read'] };
      subgraph.access.grant(key, accountA, 'admin');
      const unscoped = await subgraph.query(key, CONNECTION, { id: stripeA.id });
      expect(unscoped.data).toBeNull();
      expect(errorCodes(unscoped)).toEqual(['FORBIDDEN']);

      const scoped: Principal = { ...key, apiKeyId: randomUUID(), scopes: ['connections:read'] };
      subgraph.access.grant(scoped, accountA, 'admin');
      expect((await subgraph.query(scoped, CONNECTION, { id: stripeA.id })).data!.connection.id).toBe(stripeA.id);
    });
  });

  describe('Account.connections', () => {
    it('lists only that account’s connections', async () => {
      const result = await subgraph.query(alice, ACCOUNT_CONNECTIONS, { reps: accountRefs([accountA]) });
      expect(result.errors).toBeUndefined();
      expect(result.data!._entities).toEqual([
        { id: accountA, connections: { edges: [{ node: { id: stripeA.id, name: 'Stripe live' } }, { node: { id: githubA.id, name: 'GitHub org' } }] } },
      ]);
      const bobs = await subgraph.query(bob, ACCOUNT_CONNECTIONS, { reps: accountRefs([accountB]) });
      expect(nodes(bobs.data!._entities[0].connections)).toEqual([{ id: shopifyB.id, name: 'Shop' }]);
    });

    it('gives NOT_FOUND and no connections for an account the caller cannot see', async () => {
      const result = await subgraph.query(alice, ACCOUNT_CONNECTIONS, { reps: accountRefs([accountB]) });
      expect(result.data!._entities).toEqual([null]);
      expect(errorCodes(result)).toEqual(['NOT_FOUND']);
      expect(result.errors![0].message).toBe('Account not found');
      expect(JSON.stringify(result)).not.toContain(shopifyB.id);
    });

    it('resolves 50 accounts with one SQL query for connections and one access look-up', async () => {
      const user = newUser();
      const accounts = Array.from({ length: 50 }, () => randomUUID());
      const em = subgraph.service.orm.em.fork();
      for (const [i, accountId] of accounts.entries()) {
        subgraph.access.grant(user, accountId, 'viewer');
        if (i % 5 === 0) await createConnectionRecord(em, { accountId, platformSlug: 'slack', name: `Slack ${i}` });
      }
      subgraph.resetQueries();
      const callsBefore = subgraph.access.calls;

      const result = await subgraph.query(user, ACCOUNT_CONNECTIONS, { reps: accountRefs(accounts) });

      expect(result.errors).toBeUndefined();
      expect(result.data!._entities).toHaveLength(50);
      expect(result.data!._entities.map((a: { connections: { edges: { node: { name: string } }[] } }) => nodes(a.connections).map((c) => c.name))).toEqual(
        accounts.map((_, i) => (i % 5 === 0 ? [`Slack ${i}`] : [])),
      );
      expect(selectsFrom(subgraph.queries, 'platforms', 'connections')).toHaveLength(1);
      expect(subgraph.access.calls - callsBefore).toBe(1);
    });
  });

  describe('Account.connections pages', () => {
    const big = randomUUID();
    const other = randomUUID();
    const pager = newUser();
    const stranger = newUser();
    const expected = Array.from({ length: 45 }, (_, i) => `C${String(i).padStart(2, '0')}`);
    const names = (connection: { edges: { node: { name: string } }[] }) => nodes(connection).map((c) => c.name);
    const page = (principal: Principal, accountId: string, first?: number, after?: string | null) =>
      subgraph.query(principal, CONNECTION_PAGE, { reps: accountRefs([accountId]), first, after });

    beforeAll(async () => {
      subgraph.access.grant(pager, big, 'viewer').grant(stranger, other, 'owner');
      const em = subgraph.service.orm.em.fork();
      const start = Date.parse('2026-03-01T00:00:00Z');
      for (const [i, name] of expected.entries()) {
        await createConnectionRecord(em, { accountId: big, platformSlug: 'slack', name, createdAt: new Date(start + Math.floor(i / 3) * 60_000) });
      }
      for (const [i, name] of ['X0', 'X1'].entries()) await createConnectionRecord(em, { accountId: other, platformSlug: 'slack', name, createdAt: new Date(start + (i + 3) * 60_000 + 30_000) });
    });

    it('walks every connection once, oldest first, in pages of `first` (ties on the same instant included)', async () => {
      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const result = await page(pager, big, 10, after);
        expect(result.errors).toBeUndefined();
        const connection = result.data!._entities[0].connections;
        seen.push(...names(connection));
        if (!connection.pageInfo.hasNextPage) break;
        after = connection.pageInfo.endCursor;
      }
      expect([...seen].sort()).toEqual(expected);
      expect(new Set(seen).size).toBe(expected.length);
    });

    it('refuses a `first` above 100, zero or negative, and a forged cursor, showing nothing', async () => {
      expect(nodes((await page(pager, big, 100)).data!._entities[0].connections)).toHaveLength(45);
      const cases: { first: number; after?: string; reason: string }[] = [
        { first: 0, reason: 'BAD_PAGE_SIZE' },
        { first: -1, reason: 'BAD_PAGE_SIZE' },
        { first: 101, reason: 'BAD_PAGE_SIZE' },
        { first: 5000, reason: 'BAD_PAGE_SIZE' },
        { first: 5, after: 'garbage', reason: 'BAD_CURSOR' },
        { first: 5, after: Buffer.from(JSON.stringify(['yesterday', randomUUID()])).toString('base64url'), reason: 'BAD_CURSOR' },
      ];
      for (const { first, after, reason } of cases) {
        const result = await page(pager, big, first, after);
        expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
        expect(result.errors![0].extensions).toMatchObject({ reason });
        expect(result.data!._entities).toEqual([null]);
        expect(JSON.stringify(result)).not.toContain('C0');
      }
    });

    it('refuses another account’s cursor with BAD_CURSOR, and keeps the list from strangers', async () => {
      const theirs = (await page(stranger, other, 1)).data!._entities[0].connections;
      expect(names(theirs)).toEqual(['X0']);
      const mine = await page(pager, big, 100, theirs.pageInfo.endCursor);
      expect(errorCodes(mine)).toEqual(['BAD_USER_INPUT']);
      expect(mine.errors![0].extensions).toMatchObject({ reason: 'BAD_CURSOR' });
      expect(JSON.stringify(mine)).not.toContain('C0');
      const bigs = (await page(pager, big, 1)).data!._entities[0].connections.pageInfo.endCursor;
      for (const after of [null, bigs]) {
        const refused = await page(stranger, big, 5, after);
        expect(errorCodes(refused)).toEqual(['NOT_FOUND']);
        expect(JSON.stringify(refused)).not.toContain('C0');
      }
    });
  });

  describe('Connection entity (_entities)', () => {
    it('resolves a representation the caller may see', async () => {
      const result = await subgraph.query(alice, CONNECTION_ENTITY, { reps: [{ __typename: 'Connection', id: githubA.id }] });
      expect(result.errors).toBeUndefined();
      expect(result.data!._entities).toEqual([{ id: githubA.id, name: 'GitHub org' }]);
    });

    it('gives NOT_FOUND and no data for another tenant’s connection', async () => {
      const result = await subgraph.query(alice, CONNECTION_ENTITY, { reps: [{ __typename: 'Connection', id: shopifyB.id }] });
      expect(result.data!._entities).toEqual([null]);
      expect(errorCodes(result)).toEqual(['NOT_FOUND']);
      expect(result.errors![0].message).toBe('Connection not found');
    });
  });

  describe('gateway proof', () => {
    const operations = {
      root: { query: CONNECTION, variables: () => ({ id: stripeA.id }) },
      _entities: { query: CONNECTION_ENTITY, variables: () => ({ reps: [{ __typename: 'Connection', id: stripeA.id }] }) },
      _service: { query: '{ _service { sdl } }', variables: () => ({}) },
    };

    it('answers 401 with no data to a request without a valid internal token', async () => {
      const tokens = await invalidTokens(subgraph, alice);
      for (const [operation, { query, variables }] of Object.entries(operations)) {
        for (const [kind, header] of Object.entries(tokens)) {
          const result = await subgraph.queryWithHeader(header, query, variables());
          expect({ operation, kind, status: result.status, data: result.data }).toEqual({ operation, kind, status: 401, data: undefined });
          expect(errorCodes(result)).toEqual(['UNAUTHENTICATED']);
        }
      }
    });

    it('answers the same requests with a valid token (the check above is not vacuous)', async () => {
      for (const { query, variables } of Object.values(operations)) {
        const result = await subgraph.query(alice, query, variables());
        expect(result.status).toBe(200);
        expect(result.errors).toBeUndefined();
      }
    });
  });

  describe('createConnectionRecord', () => {
    it('refuses an unknown platform and writes nothing', async () => {
      const em = subgraph.service.orm.em.fork();
      const before = await em.count(Connection, {});
      await expect(createConnectionRecord(em, { accountId: accountA, platformSlug: 'no-such-platform', name: 'x' })).rejects.toBeInstanceOf(ValidationError);
      expect(await em.fork().count(Connection, {})).toBe(before);
    });
  });
});
