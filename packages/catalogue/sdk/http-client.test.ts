import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthError,
  type Connector,
  ConfigError,
  createConnectorContext,
  fetchResource,
  jsonContent,
  parseLinkHeader,
  parseRetryAfter,
  PlatformError,
  RateLimitedError,
  rateLimitResetMs,
  TransientError,
} from './index.ts';
import { FakeRest } from '../rest/fake.ts';
import { FAST_RETRY, tokenCredentials } from '../testing/connector-run.ts';
import { OutboundPolicy, outboundPolicy, setOutboundPolicy } from '@listbackup/lib/outbound';

/** A bare connector whose context talks to the fake REST server. */
function probe(baseUrl: string): Connector {
  return {
    slug: 'probe',
    name: 'Probe',
    authType: 'apiKey',
    resources: [{ name: 'things', description: 'Things', incremental: false }],
    http: { platform: 'Probe', baseUrl },
    async *fetch() {
      yield { id: 'a', path: 'things/a.json', metadata: {}, content: jsonContent({}) };
      yield { id: 'b', path: 'things/a.json', metadata: {}, content: jsonContent({}) };
      yield { id: 'c', path: 'things/c', metadata: {}, content: jsonContent({}) };
      yield { id: 'd/e', path: 'things/c', metadata: {}, content: jsonContent({}) };
      return { done: true };
    },
  };
}

describe('connector SDK: HTTP client', () => {
  const server = new FakeRest();
  let connector: Connector;
  const context = (init: Partial<Parameters<typeof createConnectorContext>[1]> = {}) => {
    const credentials = tokenCredentials('apiKey', 'k_valid');
    return { credentials, ctx: createConnectorContext(connector, { ...credentials, retry: FAST_RETRY, ...init }) };
  };

  beforeAll(async () => {
    await server.start();
    connector = probe(`${server.url}/api`);
  });
  afterAll(() => server.close());

  it('asks for JSON on a JSON call unless the connector names another type, and sets no type on a stream', async () => {
    server.requests.length = 0;
    await context().ctx.http.json('echo');
    const github: Connector = { ...connector, http: { platform: 'Probe', baseUrl: `${server.url}/api`, headers: { accept: 'application/vnd.github+json' } } };
    await createConnectorContext(github, { ...tokenCredentials('apiKey', 'k_valid'), retry: FAST_RETRY }).http.json('echo');
    for await (const _ of context().ctx.http.stream('echo')) void _;
    expect(server.requests.map((r) => r.headers.accept)).toEqual(['application/json', 'application/vnd.github+json', '*/*']);
  });

  it('waits out a 429 for the Retry-After seconds the server named', async () => {
    server.requests.length = 0;
    server.failNext({ status: 429, headers: { 'retry-after': '1' } });
    const { data } = await context().ctx.http.json<{ ok: boolean }>('echo');
    expect(data.ok).toBe(true);
    const [limited, retried] = server.requests;
    expect([limited.status, retried.status]).toEqual([429, 200]);
    expect(retried.at).toBeGreaterThanOrEqual(limited.retryAllowedAt!);
    expect(server.earlyRetries).toEqual([]);
  });

  it('waits out a Retry-After given as an HTTP date, read against the server clock', async () => {
    server.requests.length = 0;
    server.advance(-7 * 3600_000); // the server's clock is hours behind ours: only its own Date header makes sense of the date
    try {
      const retryAt = new Date(Math.ceil(server.now() / 1000) * 1000 + 1000);
      server.failNext({ status: 503, headers: { 'retry-after': retryAt.toUTCString() } });
      await context().ctx.http.json('echo');
      const [unavailable, retried] = server.requests;
      expect(unavailable.retryAllowedAt).toBe(retryAt.getTime());
      expect(retried.status).toBe(200);
      expect(retried.at).toBeGreaterThanOrEqual(retryAt.getTime());
    } finally {
      server.advance(7 * 3600_000);
    }
  });

  it('backs off through a 503 storm and recovers; a storm that never ends is a TransientError', async () => {
    server.requests.length = 0;
    server.failNext({ status: 503, times: 5 });
    await context().ctx.http.json('echo');
    expect(server.requests.map((r) => r.status)).toEqual([503, 503, 503, 503, 503, 200]);

    server.requests.length = 0;
    server.failNext({ status: 502, times: 50 });
    const error = await context({ retry: { ...FAST_RETRY, maxAttempts: 4 } }).ctx.http.json('echo').catch((e: unknown) => e);
    server.clearFailures();
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ failureType: 'TRANSIENT', retryable: true, status: 502, attempts: 4 });
    expect(server.requests).toHaveLength(4);
  });

  it('retries a GET after a connection reset, but never a plain POST', async () => {
    server.requests.length = 0;
    server.failNext({ reset: true, times: 2 });
    expect((await context().ctx.http.json<{ ok: boolean }>('echo')).data.ok).toBe(true);
    expect(server.requests).toHaveLength(3);

    server.requests.length = 0;
    server.failNext({ reset: true });
    const error = await context().ctx.http.json('contacts', { method: 'POST', json: { email: 'x@example.com' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect(server.requests).toHaveLength(1);
  });

  it('refreshes credentials once on a 401 and retries; a second 401 is an AuthError', async () => {
    server.requests.length = 0;
    const expired = tokenCredentials('apiKey', 'k_expired', 'k_valid');
    const ctx = createConnectorContext(connector, { ...expired, retry: FAST_RETRY });
    await ctx.http.json('echo');
    expect(expired.state.refreshes).toBe(1);
    expect(server.requests.map((r) => [r.status, r.headers.authorization])).toEqual([
      [401, 'Bearer k_expired'],
      [200, 'Bearer k_valid'],
    ]);
    // later calls use the refreshed credentials without asking again
    await ctx.http.json('echo');
    expect(server.requests.at(-1)!.headers.authorization).toBe('Bearer k_valid');
    expect(expired.state.refreshes).toBe(1);

    const revoked = tokenCredentials('apiKey', 'k_revoked', 'k_revoked_again');
    const error = await createConnectorContext(connector, { ...revoked, retry: FAST_RETRY })
      .http.json('echo')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ failureType: 'AUTH', retryable: false, status: 401, platformCode: 'unauthorized' });
    expect((error as Error).message).toBe('Probe answered 401: Invalid or missing API key');
    expect(revoked.state.refreshes).toBe(1);
  });

  it('concurrent requests refused together share one refresh', async () => {
    const expired = tokenCredentials('apiKey', 'k_expired', 'k_valid');
    const ctx = createConnectorContext(connector, { ...expired, retry: FAST_RETRY });
    await Promise.all(Array.from({ length: 6 }, () => ctx.http.json('echo')));
    expect(expired.state.refreshes).toBe(1);
  });

  it('other 4xx answers fail at once with the platform message: 404/403 CONFIG, 400/422 INTERNAL', async () => {
    const { ctx } = context();
    server.requests.length = 0;
    const missing = await ctx.http.json('nowhere').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ConfigError);
    expect(missing).toMatchObject({ failureType: 'CONFIG', status: 404, platformCode: 'not_found' });
    expect((missing as Error).message).toBe('Probe answered 404: No route GET /api/nowhere');

    server.failNext({ status: 403 });
    await expect(ctx.http.json('echo')).rejects.toMatchObject({ name: 'ConfigError', failureType: 'CONFIG', status: 403 });

    const bad = await ctx.http.json('contacts', { query: { limit: 1000 } }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(PlatformError);
    expect(bad).toMatchObject({ failureType: 'INTERNAL', status: 400 });
    expect((bad as Error).message).toContain('limit must be between 1 and 100');
    expect(server.requests).toHaveLength(3);
  });

  it('a rate limit longer than it will sleep is RATE_LIMITED at once, with retryAfterMs for the job runtime', async () => {
    server.requests.length = 0;
    server.failNext({ status: 429, headers: { 'retry-after': '7200' } });
    const error = await context().ctx.http.json('echo').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ failureType: 'RATE_LIMITED', retryable: true, status: 429 });
    expect((error as RateLimitedError).retryAfterMs).toBeGreaterThanOrEqual(7200_000);
    expect(server.requests).toHaveLength(1);
  });

  it('an abort during a rate-limit wait ends the request promptly with an AbortError', async () => {
    server.requests.length = 0;
    server.failNext({ status: 429, headers: { 'retry-after': '3600' } });
    const controller = new AbortController();
    const { ctx } = context({ signal: controller.signal, retry: { ...FAST_RETRY, maxRateLimitWaitMs: 2 * 3600_000 } });
    const pending = ctx.http.json('echo').catch((e: unknown) => e);
    while (server.requests.length === 0 || server.requests[0].status === 0) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50)); // let the answer reach the client, which is now waiting
    controller.abort();
    // were the wait not cut short this would hang for an hour and the test time out
    const error = await pending;
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(server.requests).toHaveLength(1);
  });

  it('an abort during exponential backoff also ends the request', async () => {
    server.requests.length = 0;
    server.failNext({ status: 503, times: 10 });
    const controller = new AbortController();
    const { ctx } = context({ signal: controller.signal, retry: { baseDelayMs: 3600_000, maxDelayMs: 3600_000 } });
    const pending = ctx.http.json('echo').catch((e: unknown) => e);
    while (server.requests.length === 0 || server.requests[0].status === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort(new DOMException('job cancelled', 'AbortError'));
    expect(await pending).toMatchObject({ name: 'AbortError', message: 'job cancelled' });
    server.clearFailures();
  });

  it('refuses an address the outbound policy does not allow at once, as a CONFIG failure that names no address', async () => {
    const allowed = outboundPolicy();
    setOutboundPolicy(new OutboundPolicy());
    try {
      server.requests.length = 0;
      const error = await context().ctx.http.json('echo').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ failureType: 'CONFIG', platformCode: 'TARGET_NOT_ALLOWED' });
      expect((error as Error).message).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
      expect(server.requests).toEqual([]);
    } finally {
      setOutboundPolicy(allowed);
    }
  });

  it('never sends credentials to another origin', async () => {
    const { ctx } = context();
    await expect(ctx.http.json('http://example.invalid/steal')).rejects.toThrow(/refusing to send credentials/);
  });
});

describe('connector SDK: header parsing', () => {
  it('parses Link headers', () => {
    const links = parseLinkHeader('<https://api.github.com/user/repos?page=3&per_page=100>; rel="next", <https://api.github.com/user/repos?page=50&per_page=100>; rel="last"');
    expect(links).toEqual({ next: 'https://api.github.com/user/repos?page=3&per_page=100', last: 'https://api.github.com/user/repos?page=50&per_page=100' });
    expect(parseLinkHeader('</items?cursor=a,b>; rel=next')).toEqual({ next: '/items?cursor=a,b' });
    expect(parseLinkHeader(null)).toEqual({});
  });

  it('reads Retry-After and rate-limit reset headers against the server clock', () => {
    const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    const github = new Headers({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 42) });
    expect(rateLimitResetMs(github, now)).toBe(42_000);
    expect(rateLimitResetMs(new Headers({ 'x-ratelimit-remaining': '10', 'x-ratelimit-reset': String(now / 1000 + 42) }), now)).toBeUndefined();
    expect(rateLimitResetMs(new Headers({ 'ratelimit-remaining': '0', 'ratelimit-reset': '17' }), now)).toBe(17_000);
  });
});

describe('connector SDK: pacing before the platform says no', () => {
  const server = new FakeRest();
  beforeAll(() => server.start());
  afterAll(() => server.close());

  const paced = (key: string, limit: number, intervalMs: number): Connector => ({
    ...probe(`${server.url}/api`),
    http: { platform: 'Probe', baseUrl: `${server.url}/api`, rate: () => ({ key, limit, intervalMs }) },
  });

  it('keeps to a steady rate, across runs of one credential, without a single 429', async () => {
    server.requests.length = 0;
    const connector = paced('echo', 3, 400);
    const one = createConnectorContext(connector, { ...tokenCredentials('apiKey', 'k_valid'), retry: FAST_RETRY });
    const two = createConnectorContext(connector, { ...tokenCredentials('apiKey', 'k_valid'), retry: FAST_RETRY });
    await Promise.all([0, 1, 2, 3].flatMap(() => [one.http.json('echo'), two.http.json('echo')]));
    const arrivals = server.requests.map((r) => r.at).sort((a, b) => a - b);
    expect(arrivals).toHaveLength(8);
    // any 4 consecutive requests span more than the window: never 4 within 400 ms
    for (let i = 3; i < arrivals.length; i++) expect(arrivals[i] - arrivals[i - 3]).toBeGreaterThanOrEqual(400);
    expect(server.requests.every((r) => r.status === 200)).toBe(true);
  });

  it('holds the credential once the quota headers say nothing is left, until the reset', async () => {
    server.requests.length = 0;
    const connector: Connector = { ...probe(`${server.url}/api`), http: { platform: 'Probe', baseUrl: `${server.url}/api` } };
    const ctx = createConnectorContext(connector, { ...tokenCredentials('apiKey', 'k_valid'), retry: FAST_RETRY });
    server.failNext({ status: 200, body: { ok: true }, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1' } });
    await ctx.http.json('echo');
    await ctx.http.json('echo');
    const [spent, next] = server.requests;
    expect(next.at - spent.at).toBeGreaterThanOrEqual(1000);
    expect(next.status).toBe(200);
  });

  it('a quota used up for longer than it will sleep is RATE_LIMITED at once, without another request', async () => {
    server.requests.length = 0;
    const connector: Connector = { ...probe(`${server.url}/api`), http: { platform: 'Probe', baseUrl: `${server.url}/api` } };
    const ctx = createConnectorContext(connector, { credentials: async () => ({ apiKey: 'k_valid' }), retry: { ...FAST_RETRY, maxRateLimitWaitMs: 500 } });
    server.failNext({ status: 200, body: { ok: true }, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '30' } });
    await ctx.http.json('echo');
    const error = await ctx.http.json('echo').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBeGreaterThan(20_000);
    expect(server.requests).toHaveLength(1);
  });
});

describe('connector SDK: fetchResource', () => {
  const connector = probe('http://127.0.0.1:9');
  const init = { credentials: async () => ({ apiKey: 'k' }) };

  it('keeps paths unique within a run and hands back the final cursor', async () => {
    const run = fetchResource(connector, 'things', init);
    const paths: string[] = [];
    for await (const item of run) paths.push(item.path);
    expect(paths).toEqual(['things/a.json', 'things/a (b).json', 'things/c', 'things/c (d_e)']);
    expect(run.cursor).toEqual({ done: true });
    expect(run.completed).toBe(true);
    expect(run.itemCount).toBe(4);
  });

  it('has no cursor when the run stops early, and refuses unknown resources', async () => {
    const run = fetchResource(connector, 'things', init);
    for await (const _ of run) break;
    expect(run.cursor).toBeUndefined();
    expect(run.completed).toBe(false);
    expect(() => fetchResource(connector, 'nope', init)).toThrow(/Probe has no resource "nope" \(it has things\)/);
  });

  it('stops between items once the signal fires', async () => {
    const controller = new AbortController();
    const run = fetchResource(connector, 'things', { ...init, signal: controller.signal });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const item of run) {
        seen.push(item.id);
        controller.abort();
      }
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['a']);
    expect(error).toMatchObject({ name: 'AbortError' });
  });
});
