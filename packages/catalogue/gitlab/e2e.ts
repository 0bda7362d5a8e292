import assert from 'node:assert/strict';
import { apiRootAt, definitionOf, json, type E2EPlatform, type Served } from '../testing/e2e.ts';
import { generatedBytes } from '../testing/content.ts';
import { FakeAccount } from '../testing/fake-account.ts';
import { FakeGitLab } from './fake.ts';

export default {
  slug: 'gitlab',
  async start() {
    const definition = definitionOf('gitlab');
    const gitlab = await new FakeGitLab().start();
    gitlab.account = new FakeAccount({
      definition,
      identity: () => ({ id: 1, username: 'root', name: 'Administrator', state: 'active', web_url: 'https://gitlab.com/root' }),
      accept: (token) => gitlab.tokens.add(token),
      refuse: (token) => gitlab.tokens.delete(token),
    });
    const app = gitlab.addProject('acme/app', { repositorySize: 90_000 });
    const docs = gitlab.addProject('acme/docs', { repositorySize: 0, wiki: true });
    // More issues than one page of 100.
    for (let i = 0; i < 101; i++) gitlab.addIssue(app.id, `Issue ${i}`);
    gitlab.addIssue(docs.id, 'Typo', { state: 'closed', closed_at: new Date().toISOString() });
    gitlab.addMergeRequest(app.id, 'Faster start');
    gitlab.addWikiPage(docs.id, 'home', '# Welcome');
    gitlab.addSnippet('hello', 'echo hello');
    const titles = () => [...gitlab.issues.values()].flat().map((issue) => ({ id: issue.id, title: issue.title, state: issue.state }));
    let before: unknown[] = [];
    return {
      apiRoot: apiRootAt(definition, gitlab.url),
      account: gitlab.account,
      origin: gitlab.url,
      connect: { kind: 'oauth' },
      served() {
        const served = new Map<string, Served>();
        for (const project of gitlab.projects) {
          const path = project.path_with_namespace;
          served.set(`projects/${path}/project.json`, json(project));
          const size = gitlab.repositories.get(project.id)!;
          if (size > 0) served.set(`projects/${path}/repository.tar.gz`, Buffer.concat([...generatedBytes(`repo-${project.id}-${project.last_activity_at}`, 0, size)]));
          for (const issue of gitlab.issues.get(project.id)!) served.set(`issues/${path}/${issue.iid}.json`, json(issue));
          // Stored under the resource's name, before the connector's own folder.
          for (const mr of gitlab.mergeRequests.get(project.id)!) served.set(`merge_requests/${path}/${mr.iid}.json`, json(mr));
          for (const page of gitlab.wikis.get(project.id)!) served.set(`wikis/${path}/${page.slug}.json`, json(page));
        }
        for (const snippet of gitlab.snippets) served.set(`snippets/${snippet.id}.json`, json(snippet));
        return served;
      },
      incremental: {
        resource: 'issues',
        read: () => gitlab.recordsServed(/\/issues$/, (body) => body),
        change() {
          gitlab.advance(120_000);
          const issue = gitlab.issues.get(app.id)!.at(-1)!;
          gitlab.editIssue(app.id, issue.iid, { title: 'Renamed' });
          return `issues/${app.path_with_namespace}/${issue.iid}.json`;
        },
      },
      restore: {
        resource: 'issues',
        damage() {
          before = titles();
          for (const issue of gitlab.issues.get(app.id)!.slice(0, 3)) gitlab.editIssue(app.id, issue.iid, { title: 'Vandalised', state: 'closed' });
        },
        check() {
          assert.deepEqual(titles(), before);
        },
      },
      close: () => gitlab.close(),
    };
  },
} satisfies E2EPlatform;
