import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { z } from 'zod';
import { readSupergraph } from '@listbackup/lib/supergraph';
import { startGateway, type RunningGateway } from '../src/index.ts';
import { DEFAULT_RATE_LIMITS, rateLimitsEnv, rateLimitsFromEnv, type RateLimits } from '../src/rate-limits.ts';
import { signUp, startStack, type SignedUp, type Stack } from './support/stack.ts';

// Rate limits through two gateways on the five real subgraphs, counted in the stack's PostgreSQL:
// what one gateway counted, the other sees.
let stack: Stack;
let user: SignedUp;
let other: SignedUp;
const gateways: RunningGateway[] = [];
const accountsCalls: string[] = [];

const limits: RateLimits = {
  ...DEFAULT_RATE_LIMITS,
  signInPerIp: { points: 3, durationSeconds: 600 },
  mutationsPerPrincipal: { points: 5, durationSeconds: 600 },
};

async function gateway(): Promise<RunningGateway> {
  const started = await startGateway({
    port: 0,
    supergraphSdl: readSupergraph(),
    subgraphUrls: Object.fromEntries(Object.values(stack.services).map((service) => [service.name, service.url])),
    accountsUrl: stack.services.accounts.url,
    internalTokenSecret: stack.internalTokenSecret,
    log: pino({ level: 'silent' }),
    databaseUrl: stack.databaseUrl,
    // The client IP comes from X-Forwarded-For, so each test can be its own client.
    trustProxy: true,
    rateLimits: limits,
    onSubgraphRequest: (request) => {
      if (request.subgraph === 'accounts') accountsCalls.push(request.query);
    },
  });
  gateways.push(started);
  return started;
}

let a: RunningGateway;
let b: RunningGateway;

beforeAll(async () => {
  stack = await startStack();
  user = await signUp(stack);
  other = await signUp(stack);
  a = await gateway();
  b = await gateway();
});
afterAll(async () => {
  for (const started of gateways) await started.close();
  await stack?.close();
});

interface Answer {
  status: number;
  retryAfter: string | null;
  body: { data?: any; errors?: { message: string; extensions?: { code?: string; retryAfter?: number; limit?: string } }[] };
}

async function post(target: RunningGateway, ip: string, body: unknown, token?: string): Promise<Answer> {
  const response = await fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': ip, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as Answer['body'] };
}

const logIn = (email: string, password: string) => ({
  query: 'mutation ($input: LogInInput!) { logIn(input: $input) { accessToken } }',
  variables: { input: { email, password } },
});
const wrongLogIn = () => logIn(`nobody-${randomUUID()}@example.com`, 'not the password at all');
const codes = (answer: Answer) => (answer.body.errors ?? []).map((error) => error.extensions?.code);

function expectRateLimited(answer: Answer, limit: string) {
  expect(answer.status).toBe(429);
  expect(codes(answer)).toEqual(['RATE_LIMITED']);
  const error = answer.body.errors![0];
  expect(error.extensions?.limit).toBe(limit);
  expect(Number(answer.retryAfter)).toBeGreaterThan(0);
  expect(error.extensions?.retryAfter).toBe(Number(answer.retryAfter));
}

describe('rate limits', () => {
  it('answers sign-in attempts past the limit with 429, Retry-After and RATE_LIMITED, without asking accounts', async () => {
    const ip = '203.0.113.10';
    for (let attempt = 0; attempt < 3; attempt++) {
      const answer = await post(a, ip, wrongLogIn());
      expect(answer.status).toBe(200);
      expect(codes(answer)).not.toContain('RATE_LIMITED');
    }
    accountsCalls.length = 0;
    const refused = await post(a, ip, wrongLogIn());
    expectRateLimited(refused, 'signInPerIp');
    expect(refused.body.errors![0].message).toMatch(/sign-in attempts/);
    // The right password is refused too: the limit is on the address, not on guessing wrong.
    expectRateLimited(await post(a, ip, logIn(user.email, user.password)), 'signInPerIp');
    expect(accountsCalls).toEqual([]);
    // Another address signs in.
    const elsewhere = await post(a, '203.0.113.11', logIn(user.email, user.password));
    expect(elsewhere.body.errors).toBeUndefined();
    expect(elsewhere.body.data.logIn.accessToken).toEqual(expect.any(String));
  });

  it('shares the count between two gateways', async () => {
    const ip = '203.0.113.20';
    expect((await post(a, ip, wrongLogIn())).status).toBe(200);
    expect((await post(a, ip, wrongLogIn())).status).toBe(200);
    expect((await post(b, ip, wrongLogIn())).status).toBe(200);
    // Gateway b has counted one attempt itself; the other two it reads from the database.
    expectRateLimited(await post(b, ip, wrongLogIn()), 'signInPerIp');
    expectRateLimited(await post(a, ip, wrongLogIn()), 'signInPerIp');
  });

  it('counts each aliased sign-in of one document', async () => {
    const query = `mutation { ${[1, 2, 3, 4].map((i) => `a${i}: logIn(input: { email: "x${i}-${randomUUID()}@example.com", password: "wrong password ${i}" }) { accessToken }`).join(' ')} }`;
    const answer = await post(a, '203.0.113.30', { query });
    expectRateLimited(answer, 'signInPerIp');
  });

  it('answers a normal query right after an abusive burst, from the same address', async () => {
    const ip = '203.0.113.40';
    const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => post(i % 2 ? a : b, ip, wrongLogIn())));
    const refused = burst.filter((answer) => answer.status === 429);
    // At most the limit got through, across both gateways.
    expect(burst.length - refused.length).toBeLessThanOrEqual(3);
    for (const answer of refused) expectRateLimited(answer, 'signInPerIp');
    const me = await post(a, ip, { query: '{ me { id } }' }, user.accessToken);
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ data: { me: { id: user.userId } } });
  });

  it('limits mutations per principal, wherever they come from, and leaves other principals alone', async () => {
    const mark = { query: 'mutation { markNotificationsRead(read: true) }' };
    for (let i = 0; i < 5; i++) {
      const answer = await post(i % 2 ? a : b, `198.51.100.${i}`, mark, other.accessToken);
      expect(answer.body.errors).toBeUndefined();
    }
    expectRateLimited(await post(a, '198.51.100.99', mark, other.accessToken), 'mutationsPerPrincipal');
    // Reads still answer, and another user's mutations still run.
    expect((await post(a, '198.51.100.99', { query: '{ me { id } }' }, other.accessToken)).body).toEqual({ data: { me: { id: other.userId } } });
    expect((await post(a, '198.51.100.99', mark, user.accessToken)).body.errors).toBeUndefined();
  });
});

describe('rate limit settings', () => {
  const Config = z.object(rateLimitsEnv);

  it('reads "<points>/<seconds>" and "off" per limit, keeping the defaults of the others', () => {
    const parsed = rateLimitsFromEnv(Config.parse({ RATE_LIMIT_SIGN_IN_PER_IP: '5/60', RATE_LIMIT_EXPORTS_PER_PRINCIPAL: 'off' }));
    expect(parsed).toEqual({ ...DEFAULT_RATE_LIMITS, signInPerIp: { points: 5, durationSeconds: 60 }, exportsPerPrincipal: null });
    expect(rateLimitsFromEnv(Config.parse({ RATE_LIMITS: 'false' }))).toBe(false);
  });

  it('refuses a malformed rate with the variable named', () => {
    const result = Config.safeParse({ RATE_LIMIT_SIGN_UP_PER_IP: '10 per hour' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0].path).toEqual(['RATE_LIMIT_SIGN_UP_PER_IP']);
  });
});
