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
    jira.addWorklog('APP-1', 3600);
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
      change() {
        jira.advance(120_000);
        jira.editIssue('APP-2', { summary: 'Renamed' });
        return { resource: 'issues', path: 'issues/APP/APP-2.json' };
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
