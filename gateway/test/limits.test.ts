import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import pino from 'pino';
import { readSupergraph } from '@listbackup/lib/supergraph';
import { startGateway, type RunningGateway } from '../src/index.ts';
import { signUp, startStack, type SignedUp, type Stack } from './support/stack.ts';

// Query limits at the gateway, on the five real subgraphs: each abuse of issue 13 is refused with a
// code naming its limit (test/readme-examples.test.ts runs what the product documents).
let stack: Stack;
let user: SignedUp;
let strict: RunningGateway;

beforeAll(async () => {
  stack = await startStack();
  user = await signUp(stack);
  // A second gateway on the same subgraphs, configured as a production deployment with a high token limit.
  strict = await startGateway({
    port: 0,
    supergraphSdl: readSupergraph(),
    subgraphUrls: Object.fromEntries(Object.values(stack.services).map((service) => [service.name, service.url])),
    accountsUrl: stack.services.accounts.url,
    internalTokenSecret: stack.internalTokenSecret,
    log: pino({ level: 'silent' }),
    limits: { maxTokens: 1_000_000, maxBodyBytes: 4 * 1024 * 1024, introspection: false, fieldSuggestions: false },
  });
});
afterAll(async () => {
  await strict?.close();
  await stack?.close();
});

async function post(body: unknown, url = stack.gatewayUrl, token = user.accessToken) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] } };
}
const codes = (body: { errors?: { extensions?: { code?: string } }[] }) => (body.errors ?? []).map((error) => error.extensions?.code);

const jobsWithLogs = 'accounts { edges { node { jobs { edges { node { id log { edges { node { message } } } } } } } } }';

describe('query limits', () => {
  it('refuses the 1,000-alias query of the issue before running any of it', async () => {
    const query = `{ ${Array.from({ length: 1_000 }, (_, i) => `a${i}: ${jobsWithLogs}`).join(' ')} }`;
    expect(query.length).toBeGreaterThan(60_000);
    stack.counters.reset();
    const { status, body } = await post({ query });
    expect(status).toBe(400);
    expect(codes(body)).toEqual(['QUERY_TOKEN_LIMIT']);
    expect(stack.counters.totalRequests()).toBe(0);
    // With a high token limit the aliases themselves are refused.
    const again = await post({ query }, strict.url);
    expect(again.status).toBe(400);
    expect(codes(again.body)).toContain('QUERY_ALIAS_LIMIT');
  });

  it('refuses more than 15 aliases', async () => {
    const ok = await post({ query: `{ ${Array.from({ length: 15 }, (_, i) => `a${i}: me { id }`).join(' ')} }` });
    expect(ok.body.errors).toBeUndefined();
    const { status, body } = await post({ query: `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: me { id }`).join(' ')} }` });
    expect(status).toBe(400);
    expect(codes(body)).toEqual(['QUERY_ALIAS_LIMIT']);
    expect(body.errors![0].message).toMatch(/15/);
  });

  it('refuses a query nested deeper than 8, not counting a connection’s edges, node and pageInfo', async () => {
    // Eight levels of data (me, memberships, account, members, user, memberships, account, name)
    // under twelve of selections: a paged list is no deeper than the list it pages.
    const page = (field: string, inner: string) => `${field}(first: 1) { pageInfo { hasNextPage } edges { node { ${inner} } } }`;
    const eight = (leaf: string) => `{ me { ${page('memberships', `account { ${page('members', `user { ${page('memberships', `account { ${leaf} }`)} }`)} }`)} } }`;
    const passes = await post({ query: eight('name') });
    expect(passes.body.errors).toBeUndefined();
    expect(passes.body.data.me.memberships.edges[0].node.account.members.edges[0].node.user.memberships.edges[0].node.account.name).toBeTruthy();
    for (const query of [eight('parent { name }'), `{ me { ...M } } fragment M on User { ${page('memberships', 'account { ...A }')} } fragment A on Account { ${page('members', `user { ${page('memberships', 'account { parent { ...P } }')} }`)} } fragment P on Account { name }`]) {
      const { status, body } = await post({ query });
      expect(status, query).toBe(400);
      expect(codes(body)).toEqual(['QUERY_DEPTH_LIMIT']);
      expect(body.errors![0].message).toBe('Query depth limit of 8 exceeded, found 9.');
    }
  });

  it('refuses more than 50 directives', async () => {
    const { status, body } = await post({ query: `{ me { id ${'@include(if: true) '.repeat(51)} } }` });
    expect(status).toBe(400);
    expect(codes(body)).toContain('QUERY_DIRECTIVE_LIMIT');
  });

  it('prices lists by their page size, from literals and from variables', async () => {
    const literal = await post({ query: `{ accounts { edges { node { jobs(first: 100) { edges { node { id log(first: 100) { edges { node { message } } } } } } } } } }` });
    expect(literal.status).toBe(400);
    expect(codes(literal.body)).toEqual(['QUERY_COST_LIMIT']);
    const query = 'query ($n: Int) { jobs(first: $n) { edges { node { id log(first: $n) { edges { node { message } } } } } } }';
    const cheap = await post({ query, variables: { n: 2 } });
    expect(cheap.body.errors).toBeUndefined();
    const costly = await post({ query, variables: { n: 100 } });
    expect(costly.status).toBe(400);
    expect(codes(costly.body)).toEqual(['QUERY_COST_LIMIT']);
    // Verdicts are remembered per document and variables: the same pair answers the same again, in any order.
    for (const n of [2, 100, 2, 100]) {
      const again = await post({ query, variables: { n } });
      expect(codes(again.body)).toEqual(n === 2 ? [] : ['QUERY_COST_LIMIT']);
    }
  });

  it('remembers a token verdict per gateway: a document one gateway allows is still refused by the stricter one, every time', async () => {
    const fields = Array.from({ length: 700 }, (_, i) => `f${i}: id`).join(' ');
    const query = `{ me { ${fields} } }`; // about 2,100 tokens: over the default 1,000, under the strict gateway's 1,000,000
    for (let round = 0; round < 2; round++) {
      const lenient = await post({ query }, strict.url);
      expect(codes(lenient.body)).not.toContain('QUERY_TOKEN_LIMIT');
      const refused = await post({ query });
      expect(refused.status).toBe(400);
      expect(codes(refused.body)).toEqual(['QUERY_TOKEN_LIMIT']);
    }
  });

  it('runs batches of up to 10 operations and refuses bigger ones', async () => {
    const small = await post([{ query: '{ me { id } }' }, { query: '{ accounts { edges { node { id } } } }' }]);
    expect(small.status).toBe(200);
    expect(small.body).toHaveLength(2);
    const big = await post(Array.from({ length: 11 }, () => ({ query: '{ me { id } }' })));
    expect(big.status).toBe(400);
    expect(codes(big.body)).toEqual(['BATCH_LIMIT']);
    // Every operation of a batch passes the limits on its own.
    const sneaky = await post([{ query: '{ me { id } }' }, { query: `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: me { id }`).join(' ')} }` }]);
    expect((sneaky.body as any)[1].errors[0].extensions.code).toBe('QUERY_ALIAS_LIMIT');
  });

  it('answers a body over 1 MiB with a 413, every time, without resetting the connection', async () => {
    const body = JSON.stringify({ query: '{ me { id } }', variables: { padding: 'x'.repeat(2 * 1024 * 1024) } });
    for (let attempt = 0; attempt < 10; attempt++) {
      const { status, text } = await rawPost(stack.gatewayUrl, body);
      expect(status).toBe(413);
      expect(JSON.parse(text).errors[0].extensions.code).toBe('BODY_TOO_LARGE');
    }
    // Chunked (no Content-Length): found while reading.
    const { status } = await rawPost(stack.gatewayUrl, body, { chunked: true });
    expect(status).toBe(413);
  });

  it('refuses variables nested 10,000 deep', async () => {
    // Written as text: JSON.stringify itself overflows the stack on such a value.
    const deep = `${'['.repeat(10_000)}1${']'.repeat(10_000)}`;
    const response = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${user.accessToken}` },
      body: `{"query":"query ($v: JSON) { me { id } }","variables":{"v":${deep}}}`,
    });
    expect(response.status).toBe(400);
    expect(codes((await response.json()) as any)).toEqual(['NESTING_LIMIT']);
  });

  it('refuses a list literal 10,000 deep cleanly, whatever the token limit', async () => {
    const query = `{ platforms(search: ${'['.repeat(10_000)}"x"${']'.repeat(10_000)}) { id } }`;
    for (const url of [stack.gatewayUrl, strict.url]) {
      const { status, body } = await post({ query }, url);
      expect(status).toBe(400);
      expect(['QUERY_TOKEN_LIMIT', 'NESTING_LIMIT']).toContain(codes(body)[0]);
    }
    // Over GET (as deep as a URL may be long).
    const shorter = `{ platforms(search: ${'['.repeat(1_000)}"x"${']'.repeat(1_000)}) { id } }`;
    const response = await fetch(`${strict.url}?query=${encodeURIComponent(shorter)}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(response.status).toBe(400);
    expect(codes((await response.json()) as any)).toEqual(['NESTING_LIMIT']);
  });

  it('answers a normal query just after an abusive one', async () => {
    await post({ query: `{ ${Array.from({ length: 1_000 }, (_, i) => `a${i}: ${jobsWithLogs}`).join(' ')} }` }, strict.url);
    const { status, body } = await post({ query: '{ me { id } }' });
    expect(status).toBe(200);
    expect(body.data.me.id).toBe(user.userId);
  });
});

describe('schema exposure', () => {
  it('serves introspection and suggestions in development', async () => {
    const introspection = await post({ query: '{ __schema { queryType { name } } }' });
    expect(introspection.body.data.__schema.queryType.name).toBe('Query');
    const typo = await post({ query: '{ me { emial } }' });
    expect(typo.body.errors![0].message).toMatch(/Did you mean/);
  });

  it('turns both off in production', async () => {
    const introspection = await post({ query: '{ __schema { queryType { name } } }' }, strict.url);
    expect(introspection.status).toBe(200); // a request error, answered to an application/json client
    expect(codes(introspection.body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const typo = await post({ query: '{ me { emial } }' }, strict.url);
    expect(typo.body.errors![0].message).not.toMatch(/Did you mean|email/);
  });
});

function rawPost(url: string, body: string, options: { chunked?: boolean } = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(options.chunked ? {} : { 'content-length': Buffer.byteLength(body) }) },
    });
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    });
    request.on('error', reject);
    if (options.chunked) {
      for (let offset = 0; offset < body.length; offset += 64 * 1024) request.write(body.slice(offset, offset + 64 * 1024));
      request.end();
    } else {
      request.end(body);
    }
  });
}

describe('operation selection', () => {
  it('answers several operations without an operationName, or an unknown one, with a request error that says so', async () => {
    const query = 'query A { me { id } } query B { accounts { edges { node { id } } } }';
    for (const body of [{ query }, { query, operationName: 'C' }]) {
      const { status, body: answer } = await post(body);
      expect(status).toBe(200); // GraphQL over HTTP: a request error, to an application/json client
      expect(codes(answer)).toEqual(['OPERATION_RESOLUTION_FAILURE']);
    }
    const chosen = await post({ query, operationName: 'B' });
    expect(chosen.body.data.accounts.edges[0].node.id).toBe(user.accountId);
  });
});
