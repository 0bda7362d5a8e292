import { apiRootAt, definitionOf, json, type E2EPlatform, type Served } from '../testing/e2e.ts';
import { FakeAccount } from '../testing/fake-account.ts';
import { FakeGitHub } from './fake.ts';

export default {
  slug: 'github',
  async start() {
    const definition = definitionOf('github');
    const github = await new FakeGitHub().start();
    github.account = new FakeAccount({
      definition,
      identity: () => ({ login: 'octocat', id: 1, type: 'User', name: 'The Octocat' }),
      accept: (token) => github.tokens.add(token),
      refuse: (token) => github.tokens.delete(token),
      tokenPrefix: 'ghu_',
    });
    for (const name of ['octocat/app', 'octocat/docs']) {
      github.addRepo(name);
      // More issues than one page of 100 in the first repository.
      // Made a second apart, as a repository's are (not all at once).
      for (let i = 0; i < (name === 'octocat/app' ? 101 : 2); i++) {
        github.addIssue(name, `Issue ${i} of ${name}`);
        github.advance(1_000);
      }
      github.addPull(name, `A change to ${name}`);
      github.addRelease(name, 'v1.0.0');
    }
    return {
      apiRoot: apiRootAt(definition, github.url),
      account: github.account,
      origin: github.url,
      connect: { kind: 'oauth' },
      served() {
        const served = new Map<string, Served>();
        for (const { repo, issues, pulls, releases } of github.repos) {
          served.set(`repositories/${repo.full_name}.json`, json(repo));
          for (const issue of issues) if (!('pull_request' in issue)) served.set(`issues/${repo.full_name}/${issue.number}.json`, json(issue));
          for (const pull of pulls) served.set(`pull_requests/${repo.full_name}/${pull.number}.json`, json(pull));
          for (const release of releases) served.set(`releases/${repo.full_name}/${release.tag_name}.json`, json(release));
        }
        return served;
      },
      incremental: {
        resource: 'issues',
        read: () => github.recordsServed(/^\/repos\/[^/]+\/[^/]+\/issues$/, (body) => body),
        change() {
          github.advance(120_000);
          const issue = github.updateIssue('octocat/app', 1, { title: 'Renamed' });
          return `issues/octocat/app/${issue.number}.json`;
        },
      },
      close: () => github.close(),
    };
  },
} satisfies E2EPlatform;
