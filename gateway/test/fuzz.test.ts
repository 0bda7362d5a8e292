import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Supergraph, printSchema } from '@apollo/federation-internals';
import { buildSchema, type GraphQLSchema } from 'graphql';
import { readSupergraph } from '@listbackup/lib/supergraph';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operations, rootFields, type FuzzOperation } from './support/fuzz-operations.ts';
import { signUp, type SignedUp, startStack, type Stack } from './support/stack.ts';

// Schema-aware fuzzing through the gateway, every subgraph real: whatever a client sends, the answer
// is a clear error or data, never INTERNAL_SERVER_ERROR nor HTTP 500. `npm test` runs a fixed seed
// and a bounded count; `npm run fuzz` runs longer (FUZZ_RUNS, FUZZ_SEED).
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 13_2026;

let stack: Stack;
let schema: GraphQLSchema;
let owner: SignedUp;
let stranger: SignedUp;
const known: { ids: string[] } = { ids: [] };

async function sql(text: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  stack = await startStack();
  owner = await signUp(stack, `fuzz-${randomUUID()}@example.com`, 'Fuzz Owner');
  stranger = await signUp(stack, `fuzz-${randomUUID()}@example.com`, 'Fuzz Stranger');
  // The API schema clients see, from the committed supergraph (introspecting it exceeds the query limits).
  schema = buildSchema(printSchema(Supergraph.build(readSupergraph()).apiSchema()));
  // Something of each kind to name: a connection and a source of the owner's, and the stranger's account.
  const connectionId = randomUUID();
  const sourceId = randomUUID();
  await sql(
    `insert into platforms.connections (id, account_id, platform_id, name, status, created_at)
     select $1, $2, id, 'Stripe live', 'AUTHORIZED', now() from platforms.platforms where slug = 'stripe'`,
    [connectionId, owner.accountId],
  );
  await sql(`insert into sources.sources (id, account_id, connection_id, name, resources, created_at) values ($1, $2, $3, 'Stripe charges', '{charges}', now())`, [sourceId, owner.accountId, connectionId]);
  known.ids.push(owner.accountId, owner.userId, stranger.accountId, connectionId, sourceId);
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

interface Failure {
  operation: FuzzOperation;
  status: number;
  errors: unknown;
}

async function send(operation: FuzzOperation, token: string | undefined): Promise<{ status: number; body: any }> {
  const response = await fetch(stack.gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(operation),
  });
  const text = await response.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = { unparsable: text.slice(0, 200) };
  }
  return { status: response.status, body };
}

describe('fuzzing the supergraph', () => {
  it(`answers ${RUNS} generated operations without an internal error (seed ${SEED})`, async () => {
    const reached = new Set<string>();
    const failures: Failure[] = [];
    // Sampled rather than asserted property by property: one run lists every failure it meets.
    const samples = fc.sample(fc.tuple(operations(schema, known), fc.constantFrom('owner', 'stranger', 'anonymous')), { seed: SEED, numRuns: RUNS });
    for (const [operation, who] of samples) {
      const user = who === 'owner' ? owner : who === 'stranger' ? stranger : undefined;
      const { status, body } = await send(operation, user?.accessToken);
      for (const match of operation.query.matchAll(/\bf\d+: (\w+)/g)) reached.add(match[1]);
      const errors: any[] = Array.isArray(body.errors) ? body.errors : [];
      const internal = errors.filter((error) => error?.extensions?.code === 'INTERNAL_SERVER_ERROR');
      if (status >= 500 || internal.length) failures.push({ operation, status, errors: body.errors ?? body });
      // A generated logOut, changePassword or account deletion may end the caller's session or account.
      if (user && errors.some((error) => ['UNAUTHENTICATED', 'ACCOUNT_SUSPENDED'].includes(error?.extensions?.code))) {
        Object.assign(user, await signUp(stack, `fuzz-${randomUUID()}@example.com`, 'Fuzz Again'));
        known.ids.push(user.accountId);
      }
    }
    expect(failures).toEqual([]);
    // A bounded run still reaches most of the API.
    expect(reached.size).toBeGreaterThan(Math.min(rootFields(schema).length, RUNS) / 2);
  }, 600_000);
});
