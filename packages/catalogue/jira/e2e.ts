import assert from 'node:assert/strict';
import { apiRootAt, definitionOf, json, type E2EPlatform, type Served } from '../testing/e2e.ts';
import { generatedBytes } from '../testing/content.ts';
import { FakeAccount } from '../testing/fake-account.ts';
import { FakeJira } from './fake.ts';

const CLOUD_ID = 'cloud-1';

export default {
  slug: 'jira',
  async start() {
    const definition = definitionOf('jira');
    const jira = await new FakeJira().start();
    jira.account = new FakeAccount({
      definition,
      identity: () => [{ id: CLOUD_ID, name: 'acme', url: 'https://acme.atlassian.net', scopes: definition.oauth2!.scopes, avatarUrl: 'https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png' }],
      accept: (token) => jira.tokens.add(token),
      refuse: (token) => jira.tokens.delete(token),
    });
    // Pages of 2: the search, the comments and the projects take more than one.
    jira.maxSearchPage = 2;
    jira.maxCommentPage = 2;
    jira.addUser('Ada Lovelace');
    jira.addUser('Grace Hopper');
    jira.addProject('APP', 'App');
    jira.addProject('OPS', 'Operations');
    for (let i = 0; i < 4; i++) jira.addIssue('APP', `Task ${i}`);
    jira.addIssue('OPS', 'Rotate keys');
    for (let i = 0; i < 25; i++) jira.addComment('APP-1', `Comment ${i}`);
    jira.addAttachment('APP-2', 'trace.log', 20_000, 'text/plain');
    for (const key of ['APP-1', 'APP-2', 'OPS-1']) jira.addWorklog(key, 3600);
    const summaries = () => jira.issues.map((issue) => ({ key: issue.key, summary: issue.fields.summary, labels: issue.fields.labels }));
    let before: unknown[] = [];
    return {
      apiRoot: apiRootAt(definition, jira.url, { cloudId: CLOUD_ID }),
      account: jira.account,
      origin: jira.url,
      connect: { kind: 'oauth' },
      served() {
        const served = new Map<string, Served>();
        for (const issue of jira.issues) {
          const project = issue.fields.project.key;
          served.set(`issues/${project}/${issue.key}.json`, json({ ...issue, comments: jira.comments.get(issue.id) }));
          for (const attachment of issue.fields.attachment) served.set(`attachments/${project}/${issue.key}/${attachment.id}-${attachment.filename}`, Buffer.concat([...generatedBytes(`jira-attachment-${attachment.id}`, 0, attachment.size)]));
        }
        for (const project of jira.projects) served.set(`projects/${project.key}.json`, json(project));
        for (const user of jira.users) served.set(`users/${user.accountId}.json`, json(user));
        for (const { updatedMs: _served, ...worklog } of jira.worklogs) served.set(`worklogs/${worklog.issueId}/${worklog.id}.json`, json(worklog));
        return served;
      },
      // Worklogs: the restore above wrote every issue back within one minute, the precision of JQL
      // dates, so the next search reads them all again (and keeps them, unchanged).
      incremental: {
        resource: 'worklogs',
        read: () => jira.recordsServed(/\/worklog\/list$/, (body) => body),
        change() {
          jira.advance(120_000);
          const worklog = jira.editWorklog(jira.worklogs[1].id, { timeSpentSeconds: 7200 });
          return `worklogs/${worklog.issueId}/${worklog.id}.json`;
        },
      },
      restore: {
        resource: 'issues',
        damage() {
          before = summaries();
          jira.editIssue('APP-3', { summary: 'Vandalised', labels: ['spam'] });
        },
        check() {
          assert.deepEqual(summaries(), before);
        },
      },
      close: () => jira.close(),
    };
  },
} satisfies E2EPlatform;
