import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthError, ConfigError, PlatformError, resetPacing, type RestoreItem, restoreResource } from '../sdk/index.ts';
import { generatedSha256 } from '../testing/content.ts';
import { collect, type CollectedItem, FAST_RETRY, json, tokenCredentials } from '../testing/connector-run.ts';
import { createJiraConnector } from './connector.ts';
import { adf, FakeJira, zonedToEpoch } from './fake.ts';

describe('Jira connector', () => {
  const jira = new FakeJira();
  let connector: ReturnType<typeof createJiraConnector>;
  const token = () => tokenCredentials('accessToken', 'jira-valid');

  beforeAll(async () => {
    await jira.start();
    connector = createJiraConnector({ baseUrl: `${jira.url}${jira.apiPrefix}` });
    for (let i = 1; i <= 150; i++) jira.addUser(`User ${i}`);
    jira.addProject('API', 'Api');
    jira.addProject('WEB', 'Web');
    for (let i = 1; i <= 53; i++) jira.addProject(`P${i}`, `Project ${i}`);
    for (let i = 1; i <= 120; i++) {
      jira.addIssue('API', `Issue ${i}`, i % 4 === 0 ? { labels: ['bug'] } : {});
      jira.advance(10);
    }
    for (let i = 1; i <= 60; i++) jira.addComment('API-2', `Comment ${i}`);
    jira.addComment('API-5', 'Only one');
    jira.addAttachment('API-3', 'trace.bin', 1024 * 1024 + 1);
    for (let i = 1; i <= 5; i++) jira.addWorklog(`API-${i}`, 3600 * i);
  });
  afterAll(() => jira.close());
  beforeEach(() => {
    resetPacing();
    jira.advance(5_000);
    jira.requests.length = 0;
  });

  it('searches issues with nextPageToken, pages long comment threads, and a next run asks JQL from the newest update in the user’s time zone', async () => {
    const first = await collect(connector, 'issues', token());
    expect(first.items).toHaveLength(120);
    const searches = jira.requestsTo(`${jira.apiPrefix}/search/jql`);
    expect(searches.map((r) => r.query.get('nextPageToken') !== null)).toEqual([false, true]);
    expect(searches[0].query.get('jql')).toBe('updated >= "1970-01-01 00:00" ORDER BY updated ASC, key ASC');
    expect(searches.every((r) => r.headers.authorization === 'Bearer jira-valid')).toBe(true);
    const two = first.items.find((i) => i.metadata.key === 'API-2')!;
    expect(two.path).toBe('issues/API/API-2.json');
    expect(json(two).comments.map((c: { body: unknown }) => c.body)).toEqual(Array.from({ length: 60 }, (_, i) => adf(`Comment ${i + 1}`)));
    expect(json(two).fields.comment).toBeUndefined();
    expect(jira.requestsTo(`${jira.apiPrefix}/issue/`).map((r) => [r.path, r.query.get('startAt')])).toEqual([
      [`${jira.apiPrefix}/issue/${two.id}/comment`, '0'],
      [`${jira.apiPrefix}/issue/${two.id}/comment`, '50'],
    ]);
    expect(json(first.items.find((i) => i.metadata.key === 'API-5')!).comments).toHaveLength(1);
    expect(json(first.items.find((i) => i.metadata.key === 'API-4')!).fields.labels).toEqual(['bug']);

    jira.editIssue('API-7', { summary: 'Issue 7, edited' });
    jira.addComment('API-8', 'Any news?');
    jira.addIssue('WEB', 'Web issue');
    jira.requests.length = 0;
    const second = await collect(connector, 'issues', { ...token(), cursor: first.cursor });
    expect(second.items.map((i) => i.metadata.summary)).toEqual(['Issue 7, edited', 'Issue 8', 'Web issue']);
    const jql = jira.requestsTo(`${jira.apiPrefix}/search/jql`)[0].query.get('jql')!;
    const minute = /^updated >= "(.+)" ORDER BY updated ASC, key ASC$/.exec(jql)![1];
    const mark = (first.cursor as { mark: { at: number } }).mark.at;
    expect(zonedToEpoch(minute, 'Australia/Sydney')).toBe(Math.floor(mark / 60_000) * 60_000);
    expect(jira.requestsTo(`${jira.apiPrefix}/myself`)).toHaveLength(1);

    const third = await collect(connector, 'issues', { ...token(), cursor: second.cursor });
    expect(third.items).toEqual([]);
  });

  it('streams attachments with redirect=false; a next run lists those of updated issues only', async () => {
    const first = await collect(connector, 'attachments', token());
    expect(first.items).toHaveLength(1);
    const [file] = first.items;
    expect(file.path).toBe(`attachments/API/API-3/${file.id}-trace.bin`);
    expect(createHash('sha256').update(file.body).digest('hex')).toBe(generatedSha256(`jira-attachment-${file.id}`, 1024 * 1024 + 1));
    expect(jira.requestsTo(`${jira.apiPrefix}/attachment/content/${file.id}`)[0].query.get('redirect')).toBe('false');
    expect(jira.requestsTo(`${jira.apiPrefix}/search/jql`)[0].query.get('fields')).toBe('attachment,updated,project');

    const added = jira.addAttachment('API-4', 'notes.txt', 300, 'text/plain');
    const second = await collect(connector, 'attachments', { ...token(), cursor: first.cursor });
    expect(second.items.map((i) => [i.id, i.body.length])).toEqual([[added.id, 300]]);
  });

  it('pages projects with startAt until isLast and users until a short page; worklogs from worklog/updated, a next run only what changed', async () => {
    const projects = await collect(connector, 'projects', token());
    expect(projects.items).toHaveLength(55);
    expect(jira.requestsTo(`${jira.apiPrefix}/project/search`).map((r) => r.query.get('startAt'))).toEqual(['0', '50']);
    const users = await collect(connector, 'users', token());
    expect(users.items).toHaveLength(150);
    expect(jira.requestsTo(`${jira.apiPrefix}/users/search`).map((r) => r.query.get('startAt'))).toEqual(['0', '100']);

    const worklogs = await collect(connector, 'worklogs', token());
    expect(worklogs.items.map((i) => json(i).timeSpentSeconds)).toEqual([3600, 7200, 10800, 14400, 18000]);
    expect(JSON.parse(jira.requestsTo(`${jira.apiPrefix}/worklog/list`, 'POST')[0].body).ids).toHaveLength(5);
    jira.advance(1_000);
    jira.editWorklog(worklogs.items[1].id, { timeSpentSeconds: 60 });
    jira.requests.length = 0;
    const again = await collect(connector, 'worklogs', { ...token(), cursor: worklogs.cursor });
    expect(again.items.map((i) => json(i).timeSpentSeconds)).toEqual([60]);
    expect(jira.requestsTo(`${jira.apiPrefix}/worklog/updated`)[0].query.get('since')).toBe(String((worklogs.cursor as { since: number }).since));
  });

  it('spreads the budget once X-RateLimit-NearLimit is set, holds until X-RateLimit-Reset when it is spent, and waits out a 429 Retry-After', async () => {
    jira.setRateLimit(2, 2);
    const resetAt = jira.rate.resetAt;
    await collect(connector, 'projects', token());
    await collect(connector, 'worklogs', token());
    expect(jira.overLimit).toEqual([]);
    expect(jira.requests[2].at).toBeGreaterThanOrEqual(resetAt);

    jira.requests.length = 0;
    jira.failNext({ status: 429, match: (r) => r.path.endsWith('/users/search') });
    await collect(connector, 'users', token());
    const [limited, retried] = jira.requestsTo(`${jira.apiPrefix}/users/search`);
    expect([limited.status, retried.status]).toEqual([429, 200]);
    expect(retried.at).toBeGreaterThanOrEqual(limited.retryAllowedAt!);
    expect(jira.earlyRetries).toEqual([]);
  });

  it('refreshes an expired token once; a refused one is an AuthError; errorMessages and errors surface', async () => {
    const expired = tokenCredentials('accessToken', 'jira-expired', 'jira-valid');
    expect((await collect(connector, 'projects', expired)).items).toHaveLength(55);
    expect(expired.state.refreshes).toBe(1);

    const revoked = tokenCredentials('accessToken', 'jira-revoked');
    const error = await collect(connector, 'projects', revoked).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as Error).message).toBe('Jira answered 401: Unauthorized');

    jira.failNext({ status: 400, body: { errorMessages: ["The value 'NOPE' does not exist for the field 'project'."], errors: {} }, match: (r) => r.path.endsWith('/search/jql') });
    const bad = await collect(connector, 'issues', token()).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(PlatformError);
    expect((bad as Error).message).toBe("Jira answered 400: The value 'NOPE' does not exist for the field 'project'.");
    jira.failNext({ status: 400, match: (r) => r.path.endsWith('/project/search') });
    const field = await collect(connector, 'projects', token()).catch((e: unknown) => e);
    expect(field).toMatchObject({ platformCode: 'summary', message: 'Jira answered 400: summary: You must specify a summary of the issue.' });
  });

  it('restores issues: an edited one put back in place, a deleted one recreated with its comments', async () => {
    const backup = await collect(connector, 'issues', token());
    const original = (key: string) => backup.items.find((i) => i.metadata.key === key)!;
    jira.editIssue('API-12', { summary: 'Vandalised', labels: [] });
    const gone = jira.issues.find((i) => i.key === 'API-2')!;
    jira.issues.splice(jira.issues.indexOf(gone), 1);
    const result = await restoreResource(connector, 'issues', items([original('API-12'), original('API-2')]), { ...token(), retry: FAST_RETRY });
    expect(result.restored).toBe(2);
    expect(jira.issues.find((i) => i.key === 'API-12')!.fields).toMatchObject({ summary: 'Issue 12', labels: ['bug'], description: adf('About Issue 12') });
    const recreated = jira.issues.at(-1)!;
    expect(recreated.key).not.toBe('API-2');
    expect(recreated.fields).toMatchObject({ summary: 'Issue 2', project: { key: 'API' }, description: adf('About Issue 2') });
    expect(jira.comments.get(recreated.id)!.map((c) => c.body)).toEqual(Array.from({ length: 60 }, (_, i) => adf(`Comment ${i + 1}`)));

    const error = await restoreResource(connector, 'issues', items([original('API-12')]), { ...tokenCredentials('accessToken', 'jira-readonly'), retry: FAST_RETRY }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('write:jira-work');
    await expect(restoreResource(connector, 'projects', items([]), token())).rejects.toBeInstanceOf(ConfigError);
  });
});

async function* items(collected: CollectedItem[]): AsyncGenerator<RestoreItem, void, undefined> {
  for (const item of collected) {
    yield { id: item.id, path: item.path, metadata: item.metadata, content: async function* () { yield item.body; } };
  }
}
