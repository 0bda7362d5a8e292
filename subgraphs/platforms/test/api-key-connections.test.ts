// API-key connections, testConnection, rename and revoke, and the input errors of both flows,
// over real HTTP with a local server speaking Stripe's and Mailchimp's wire formats.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@listbackup/lib/principal';
import { OutboxEvent } from '@listbackup/lib/events/outbox';
import { Connection } from '../src/entities/connection.ts';
import { ConnectionSecret } from '../src/entities/connection-secret.ts';
import { Platform } from '../src/entities/platform.ts';
import { errorCodes, newUser, type GraphQLResponse } from '../../jobs/test/support/subgraph-harness.ts';
import { START, startPlatformsHarness, type PlatformsHarness } from './support/platforms-harness.ts';

const CREATE = `mutation($input: CreateApiKeyConnectionInput!) {
  createApiKeyConnection(input: $input) { id name status authType externalAccountId externalAccountName params { name value } lastTestedAt platform { slug } }
}`;
const TEST = `mutation($id: ID!) { testConnection(id: $id) { ok errorCode message connection { id status lastError lastErrorCode lastTestedAt externalAccountName } } }`;
const RENAME = `mutation($id: ID!, $name: String!) { renameConnection(id: $id, name: $name) { id name updatedAt } }`;
const REVOKE = `mutation($id: ID!) { revokeConnection(id: $id) { revokedAtPlatform message connection { id status revokedAt } } }`;
const REPLACE = `mutation($id: ID!, $apiKey: String!) {
  replaceConnectionApiKey(id: $id, apiKey: $apiKey) { id status externalAccountId externalAccountName lastErrorCode lastTestedAt }
}`;

const stripeKey = (mode: 'live' | 'test' = 'test', kind: 'sk' | 'rk' = 'sk') => `${kind}_${mode}_${randomBytes(18).toString('hex')}`;

describe('API-key connections', () => {
  let h: PlatformsHarness;
  let alice: Principal;
  const account = randomUUID();

  beforeAll(async () => {
    h = await startPlatformsHarness();
    alice = newUser();
    h.subgraph.access.grant(alice, account, 'admin');
    // More connections than the Free plan allows (plan-limits.test.ts covers the limit).
    await h.putOnPlan('business', account);
  });
  afterAll(async () => {
    await h?.close();
  });

  const em = () => h.service.orm.em.fork();
  /** Rows of every table a connection flow writes, to prove a refusal wrote nothing. */
  const snapshot = async () => ({
    connections: await em().count(Connection, {}),
    secrets: await em().count(ConnectionSecret, {}),
    outbox: await em().count(OutboxEvent, {}),
  });
  const expectRefused = async (result: GraphQLResponse, code: string, before: Awaited<ReturnType<typeof snapshot>>) => {
    expect(result.data).toBeNull();
    expect(errorCodes(result)).toEqual([code]);
    expect(await snapshot()).toEqual(before);
  };

  it('checks the key with the platform, seals it, and the connection is AUTHORIZED as the platform’s account', async () => {
    const key = stripeKey('live', 'rk');
    h.api.stripeKeys.set(key, { id: 'acct_1Acme', name: 'Acme Inc.' });
    const result = await h.subgraph.query(alice, CREATE, { input: { accountId: account, platformSlug: 'stripe', apiKey: key, name: 'Stripe live' } });
    expect(result.errors).toBeUndefined();
    const connection = result.data!.createApiKeyConnection;
    expect(connection).toMatchObject({ name: 'Stripe live', status: 'AUTHORIZED', authType: 'API_KEY', externalAccountId: 'acct_1Acme', externalAccountName: 'Acme Inc.', platform: { slug: 'stripe' } });
    expect(connection.lastTestedAt).toBeTruthy();
    expect(JSON.stringify(result)).not.toContain(key);
    const call = h.api.requests.findLast((request) => request.path === '/v1/account')!;
    expect(call.headers.authorization).toBe(`Bearer ${key}`);

    // At rest the key exists only sealed: not in any column of any row of the platforms schema.
    const dump = await em().getConnection().execute<{ row: string }[]>(
      `select row_to_json(t)::text as row from (select * from platforms.connection_secrets) t
       union all select row_to_json(t)::text from (select * from platforms.connections) t
       union all select row_to_json(t)::text from (select * from platforms.outbox_events) t`,
    );
    expect(dump.length).toBeGreaterThan(0);
    expect(dump.some(({ row }) => row.includes(key) || row.includes(Buffer.from(key).toString('hex')))).toBe(false);

    const token = await h.service.getAccessToken(account, connection.id);
    expect(token).toMatchObject({ authType: 'API_KEY', token: key, headers: { Authorization: `Bearer ${key}` }, apiBaseUrl: 'https://api.stripe.com/v1', expiresAt: null });
    expect((await h.waitForEvent('connection.created', connection.id)).data).toMatchObject({ platform: 'stripe', authType: 'API_KEY' });
    expect((await h.waitForEvent('connection.authorized', connection.id)).data).toMatchObject({ externalAccountId: 'acct_1Acme' });
  });

  it('reads parameters from the key itself: Mailchimp’s data center, used for Basic authentication and the API root', async () => {
    const key = `${randomBytes(16).toString('hex')}-us21`;
    h.api.mailchimpKeys.set(key, { id: 'mc-77', name: 'Acme Newsletter' });
    const result = await h.subgraph.query(alice, CREATE, { input: { accountId: account, platformSlug: 'mailchimp', apiKey: key } });
    expect(result.errors).toBeUndefined();
    const connection = result.data!.createApiKeyConnection;
    expect(connection).toMatchObject({ name: 'Mailchimp', externalAccountName: 'Acme Newsletter', params: [{ name: 'dc', value: 'us21' }] });
    const token = await h.service.getAccessToken(account, connection.id);
    expect(token.apiBaseUrl).toBe('https://us21.api.mailchimp.com/3.0');
    expect(token.headers.Authorization).toBe(`Basic ${Buffer.from(`listbackup:${key}`).toString('base64')}`);
  });

  describe('bad input: a clear error with a stable code, and nothing stored', () => {
    it('refuses a key of the wrong format without calling the platform, and never echoes it', async () => {
      const before = await snapshot();
      const calls = h.api.requests.length;
      for (const key of [`pk_live_${randomBytes(12).toString('hex')}`, 'sk_live_short', `whsec_${randomBytes(12).toString('hex')}`, '']) {
        const result = await h.subgraph.query(alice, CREATE, { input: { accountId: account, platformSlug: 'stripe', apiKey: key } });
        await expectRefused(result, 'INVALID_API_KEY_FORMAT', before);
        expect(result.errors![0].message).toContain('restricted key (rk_live_… or rk_test_…)');
        if (key) expect(result.errors![0].message).not.toContain(key);
      }
      expect(h.api.requests.length).toBe(calls);
    });

    it('refuses an unknown platform, by slug, by id or by a malformed id', async () => {
      const before = await snapshot();
      for (const input of [{ platformSlug: 'myspace' }, { platformId: randomUUID() }, { platformId: 'not-an-id' }]) {
        const result = await h.subgraph.query(alice, CREATE, { input: { accountId: account, apiKey: stripeKey(), ...input } });
        await expectRefused(result, 'UNKNOWN_PLATFORM', before);
        const started = await h.subgraph.query(alice, START, { input: { accountId: account, ...input } });
        await expectRefused(started, 'UNKNOWN_PLATFORM', before);
      }
      const both = await h.subgraph.query(alice, CREATE, { input: { accountId: account, apiKey: stripeKey(), platformSlug: 'stripe', platformId: randomUUID() } });
      await expectRefused(both, 'BAD_USER_INPUT', before);
    });

    it('refuses the wrong auth type: an API key for an OAuth-only platform, OAuth for an API-key-only one', async () => {
      const before = await snapshot();
      const key = await h.subgraph.query(alice, CREATE, { input: { accountId: account, platformSlug: 'google-drive', apiKey: 'ya29.a0AfH6SMBxyz' } });
      await expectRefused(key, 'WRONG_AUTH_TYPE', before);
      expect(key.errors![0].message).toContain('startOAuthConnection');
      const oauth = await h.subgraph.query(alice, START, { input: { accountId: account, platformSlug: 'stripe' } });
      await expectRefused(oauth, 'WRONG_AUTH_TYPE', before);
      expect(oauth.errors![0].message).toContain('API key');
    });

    it('refuses OAuth for a platform this deployment has no client for (PLATFORM_NOT_CONFIGURED)', async () => {
      const before = await snapshot();
      const result = await h.subgraph.query(alice, START, { input: { accountId: account, platformSlug: 'zendesk', params: [{ name: 'subdomain', value: 'acme' }] } });
      await expectRefused(result, 'PLATFORM_NOT_CONFIGURED', before);
      const catalogue = await h.subgraph.query(alice, '{ zendesk: platform(slug: "zendesk") { oauth { configured } } gitlab: platform(slug: "gitlab") { oauth { configured } } }');
      expect(catalogue.data).toEqual({ zendesk: { oauth: { configured: false } }, gitlab: { oauth: { configured: true } } });
    });

    it('refuses missing, unknown or malformed connect parameters', async () => {
      const before = await snapshot();
      const cases = [
        [],
        [{ name: 'shop', value: 'evil.example.com' }],
        [{ name: 'shop', value: 'https://acme.myshopify.com/../' }],
        [{ name: 'shop', value: 'acme.myshopify.com' }, { name: 'realmId', value: '1' }],
        [{ name: 'shop', value: 'acme.myshopify.com' }, { name: 'shop', value: 'acme.myshopify.com' }],
      ];
      for (const params of cases) {
        const result = await h.subgraph.query(alice, START, { input: { accountId: account, platformSlug: 'shopify', params } });
        await expectRefused(result, 'BAD_USER_INPUT', before);
      }
    });

    it('refuses a key the platform rejects, and says so without storing it', async () => {
      const before = await snapshot();
      const key = stripeKey();
      const result = await h.subgraph.query(alice, CREATE, { input: { accountId: account, platformSlug: 'stripe', apiKey: key } });
      await expectRefused(result, 'API_KEY_REJECTED', before);
      expect(result.errors![0].message).toContain('Stripe refused this key');
      expect(result.errors![0].message).not.toContain(key);
    });

    it('stores nothing when the platform cannot be reached', async () => {
      const before = await snapshot();
      const key = stripeKey();
      h.api.stripeKeys.set(key, { id: 'acct_down', name: 'Down' });
      h.api.down = true;
      try {
        const result = await h.subgraph.query(alice, CREATE, { input: { accountId: account, platformSlug: 'stripe', apiKey: key } });
        await expectRefused(result, 'PLATFORM_UNAVAILABLE', before);
      } finally {
        h.api.down = false;
      }
    });

    it('refuses a bad name', async () => {
      const before = await snapshot();
      for (const name of ['   ', 'x'.repeat(101), 'tab\there']) {
        const key = stripeKey();
        h.api.stripeKeys.set(key, { id: 'acct_n', name: 'N' });
        const result = await h.subgraph.query(alice, CREATE, { input: { accountId: account, platformSlug: 'stripe', apiKey: key, name } });
        await expectRefused(result, 'BAD_USER_INPUT', before);
      }
    });
  });

  describe('testConnection', () => {
    it('records each outcome: working, refused (FAILED), unreachable (unchanged), working again (AUTHORIZED)', async () => {
      const key = stripeKey();
      h.api.stripeKeys.set(key, { id: 'acct_T', name: 'Test Co' });
      const id = (await h.subgraph.query(alice, CREATE, { input: { accountId: account, platformSlug: 'stripe', apiKey: key } })).data!.createApiKeyConnection.id;

      const ok = (await h.subgraph.query(alice, TEST, { id })).data!.testConnection;
      expect(ok).toMatchObject({ ok: true, errorCode: null, message: 'Stripe answered: connected as Test Co.', connection: { status: 'AUTHORIZED' } });

      h.api.stripeKeys.delete(key); // rolled in the Stripe dashboard
      const refused = (await h.subgraph.query(alice, TEST, { id })).data!.testConnection;
      expect(refused).toMatchObject({ ok: false, errorCode: 'CREDENTIALS_REFUSED', connection: { status: 'FAILED', lastErrorCode: 'CREDENTIALS_REFUSED' } });
      expect(refused.message).toContain('HTTP 401');
      expect(refused.message).not.toContain(key);
      expect((await h.waitForEvent('connection.failed', id)).data).toMatchObject({ code: 'CREDENTIALS_REFUSED' });

      h.api.down = true;
      try {
        const down = (await h.subgraph.query(alice, TEST, { id })).data!.testConnection;
        expect(down).toMatchObject({ ok: false, errorCode: 'PLATFORM_UNAVAILABLE', connection: { status: 'FAILED', lastErrorCode: 'PLATFORM_UNAVAILABLE' } });
      } finally {
        h.api.down = false;
      }

      h.api.stripeKeys.set(key, { id: 'acct_T', name: 'Test Co' });
      const back = (await h.subgraph.query(alice, TEST, { id })).data!.testConnection;
      expect(back).toMatchObject({ ok: true, connection: { status: 'AUTHORIZED', lastError: null, lastErrorCode: null } });
      expect(h.events.filter((event) => event.subject === id && event.type === 'connection.authorized').length).toBeGreaterThanOrEqual(1);
    });

    it('refuses to test a connection that has nothing to test', async () => {
      const started = await h.subgraph.query(alice, START, { input: { accountId: account, platformSlug: 'gitlab' } });
      const id = started.data!.startOAuthConnection.connection.id;
      expect(errorCodes(await h.subgraph.query(alice, TEST, { id }))).toEqual(['CONNECTION_NOT_AUTHORIZED']);
    });
  });

  describe('replaceConnectionApiKey', () => {
    it('swaps a rolled Stripe key into the same connection: checked with Stripe, sealed, used from then on', async () => {
      const oldKey = stripeKey('live', 'rk');
      h.api.stripeKeys.set(oldKey, { id: 'acct_Roll', name: 'Roll Co' });
      const id = (await h.subgraph.query(alice, CREATE, { input: { accountId: account, platformSlug: 'stripe', apiKey: oldKey } })).data!.createApiKeyConnection.id;
      // Stripe's "Roll key": the old key stops working (here at once), the new one is for the same account.
      h.api.stripeKeys.delete(oldKey);
      expect((await h.subgraph.query(alice, TEST, { id })).data!.testConnection).toMatchObject({ ok: false, connection: { status: 'FAILED' } });
      const newKey = stripeKey('live', 'rk');
      h.api.stripeKeys.set(newKey, { id: 'acct_Roll', name: 'Roll Co' });

      const result = await h.subgraph.query(alice, REPLACE, { id, apiKey: `  ${newKey}  ` });
      expect(result.errors).toBeUndefined();
      expect(result.data!.replaceConnectionApiKey).toMatchObject({ id, status: 'AUTHORIZED', externalAccountId: 'acct_Roll', lastErrorCode: null });
      expect(JSON.stringify(result)).not.toContain(newKey);
      expect(h.api.requests.findLast((request) => request.path === '/v1/account')!.headers.authorization).toBe(`Bearer ${newKey}`);
      expect((await h.service.getAccessToken(account, id)).token).toBe(newKey);
      expect(await em().count(Connection, { id })).toBe(1);
      await expect.poll(() => h.events.filter((event) => event.subject === id && event.type === 'connection.authorized').length, { timeout: 30_000 }).toBe(2);
    });

    it('refuses a key of another Stripe account, a malformed or rejected key, and an OAuth or revoked connection, changing nothing', async () => {
      const key = stripeKey();
      h.api.stripeKeys.set(key, { id: 'acct_Keep', name: 'Keep Co' });
      const id = (await h.subgraph.query(alice, CREATE, { input: { accountId: account, platformSlug: 'stripe', apiKey: key } })).data!.createApiKeyConnection.id;
      const sealed = async () => Buffer.from((await em().findOneOrFail(ConnectionSecret, { connectionId: id })).credentials!).toString('base64');
      const state = async () => ({ ...(await snapshot()), sealed: await sealed(), row: JSON.stringify(await em().findOneOrFail(Connection, { id })) });
      const before = await state();

      const otherAccount = stripeKey();
      h.api.stripeKeys.set(otherAccount, { id: 'acct_Other', name: 'Other Co' });
      const unreachable = stripeKey();
      h.api.stripeKeys.set(unreachable, { id: 'acct_Keep', name: 'Keep Co' });
      const cases: [string, string][] = [
        [otherAccount, 'API_KEY_OTHER_ACCOUNT'],
        [`pk_live_${randomBytes(12).toString('hex')}`, 'INVALID_API_KEY_FORMAT'],
        ['', 'INVALID_API_KEY_FORMAT'],
        [stripeKey(), 'API_KEY_REJECTED'],
      ];
      for (const [apiKey, code] of cases) {
        const result = await h.subgraph.query(alice, REPLACE, { id, apiKey });
        expect({ data: result.data, codes: errorCodes(result) }).toEqual({ data: null, codes: [code] });
        if (apiKey) expect(result.errors![0].message).not.toContain(apiKey);
      }
      expect((await h.subgraph.query(alice, REPLACE, { id, apiKey: otherAccount })).errors![0].message).toContain('Other Co at Stripe, not to Keep Co');
      h.api.down = true;
      try {
        expect(errorCodes(await h.subgraph.query(alice, REPLACE, { id, apiKey: unreachable }))).toEqual(['PLATFORM_UNAVAILABLE']);
      } finally {
        h.api.down = false;
      }
      expect(await state()).toEqual(before);
      expect((await h.service.getAccessToken(account, id)).token).toBe(key);

      const oauth = (await h.subgraph.query(alice, START, { input: { accountId: account, platformSlug: 'gitlab' } })).data!.startOAuthConnection.connection.id;
      expect(errorCodes(await h.subgraph.query(alice, REPLACE, { id: oauth, apiKey: stripeKey() }))).toEqual(['WRONG_AUTH_TYPE']);
      await h.subgraph.query(alice, REVOKE, { id });
      const revoked = await h.subgraph.query(alice, REPLACE, { id, apiKey: unreachable });
      expect(errorCodes(revoked)).toEqual(['CONNECTION_REVOKED']);
      expect(await em().findOne(ConnectionSecret, { connectionId: id })).toBeNull();
    });
  });

  it('renames a connection, refusing a bad name', async () => {
    const key = stripeKey();
    h.api.stripeKeys.set(key, { id: 'acct_R', name: 'R' });
    const id = (await h.subgraph.query(alice, CREATE, { input: { accountId: account, platformSlug: 'stripe', apiKey: key } })).data!.createApiKeyConnection.id;
    const renamed = await h.subgraph.query(alice, RENAME, { id, name: '  Stripe (EU)  ' });
    expect(renamed.data!.renameConnection).toMatchObject({ id, name: 'Stripe (EU)' });
    expect(errorCodes(await h.subgraph.query(alice, RENAME, { id, name: '' }))).toEqual(['BAD_USER_INPUT']);
    expect((await em().findOneOrFail(Connection, { id })).name).toBe('Stripe (EU)');
  });

  it('revokes an API-key connection: erases the key, and tells the user to roll it at the platform', async () => {
    const key = stripeKey();
    h.api.stripeKeys.set(key, { id: 'acct_X', name: 'X' });
    const id = (await h.subgraph.query(alice, CREATE, { input: { accountId: account, platformSlug: 'stripe', apiKey: key } })).data!.createApiKeyConnection.id;
    const result = (await h.subgraph.query(alice, REVOKE, { id })).data!.revokeConnection;
    expect(result).toMatchObject({ revokedAtPlatform: false, connection: { id, status: 'REVOKED' } });
    expect(result.message).toContain('roll it in Stripe');
    expect(await em().findOne(ConnectionSecret, { connectionId: id })).toBeNull();
    expect((await h.waitForEvent('connection.revoked', id)).data).toMatchObject({ revokedAtPlatform: false });
    await expect(h.service.getAccessToken(account, id)).rejects.toMatchObject({ code: 'CONNECTION_REVOKED' });
  });

  it('keeps a platform the code no longer knows readable, but connects nothing new to it', async () => {
    const fork = em();
    const ghost = fork.create(Platform, { id: randomUUID(), slug: `retired-${randomUUID().slice(0, 6)}`, name: 'Retired', category: 'OTHER' });
    await fork.flush();
    expect((await h.subgraph.query(alice, `query($id: ID) { platform(id: $id) { name } }`, { id: ghost.id })).data!.platform.name).toBe('Retired');
    const result = await h.subgraph.query(alice, CREATE, { input: { accountId: account, platformId: ghost.id, apiKey: stripeKey() } });
    expect(errorCodes(result)).toEqual(['UNKNOWN_PLATFORM']);
  });
});
