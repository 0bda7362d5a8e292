import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@listbackup/lib/principal';
import { client, errorCode, rows, seedUser, startHarness, type SeededUser, type TenancyHarness } from './tenancy-support.ts';

let harness: TenancyHarness;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  harness = await startHarness();
  api = client(harness);
});
afterAll(async () => {
  await harness?.stop();
});

const CREATE_KEY = `mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret apiKey { id name prefix scopes createdAt lastUsedAt revokedAt account { id } } } }`;
const REVOKE = `mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`;
const LIST = `query($id: ID!) { account(id: $id) { apiKeys { id name prefix scopes lastUsedAt revokedAt } } }`;
const GATEWAY: Principal = { kind: 'anonymous' };

async function createKey(by: SeededUser, accountId: string, scopes: string[], name = 'CI'): Promise<{ id: string; secret: string }> {
  const asEnum = scopes.map((scope) => scope.toUpperCase().replace(/[:-]/g, '_'));
  const response = await api.gql(by.principal, CREATE_KEY, { i: { accountId, name, scopes: asEnum } });
  expect(response.errors).toBeUndefined();
  return { id: response.data!.createApiKey.apiKey.id, secret: response.data!.createApiKey.secret };
}

async function keysOf(accountId: string) {
  const found = await rows<{ id: string; secret_hash: string; scopes: string[]; revoked_at: string | null; last_used_at: string | null }>(
    harness.orm,
    `select id, secret_hash, scopes, revoked_at, last_used_at from accounts.api_keys where account_id = ? order by id`,
    [accountId],
  );
  const date = (value: string | null) => (value === null ? null : new Date(value));
  return found.map((row) => ({ ...row, revoked_at: date(row.revoked_at), last_used_at: date(row.last_used_at) }));
}

describe('creating and listing API keys', () => {
  it('returns the secret once, stores only its SHA-256, and lists the key without it', async () => {
    const owner = await seedUser(harness.orm, 'key-owner');
    const response = await api.gql(owner.principal, CREATE_KEY, { i: { accountId: owner.account.id, name: ' Nightly export ', scopes: ['JOBS_RUN', 'JOBS_READ', 'JOBS_RUN'] } });
    expect(response.errors).toBeUndefined();
    const { secret, apiKey } = response.data!.createApiKey;
    expect(secret).toMatch(/^lbk_[A-Za-z0-9_-]{43}$/);
    expect(apiKey).toMatchObject({ name: 'Nightly export', prefix: secret.slice(0, 12), scopes: ['JOBS_RUN', 'JOBS_READ'], lastUsedAt: null, revokedAt: null, account: { id: owner.account.id } });

    const [stored] = await keysOf(owner.account.id);
    expect(stored.secret_hash).toBe(createHash('sha256').update(secret).digest('hex'));
    const dump = JSON.stringify(await rows(harness.orm, `select * from accounts.api_keys where id = ?`, [apiKey.id]));
    expect(dump).not.toContain(secret);

    const list = await api.gql(owner.principal, LIST, { id: owner.account.id });
    expect(list.data!.account.apiKeys).toEqual([{ id: apiKey.id, name: 'Nightly export', prefix: apiKey.prefix, scopes: ['JOBS_RUN', 'JOBS_READ'], lastUsedAt: null, revokedAt: null }]);
    expect(JSON.stringify(list)).not.toContain(secret);
  });

  it('refuses scopes outside the ApiKeyScope enum, scopes beyond the caller, empty scopes and bad names; nothing stored', async () => {
    const owner = await seedUser(harness.orm, 'key-bad');
    const admin = await seedUser(harness.orm, 'key-bad-admin');
    const viewer = await seedUser(harness.orm, 'key-bad-viewer');
    for (const [email, role] of [[admin.email, 'ADMIN'], [viewer.email, 'VIEWER']]) {
      await api.gql(owner.principal, `mutation($i: AddMemberInput!) { addMember(input: $i) { id } }`, { i: { accountId: owner.account.id, email, role } });
    }
    const cases: [SeededUser, Record<string, unknown>, string][] = [
      [owner, { name: 'x', scopes: ['JOBS_READ', 'EVERYTHING'] }, 'BAD_USER_INPUT'],
      [owner, { name: 'x', scopes: ['jobs:read'] }, 'BAD_USER_INPUT'],
      [owner, { name: 'x', scopes: [] }, 'INVALID_SCOPE'],
      // Keys act as admins at most: owner-only actions are not scopes at all.
      [owner, { name: 'x', scopes: ['BILLING_MANAGE'] }, 'BAD_USER_INPUT'],
      [owner, { name: 'x', scopes: ['ACCOUNT_DELETE'] }, 'BAD_USER_INPUT'],
      [owner, { name: '   ', scopes: ['JOBS_READ'] }, 'BAD_USER_INPUT'],
      [owner, { name: 'y'.repeat(201), scopes: ['JOBS_READ'] }, 'BAD_USER_INPUT'],
      [viewer, { name: 'x', scopes: ['JOBS_READ'] }, 'FORBIDDEN'],
    ];
    for (const [caller, input, code] of cases) {
      const response = await api.gql(caller.principal, CREATE_KEY, { i: { accountId: owner.account.id, ...input } });
      expect(errorCode(response), JSON.stringify(input)).toBe(code);
    }
    const unknownScope = await api.gql(owner.principal, CREATE_KEY, { i: { accountId: owner.account.id, name: 'x', scopes: ['NOPE'] } });
    // The schema lists the scopes, and the error names the enum to look them up in.
    expect(unknownScope.errors![0].message).toContain('"NOPE"');
    expect(unknownScope.errors![0].message).toContain('ApiKeyScope');
    const unknownAccount = await api.gql(owner.principal, CREATE_KEY, { i: { accountId: randomUUID(), name: 'x', scopes: ['JOBS_READ'] } });
    expect(errorCode(unknownAccount)).toBe('NOT_FOUND');
    expect(await keysOf(owner.account.id)).toEqual([]);

    // An admin may create a key with admin's actions.
    await createKey(admin, owner.account.id, ['members:manage', 'apikeys:read']);
    expect(await keysOf(owner.account.id)).toHaveLength(1);
  });

  it('a key creating keys cannot grant scopes it does not hold', async () => {
    const owner = await seedUser(harness.orm, 'key-chain');
    const key = await createKey(owner, owner.account.id, ['apikeys:manage', 'jobs:read']);
    const asKey: Principal = { kind: 'apiKey', apiKeyId: key.id, accountId: owner.account.id, scopes: ['apikeys:manage', 'jobs:read'] };
    const escalate = await api.gql(asKey, CREATE_KEY, { i: { accountId: owner.account.id, name: 'more', scopes: ['MEMBERS_MANAGE'] } });
    expect(errorCode(escalate)).toBe('FORBIDDEN');
    const narrower = await api.gql(asKey, `mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret apiKey { scopes } } }`, {
      i: { accountId: owner.account.id, name: 'less', scopes: ['JOBS_READ'] },
    });
    expect(narrower.data?.createApiKey.apiKey).toEqual({ scopes: ['JOBS_READ'] });
    expect(await keysOf(owner.account.id)).toHaveLength(2);
  });
});

describe('API key principals', () => {
  it('are admins of their account and its descendants, nothing elsewhere, and limited to their scopes', async () => {
    const owner = await seedUser(harness.orm, 'key-scope');
    const stranger = await seedUser(harness.orm, 'key-stranger');
    const child = (await api.gql(owner.principal, `mutation { createAccount(input: {name: "Child", parentId: "${owner.account.id}"}) { id } }`)).data!.createAccount.id;
    const key = await createKey(owner, child, ['account:read', 'members:read']);
    const asKey: Principal = { kind: 'apiKey', apiKeyId: key.id, accountId: child, scopes: ['account:read', 'members:read'] };

    const roles = await api.post('/internal/access', asKey, { accountIds: [child, owner.account.id, stranger.account.id] });
    expect(roles.body).toEqual({ roles: ['admin', null, null] });
    const grandchild = (await api.gql(owner.principal, `mutation { createAccount(input: {name: "Grandchild", parentId: "${child}"}) { id } }`)).data!.createAccount.id;
    expect((await api.post('/internal/access', asKey, { accountIds: [grandchild] })).body).toEqual({ roles: ['admin'] });
    const visible = await api.post('/internal/access', asKey, { visible: true });
    expect(visible.body.visible.map((v: { accountId: string }) => v.accountId).sort()).toEqual([child, grandchild].sort());

    const read = await api.gql(asKey, `{ account(id: "${child}") { myRole members { edges { node { role } } } } }`);
    expect(read.data?.account).toEqual({ myRole: 'ADMIN', members: { edges: [] } });
    const outOfScope = await api.gql(asKey, `{ account(id: "${child}") { apiKeys { id } } }`);
    expect(errorCode(outOfScope)).toBe('FORBIDDEN');
    const parent = await api.gql(asKey, `{ account(id: "${owner.account.id}") { id } }`);
    expect(errorCode(parent)).toBe('NOT_FOUND');
    const parentField = await api.gql(asKey, `{ account(id: "${child}") { parent { id } ancestors { id } } }`);
    expect(parentField.data?.account).toEqual({ parent: null, ancestors: [] });
  });

  it('a key without ACCOUNT_READ is refused the account list with a reason, not shown an empty one', async () => {
    const owner = await seedUser(harness.orm, 'key-noread');
    const key = await createKey(owner, owner.account.id, ['jobs:read']);
    const jobsOnly: Principal = { kind: 'apiKey', apiKeyId: key.id, accountId: owner.account.id, scopes: ['jobs:read'] };
    const refused = await api.gql(jobsOnly, '{ accounts { edges { node { id } } } }');
    expect(errorCode(refused)).toBe('FORBIDDEN');
    expect(refused.errors![0].message).toContain('ACCOUNT_READ');
    const reader: Principal = { ...jobsOnly, scopes: ['account:read'] };
    expect((await api.gql(reader, '{ accounts { edges { node { id } } } }')).data?.accounts).toEqual({ edges: [{ node: { id: owner.account.id } }] });
  });
});

describe('revoking and verifying API keys', () => {
  it('the verify route maps a secret to its principal, records lastUsedAt at most once a minute, and refuses revoked keys', async () => {
    const owner = await seedUser(harness.orm, 'key-verify');
    const key = await createKey(owner, owner.account.id, ['jobs:read', 'sources:read']);

    const verified = await api.post('/internal/api-keys/verify', GATEWAY, { secret: key.secret });
    expect(verified).toEqual({
      status: 200,
      body: { principal: { kind: 'apiKey', apiKeyId: key.id, accountId: owner.account.id, scopes: ['jobs:read', 'sources:read'] } },
    });
    const [afterFirst] = await keysOf(owner.account.id);
    expect(afterFirst.last_used_at).toBeInstanceOf(Date);

    // A second use within the minute does not write again...
    await api.post('/internal/api-keys/verify', GATEWAY, { secret: key.secret });
    const [afterSecond] = await keysOf(owner.account.id);
    expect(afterSecond.last_used_at).toEqual(afterFirst.last_used_at);
    // ...one after it does.
    await rows(harness.orm, `update accounts.api_keys set last_used_at = now() - interval '2 minutes' where id = ?`, [key.id]);
    const [stale] = await keysOf(owner.account.id);
    await api.post('/internal/api-keys/verify', GATEWAY, { secret: key.secret });
    const [afterThird] = await keysOf(owner.account.id);
    expect(afterThird.last_used_at!.getTime()).toBeGreaterThan(stale.last_used_at!.getTime());
    const listed = await api.gql(owner.principal, LIST, { id: owner.account.id });
    expect(new Date(listed.data!.account.apiKeys[0].lastUsedAt).getTime()).toBe(afterThird.last_used_at!.getTime());

    for (const secret of [key.secret.slice(0, -1) + (key.secret.endsWith('A') ? 'B' : 'A'), 'lbk_unknown', 'Bearer nonsense']) {
      const response = await api.post('/internal/api-keys/verify', GATEWAY, { secret });
      expect(response.status).toBe(401);
      expect(response.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }

    const revoked = await api.gql(owner.principal, REVOKE, { id: key.id });
    expect(revoked.data!.revokeApiKey).toEqual({ id: key.id, revokedAt: expect.any(String) });
    const afterRevoke = await api.post('/internal/api-keys/verify', GATEWAY, { secret: key.secret });
    expect(afterRevoke.status).toBe(401);
    expect(afterRevoke.body).not.toHaveProperty('principal');
    // A token minted before the revocation loses its role at once.
    const asKey: Principal = { kind: 'apiKey', apiKeyId: key.id, accountId: owner.account.id, scopes: ['jobs:read'] };
    expect((await api.post('/internal/access', asKey, { accountIds: [owner.account.id] })).body).toEqual({ roles: [null] });
    const list = await api.gql(owner.principal, LIST, { id: owner.account.id });
    expect(list.data!.account.apiKeys[0].revokedAt).toBe(revoked.data!.revokeApiKey.revokedAt);
  });

  it('the verify route needs an internal token', async () => {
    const owner = await seedUser(harness.orm, 'key-verify-401');
    const key = await createKey(owner, owner.account.id, ['jobs:read']);
    const response = await api.post('/internal/api-keys/verify', null, { secret: key.secret });
    expect(response.status).toBe(401);
    expect(response.body).not.toHaveProperty('principal');
    const [stored] = await keysOf(owner.account.id);
    expect(stored.last_used_at).toBeNull();
  });

  it('revoking needs apikeys:manage on the key account; unknown ids are NOT_FOUND', async () => {
    const owner = await seedUser(harness.orm, 'key-revoke');
    const operator = await seedUser(harness.orm, 'key-revoke-op');
    await api.gql(owner.principal, `mutation($i: AddMemberInput!) { addMember(input: $i) { id } }`, { i: { accountId: owner.account.id, email: operator.email, role: 'OPERATOR' } });
    const key = await createKey(owner, owner.account.id, ['jobs:read']);
    expect(errorCode(await api.gql(operator.principal, REVOKE, { id: key.id }))).toBe('FORBIDDEN');
    const unknown = await api.gql(owner.principal, REVOKE, { id: randomUUID() });
    expect(errorCode(unknown)).toBe('NOT_FOUND');
    expect(unknown.errors![0].message).toBe('API key not found');
    expect((await keysOf(owner.account.id))[0].revoked_at).toBeNull();
  });
});
