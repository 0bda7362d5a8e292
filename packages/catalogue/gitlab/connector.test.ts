import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, ConfigError, type RestoreItem, restoreResource } from '../sdk/index.ts';
import { generatedSha256 } from '../testing/content.ts';
import { collect, type CollectedItem, FAST_RETRY, json, tokenCredentials } from '../testing/connector-run.ts';
import { createGitLabConnector } from './connector.ts';
import { FakeGitLab } from './fake.ts';

describe('GitLab connector', () => {
  const gitlab = new FakeGitLab();
  let connector: ReturnType<typeof createGitLabConnector>;
  const pat = () => tokenCredentials('apiKey', 'glpat-valid-token-0000000000');
  let api: Record<string, any>;
  let web: Record<string, any>;

  beforeAll(async () => {
    await gitlab.start();
    connector = createGitLabConnector({ baseUrl: `${gitlab.url}/api/v4` });
    for (let i = 0; i < 103; i++) gitlab.addProject(`acme/tool-${i}`, { repositorySize: 0, wiki: false });
    api = gitlab.addProject('acme/api', { repositorySize: 2 * 1024 * 1024 + 5 });
    web = gitlab.addProject('acme/web', { repositorySize: 3000 });
    for (let i = 1; i <= 230; i++) gitlab.addIssue(api.id, `Issue ${i}`, i % 4 === 0 ? { state: 'closed', labels: ['bug'] } : {});
    for (let i = 1; i <= 3; i++) gitlab.addMergeRequest(web.id, `MR ${i}`);
    gitlab.addWikiPage(api.id, 'home', '# Welcome');
    gitlab.addSnippet('setup', 'echo hello');
  });
  afterAll(() => gitlab.close());

  it('lists projects with keyset pages and streams each repository archive', async () => {
    gitlab.requests.length = 0;
    const { items, cursor } = await collect(connector, 'projects', pat());
    expect(items.filter((i) => i.metadata.kind === 'project')).toHaveLength(105);
    const pages = gitlab.requestsTo('/api/v4/projects').filter((r) => !r.path.includes('/repository'));
    expect(pages.map((r) => [r.query.get('pagination'), r.query.get('id_after') !== null])).toEqual([['keyset', false], ['keyset', true]]);
    expect(pages.every((r) => r.headers['private-token'] === 'glpat-valid-token-0000000000')).toBe(true);
    const archive = items.find((i) => i.id === `${api.id}/repository`)!;
    expect(archive.path).toBe('projects/acme/api/repository.tar.gz');
    expect(createHash('sha256').update(archive.body).digest('hex')).toBe(generatedSha256(`repo-${api.id}-${api.last_activity_at}`, 2 * 1024 * 1024 + 5));
    expect(items.some((i) => i.id.endsWith('/repository') && i.path.includes('tool-'))).toBe(false);
    expect(cursor).toEqual({ activity: { at: Date.parse(web.last_activity_at), ids: expect.arrayContaining([String(web.id)]) } });
  });

  it('a second projects run asks last_activity_after and reads only active projects again', async () => {
    const first = await collect(connector, 'projects', pat());
    gitlab.advance(5_000);
    web.last_activity_at = new Date(gitlab.now()).toISOString();
    gitlab.requests.length = 0;
    const second = await collect(connector, 'projects', { ...pat(), cursor: first.cursor });
    expect(Date.parse(gitlab.requestsTo('/api/v4/projects')[0].query.get('last_activity_after')!)).toBe((first.cursor as { activity: { at: number } }).activity.at);
    expect(second.items.map((i) => i.path)).toEqual(['projects/acme/web/project.json', 'projects/acme/web/repository.tar.gz']);
  });

  it('pages issues with Link headers and a second run asks updated_after, yielding only what changed', async () => {
    gitlab.requests.length = 0;
    const first = await collect(connector, 'issues', pat());
    expect(first.items).toHaveLength(230);
    const pages = gitlab.requestsTo(`/api/v4/projects/${api.id}/issues`);
    expect(pages.map((r) => r.query.get('page'))).toEqual([null, '2', '3']);
    expect(pages[0].query.get('order_by')).toBe('updated_at');
    expect(json(first.items.find((i) => i.path === 'issues/acme/api/4.json')!)).toMatchObject({ state: 'closed', labels: ['bug'] });

    gitlab.advance(5_000);
    gitlab.editIssue(api.id, 7, { title: 'Issue 7, edited' });
    const added = gitlab.addIssue(web.id, 'Web issue');
    gitlab.requests.length = 0;
    const second = await collect(connector, 'issues', { ...pat(), cursor: first.cursor });
    expect(second.items.map((i) => i.metadata.title).sort()).toEqual(['Issue 7, edited', 'Web issue']);
    expect(Date.parse(gitlab.requestsTo(`/api/v4/projects/${api.id}/issues`)[0].query.get('updated_after')!)).toBe((first.cursor as { projects: Record<string, { at: number }> }).projects[String(api.id)].at);
    const third = await collect(connector, 'issues', { ...pat(), cursor: second.cursor });
    expect(third.items).toEqual([]);
    expect(added.iid).toBe(1);
  });

  it('backs up merge requests, wikis and snippets with their content', async () => {
    const mrs = await collect(connector, 'merge_requests', pat());
    expect(mrs.items.map((i) => i.path)).toEqual(['merge_requests/acme/web/1.json', 'merge_requests/acme/web/2.json', 'merge_requests/acme/web/3.json']);
    expect(gitlab.requestsTo(`/api/v4/projects/${web.id}/merge_requests`).at(-1)!.query.get('state')).toBe('all');
    const wikis = await collect(connector, 'wikis', pat());
    expect(wikis.items.map((i) => json(i).content)).toEqual(['# Welcome']);
    const snippets = await collect(connector, 'snippets', pat());
    expect(json(snippets.items[0])).toMatchObject({ title: 'setup', content: 'echo hello' });
  });

  it('holds requests until RateLimit-Reset once the quota is spent, and waits out a 429 Retry-After', async () => {
    gitlab.requests.length = 0;
    gitlab.setRateLimit(2, 2);
    const resetAt = gitlab.rate.resetAt * 1000;
    await collect(connector, 'merge_requests', pat());
    expect(gitlab.overLimit).toEqual([]);
    expect(gitlab.requests[2].at).toBeGreaterThanOrEqual(resetAt);

    gitlab.requests.length = 0;
    gitlab.failNext({ status: 429, match: (r) => r.path === '/api/v4/snippets' });
    await collect(connector, 'snippets', pat());
    const [limited, retried] = gitlab.requestsTo('/api/v4/snippets');
    expect([limited.status, retried.status]).toEqual([429, 200]);
    expect(retried.at).toBeGreaterThanOrEqual(limited.retryAllowedAt!);
  });

  it('refreshes an expired OAuth token once (sent as Bearer); a refused token is a CONFIG failure', async () => {
    const expired = tokenCredentials('accessToken', 'gl-oauth-expired', 'gl-oauth-valid');
    const { items } = await collect(connector, 'snippets', expired);
    expect(items).toHaveLength(1);
    expect(expired.state.refreshes).toBe(1);
    expect(gitlab.requests.at(-1)!.headers.authorization).toBe('Bearer gl-oauth-valid');
    const revoked = tokenCredentials('apiKey', 'glpat-revoked-token-000000000', 'glpat-revoked-token-000000000');
    const error = await collect(connector, 'snippets', revoked).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as Error).message).toContain('401 Unauthorized');
  });

  it('restores issues: an edited one put back in place (closed again), a deleted one recreated', async () => {
    const backup = await collect(connector, 'issues', pat());
    const list = gitlab.issues.get(api.id)!;
    const edited = list.find((i) => i.iid === 8)!;
    const deleted = list.find((i) => i.iid === 9)!;
    const original = (id: number) => backup.items.find((i) => i.id === String(id))!;
    gitlab.editIssue(api.id, 8, { title: 'Vandalised', state: 'opened', labels: [] });
    list.splice(list.indexOf(deleted), 1);
    const result = await restoreResource(connector, 'issues', items([original(edited.id), original(deleted.id)]), { ...pat(), retry: FAST_RETRY });
    expect(result.restored).toBe(2);
    expect(edited).toMatchObject({ title: 'Issue 8', state: 'closed', labels: ['bug'] });
    const recreated = list.at(-1)!;
    expect(recreated).toMatchObject({ title: 'Issue 9', description: deleted.description, state: 'opened' });
    expect(recreated.iid).not.toBe(9);
  });

  it('a read-only token cannot restore: a CONFIG failure naming the api scope', async () => {
    const backup = await collect(connector, 'issues', pat());
    const error = await restoreResource(connector, 'issues', items(backup.items.slice(0, 1)), { ...tokenCredentials('apiKey', 'glpat-readonly-token-00000000'), retry: FAST_RETRY }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('api scope');
    await expect(restoreResource(connector, 'merge_requests', items([]), pat())).rejects.toBeInstanceOf(ConfigError);
  });
});

async function* items(collected: CollectedItem[]): AsyncGenerator<RestoreItem, void, undefined> {
  for (const item of collected) {
    yield { id: item.id, path: item.path, metadata: item.metadata, content: async function* () { yield item.body; } };
  }
}
