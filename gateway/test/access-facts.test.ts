/**
 * Access facts resolved once per request: the gateway asks accounts once per caller (then keeps
 * the answer until an event or its TTL says otherwise) and signs them into every subgraph's token.
 * What this must never cost: a signed-out session, a revoked key or a removed member is refused at
 * once, on this gateway (the answer of the mutation says so) and on another (the event says so).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { createLogger } from '@listbackup/lib/logger';
import { metrics } from '@listbackup/lib/metrics';
import { readSupergraph } from '@listbackup/lib/supergraph';
import { startGateway, type RunningGateway } from '../src/index.ts';
import { postGraphQL, signUp, startStack, type GraphQLResult, type Stack } from './support/stack.ts';

let stack: Stack;
/** A second gateway on the same subgraphs and bus, with a TTL so long that only events can drop its facts. */
let other: RunningGateway;

beforeAll(async () => {
  stack = await startStack();
  other = await startGateway({
    port: 0,
    supergraphSdl: readSupergraph(),
    subgraphUrls: Object.fromEntries(Object.values(stack.services).map((service) => [service.name, service.url])),
    accountsUrl: stack.services.accounts.url,
    internalTokenSecret: stack.internalTokenSecret,
    log: createLogger('gateway', 'silent'),
    accessEvents: stack.bus,
    subscriptions: { bus: stack.bus },
    auth: { accessFactsTtlMs: 3_600_000 },
  });
});
afterAll(async () => {
  await other?.close();
  await stack?.close();
});

/** Every service-to-service HTTP call of this process so far (gateway fetches, role look-ups, authentication). */
async function internalCalls(): Promise<number> {
  const { values } = await metrics.internalCalls.get();
  return values.reduce((sum, sample) => sum + sample.value, 0);
}

/** The calls one request makes, once the caller's facts are warm. */
async function callsOf(request: () => Promise<unknown>): Promise<number> {
  const before = await internalCalls();
  await request();
  return (await internalCalls()) - before;
}

/**
 * Waits until the caller's facts stay warm: the events of signing up (account.created, member.added)
 * reach the gateway after the answer and drop the facts once; after that `me` is one call.
 */
async function warm(token: string): Promise<void> {
  await eventually(async () => (await callsOf(() => stack.graphql(ME, {}, token))) === 1, 'the caller\'s facts to stay cached');
}

const atOther = (query: string, variables: Record<string, unknown>, token: string) => postGraphQL(other.url, query, variables, token);

/** Polls until `check` holds: events reach the other gateway through the outbox and the bus. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const FIVE_SUBGRAPHS = `{ me { memberships { edges { node { role account { id name connections { edges { node { id } } } sources { edges { node { id } } } jobs { edges { node { id } } } subscription { plan { name } } } } } } } }`;
const ME = '{ me { id } }';
const ACCOUNT = 'query ($id: ID!) { account(id: $id) { id name } }';
const CREATE_ACCOUNT = 'mutation ($name: String!) { createAccount(input: { name: $name }) { id } }';

describe('facts once per request', () => {
  it('a query over the five subgraphs makes exactly five subgraph HTTP calls, and no role look-ups', async () => {
    const user = await signUp(stack);
    await warm(user.accessToken);

    stack.counters.reset();
    let result: GraphQLResult | undefined;
    const calls = await callsOf(async () => {
      result = await stack.graphql(FIVE_SUBGRAPHS, {}, user.accessToken);
    });
    expect(result?.errors).toBeUndefined();
    expect(result?.data.me.memberships.edges[0].node).toMatchObject({ role: 'OWNER', account: { id: user.accountId, connections: { edges: [] }, sources: { edges: [] }, jobs: { edges: [] } } });
    expect(stack.counters.totalRequests()).toBe(5);
    expect(Object.values(stack.counters.accessCalls).every((count) => count === 0)).toBe(true);
    expect(calls).toBe(5);
  });

  it('facts a subgraph was not given are refused like before: another tenant is not found', async () => {
    const [alice, bob] = [await signUp(stack), await signUp(stack)];
    const foreign = await stack.graphql(ACCOUNT, { id: bob.accountId }, alice.accessToken);
    expect(foreign.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const foreignSources = await stack.graphql('query ($id: ID!) { account(id: $id) { sources { edges { node { id } } } } }', { id: bob.accountId }, alice.accessToken);
    expect(foreignSources.data?.account ?? null).toBeNull();
  });
});

describe('a warm cache ends with the session, the key or the membership', () => {
  it('signing out refuses the same token at once: query, mutation, and on another gateway', async () => {
    const user = await signUp(stack);
    expect((await stack.graphql(ME, {}, user.accessToken)).data.me.id).toBe(user.userId);
    expect((await atOther(ME, {}, user.accessToken)).data.me.id).toBe(user.userId);
    // Warm: `me` is one call, to accounts; neither the session nor the roles are asked again.
    await warm(user.accessToken);

    expect((await stack.graphql('mutation { logOut }', {}, user.accessToken)).data.logOut).toBe(true);

    const me = await stack.graphql(ME, {}, user.accessToken);
    expect(me.status).toBe(401);
    expect(me.errors?.[0]).toMatchObject({ message: 'This session has ended. Sign in again.', extensions: { code: 'UNAUTHENTICATED' } });
    const created = await stack.graphql(CREATE_ACCOUNT, { name: `After sign-out ${randomUUID()}` }, user.accessToken);
    expect(created.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(created.data?.createAccount ?? null).toBeNull();
    const account = await stack.graphql(ACCOUNT, { id: user.accountId }, user.accessToken);
    expect(account.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');

    await eventually(async () => (await atOther(ME, {}, user.accessToken)).status === 401, 'the other gateway to hear of the sign-out');
    expect((await atOther(CREATE_ACCOUNT, { name: 'x' }, user.accessToken)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('changing the password refuses every other session at once, and keeps the one that changed it', async () => {
    const user = await signUp(stack);
    const second = await stack.graphql('mutation ($input: LogInInput!) { logIn(input: $input) { accessToken } }', { input: { email: user.email, password: user.password } });
    const otherToken = second.data.logIn.accessToken as string;
    expect((await stack.graphql(ME, {}, otherToken)).data.me.id).toBe(user.userId);
    expect((await atOther(ME, {}, otherToken)).data.me.id).toBe(user.userId);

    const changed = await stack.graphql('mutation ($a: String!, $b: String!) { changePassword(currentPassword: $a, newPassword: $b) }', { a: user.password, b: `new battery staple ${randomUUID()}` }, user.accessToken);
    expect(changed.data.changePassword).toBe(true);

    expect((await stack.graphql(ME, {}, otherToken)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect((await stack.graphql(ME, {}, user.accessToken)).data.me.id).toBe(user.userId);
    await eventually(async () => (await atOther(ME, {}, otherToken)).status === 401, 'the other gateway to hear of the password change');
    expect((await atOther(ME, {}, user.accessToken)).data.me.id).toBe(user.userId);
  });

  it('a refresh token presented twice ends the session everywhere at once (its event)', async () => {
    const user = await signUp(stack);
    const REFRESH = 'mutation ($token: String!) { refreshSession(refreshToken: $token) { accessToken } }';
    expect((await atOther(ME, {}, user.accessToken)).data.me.id).toBe(user.userId);
    expect((await stack.graphql(REFRESH, { token: user.refreshToken })).errors).toBeUndefined();
    const reused = await stack.graphql(REFRESH, { token: user.refreshToken });
    expect(reused.errors?.[0].extensions?.code).toBe('INVALID_REFRESH_TOKEN');

    expect((await stack.graphql(ME, {}, user.accessToken)).status).toBe(401);
    await eventually(async () => (await atOther(ME, {}, user.accessToken)).status === 401, 'the other gateway to hear of the revoked session');
  });

  it('revoking an API key refuses it at once, without waiting out any cache', async () => {
    const owner = await signUp(stack);
    const created = await stack.graphql(
      'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }',
      { input: { accountId: owner.accountId, name: 'ci', scopes: ['ACCOUNT_READ'] } },
      owner.accessToken,
    );
    const { secret, apiKey } = created.data.createApiKey;
    expect((await stack.graphql(ACCOUNT, { id: owner.accountId }, secret)).data.account.id).toBe(owner.accountId);
    expect((await atOther(ACCOUNT, { id: owner.accountId }, secret)).data.account.id).toBe(owner.accountId);

    await stack.graphql('mutation ($id: ID!) { revokeApiKey(id: $id) { revokedAt } }', { id: apiKey.id }, owner.accessToken);

    const after = await stack.graphql(ACCOUNT, { id: owner.accountId }, secret);
    expect(after.status).toBe(401);
    expect(after.errors?.[0]).toMatchObject({ message: 'API key is invalid or has been revoked', extensions: { code: 'UNAUTHENTICATED' } });
    await eventually(async () => (await atOther(ACCOUNT, { id: owner.accountId }, secret)).status === 401, 'the other gateway to hear of the revocation');
  });

  it('a removed member loses the account at once, in every subgraph', async () => {
    const owner = await signUp(stack);
    const member = await signUp(stack);
    const added = await stack.graphql(
      'mutation ($input: AddMemberInput!) { addMember(input: $input) { id } }',
      { input: { accountId: owner.accountId, email: member.email, role: 'VIEWER' } },
      owner.accessToken,
    );
    expect(added.errors).toBeUndefined();
    const read = 'query ($id: ID!) { account(id: $id) { id sources { edges { node { id } } } subscription { plan { name } } } }';
    // The grant reaches the member at once too (the answer of addMember dropped their facts).
    expect((await stack.graphql(read, { id: owner.accountId }, member.accessToken)).data.account.id).toBe(owner.accountId);
    await eventually(async () => (await atOther(read, { id: owner.accountId }, member.accessToken)).data?.account?.id === owner.accountId, 'the other gateway to see the grant');

    const removed = await stack.graphql('mutation ($id: ID!) { removeMember(membershipId: $id) }', { id: added.data.addMember.id }, owner.accessToken);
    expect(removed.data.removeMember).toBe(true);

    const after = await stack.graphql(read, { id: owner.accountId }, member.accessToken);
    expect(after.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(after.data?.account ?? null).toBeNull();
    await eventually(async () => (await atOther(read, { id: owner.accountId }, member.accessToken)).errors?.[0].extensions?.code === 'NOT_FOUND', 'the other gateway to hear of the removal');
    // The member's own account is untouched.
    expect((await stack.graphql(ACCOUNT, { id: member.accountId }, member.accessToken)).data.account.id).toBe(member.accountId);
  });
});

function wsClient(url: string, token: string): Client & { closes: { code: number; reason: string }[] } {
  const closes: { code: number; reason: string }[] = [];
  const client = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    lazy: true,
    retryAttempts: 0,
    connectionParams: { Authorization: `Bearer ${token}` },
    on: { closed: (event) => closes.push({ code: (event as CloseEvent).code, reason: String((event as CloseEvent).reason) }) },
  });
  return Object.assign(client, { closes });
}

const JOB_EVENTS = 'subscription ($accountId: ID!) { jobEvents(accountId: $accountId) { id status } }';

describe('websockets of a signed-out session', () => {
  it('an open subscription ends, on this gateway and on another, and the token opens no new one', async () => {
    const user = await signUp(stack);
    const here = wsClient(stack.gatewayUrl, user.accessToken);
    const there = wsClient(other.url, user.accessToken);
    const ended: string[] = [];
    for (const [name, client] of [['here', here], ['there', there]] as const) {
      client.subscribe({ query: JOB_EVENTS, variables: { accountId: user.accountId } }, { next: () => {}, error: () => ended.push(name), complete: () => ended.push(name) });
    }
    await eventually(async () => stack.gateway.subscriptions.stats().subscribers === 1 && other.subscriptions.stats().subscribers === 1, 'both subscriptions to start');

    expect((await stack.graphql('mutation { logOut }', {}, user.accessToken)).data.logOut).toBe(true);

    await eventually(async () => here.closes.length > 0 && there.closes.length > 0, 'both sockets to close');
    for (const client of [here, there]) expect(client.closes[0]).toMatchObject({ code: 4403, reason: 'Forbidden: This session has ended. Sign in again.' });
    expect(stack.gateway.subscriptions.stats().subscribers).toBe(0);
    expect(other.subscriptions.stats().subscribers).toBe(0);

    const again = wsClient(stack.gatewayUrl, user.accessToken);
    const refused = new Promise<unknown>((resolve) => {
      again.subscribe({ query: JOB_EVENTS, variables: { accountId: user.accountId } }, { next: () => {}, error: resolve, complete: () => resolve('completed') });
    });
    await refused;
    expect(again.closes[0]).toMatchObject({ code: 4403, reason: 'Forbidden: This session has ended. Sign in again.' });
    await Promise.all([here.dispose(), there.dispose(), again.dispose()]);
  });
});
