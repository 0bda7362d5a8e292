import { randomBytes } from 'node:crypto';
import { serverAudits } from 'graphql-http';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../src/index.ts';
import { newSigningKey, startFakeAccounts, type FakeAccounts } from './support/fake-accounts.ts';
import { fakeSupergraph, startFakeSubgraphs, type FakeSubgraphs } from './support/fake-subgraphs.ts';

// The GraphQL-over-HTTP spec's conformance audit (graphql-http's own list) against the gateway.
const secret = randomBytes(32).toString('hex');
let accounts: FakeAccounts;
let subgraphs: FakeSubgraphs;
let gateway: RunningGateway;

beforeAll(async () => {
  accounts = await startFakeAccounts(secret, [await newSigningKey()]);
  subgraphs = await startFakeSubgraphs(secret);
  gateway = await startGateway({
    port: 0,
    supergraphSdl: fakeSupergraph(),
    subgraphUrls: subgraphs.urls,
    accountsUrl: accounts.url,
    internalTokenSecret: secret,
    log: pino({ level: 'silent' }),
  });
});
afterAll(async () => {
  await gateway?.close();
  await subgraphs?.close();
  await accounts?.close();
});

describe('GraphQL over HTTP', () => {
  it('passes every audit of graphql-http, with no warning', async () => {
    const results = await Promise.all(serverAudits({ url: () => gateway.url }).map((audit) => audit.fn()));
    const failed = await Promise.all(
      results.filter((result) => result.status === 'warn' || result.status === 'error').map(async (result) => {
        const { name, status } = result;
        return { name, status, reason: 'reason' in result ? result.reason : '', body: 'response' in result ? await result.response.text().catch(() => '') : '' };
      }),
    );
    expect(failed).toEqual([]);
    // Notices are what the spec leaves optional (GET without a preflight header is refused: CSRF).
    const notices = results.filter((result) => result.status === 'notice').map((result) => result.name);
    expect(notices.every((name) => name.startsWith('MAY '))).toBe(true);
    expect(results.filter((result) => result.status === 'ok').length).toBeGreaterThanOrEqual(55);
  });
});
