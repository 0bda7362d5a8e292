import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { SignJWT, UnsecuredJWT, base64url, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { INTERNAL_TOKEN_HEADER, signInternalToken } from '@listbackup/lib/internal-token';
import type { Principal } from '@listbackup/lib/principal';
import { SUBGRAPHS, type SubgraphName } from '@listbackup/lib/subgraphs';
import { signUp, startStack, type SignedUp, type Stack } from './support/stack.ts';

// The five subgraphs and the gateway, all real, on a fresh database.
let stack: Stack;
let owner: SignedUp;
let clock = Date.now();
const names = SUBGRAPHS.map((subgraph) => subgraph.name);

beforeAll(async () => {
  stack = await startStack({ gateway: { auth: { now: () => clock } } });
  owner = await signUp(stack, `owner-${randomUUID()}@example.com`, 'Owner');
});
afterAll(async () => {
  await stack?.close();
});

async function sql(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

/** Billing gives new accounts the Free plan when `account.created` reaches it: wait for that. */
async function waitForFreePlans(token: string, accountIds: string[]): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const result = await stack.graphql('{ accounts(first: 100) { edges { node { id subscription { plan { code } } } } } }', {}, token);
    const ready = new Set((result.data?.accounts.edges ?? []).map((edge: any) => edge.node).filter((a: any) => a.subscription?.plan.code === 'free').map((a: any) => a.id));
    if (accountIds.every((id) => ready.has(id))) return;
    if (Date.now() > deadline) throw new Error(`accounts never got the Free plan: ${JSON.stringify(result)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Rows that later issues create through mutations (connect a platform, add a source, run a job). */
async function seedBackupSetup(accountId: string) {
  const connectionId = randomUUID();
  const sourceId = randomUUID();
  const jobId = randomUUID();
  await sql(
    `insert into platforms.connections (id, account_id, platform_id, name, status, created_at)
     select $1, $2, id, 'Stripe live', 'AUTHORIZED', now() from platforms.platforms where slug = 'stripe'`,
    [connectionId, accountId],
  );
  await sql(`insert into sources.sources (id, account_id, connection_id, name, resources, created_at) values ($1, $2, $3, 'Stripe charges', '{charges}', now())`, [
    sourceId,
    accountId,
    connectionId,
  ]);
  await sql(`insert into jobs.jobs (id, account_id, source_id, kind, status, created_at) values ($1, $2, $3, 'BACKUP', 'QUEUED', now())`, [jobId, accountId, sourceId]);
  return { connectionId, sourceId, jobId };
}

const requestCounts = () => Object.fromEntries(names.map((name) => [name, stack.counters.requests[name].length]));

describe('a subgraph answers only the gateway', () => {
  const principal: Principal = { kind: 'anonymous' };
  const probes = {
    _service: '{ _service { sdl } }',
    _entities: `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Account { id } } }`,
  };
  const variables = () => ({ r: [{ __typename: 'Account', id: owner.accountId }] });

  async function direct(name: SubgraphName, header: string | undefined, query: string) {
    const response = await fetch(stack.services[name].url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(header === undefined ? {} : { [INTERNAL_TOKEN_HEADER]: header }) },
      body: JSON.stringify({ query, variables: variables() }),
    });
    return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] } };
  }

  async function badHeaders(name: SubgraphName): Promise<Record<string, string | undefined>> {
    const claims = { principal, requestId: 'probe' };
    const past = Math.floor(Date.now() / 1000) - 600;
    return {
      missing: undefined,
      garbage: 'not-a-token',
      forged: await signInternalToken(randomBytes(32).toString('base64url'), name, claims),
      expired: await new SignJWT({ principal, rid: 'probe' })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('listbackup-gateway')
        .setAudience(name)
        .setIssuedAt(past - 60)
        .setExpirationTime(past)
        .sign(new TextEncoder().encode(stack.internalTokenSecret)),
      otherAudience: await signInternalToken(stack.internalTokenSecret, name === 'accounts' ? 'billing' : 'accounts', claims),
    };
  }

  it.each(names)('%s refuses _service and _entities without a valid gateway token: 401, no data', async (name) => {
    // The same requests with a valid token are answered, so the refusals below are about the token.
    const valid = await signInternalToken(stack.internalTokenSecret, name, { principal, requestId: 'probe' });
    expect((await direct(name, valid, probes._service)).status).toBe(200);
    expect((await direct(name, valid, probes._entities)).status).toBe(200);

    for (const [kind, header] of Object.entries(await badHeaders(name))) {
      for (const query of Object.values(probes)) {
        const { status, body } = await direct(name, header, query);
        expect({ kind, status }).toEqual({ kind, status: 401 });
        expect(body.data).toBeUndefined();
        expect(body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      }
    }
  });

  it('accounts refuses its internal routes (roles, API key check, JWKS) without a gateway token', async () => {
    const origin = new URL(stack.services.accounts.url).origin;
    for (const path of ['/internal/access', '/internal/api-keys/verify', '/internal/jwks']) {
      const response = await fetch(`${origin}${path}`, { method: path === '/internal/jwks' ? 'GET' : 'POST', headers: { 'content-type': 'application/json' }, body: path === '/internal/jwks' ? undefined : '{"visible":true}' });
      expect({ path, status: response.status }).toEqual({ path, status: 401 });
    }
  });
});

describe('the gateway authenticates the caller', () => {
  const query = '{ me { id } }';

  async function signingKey(): Promise<{ kid: string; privateKey: CryptoKey | Uint8Array; publicJwk: JWK }> {
    const { rows } = await sql(`select kid, private_jwk, public_jwk from accounts.signing_keys where retired_at is null order by created_at desc limit 1`);
    return { kid: rows[0].kid, privateKey: await importJWK(rows[0].private_jwk, 'EdDSA'), publicJwk: rows[0].public_jwk };
  }

  it('accepts the access token signUp returned', async () => {
    const result = await stack.graphql(query, {}, owner.accessToken);
    expect(result.data).toEqual({ me: { id: owner.userId } });
  });

  it('refuses malformed, expired, wrongly signed, alg none and HS256 tokens with 401 UNAUTHENTICATED', async () => {
    const real = await signingKey();
    const claims = { sid: randomUUID() };
    const base = (token: SignJWT) => token.setSubject(owner.userId).setIssuer('listbackup').setAudience('listbackup-api');
    const now = Math.floor(Date.now() / 1000);
    const { privateKey: otherKey } = await generateKeyPair('EdDSA');
    const tokens: Record<string, [string, RegExp]> = {
      malformed: ['eyJhbGciOiJFZERTQSJ9.garbage', /malformed/],
      truncated: [owner.accessToken.slice(0, -10), /signature is invalid|malformed/],
      expired: [await base(new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: real.kid })).setIssuedAt(now - 1000).setExpirationTime(now - 100).sign(real.privateKey), /expired/],
      wrongKey: [await base(new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: real.kid })).setExpirationTime('5m').sign(otherKey), /signature is invalid/],
      unknownKid: [await base(new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: 'not-a-key' })).setExpirationTime('5m').sign(otherKey), /unknown key/],
      algNone: [new UnsecuredJWT(claims).setSubject(owner.userId).setIssuer('listbackup').setAudience('listbackup-api').setExpirationTime('5m').encode(), /algorithm/],
      hs256: [await base(new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: real.kid })).setExpirationTime('5m').sign(base64url.decode(real.publicJwk.x!)), /algorithm/],
      otherAudience: [await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: real.kid }).setSubject(owner.userId).setIssuer('listbackup').setAudience('accounts').setExpirationTime('5m').sign(real.privateKey), /aud/],
    };
    stack.counters.reset();
    for (const [kind, [token, message]] of Object.entries(tokens)) {
      const result = await stack.graphql(query, {}, token);
      expect({ kind, status: result.status, code: result.errors?.[0].extensions?.code }).toEqual({ kind, status: 401, code: 'UNAUTHENTICATED' });
      expect(result.data).toBeUndefined();
      expect(result.errors?.[0].message).toMatch(message);
    }
    expect(stack.counters.totalRequests()).toBe(0);
  });

  it('lets signUp and platforms through anonymously, and refuses me', async () => {
    const platforms = await stack.graphql('{ platforms { slug } }');
    expect(platforms.data?.platforms.map((p: { slug: string }) => p.slug)).toContain('stripe');
    const me = await stack.graphql(query);
    expect(me.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('accepts an API key, and refuses it once revoked', async () => {
    const created = await stack.graphql(
      `mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }`,
      { input: { accountId: owner.accountId, name: 'ci', scopes: ['ACCOUNT_READ'] } },
      owner.accessToken,
    );
    expect(created.errors).toBeUndefined();
    const { secret, apiKey } = created.data.createApiKey;
    const read = `query ($id: ID!) { account(id: $id) { id name } }`;

    const before = await stack.graphql(read, { id: owner.accountId }, secret);
    expect(before.data).toEqual({ account: { id: owner.accountId, name: 'Owner' } });

    const revoked = await stack.graphql(`mutation ($id: ID!) { revokeApiKey(id: $id) { revokedAt } }`, { id: apiKey.id }, owner.accessToken);
    expect(revoked.data.revokeApiKey.revokedAt).toBeTruthy();
    clock += 30_000; // the gateway reuses a verdict for up to 30 s
    const after = await stack.graphql(read, { id: owner.accountId }, secret);
    expect(after.status).toBe(401);
    expect(after.errors?.[0]).toMatchObject({ message: 'API key is invalid or has been revoked', extensions: { code: 'UNAUTHENTICATED' } });
  });
});

describe('one query across the five subgraphs', () => {
  it('reads an account with fields of every subgraph in one request per subgraph', async () => {
    const seeded = await seedBackupSetup(owner.accountId);
    await waitForFreePlans(owner.accessToken, [owner.accountId]);
    stack.counters.reset();

    const result = await stack.graphql(
      `{ me { memberships { edges { node { account { id name myRole connections { edges { node { id } } } sources { edges { node { id } } } jobs { edges { node { id } } } subscription { plan { code } } } } } } } }`,
      {},
      owner.accessToken,
    );

    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      me: {
        memberships: {
          edges: [
            {
              node: {
                account: {
                  id: owner.accountId,
                  name: 'Owner',
                  myRole: 'OWNER',
                  connections: { edges: [{ node: { id: seeded.connectionId } }] },
                  sources: { edges: [{ node: { id: seeded.sourceId } }] },
                  jobs: { edges: [{ node: { id: seeded.jobId } }] },
                  subscription: { plan: { code: 'free' } },
                },
              },
            },
          ],
        },
      },
    });
    // accounts answers `me`, then one `_entities` fetch to each of the four other subgraphs, in parallel.
    expect(requestCounts()).toEqual({ accounts: 1, platforms: 1, sources: 1, jobs: 1, billing: 1 });
    for (const name of ['platforms', 'sources', 'jobs', 'billing'] as const) expect(stack.counters.entities(name)).toHaveLength(1);
    expect(stack.counters.totalRequests()).toBe(5);
  });
});

describe('a list of 50 accounts', () => {
  it('resolves with one _entities call per subgraph and one SQL query per batch', async () => {
    const user = await signUp(stack, `fifty-${randomUUID()}@example.com`, 'Fifty');
    const children: string[] = [];
    for (let i = 0; i < 50; i++) {
      const created = await stack.graphql(
        `mutation ($input: CreateAccountInput!) { createAccount(input: $input) { id } }`,
        { input: { name: `Client ${i}`, parentId: user.accountId } },
        user.accessToken,
      );
      expect(created.errors).toBeUndefined();
      children.push(created.data.createAccount.id);
    }
    const seeded = await seedBackupSetup(children[7]);
    await waitForFreePlans(user.accessToken, [user.accountId, ...children]);
    stack.counters.reset();

    const result = await stack.graphql(`{ accounts(first: 100) { edges { node { id connections(first: 5) { edges { node { id } } } subscription { plan { code } } } } } }`, {}, user.accessToken);

    expect(result.errors).toBeUndefined();
    type Listed = { id: string; connections: { edges: { node: { id: string } }[] }; subscription: { plan: { code: string } } };
    const accounts = (result.data.accounts.edges as { node: Listed }[]).map((edge) => edge.node);
    expect(accounts.map((account) => account.id).sort()).toEqual([user.accountId, ...children].sort());
    for (const account of accounts) {
      expect(account.subscription.plan.code).toBe('free');
      expect(account.connections.edges).toEqual(account.id === children[7] ? [{ node: { id: seeded.connectionId } }] : []);
    }

    expect(requestCounts()).toEqual({ accounts: 1, platforms: 1, sources: 0, jobs: 0, billing: 1 });
    for (const name of ['platforms', 'billing'] as const) {
      const [call] = stack.counters.entities(name);
      expect((call.variables!.representations as unknown[]).length).toBe(51);
    }
    const selects = (name: SubgraphName, table: string) => stack.counters.sql[name].filter((statement) => statement.includes(`from "${name}"."${table}"`));
    expect(selects('platforms', 'connections')).toHaveLength(1);
    expect(selects('billing', 'plan_subscriptions')).toHaveLength(1);
    expect(selects('billing', 'plans')).toHaveLength(1);
    expect(stack.counters.sql.platforms).toHaveLength(1);
    expect(stack.counters.sql.billing).toHaveLength(2);
    // accounts: visible accounts, their rows, and one role look-up per asking subgraph — none per account.
    expect(stack.counters.sql.accounts.length).toBeLessThan(10);
    // The caller's roles on all 51 accounts travel in the gateway's token: no subgraph asks accounts.
    expect(stack.counters.accessCalls.platforms).toBe(0);
    expect(stack.counters.accessCalls.billing).toBe(0);
  });
});

describe('events name their actor', () => {
  it('as the gateway saw the caller: the user, the client IP and the User-Agent, on the event of what they did', async () => {
    const email = `actor-${randomUUID()}@example.com`;
    const signedUp = await signUp(stack, email, 'Actor');
    const response = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'ListBackupTest/1.0 (audit)' },
      body: JSON.stringify({ query: 'mutation ($input: LogInInput!) { logIn(input: $input) { user { id } } }', variables: { input: { email, password: signedUp.password } } }),
    });
    expect(((await response.json()) as any).data.logIn.user.id).toBe(signedUp.userId);
    const { rows } = await sql(`select actor from accounts.outbox_events where type = 'user.login' and subject = $1`, [signedUp.userId]);
    expect(rows).toEqual([{ actor: { kind: 'user', id: signedUp.userId, ip: expect.stringMatching(/127\.0\.0\.1/), userAgent: 'ListBackupTest/1.0 (audit)' } }]);
  });
});

describe('health', () => {
  const origin = () => new URL(stack.gatewayUrl).origin;

  it('serves /healthz and the public JWKS', async () => {
    expect(await (await fetch(`${origin()}/healthz`)).json()).toEqual({ status: 'ok' });
    const jwks = (await (await fetch(`${origin()}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
      expect(key).not.toHaveProperty('d');
    }
  });

  // Last: it stops a subgraph.
  it('is ready while every subgraph and its event bus are, and answers 503 naming the subgraph that is down', async () => {
    const ready = await fetch(`${origin()}/readyz`);
    expect(ready.status).toBe(200);
    // The gateway's own event bus (live subscriptions, access changes) too.
    expect(await ready.json()).toEqual({ status: 'ready', checks: { ...Object.fromEntries(names.map((name) => [name, 'ok'])), events: 'ok' } });

    await stack.stopSubgraph('jobs');
    const down = await fetch(`${origin()}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ status: 'unavailable', failed: ['jobs'] });
  });
});
