/**
 * A fake of the GitLab REST API v4 under /api/v4 for what the connector uses: projects (keyset
 * pagination), project issues (list, read, create, edit) and merge requests (offset pagination),
 * wikis, the repository archive, and the user's snippets with their raw content. Speaks the
 * documented wire format:
 *
 * - `Link` headers (`rel="next"`, and `first`/`last` for offset pages), `X-Next-Page`, `X-Total`;
 *   keyset pages (`pagination=keyset`) carry only `rel="next"`;
 * - `updated_after` inclusive, ISO timestamps with milliseconds;
 * - `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (epoch seconds) on every answer;
 *   once spent, a 429 `Retry later` with `Retry-After` (`overLimit` counts them);
 * - `{"message": "401 Unauthorized"}`, an expired OAuth token
 *   `{"error": "invalid_token", "error_description": "Token is expired. …"}`, a write without
 *   the api scope `{"error": "insufficient_scope", …}` (403), `{"message": "404 Project Not Found"}`.
 */
import type { ServerResponse } from 'node:http';
import { generatedBytes } from '../testing/content.ts';
import { FakeServer, type ErrorAnswer, type Failure, type RecordedRequest } from '../testing/fake-server.ts';

type Json = Record<string, any>;

export class FakeGitLab extends FakeServer {
  /** Personal access tokens (PRIVATE-TOKEN) and OAuth tokens (Bearer) with the api scope. */
  readonly tokens = new Set<string>(['glpat-valid-token-0000000000', 'gl-oauth-valid']);
  /** OAuth tokens past their two hours. */
  readonly expired = new Set<string>(['gl-oauth-expired']);
  /** Tokens with read_api only: writes are refused. */
  readonly readOnly = new Set<string>(['glpat-readonly-token-00000000']);
  readonly projects: Json[] = [];
  readonly issues = new Map<number, Json[]>();
  readonly mergeRequests = new Map<number, Json[]>();
  readonly wikis = new Map<number, Json[]>();
  readonly snippets: Json[] = [];
  /** Repository archive size per project (0: an empty repository). */
  readonly repositories = new Map<number, number>();
  rate = { limit: 2000, remaining: 2000, resetAt: 0 };
  readonly overLimit: RecordedRequest[] = [];
  #nextId = 100;

  #at(): string {
    return new Date(this.now()).toISOString();
  }

  addProject(path: string, options: { repositorySize?: number; wiki?: boolean } = {}): Json {
    const id = ++this.#nextId;
    const [namespace, name] = path.split('/');
    const at = this.#at();
    const project = { id, name, path: name, path_with_namespace: path, namespace: { id: 1, full_path: namespace }, description: `The ${name} project`, default_branch: 'main', visibility: 'private', wiki_enabled: options.wiki ?? true, issues_enabled: true, merge_requests_enabled: true, empty_repo: (options.repositorySize ?? 1000) === 0, created_at: at, last_activity_at: at, web_url: `https://gitlab.com/${path}` };
    this.projects.push(project);
    this.issues.set(id, []);
    this.mergeRequests.set(id, []);
    this.wikis.set(id, []);
    this.repositories.set(id, options.repositorySize ?? 1000);
    return project;
  }

  addIssue(projectId: number, title: string, extra: Json = {}): Json {
    const list = this.issues.get(projectId)!;
    const at = this.#at();
    const iid = list.reduce((max, i) => Math.max(max, i.iid), 0) + 1;
    const issue = { id: ++this.#nextId, iid, project_id: projectId, title, description: `About ${title}`, state: 'opened', labels: [], confidential: false, due_date: null, author: { id: 1, username: 'root' }, assignees: [], created_at: at, updated_at: at, closed_at: null, web_url: `https://gitlab.com/p/-/issues/${iid}`, ...extra };
    list.push(issue);
    return issue;
  }

  editIssue(projectId: number, iid: number, patch: Json): Json {
    const issue = this.issues.get(projectId)!.find((i) => i.iid === iid)!;
    return Object.assign(issue, patch, { updated_at: this.#at() });
  }

  addMergeRequest(projectId: number, title: string): Json {
    const list = this.mergeRequests.get(projectId)!;
    const at = this.#at();
    const mr = { id: ++this.#nextId, iid: list.length + 1, project_id: projectId, title, description: '', state: 'opened', source_branch: `feature-${list.length + 1}`, target_branch: 'main', created_at: at, updated_at: at, merged_at: null };
    list.push(mr);
    return mr;
  }

  addWikiPage(projectId: number, slug: string, content: string): Json {
    const page = { slug, title: slug, format: 'markdown', content, encoding: 'UTF-8' };
    this.wikis.get(projectId)!.push(page);
    return page;
  }

  addSnippet(title: string, content: string): Json {
    const snippet = { id: ++this.#nextId, title, file_name: `${title}.txt`, description: null, visibility: 'private', author: { id: 1, username: 'root' }, created_at: this.#at(), updated_at: this.#at(), web_url: 'https://gitlab.com/-/snippets/1', raw_url: '', content };
    this.snippets.push(snippet);
    return snippet;
  }

  /** Spend the quota: after `remaining` more requests, 429 until `resetInSeconds` from now. */
  setRateLimit(remaining: number, resetInSeconds: number): void {
    this.rate = { limit: 2000, remaining, resetAt: Math.ceil(this.now() / 1000) + resetInSeconds };
  }

  protected errorAnswer(status: number, _failure: Failure): ErrorAnswer {
    if (status === 429) return { status, body: 'Retry later\n', headers: { 'retry-after': '1' } };
    const messages: Record<number, string> = { 401: '401 Unauthorized', 403: '403 Forbidden', 404: '404 Not Found', 422: '422 Unprocessable Entity' };
    if (status >= 500) return { status, body: { message: '500 Internal Server Error' } };
    return { status, body: { message: messages[status] ?? `${status}` } };
  }

  #rateHeaders(): Record<string, string> {
    const now = Math.floor(this.now() / 1000);
    if (this.rate.resetAt <= now) this.rate = { limit: this.rate.limit, remaining: this.rate.limit, resetAt: now + 60 };
    return { 'ratelimit-limit': String(this.rate.limit), 'ratelimit-remaining': String(this.rate.remaining), 'ratelimit-reset': String(this.rate.resetAt), 'ratelimit-observed': String(this.rate.limit - this.rate.remaining) };
  }

  protected route(request: RecordedRequest, res: ServerResponse): undefined {
    const headers = this.#rateHeaders();
    const reply = (status: number, body: unknown, extra: Record<string, string> = {}): undefined => {
      this.answer(request, res, status, body, { ...headers, ...extra });
    };
    const privateToken = request.headers['private-token'];
    const bearer = /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ''))?.[1];
    const token = typeof privateToken === 'string' ? privateToken : bearer;
    if (bearer && this.expired.has(bearer)) return reply(401, { error: 'invalid_token', error_description: 'Token is expired. You can either do re-authorization or token refresh.' });
    if (!token || !(this.tokens.has(token) || this.readOnly.has(token))) return reply(401, { message: '401 Unauthorized' });
    if (this.rate.remaining <= 0) {
      const retryAfter = Math.max(1, this.rate.resetAt - Math.floor(this.now() / 1000));
      request.retryAllowedAt = this.rate.resetAt * 1000;
      this.overLimit.push(request);
      return reply(429, 'Retry later\n', { 'retry-after': String(retryAfter) });
    }
    this.rate.remaining--;
    Object.assign(headers, this.#rateHeaders());

    const prefix = '/api/v4/';
    if (!request.path.startsWith(prefix)) return reply(404, { message: '404 Not Found' });
    const parts = request.path.slice(prefix.length).split('/').map(decodeURIComponent);
    const q = request.query;
    const write = request.method === 'POST' || request.method === 'PUT';
    if (write && this.readOnly.has(token)) return reply(403, { error: 'insufficient_scope', error_description: 'The request requires higher privileges than provided by the access token.', scope: 'api' });

    if (parts[0] === 'projects' && parts.length === 1) return this.#keyset(request, reply, this.projects.filter((p) => !q.get('last_activity_after') || Date.parse(p.last_activity_at) >= Date.parse(q.get('last_activity_after')!)));
    if (parts[0] === 'snippets' && parts.length === 1) return this.#offset(request, reply, this.snippets.map(({ content: _c, ...s }) => s));
    if (parts[0] === 'snippets' && parts[2] === 'raw') {
      const snippet = this.snippets.find((s) => s.id === Number(parts[1]));
      if (!snippet) return reply(404, { message: '404 Snippet Not Found' });
      request.status = 200;
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', ...headers });
      res.end(snippet.content);
      return undefined;
    }
    if (parts[0] !== 'projects') return reply(404, { message: '404 Not Found' });
    const project = this.projects.find((p) => String(p.id) === parts[1] || p.path_with_namespace === parts[1]);
    if (!project) return reply(404, { message: '404 Project Not Found' });
    const id = project.id as number;
    const route = `${request.method} ${parts.slice(2).map((p, i) => (i === 1 && /^\d+$/.test(p) ? ':n' : p)).join('/')}`;
    const since = (list: Json[]) => {
      const after = q.get('updated_after');
      const filtered = after ? list.filter((i) => Date.parse(i.updated_at) >= Date.parse(after)) : [...list];
      const sign = q.get('sort') === 'asc' ? 1 : -1;
      const key = q.get('order_by') === 'updated_at' ? 'updated_at' : 'created_at';
      return filtered.sort((a, b) => sign * (a[key].localeCompare(b[key]) || a.id - b.id));
    };
    switch (route) {
      case 'GET issues':
        return this.#offset(request, reply, since(this.issues.get(id)!));
      case 'GET merge_requests': {
        const state = q.get('state') ?? 'all';
        return this.#offset(request, reply, since(this.mergeRequests.get(id)!.filter((m) => state === 'all' || m.state === state)));
      }
      case 'GET issues/:n': {
        const issue = this.issues.get(id)!.find((i) => i.iid === Number(parts[3]));
        return issue ? reply(200, issue) : reply(404, { message: '404 Not found' });
      }
      case 'POST issues':
      case 'PUT issues/:n': {
        let body: Json;
        try {
          body = JSON.parse(request.body || '{}');
        } catch {
          return reply(400, { message: 'Invalid JSON' });
        }
        if (route === 'POST issues' && !body.title) return reply(400, { error: 'title is missing' });
        const fields: Json = {};
        for (const name of ['title', 'description', 'confidential', 'due_date']) if (body[name] !== undefined) fields[name] = body[name];
        if (body.labels !== undefined) fields.labels = String(body.labels).split(',').filter(Boolean);
        if (body.state_event === 'close') Object.assign(fields, { state: 'closed', closed_at: this.#at() });
        if (body.state_event === 'reopen') Object.assign(fields, { state: 'opened', closed_at: null });
        if (route === 'POST issues') return reply(201, this.addIssue(id, String(body.title), fields));
        const issue = this.issues.get(id)!.find((i) => i.iid === Number(parts[3]));
        if (!issue) return reply(404, { message: '404 Not found' });
        return reply(200, this.editIssue(id, issue.iid, fields));
      }
      case 'GET wikis':
        if (!project.wiki_enabled) return reply(403, { message: '403 Forbidden' });
        return reply(200, this.wikis.get(id)!.map((page) => (q.get('with_content') === '1' ? page : { slug: page.slug, title: page.title, format: page.format })));
      case 'GET repository/archive.tar.gz': {
        const size = this.repositories.get(id)!;
        if (size === 0) return reply(404, { message: '404 Repository Not Found' });
        request.status = 200;
        res.writeHead(200, { 'content-type': 'application/x-gzip', 'content-length': String(size), 'content-disposition': `attachment; filename="${project.path}-main.tar.gz"`, ...headers });
        for (const piece of generatedBytes(`repo-${id}-${project.last_activity_at}`, 0, size)) res.write(piece);
        res.end();
        return undefined;
      }
      default:
        return reply(404, { message: '404 Not Found' });
    }
  }

  /** Keyset pagination: `id_after` in the next link, only `rel="next"`. */
  #keyset(request: RecordedRequest, reply: (status: number, body: unknown, extra?: Record<string, string>) => undefined, all: Json[]): undefined {
    const q = request.query;
    if (q.get('pagination') !== 'keyset') return this.#offset(request, reply, all);
    const perPage = Math.min(100, Number(q.get('per_page') ?? 20));
    const after = Number(q.get('id_after') ?? 0);
    const sorted = [...all].sort((a, b) => a.id - b.id).filter((p) => p.id > after);
    const page = sorted.slice(0, perPage);
    if (sorted.length <= perPage) return reply(200, page);
    const next = new URLSearchParams(q);
    next.set('id_after', String(page.at(-1)!.id));
    return reply(200, page, { link: `<${this.url}${request.path}?${next}>; rel="next"` });
  }

  #offset(request: RecordedRequest, reply: (status: number, body: unknown, extra?: Record<string, string>) => undefined, all: unknown[]): undefined {
    const q = request.query;
    const perPage = Math.min(100, Number(q.get('per_page') ?? 20));
    const page = Math.max(1, Number(q.get('page') ?? 1));
    const pages = Math.max(1, Math.ceil(all.length / perPage));
    const link = (n: number, rel: string) => {
      const query = new URLSearchParams(q);
      query.set('page', String(n));
      return `<${this.url}${request.path}?${query}>; rel="${rel}"`;
    };
    const links = [...(page < pages ? [link(page + 1, 'next')] : []), link(1, 'first'), link(pages, 'last')];
    return reply(200, all.slice((page - 1) * perPage, page * perPage), { link: links.join(', '), 'x-total': String(all.length), 'x-total-pages': String(pages), 'x-page': String(page), 'x-per-page': String(perPage), 'x-next-page': page < pages ? String(page + 1) : '' });
  }
}
