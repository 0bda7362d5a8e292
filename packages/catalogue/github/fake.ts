/**
 * A fake of the GitHub REST API (v3, 2022-11-28) for the endpoints the connector uses:
 * GET /user/repos, /repos/{owner}/{repo}/issues, /pulls, /releases. Speaks the documented wire
 * format: page/per_page with `Link` headers (first/prev/next/last), `x-ratelimit-*` on every
 * answer, 403 + `x-ratelimit-remaining: 0` once the quota is spent, `{"message":"Bad credentials"}`
 * on 401, 403 without a User-Agent.
 */
import type { ServerResponse } from 'node:http';
import { FakeServer, isoSeconds, tokenOf, type ErrorAnswer, type Failure, type RecordedRequest } from '../testing/fake-server.ts';

const DOCS = 'https://docs.github.com/rest';

export interface FakeRepo {
  id: number;
  name: string;
  full_name: string;
  owner: { login: string; id: number; type: string };
  private: boolean;
  description: string | null;
  html_url: string;
  default_branch: string;
  has_issues: boolean;
  created_at: string;
  updated_at: string;
  pushed_at: string;
}

export interface FakeIssue {
  id: number;
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  user: { login: string; id: number };
  labels: { id: number; name: string }[];
  comments: number;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  html_url: string;
  pull_request?: { url: string; html_url: string };
}

export interface FakePull {
  id: number;
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  user: { login: string; id: number };
  head: { ref: string; sha: string };
  base: { ref: string; sha: string };
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  merged_at: string | null;
  html_url: string;
}

export interface FakeRelease {
  id: number;
  tag_name: string;
  name: string;
  body: string;
  draft: boolean;
  prerelease: boolean;
  created_at: string;
  published_at: string;
  assets: unknown[];
}

interface RepoState {
  repo: FakeRepo;
  issues: FakeIssue[];
  pulls: FakePull[];
  releases: FakeRelease[];
}

export class FakeGitHub extends FakeServer {
  readonly tokens = new Set<string>(['ghp_valid']);
  readonly repos: RepoState[] = [];
  rateLimit = { limit: 5000, remaining: 5000, resetAt: 0 };
  #nextId = 1000;

  /** Spend the quota: after `remaining` more requests, answers are 403 until `resetInSeconds` from now. */
  setRateLimit(remaining: number, resetInSeconds: number): void {
    this.rateLimit = { limit: 5000, remaining, resetAt: Math.ceil(this.now() / 1000) + resetInSeconds };
  }

  addRepo(fullName: string, extra: Partial<FakeRepo> = {}): FakeRepo {
    const [login, name] = fullName.split('/');
    const at = isoSeconds(this.now());
    const repo: FakeRepo = {
      id: this.#nextId++,
      name,
      full_name: fullName,
      owner: { login, id: 1, type: 'User' },
      private: false,
      description: `The ${name} repository`,
      html_url: `https://github.com/${fullName}`,
      default_branch: 'main',
      has_issues: true,
      created_at: at,
      updated_at: at,
      pushed_at: at,
      ...extra,
    };
    this.repos.push({ repo, issues: [], pulls: [], releases: [] });
    return repo;
  }

  addIssue(fullName: string, title: string, extra: Partial<FakeIssue> = {}): FakeIssue {
    const state = this.#repo(fullName);
    const number = state.issues.length + 1;
    const at = isoSeconds(this.now());
    const issue: FakeIssue = {
      id: this.#nextId++,
      number,
      title,
      body: `Body of ${title}`,
      state: 'open',
      user: { login: 'octocat', id: 1 },
      labels: [],
      comments: 0,
      created_at: at,
      updated_at: at,
      closed_at: null,
      html_url: `https://github.com/${fullName}/issues/${number}`,
      ...extra,
    };
    state.issues.push(issue);
    return issue;
  }

  updateIssue(fullName: string, number: number, patch: Partial<FakeIssue>): FakeIssue {
    const issue = this.#repo(fullName).issues.find((i) => i.number === number)!;
    Object.assign(issue, patch, { updated_at: isoSeconds(this.now()) });
    return issue;
  }

  /** A pull request is also an issue, as on GitHub. */
  addPull(fullName: string, title: string): FakePull {
    const state = this.#repo(fullName);
    const issue = this.addIssue(fullName, title, {
      pull_request: { url: `https://api.github.com/repos/${fullName}/pulls/${state.issues.length + 1}`, html_url: `https://github.com/${fullName}/pull/${state.issues.length + 1}` },
    });
    const pull: FakePull = {
      id: this.#nextId++,
      number: issue.number,
      title,
      body: issue.body,
      state: 'open',
      user: issue.user,
      head: { ref: `feature-${issue.number}`, sha: 'a'.repeat(40) },
      base: { ref: 'main', sha: 'b'.repeat(40) },
      created_at: issue.created_at,
      updated_at: issue.updated_at,
      closed_at: null,
      merged_at: null,
      html_url: `https://github.com/${fullName}/pull/${issue.number}`,
    };
    state.pulls.push(pull);
    return pull;
  }

  updatePull(fullName: string, number: number, patch: Partial<FakePull>): FakePull {
    const state = this.#repo(fullName);
    const pull = state.pulls.find((p) => p.number === number)!;
    const at = isoSeconds(this.now());
    Object.assign(pull, patch, { updated_at: at });
    const issue = state.issues.find((i) => i.number === number)!;
    issue.updated_at = at;
    return pull;
  }

  addRelease(fullName: string, tag: string): FakeRelease {
    const at = isoSeconds(this.now());
    const release: FakeRelease = { id: this.#nextId++, tag_name: tag, name: `Release ${tag}`, body: `Notes for ${tag}`, draft: false, prerelease: false, created_at: at, published_at: at, assets: [] };
    this.#repo(fullName).releases.push(release);
    return release;
  }

  #repo(fullName: string): RepoState {
    const state = this.repos.find((r) => r.repo.full_name === fullName);
    if (!state) throw new Error(`no fake repo ${fullName}`);
    return state;
  }

  #rateHeaders(): Record<string, string> {
    const nowSeconds = Math.floor(this.now() / 1000);
    if (this.rateLimit.resetAt <= nowSeconds) this.rateLimit = { limit: this.rateLimit.limit, remaining: this.rateLimit.limit, resetAt: nowSeconds + 3600 };
    return {
      'x-ratelimit-limit': String(this.rateLimit.limit),
      'x-ratelimit-remaining': String(this.rateLimit.remaining),
      'x-ratelimit-reset': String(this.rateLimit.resetAt),
      'x-ratelimit-used': String(this.rateLimit.limit - this.rateLimit.remaining),
      'x-ratelimit-resource': 'core',
      'x-github-api-version-selected': '2022-11-28',
    };
  }

  protected errorAnswer(status: number, _failure: Failure): ErrorAnswer {
    const message: Record<number, string> = {
      401: 'Bad credentials',
      403: 'Resource not accessible by personal access token',
      404: 'Not Found',
      422: 'Validation Failed',
      429: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
    };
    if (status >= 500) return { status, body: status === 503 ? { message: 'Service Unavailable' } : 'Server Error' };
    return { status, body: { message: message[status] ?? 'Error', documentation_url: DOCS }, headers: this.#rateHeaders() };
  }

  protected route(request: RecordedRequest, res: ServerResponse): void {
    if (!request.headers['user-agent']) {
      this.answer(request, res, 403, 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required).');
      return;
    }
    const token = tokenOf(request);
    if (!token || !this.tokens.has(token)) {
      this.answer(request, res, 401, { message: 'Bad credentials', documentation_url: DOCS, status: '401' });
      return;
    }
    const headers = this.#rateHeaders();
    if (this.rateLimit.remaining <= 0) {
      request.retryAllowedAt = this.rateLimit.resetAt * 1000;
      this.answer(request, res, 403, { message: 'API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api' }, headers);
      return;
    }
    this.rateLimit.remaining--;
    Object.assign(headers, this.#rateHeaders());

    const parts = request.path.split('/').filter(Boolean);
    if (request.method === 'GET' && request.path === '/user/repos') {
      this.#list(request, res, this.repos.map((r) => r.repo), headers);
      return;
    }
    if (request.method === 'GET' && parts[0] === 'repos' && parts.length === 4) {
      const state = this.repos.find((r) => r.repo.full_name === `${parts[1]}/${parts[2]}`);
      if (!state) {
        this.answer(request, res, 404, { message: 'Not Found', documentation_url: DOCS }, headers);
        return;
      }
      if (parts[3] === 'issues') {
        if (!state.repo.has_issues) {
          this.answer(request, res, 410, { message: 'Issues are disabled for this repo', documentation_url: DOCS }, headers);
          return;
        }
        let issues = filterState(state.issues, request.query.get('state'));
        const since = request.query.get('since');
        if (since) issues = issues.filter((i) => Date.parse(i.updated_at) >= Date.parse(since));
        this.#list(request, res, sortBy(issues, request.query.get('sort') ?? 'created', request.query.get('direction')), headers);
        return;
      }
      if (parts[3] === 'pulls') {
        const pulls = filterState(state.pulls, request.query.get('state'));
        this.#list(request, res, sortBy(pulls, request.query.get('sort') ?? 'created', request.query.get('direction')), headers);
        return;
      }
      if (parts[3] === 'releases') {
        this.#list(request, res, [...state.releases].sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id - a.id), headers);
        return;
      }
    }
    this.answer(request, res, 404, { message: 'Not Found', documentation_url: DOCS }, headers);
  }

  #list(request: RecordedRequest, res: ServerResponse, all: unknown[], headers: Record<string, string>): void {
    const perPage = Math.min(100, Math.max(1, Number(request.query.get('per_page') ?? 30)));
    const page = Math.max(1, Number(request.query.get('page') ?? 1));
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const link = (n: number, rel: string) => {
      const query = new URLSearchParams(request.query);
      query.set('page', String(n));
      query.set('per_page', String(perPage));
      return `<${this.url}${request.path}?${query}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page > 1) links.push(link(page - 1, 'prev'));
    if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
    if (page > 1) links.push(link(1, 'first'));
    const extra: Record<string, string> = links.length ? { link: links.join(', ') } : {};
    this.answer(request, res, 200, all.slice((page - 1) * perPage, page * perPage), { ...headers, ...extra });
  }
}

function filterState<T extends { state: string }>(items: T[], state: string | null): T[] {
  if (state === 'all') return [...items];
  return items.filter((i) => i.state === (state ?? 'open'));
}

function sortBy<T extends { created_at: string; updated_at: string; number: number }>(items: T[], sort: string, direction: string | null): T[] {
  const key = sort === 'updated' ? 'updated_at' : 'created_at';
  const sign = (direction ?? 'desc') === 'asc' ? 1 : -1;
  return [...items].sort((a, b) => sign * (a[key].localeCompare(b[key]) || a.number - b.number));
}
