import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { ConfigError } from '@listbackup/lib/config';
import { readSupergraph } from '@listbackup/lib/supergraph';
import { startGateway, type RunningGateway, type SubgraphRequest } from '../src/index.ts';
import { sha256Hex, TrustedDocuments } from '../src/trusted-documents.ts';
import { jobEventOf } from './support/job-events.ts';
import { signUp, startStack, type SignedUp, type Stack } from './support/stack.ts';

// Trusted-documents mode (TRUSTED_DOCUMENTS): a gateway that runs only the operations of its
// manifest, built by `npm run trusted-documents` from the README, the IDEs' example and the client
// documents named, beside the stack's own gateway with the mode off, on the same five subgraphs.
const ME = 'query Me { me { id email } }';
const ACCOUNTS = '{ accounts { edges { node { id name } } } }';
const WATCH = 'subscription Watch($account: ID!) { jobEvents(accountId: $account) { id status } }';
const MANY_ALIASES = `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
const UNREGISTERED = '{ me { id memberships { edges { node { role } } } } }';

let stack: Stack;
let user: SignedUp;
let trusted: RunningGateway;
let manifestFile: string;
const requests: SubgraphRequest[] = [];

beforeAll(async () => {
  stack = await startStack();
  user = await signUp(stack);
  const dir = mkdtempSync(path.join(tmpdir(), 'trusted-documents-'));
  const clientDocuments = [ME, ACCOUNTS, WATCH, MANY_ALIASES].map((text, index) => {
    const file = path.join(dir, `client-${index}.graphql`);
    writeFileSync(file, text);
    return file;
  });
  manifestFile = path.join(dir, 'manifest.json');
  const script = new URL('../../scripts/trusted-documents.ts', import.meta.url).pathname;
  await promisify(execFile)(process.execPath, [script, '--out', manifestFile, ...clientDocuments]);
  trusted = await startGateway({
    port: 0,
    supergraphSdl: readSupergraph(),
    subgraphUrls: Object.fromEntries(Object.values(stack.services).map((service) => [service.name, service.url])),
    accountsUrl: stack.services.accounts.url,
    internalTokenSecret: stack.internalTokenSecret,
    log: pino({ level: 'silent' }),
    subscriptions: { bus: stack.bus },
    trustedDocuments: TrustedDocuments.load(manifestFile),
    onSubgraphRequest: (request) => requests.push(request),
  });
}, 240_000);
afterAll(async () => {
  await trusted?.close();
  await stack?.close();
});

interface Answer {
  status: number;
  body: { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
}

async function post(body: unknown, url = trusted.url): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${user.accessToken}` }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}
const codes = (answer: Answer) => (answer.body.errors ?? []).map((error) => error.extensions?.code);
const apq = (text: string) => ({ persistedQuery: { version: 1, sha256Hash: sha256Hex(text) } });
const unknownHash = sha256Hex(`# nothing registered ${randomUUID()}\n{ me { id } }`);

describe('the manifest', () => {
  it('holds every GraphQL block of the README and the client documents named, each under its sha256', () => {
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, string>;
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1]);
    expect(blocks.length).toBeGreaterThan(0);
    for (const text of [...blocks, ME, ACCOUNTS, WATCH]) expect(manifest[sha256Hex(text)]).toBe(text);
  });

  it('is refused at start when a key is not its document’s sha256, or a document does not parse', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trusted-documents-bad-'));
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ [sha256Hex('{ me { id } }')]: '{ me { email } }', [sha256Hex('{ me {')]: '{ me {' }));
    expect(() => TrustedDocuments.load(file)).toThrow(ConfigError);
    expect(() => TrustedDocuments.load(file)).toThrow(/is not the sha256 of its document[\s\S]*does not parse/);
  });

  it('may be an Apollo persisted query manifest', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trusted-documents-apollo-'));
    const file = path.join(dir, 'persisted-query-manifest.json');
    writeFileSync(file, JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: sha256Hex(ME), name: 'Me', type: 'query', body: ME }] }));
    const documents = TrustedDocuments.load(file);
    expect(documents.size).toBe(1);
    expect(documents.resolve({ documentId: `sha256:${sha256Hex(ME)}` })).toEqual({ query: ME });
  });
});

describe('over HTTP, with the mode on', () => {
  it('answers a registered document named by documentId, by Apollo’s persistedQuery hash, and over GET', async () => {
    const byId = await post({ documentId: `sha256:${sha256Hex(ME)}` });
    expect(byId.status).toBe(200);
    expect(byId.body).toEqual({ data: { me: { id: user.userId, email: expect.any(String) } } });
    const byHash = await post({ extensions: apq(ACCOUNTS) });
    expect(byHash.body).toEqual({ data: { accounts: { edges: [{ node: { id: user.accountId, name: expect.any(String) } }] } } });
    const get = await fetch(`${trusted.url}?documentId=sha256:${sha256Hex(ME)}&operationName=Me`, { headers: { authorization: `Bearer ${user.accessToken}`, 'apollo-require-preflight': 'true' } });
    expect(get.status).toBe(200);
    expect(((await get.json()) as Answer['body']).data.me.id).toBe(user.userId);
  });

  it('answers a README example by its hash', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const meBlock = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1]).find((block) => block.startsWith('query { me'));
    const answer = await post({ documentId: `sha256:${sha256Hex(meBlock!)}` });
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data.me.memberships.edges[0].node.account.id).toBe(user.accountId);
  });

  it('answers a registered document sent as text, however it is spaced', async () => {
    const answer = await post({ query: 'query Me {\n  me {\n    id\n    email\n  }\n}\n' });
    expect(answer.body.data.me.id).toBe(user.userId);
  });

  it('refuses a document that is not registered, before any subgraph is asked: introspection too', async () => {
    requests.length = 0;
    for (const query of [UNREGISTERED, '{ __schema { queryType { name } } }', 'mutation { createAccount(input: { name: "x" }) { id } }']) {
      const answer = await post({ query });
      expect(answer.status).toBe(403);
      expect(codes(answer)).toEqual(['QUERY_NOT_IN_SAFELIST']);
    }
    expect(requests).toEqual([]);
  });

  it('refuses an unknown hash with 404 PERSISTED_QUERY_NOT_IN_LIST, by either convention and over GET', async () => {
    for (const body of [{ documentId: `sha256:${unknownHash}` }, { documentId: unknownHash }, { extensions: { persistedQuery: { version: 1, sha256Hash: unknownHash } } }]) {
      const answer = await post(body);
      expect(answer.status).toBe(404);
      expect(codes(answer)).toEqual(['PERSISTED_QUERY_NOT_IN_LIST']);
    }
    const get = await fetch(`${trusted.url}?documentId=sha256:${unknownHash}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(get.status).toBe(404);
  });

  it('refuses an id with a text, and a malformed id, with 400', async () => {
    const both = await post({ documentId: `sha256:${sha256Hex(ME)}`, query: UNREGISTERED });
    expect(both.status).toBe(400);
    expect(codes(both)).toEqual(['CANNOT_SEND_PQ_ID_AND_BODY']);
    for (const body of [{ documentId: 42 }, { extensions: { persistedQuery: { version: 2, sha256Hash: sha256Hex(ME) } } }]) {
      const answer = await post(body);
      expect(answer.status).toBe(400);
      expect(codes(answer)).toEqual(['BAD_REQUEST']);
    }
  });

  it('still applies every other limit to a registered document', async () => {
    const answer = await post({ documentId: `sha256:${sha256Hex(MANY_ALIASES)}` });
    expect(answer.status).toBe(400);
    expect(codes(answer)).toEqual(['QUERY_ALIAS_LIMIT']);
  });

  it('refuses a batch holding one unregistered operation, and runs a batch of registered ones', async () => {
    const mixed = await post([{ documentId: `sha256:${sha256Hex(ME)}` }, { query: UNREGISTERED }]);
    expect(mixed.status).toBe(403);
    expect(codes(mixed)).toEqual(['QUERY_NOT_IN_SAFELIST']);
    const registered = await post([{ documentId: `sha256:${sha256Hex(ME)}` }, { extensions: apq(ACCOUNTS) }]);
    expect(registered.status).toBe(200);
    expect((registered.body as unknown as Answer['body'][]).map((result) => Object.keys(result.data))).toEqual([['me'], ['accounts']]);
  });
});

describe('over the websocket, with the mode on', () => {
  let client: Client;
  beforeAll(() => {
    client = createClient({ url: trusted.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { Authorization: `Bearer ${user.accessToken}` } });
  });
  afterAll(async () => {
    await client?.dispose();
  });

  function run(payload: { query: string; [key: string]: unknown }): { results: any[]; errors?: any[]; stop: () => void } {
    const live: { results: any[]; errors?: any[]; stop: () => void } = { results: [], stop: () => {} };
    live.stop = client.subscribe(payload as never, { next: (result) => live.results.push(result), error: (error) => (live.errors = error as any[]), complete: () => {} });
    return live;
  }
  async function until(check: () => boolean, what: string, onEachTry?: () => Promise<unknown>) {
    const deadline = Date.now() + 60_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
      await onEachTry?.();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('refuses to subscribe with a document that is not registered, or an unknown hash', async () => {
    const unregistered = run({ query: 'subscription { jobEvents(accountId: "x") { id } }' });
    const unknown = run({ query: '', documentId: `sha256:${unknownHash}` });
    await until(() => unregistered.errors !== undefined && unknown.errors !== undefined, 'the refusals');
    expect(unregistered.errors!.map((error) => error.extensions.code)).toEqual(['QUERY_NOT_IN_SAFELIST']);
    expect(unknown.errors!.map((error) => error.extensions.code)).toEqual(['PERSISTED_QUERY_NOT_IN_LIST']);
  });

  it('runs a registered subscription and query named by hash', async () => {
    const query = run({ query: '', extensions: apq(ME) });
    await until(() => query.results.length > 0 || query.errors !== undefined, 'the query');
    expect(query.results).toEqual([{ data: { me: { id: user.userId, email: expect.any(String) } } }]);

    const job = { accountId: user.accountId, sourceId: null, jobId: randomUUID() };
    const live = run({ query: '', documentId: `sha256:${sha256Hex(WATCH)}`, variables: { account: user.accountId } });
    // Published until the subscription, once started, receives one.
    await until(() => live.results.length > 0 || live.errors !== undefined, 'an event', () => stack.bus.publishEphemeral(jobEventOf('job.progress', job, { status: 'RUNNING', itemsDone: 5 })));
    expect(live.errors).toBeUndefined();
    expect(live.results[0]).toEqual({ data: { jobEvents: { id: job.jobId, status: 'RUNNING' } } });
    live.stop();
  });
});

describe('with the mode off (the default)', () => {
  it('runs any document, introspection included, as before', async () => {
    const answer = await post({ query: UNREGISTERED }, stack.gatewayUrl);
    expect(answer.status).toBe(200);
    expect(answer.body.data.me.id).toBe(user.userId);
    const introspection = await post({ query: '{ __schema { queryType { name } } }' }, stack.gatewayUrl);
    expect(introspection.body.data.__schema.queryType.name).toBe('Query');
  });
});
