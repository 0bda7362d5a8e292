// Account B must not see, test, refresh, rename, revoke, re-key or read any field of account A's
// connections, through any entry point; and roles and API-key scopes limit what A's own people do.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@listbackup/lib/principal';
import { Connection } from '../src/entities/connection.ts';
import { ConnectionSecret } from '../src/entities/connection-secret.ts';
import { accountRefs, errorCodes, newUser } from '../../jobs/test/support/subgraph-harness.ts';
import { START, startPlatformsHarness, type PlatformsHarness } from './support/platforms-harness.ts';

const FIELDS = 'id name status authType params { name value } scopes externalAccountId externalAccountName lastError authorizedAt platform { slug } account { id }';
const MUTATIONS = {
  test: `mutation($id: ID!) { testConnection(id: $id) { ok connection { ${FIELDS} } } }`,
  rename: `mutation($id: ID!) { renameConnection(id: $id, name: "mine now") { ${FIELDS} } }`,
  revoke: `mutation($id: ID!) { revokeConnection(id: $id) { connection { ${FIELDS} } } }`,
  replaceApiKey: `mutation($id: ID!) { replaceConnectionApiKey(id: $id, apiKey: "sk_live_${'b'.repeat(32)}") { ${FIELDS} } }`,
  reauthorize: `mutation($id: ID!, $accountId: ID!) { startOAuthConnection(input: { accountId: $accountId, connectionId: $id }) { authorizationUrl } }`,
};

describe('tenant isolation of connections', () => {
  let h: PlatformsHarness;
  let alice: Principal; // admin of A
  let bob: Principal; // owner of B
  let carol: Principal; // viewer of A
  const accountA = randomUUID();
  const accountB = randomUUID();
  let stripeA: string;
  let gitlabA: string;
  let stripeKey: string;

  beforeAll(async () => {
    h = await startPlatformsHarness();
    alice = newUser();
    bob = newUser();
    carol = newUser();
    h.subgraph.access.grant(alice, accountA, 'admin').grant(bob, accountB, 'owner').grant(carol, accountA, 'viewer');
    stripeKey = `sk_live_${randomBytes(16).toString('hex')}`;
    h.api.stripeKeys.set(stripeKey, { id: 'acct_A', name: 'A Corp' });
    const created = await h.subgraph.query(alice, `mutation($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id } }`, {
      input: { accountId: accountA, platformSlug: 'stripe', apiKey: stripeKey },
    });
    stripeA = created.data!.createApiKeyConnection.id;
    const { connectionId, redirect } = await h.approve(alice, { accountId: accountA, platformSlug: 'gitlab' });
    expect((await h.callback(redirect)).outcome).toBe('AUTHORIZED');
    gitlabA = connectionId;
  });
  afterAll(async () => {
    await h?.close();
  });

  const stateOf = async () => {
    const em = h.service.orm.em.fork();
    const rows = await em.find(Connection, { id: { $in: [stripeA, gitlabA] } }, { orderBy: { id: 'asc' } });
    const secrets = await em.find(ConnectionSecret, { connectionId: { $in: [stripeA, gitlabA] } }, { orderBy: { connectionId: 'asc' } });
    return JSON.stringify({ rows, secrets: secrets.map((secret) => [secret.connectionId, Buffer.from(secret.credentials!).toString('base64')]) });
  };

  it('hides A’s connections from B on every read path: root field, Account.connections, _entities', async () => {
    for (const id of [stripeA, gitlabA]) {
      const root = await h.subgraph.query(bob, `query($id: ID!) { connection(id: $id) { ${FIELDS} } }`, { id });
      expect(root.data).toBeNull();
      expect(errorCodes(root)).toEqual(['NOT_FOUND']);
      expect(root.errors![0].message).toBe('Connection not found');
      const entity = await h.subgraph.query(bob, `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Connection { ${FIELDS} } } }`, {
        reps: [{ __typename: 'Connection', id }],
      });
      expect(entity.data!._entities).toEqual([null]);
      expect(errorCodes(entity)).toEqual(['NOT_FOUND']);
      expect(JSON.stringify(entity)).not.toContain('A Corp');
    }
    const list = await h.subgraph.query(bob, `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Account { connections { edges { node { id } } } } } }`, { reps: accountRefs([accountA]) });
    expect(list.data!._entities).toEqual([null]);
    expect(errorCodes(list)).toEqual(['NOT_FOUND']);
    // While A's own people see them.
    const mine = await h.subgraph.query(carol, `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Account { connections { edges { node { id } } } } } }`, { reps: accountRefs([accountA]) });
    expect(mine.data!._entities[0].connections.edges.map((edge: { node: { id: string } }) => edge.node.id).sort()).toEqual([stripeA, gitlabA].sort());
  });

  it('lets B neither test, rename, revoke, re-key nor re-authorize A’s connections, and changes nothing', async () => {
    const before = await stateOf();
    const calls = h.api.requests.length;
    for (const id of [stripeA, gitlabA]) {
      for (const [name, mutation] of Object.entries(MUTATIONS)) {
        for (const accountId of [accountA, accountB]) {
          const result = await h.subgraph.query(bob, mutation, { id, accountId });
          expect({ name, data: result.data, codes: errorCodes(result) }).toEqual({ name, data: null, codes: ['NOT_FOUND'] });
        }
      }
    }
    expect(await stateOf()).toBe(before);
    expect(h.api.requests.length).toBe(calls);
  });

  it('lets B create nothing in A', async () => {
    const before = await h.service.orm.em.fork().count(Connection, {});
    const key = await h.subgraph.query(bob, `mutation($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id } }`, {
      input: { accountId: accountA, platformSlug: 'stripe', apiKey: stripeKey },
    });
    expect(errorCodes(key)).toEqual(['NOT_FOUND']);
    expect(errorCodes(await h.subgraph.query(bob, START, { input: { accountId: accountA, platformSlug: 'gitlab' } }))).toEqual(['NOT_FOUND']);
    expect(await h.service.orm.em.fork().count(Connection, {})).toBe(before);
  });

  it('gives a worker of B no token of A’s connections', async () => {
    for (const id of [stripeA, gitlabA]) {
      await expect(h.service.getAccessToken(accountB, id)).rejects.toMatchObject({ extensions: { code: 'NOT_FOUND' } });
      await expect(h.service.getAccessToken(accountB, id, { forceRefresh: true })).rejects.toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    }
    expect((await h.service.getAccessToken(accountA, stripeA)).token).toBe(stripeKey);
  });

  it('lets a viewer of A read but not change, and an API key only what its scopes allow', async () => {
    const before = await stateOf();
    expect((await h.subgraph.query(carol, `query($id: ID!) { connection(id: $id) { id } }`, { id: stripeA })).data!.connection.id).toBe(stripeA);
    for (const mutation of Object.values(MUTATIONS)) {
      expect(errorCodes(await h.subgraph.query(carol, mutation, { id: stripeA, accountId: accountA }))).toEqual(['FORBIDDEN']);
    }
    const readOnly: Principal = { kind: 'apiKey', apiKeyId: randomUUID(), accountId: accountA, scopes: ['connections:read'] };
    h.subgraph.access.grant(readOnly, accountA, 'admin');
    expect((await h.subgraph.query(readOnly, `query($id: ID!) { connection(id: $id) { id } }`, { id: stripeA })).data!.connection.id).toBe(stripeA);
    expect(errorCodes(await h.subgraph.query(readOnly, MUTATIONS.revoke, { id: stripeA }))).toEqual(['FORBIDDEN']);
    expect(await stateOf()).toBe(before);
  });

  it('has no field that could carry a credential', async () => {
    const result = await h.subgraph.query(alice, `{ __type(name: "Connection") { fields { name } } }`);
    const names = result.data!.__type.fields.map((field: { name: string }) => field.name);
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((name: string) => /token|secret|key|credential|password|verifier/i.test(name))).toEqual([]);
    const full = await h.subgraph.query(alice, `query($id: ID!) { connection(id: $id) { ${FIELDS} } }`, { id: stripeA });
    expect(JSON.stringify(full)).not.toContain(stripeKey);
  });
});
