import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, startStack, type SignedUp, type Stack } from './support/stack.ts';

// Issue 13 §5 through the gateway, every subgraph real: bad input answers a stable code and stores nothing.
let stack: Stack;
let owner: SignedUp;
let connectionId: string;

async function sql<T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

const count = async (table: string, where = 'true', values: unknown[] = []) => Number((await sql<{ n: string }>(`select count(*) as n from ${table} where ${where}`, values))[0].n);

beforeAll(async () => {
  stack = await startStack();
  owner = await signUp(stack, `owner-${randomUUID()}@example.com`, 'Owner');
  connectionId = randomUUID();
  await sql(
    `insert into platforms.connections (id, account_id, platform_id, name, status, created_at)
     select $1, $2, id, 'Stripe live', 'AUTHORIZED', now() from platforms.platforms where slug = 'stripe'`,
    [connectionId, owner.accountId],
  );
});
afterAll(async () => {
  await stack?.close();
});

const CREATE_SOURCE = 'mutation ($input: CreateSourceInput!) { createSource(input: $input) { id name } }';
const sourceInput = (name: string) => ({
  accountId: owner.accountId,
  connectionId,
  name,
  resources: ['customers'],
  schedule: { kind: 'MANUAL' },
  retention: { keepLast: 3 },
});
const SIGN_UP = 'mutation ($input: SignUpInput!) { signUp(input: $input) { accessToken } }';
const CREATE_ACCOUNT = 'mutation ($name: String!) { createAccount(input: { name: $name }) { id name } }';

function refused(result: { errors?: { extensions?: Record<string, unknown> }[] }, reason: string) {
  expect(result.errors?.map((error) => [error.extensions?.code, error.extensions?.reason])).toEqual([['BAD_USER_INPUT', reason]]);
}

describe('names and emails', () => {
  it('a NUL in a source name is refused, and no source is stored', async () => {
    const before = await count('sources.sources');
    const result = await stack.graphql(CREATE_SOURCE, { input: sourceInput('Billing\u0000data') }, owner.accessToken);
    refused(result, 'CONTROL_CHARACTER');
    expect(result.errors?.[0].extensions?.field).toBe('name');
    expect(await count('sources.sources')).toBe(before);
    // The same request with a clean name is stored: the refusal was the name's.
    const created = await stack.graphql(CREATE_SOURCE, { input: sourceInput('Billing data') }, owner.accessToken);
    expect(created.errors).toBeUndefined();
    expect(await count('sources.sources')).toBe(before + 1);
  });

  it('a NUL in a signUp email is refused, and no user is stored', async () => {
    const before = await count('accounts.users');
    const result = await stack.graphql(SIGN_UP, { input: { email: `nul\u0000${randomUUID()}@example.com`, password: 'correct horse battery staple 42', name: 'Nul' } });
    refused(result, 'CONTROL_CHARACTER');
    expect(result.status).toBe(200);
    expect(await count('accounts.users')).toBe(before);
  });

  it('a lone surrogate in an account name is refused, not stored as U+FFFD', async () => {
    const before = await count('accounts.accounts');
    refused(await stack.graphql(CREATE_ACCOUNT, { name: 'Acme \ud800 Ltd' }, owner.accessToken), 'LONE_SURROGATE');
    refused(await stack.graphql(CREATE_ACCOUNT, { name: 'Acme \udc00' }, owner.accessToken), 'LONE_SURROGATE');
    expect(await count('accounts.accounts')).toBe(before);
    expect(await count('accounts.accounts', `name like '%' || chr(65533) || '%'`)).toBe(0);
  });

  it('a right-to-left override is refused in account, user, connection and source names', async () => {
    const name = 'invoice\u202Efdp.exe';
    refused(await stack.graphql(CREATE_ACCOUNT, { name }, owner.accessToken), 'BIDI_CONTROL');
    refused(await stack.graphql('mutation ($name: String) { updateProfile(input: { name: $name }) { name } }', { name }, owner.accessToken), 'BIDI_CONTROL');
    refused(await stack.graphql('mutation ($id: ID!, $name: String!) { renameConnection(id: $id, name: $name) { name } }', { id: connectionId, name }, owner.accessToken), 'BIDI_CONTROL');
    refused(await stack.graphql(CREATE_SOURCE, { input: sourceInput('\u2067isolated\u2069') }, owner.accessToken), 'BIDI_CONTROL');
    refused(
      await stack.graphql('mutation ($input: AddMemberInput!) { addMember(input: $input) { id } }', { input: { accountId: owner.accountId, email: `a\u202E${randomUUID()}@example.com`, role: 'VIEWER' } }, owner.accessToken),
      'BIDI_CONTROL',
    );
    expect(await count('accounts.accounts', `name like '%' || chr(8238) || '%'`)).toBe(0);
    expect((await sql<{ name: string }>('select name from platforms.connections where id = $1', [connectionId]))[0].name).toBe('Stripe live');
  });

  it('names are stored in NFC: a decomposed "é" is the same name as a composed one', async () => {
    const result = await stack.graphql(CREATE_ACCOUNT, { name: '  Cafe\u0301 Ltd ' }, owner.accessToken);
    expect(result.errors).toBeUndefined();
    expect(result.data.createAccount.name).toBe('Caf\u00e9 Ltd');
    expect((await sql<{ name: string }>('select name from accounts.accounts where id = $1', [result.data.createAccount.id]))[0].name).toBe('Caf\u00e9 Ltd');
  });
});

describe('numbers and scalars at the edge', () => {
  it('verifySnapshot(sample: 1e400) is refused as out of range, not an HTTP 500', async () => {
    for (const literal of ['1e400', '-1e400', `1${'0'.repeat(400)}`]) {
      const result = await stack.graphql(`mutation { verifySnapshot(snapshotId: "${randomUUID()}", sample: ${literal}) { id } }`, {}, owner.accessToken);
      expect(result.status).toBe(200);
      expect(result.errors?.map((error) => error.extensions?.reason)).toEqual(['NUMBER_OUT_OF_RANGE']);
      expect(result.errors?.[0].extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
    }
    // As a variable, JSON's 1e400 is Infinity, which graphql's own coercion refuses.
    const variable = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.accessToken}` },
      body: `{"query":"mutation ($s: Float) { verifySnapshot(snapshotId: \\"${randomUUID()}\\", sample: $s) { id } }","variables":{"s":1e400}}`,
    });
    const body = (await variable.json()) as { errors: { extensions: { code: string } }[] };
    expect(variable.status).toBe(200);
    expect(body.errors.map((error) => error.extensions.code)).toEqual(['BAD_USER_INPUT']);
    expect(await count('jobs.jobs')).toBe(0);
  });

  it('a literal a subgraph refuses (a DateTime that is no date) answers its code, not a masked 500', async () => {
    const result = await stack.graphql(`mutation { exportAuditLog(accountId: "${owner.accountId}", format: CSV, filter: { from: "yesterday" }) { url } }`, {}, owner.accessToken);
    expect(result.status).toBe(200);
    expect(result.errors?.length).toBe(1);
    expect(['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED']).toContain(result.errors?.[0].extensions?.code);
    expect(result.errors?.[0].message).toMatch(/DateTime/);
  });
});
