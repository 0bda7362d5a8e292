/**
 * GitHub (REST API v3, version 2022-11-28): repositories, issues, pull requests and releases of
 * every repository the token can see (or the ones named in settings). Pages follow `Link`
 * headers; issues are incremental with `since`, pull requests by walking `sort=updated` newest
 * first until the previous run's high-water mark.
 */
import { z } from 'zod';
import {
  ConfigError,
  ConnectorError,
  type Connector,
  type ConnectorItem,
  type Cursor,
  eachItem,
  type FetchContext,
  HighWaterMark,
  type HighWaterState,
  jsonContent,
  paginateLink,
  type Verdict,
} from '../sdk/index.ts';

export const GITHUB_API_URL = 'https://api.github.com';

const settingsSchema = z.object({
  /** `owner/name` of the repositories to back up; all the token can see when empty. */
  repositories: z.array(z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/name')).optional(),
});
export type GitHubSettings = z.infer<typeof settingsSchema>;

interface Repo {
  id: number;
  full_name: string;
  has_issues?: boolean;
  updated_at?: string;
  private?: boolean;
}
interface Issue {
  id: number;
  number: number;
  title: string;
  state: string;
  updated_at: string;
  pull_request?: unknown;
}
interface Pull {
  id: number;
  number: number;
  title: string;
  state: string;
  updated_at: string;
  merged_at?: string | null;
}
interface Release {
  id: number;
  tag_name: string;
  name: string | null;
  created_at: string;
  published_at?: string | null;
  draft: boolean;
}

export function createGitHubConnector(options: { baseUrl?: string } = {}): Connector<GitHubSettings> {
  return {
    slug: 'github',
    name: 'GitHub',
    authType: 'oauth2',
    settingsSchema,
    resources: [
      { name: 'repositories', incremental: false, description: 'Repository metadata: settings, visibility, default branch, topics.' },
      { name: 'issues', incremental: true, cursor: 'since (updated_at), per repository', description: 'Issues (not pull requests), open and closed.' },
      { name: 'pull_requests', incremental: true, cursor: 'sort=updated, newest first, down to the last run', description: 'Pull requests, open and closed.' },
      { name: 'releases', incremental: false, description: 'Releases and their notes.' },
    ],
    http: {
      platform: 'GitHub',
      baseUrl: options.baseUrl ?? GITHUB_API_URL,
      headers: { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'ListBackup' },
      classify: classifyGitHub,
    },
    async *fetch(resource, ctx) {
      switch (resource) {
        case 'repositories':
          for (const repo of await listRepos(ctx)) {
            yield record(String(repo.id), `repositories/${repo.full_name}.json`, repo, { fullName: repo.full_name, private: repo.private ?? false }, repo.updated_at);
          }
          return undefined;
        case 'issues':
          return yield* fetchIssues(ctx);
        case 'pull_requests':
          return yield* fetchPulls(ctx);
        case 'releases':
          for (const repo of await listRepos(ctx)) {
            for await (const release of eachItem(paginateLink<Release>(ctx.http, `repos/${repo.full_name}/releases`, { query: { per_page: 100 } }))) {
              const meta = { repository: repo.full_name, tag: release.tag_name, name: release.name, draft: release.draft };
              yield record(String(release.id), `releases/${repo.full_name}/${safe(release.tag_name)}.json`, release, meta, release.published_at ?? release.created_at);
            }
          }
          return undefined;
        default:
          throw new ConfigError(`GitHub has no resource ${resource}`);
      }
    },
  };
}

async function* fetchIssues(ctx: FetchContext<GitHubSettings>): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const previous = repoCursors(ctx);
  const next: Record<string, HighWaterState<string>> = {};
  for (const repo of await listRepos(ctx)) {
    if (repo.has_issues === false) continue;
    const mark = new HighWaterMark<string>(previous[repo.full_name]);
    const seen = new Set<number>();
    try {
      const query = { state: 'all', sort: 'updated', direction: 'asc', per_page: 100, since: mark.since };
      for await (const issue of eachItem(paginateLink<Issue>(ctx.http, `repos/${repo.full_name}/issues`, { query }))) {
        if (issue.pull_request !== undefined || seen.has(issue.id) || mark.seenBefore(issue.updated_at, String(issue.id))) continue;
        seen.add(issue.id);
        mark.see(issue.updated_at, String(issue.id));
        const meta = { repository: repo.full_name, number: issue.number, title: issue.title, state: issue.state };
        yield record(String(issue.id), `issues/${repo.full_name}/${issue.number}.json`, issue, meta, issue.updated_at);
      }
    } catch (error) {
      if (error instanceof ConnectorError && error.status === 410) {
        ctx.log.info({ repository: repo.full_name }, 'issues are disabled for this repository');
        continue;
      }
      throw error;
    }
    const state = mark.state();
    if (state) next[repo.full_name] = state;
  }
  return { repos: next };
}

async function* fetchPulls(ctx: FetchContext<GitHubSettings>): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const previous = repoCursors(ctx);
  const next: Record<string, HighWaterState<string>> = {};
  for (const repo of await listRepos(ctx)) {
    const mark = new HighWaterMark<string>(previous[repo.full_name]);
    const seen = new Set<number>();
    const pages = paginateLink<Pull>(ctx.http, `repos/${repo.full_name}/pulls`, { query: { state: 'all', sort: 'updated', direction: 'desc', per_page: 100 } });
    for await (const page of pages) {
      let reachedOld = false;
      for (const pull of page.items) {
        if (mark.since !== undefined && pull.updated_at < mark.since) {
          reachedOld = true;
          break;
        }
        if (seen.has(pull.id) || mark.seenBefore(pull.updated_at, String(pull.id))) continue;
        seen.add(pull.id);
        mark.see(pull.updated_at, String(pull.id));
        const meta = { repository: repo.full_name, number: pull.number, title: pull.title, state: pull.state, merged: Boolean(pull.merged_at) };
        yield record(String(pull.id), `pull_requests/${repo.full_name}/${pull.number}.json`, pull, meta, pull.updated_at);
      }
      if (reachedOld) break;
    }
    const state = mark.state();
    if (state) next[repo.full_name] = state;
  }
  return { repos: next };
}

async function listRepos(ctx: FetchContext<GitHubSettings>): Promise<Repo[]> {
  const repos: Repo[] = [];
  for await (const repo of eachItem(paginateLink<Repo>(ctx.http, 'user/repos', { query: { per_page: 100, sort: 'full_name' } }))) repos.push(repo);
  const wanted = ctx.settings.repositories;
  if (!wanted?.length) return repos;
  const byName = new Map(repos.map((r) => [r.full_name.toLowerCase(), r]));
  const missing = wanted.filter((name) => !byName.has(name.toLowerCase()));
  if (missing.length) throw new ConfigError(`GitHub: the token cannot see ${missing.join(', ')}`);
  return wanted.map((name) => byName.get(name.toLowerCase())!);
}

function repoCursors(ctx: FetchContext<GitHubSettings>): Record<string, HighWaterState<string>> {
  const repos = (ctx.cursor as { repos?: unknown } | undefined)?.repos;
  const result: Record<string, HighWaterState<string>> = {};
  if (repos && typeof repos === 'object') {
    for (const [name, value] of Object.entries(repos)) {
      const state = HighWaterMark.read<string>(value, 'string');
      if (state) result[name] = state;
    }
  } else if (ctx.cursor !== undefined) {
    ctx.log.warn('unreadable cursor, running in full');
  }
  return result;
}

/** GitHub's secondary rate limits answer 403/429 with only a message: wait a minute, as documented. */
function classifyGitHub(info: { status: number; headers: Headers; body: unknown }): Verdict | undefined {
  if (info.status !== 403 && info.status !== 429) return undefined;
  if (info.headers.get('retry-after') !== null || info.headers.get('x-ratelimit-remaining') === '0') return undefined;
  const message = (info.body as { message?: unknown } | undefined)?.message;
  if (typeof message === 'string' && /secondary rate limit|abuse/i.test(message)) return { kind: 'rateLimited', retryAfterMs: 60_000 };
  return undefined;
}

function record(id: string, path: string, value: unknown, metadata: Record<string, unknown>, updatedAt?: string): ConnectorItem {
  return { id, path, updatedAt, contentType: 'application/json', metadata, content: jsonContent(value) };
}

function safe(segment: string): string {
  return segment.replace(/[/\\]/g, '_');
}
