import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubConnector } from './connector.ts';
import { AuthError, ConfigError } from '../sdk/index.ts';
import { FakeGitHub } from './fake.ts';
import { collect, json, tokenCredentials } from '../testing/connector-run.ts';

describe('GitHub connector', () => {
  const github = new FakeGitHub();
  let connector: ReturnType<typeof createGitHubConnector>;
  const creds = () => tokenCredentials('accessToken', 'ghp_valid');

  beforeAll(async () => {
    await github.start();
    connector = createGitHubConnector({ baseUrl: github.url });
    github.addRepo('acme/api');
    github.addRepo('acme/web', { private: true });
    for (let i = 1; i <= 230; i++) github.addIssue('acme/api', `Issue ${i}`, i % 3 === 0 ? { state: 'closed' } : {});
    for (let i = 1; i <= 120; i++) {
      if (i === 101) github.advance(2000);
      github.addPull('acme/api', `Pull ${i}`);
    }
    github.addIssue('acme/web', 'Web issue');
    github.addRelease('acme/api', 'v1.0.0');
    github.addRelease('acme/api', 'v1.1.0');
  });
  afterAll(() => github.close());

  it('fetches every issue across pages by following Link headers, without pull requests', async () => {
    github.requests.length = 0;
    const { items, cursor } = await collect(connector, 'issues', creds());
    expect(items).toHaveLength(231);
    const apiPages = github.requestsTo('/repos/acme/api/issues');
    // 350 issues including 120 pull requests, 100 a page: the connector followed next links to page 4
    expect(apiPages.map((r) => r.query.get('page'))).toEqual([null, '2', '3', '4']);
    expect(apiPages.every((r) => r.query.get('state') === 'all' && r.headers['x-github-api-version'] === '2022-11-28')).toBe(true);
    const first = items.find((i) => i.path === 'issues/acme/api/1.json')!;
    expect(json(first)).toEqual(github.repos[0].issues[0]);
    expect(items.some((i) => i.metadata.title === 'Pull 1')).toBe(false);
    expect(cursor).toEqual({ repos: { 'acme/api': { at: expect.any(String), ids: expect.any(Array) }, 'acme/web': { at: expect.any(String), ids: expect.any(Array) } } });
  });

  it('lists repositories, pull requests and releases', async () => {
    const repos = await collect(connector, 'repositories', creds());
    expect(repos.items.map((i) => i.path)).toEqual(['repositories/acme/api.json', 'repositories/acme/web.json']);
    expect(json(repos.items[1]).private).toBe(true);

    const pulls = await collect(connector, 'pull_requests', creds());
    expect(pulls.items).toHaveLength(120);
    expect(new Set(pulls.items.map((i) => i.path)).size).toBe(120);

    const releases = await collect(connector, 'releases', creds());
    expect(releases.items.map((i) => i.path).sort()).toEqual(['releases/acme/api/v1.0.0.json', 'releases/acme/api/v1.1.0.json']);
    expect(json(releases.items[0]).body).toMatch(/^Notes for v1\./);
  });

  it('a second run with the cursor fetches only what changed (issues by since, pulls until the high-water mark)', async () => {
    const firstIssues = await collect(connector, 'issues', creds());
    const firstPulls = await collect(connector, 'pull_requests', creds());
    github.advance(10_000);
    github.updateIssue('acme/api', 5, { state: 'closed' });
    github.addIssue('acme/web', 'Brand new');
    github.updatePull('acme/api', 300, { state: 'closed' });
    github.requests.length = 0;

    const issues = await collect(connector, 'issues', { ...creds(), cursor: firstIssues.cursor });
    expect(issues.items.map((i) => i.path).sort()).toEqual(['issues/acme/api/5.json', 'issues/acme/web/2.json']);
    expect(json(issues.items.find((i) => i.path === 'issues/acme/api/5.json')!).state).toBe('closed');
    const since = (firstIssues.cursor as { repos: Record<string, { at: string }> }).repos['acme/api'].at;
    expect(github.requestsTo('/repos/acme/api/issues')[0].query.get('since')).toBe(since);

    const pulls = await collect(connector, 'pull_requests', { ...creds(), cursor: firstPulls.cursor });
    expect(pulls.items.map((i) => i.metadata.number)).toEqual([300]);
    // 120 pulls span two pages; the changed one is on the first, so the walk stops there
    expect(github.requestsTo('/repos/acme/api/pulls')).toHaveLength(1);
    const at = (cursor: unknown) => (cursor as { repos: Record<string, { at: string }> }).repos['acme/api'].at;
    expect(at(pulls.cursor) > at(firstPulls.cursor)).toBe(true);
  });

  it('holds requests until x-ratelimit-reset once the quota is spent, before GitHub answers 403', async () => {
    github.requests.length = 0;
    github.setRateLimit(2, 2);
    const resetAt = github.rateLimit.resetAt * 1000;
    const { items } = await collect(connector, 'issues', creds());
    expect(items.length).toBeGreaterThan(200);
    expect(github.requests.filter((r) => r.status === 403)).toEqual([]);
    expect(github.requests[1].status).toBe(200);
    expect(github.requests[2].at).toBeGreaterThanOrEqual(resetAt);
    expect(github.earlyRetries).toEqual([]);
  });

  it('honours Retry-After on a 429', async () => {
    github.requests.length = 0;
    github.failNext({ status: 429, headers: { 'retry-after': '1' }, match: (r) => r.path === '/user/repos' });
    const { items } = await collect(connector, 'repositories', creds());
    expect(items).toHaveLength(2);
    const [limited, retried] = github.requests;
    expect([limited.status, retried.status]).toEqual([429, 200]);
    expect(retried.at).toBeGreaterThanOrEqual(limited.retryAllowedAt!);
    expect(github.earlyRetries).toEqual([]);
  });

  it('recovers from a 503 storm', async () => {
    github.requests.length = 0;
    github.failNext({ status: 503, times: 4 });
    const { items } = await collect(connector, 'repositories', creds());
    expect(items).toHaveLength(2);
    expect(github.requests.map((r) => r.status)).toEqual([503, 503, 503, 503, 200]);
  });

  it('refreshes an expired token once and retries with the new one', async () => {
    github.requests.length = 0;
    const credentials = tokenCredentials('accessToken', 'ghp_expired', 'ghp_valid');
    const { items } = await collect(connector, 'repositories', credentials);
    expect(items).toHaveLength(2);
    expect(credentials.state.refreshes).toBe(1);
    expect(github.requests.map((r) => [r.status, r.headers.authorization])).toEqual([
      [401, 'Bearer ghp_expired'],
      [200, 'Bearer ghp_valid'],
    ]);
  });

  it('a token that stays refused is an AuthError of type CONFIG with GitHub\'s message', async () => {
    github.requests.length = 0;
    const credentials = tokenCredentials('accessToken', 'ghp_revoked', 'ghp_still_revoked');
    const error = await collect(connector, 'issues', credentials).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ failureType: 'AUTH', status: 401, retryable: false });
    expect((error as Error).message).toContain('Bad credentials');
    expect(credentials.state.refreshes).toBe(1);
    expect(github.requests).toHaveLength(2);
  });

  it('limits the backup to the repositories in settings and rejects ones the token cannot see', async () => {
    const only = await collect(connector, 'issues', { ...creds(), settings: { repositories: ['acme/web'] } });
    expect(only.items.every((i) => i.path.startsWith('issues/acme/web/'))).toBe(true);
    await expect(collect(connector, 'issues', { ...creds(), settings: { repositories: ['acme/secret'] } })).rejects.toBeInstanceOf(ConfigError);
    await expect(collect(connector, 'issues', { ...creds(), settings: { repositories: ['not a repo'] } })).rejects.toThrow(/owner\/name/);
  });
});
