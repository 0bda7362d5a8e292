/**
 * A fake of the Jira Cloud REST API v3 as OAuth apps reach it
 * (`/ex/jira/{cloudId}/rest/api/3/...`), for what the connector uses: the enhanced JQL search
 * (`search/jql`), issues (read, edit, create) with their comments (list, add) and attachment
 * content, projects (`project/search`), users (`users/search`), worklogs (`worklog/updated`,
 * `worklog/list`) and `myself`. Speaks the documented wire format:
 *
 * - `search/jql` pages with `nextPageToken` / `isLast`, refuses an unbounded query, and reads
 *   `updated >= "yyyy-MM-dd HH:mm"` in the user's time zone (`myself.timeZone`); `fields` and
 *   `maxResults` (at most 100 with every field); at most 20 comments ride along in
 *   `fields.comment`, the rest come from the comment endpoint (`startAt` / `maxResults` / `total`);
 * - `project/search` with `startAt` / `maxResults` / `isLast`, `users/search` a plain array;
 *   `worklog/updated` with `since` / `until` / `lastPage` / `nextPage` (epoch ms);
 * - `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (ISO 8601) and
 *   `X-RateLimit-NearLimit` (under a fifth left) on every answer; once spent, a 429 with
 *   `Retry-After` and `RateLimit-Reason` (`overLimit` counts them);
 * - errors as `{"errorMessages": [...], "errors": {...}}`; a refused or expired token as the
 *   gateway's `{"code": 401, "message": "Unauthorized"}`.
 */
import type { ServerResponse } from 'node:http';
import { generatedBytes } from '../testing/content.ts';
import { FakeServer, tokenOf, type ErrorAnswer, type Failure, type RecordedRequest } from '../testing/fake-server.ts';

type Json = Record<string, any>;

const EMBEDDED_COMMENTS = 20;

/** Jira's timestamp format: milliseconds and a numeric offset (`2026-12-03T10:00:00.123+0000`). */
export function jiraTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** Epoch ms of a wall-clock `yyyy-MM-dd HH:mm` in a time zone. */
export function zonedToEpoch(local: string, timeZone: string): number {
  const [date, time] = local.split(' ');
  const [y, m, d] = date.split('-').map(Number);
  const [hh, mm] = time.split(':').map(Number);
  const guess = Date.UTC(y, m - 1, d, hh, mm);
  const offset = (at: number) => {
    const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(at).map((p) => [p.type, p.value]));
    return Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second)) - at;
  };
  const first = guess - offset(guess);
  return guess - offset(first);
}

export class FakeJira extends FakeServer {
  readonly tokens = new Set<string>(['jira-valid']);
  /** Access tokens past their hour. */
  readonly expired = new Set<string>(['jira-expired']);
  /** Tokens granted read scopes only: writes are refused. */
  readonly readOnly = new Set<string>(['jira-readonly']);
  timeZone = 'Australia/Sydney';
  readonly projects: Json[] = [];
  readonly issues: Json[] = [];
  readonly comments = new Map<string, Json[]>();
  readonly worklogs: Json[] = [];
  readonly users: Json[] = [];
  readonly attachments = new Map<string, { size: number; mimeType: string }>();
  /** Most issues a search page holds, whatever `maxResults` asks. */
  maxSearchPage = 100;
  /** Most comments a comment page holds. */
  maxCommentPage = 50;
  rate = { limit: 1000, remaining: 1000, resetAt: 0 };
  readonly overLimit: RecordedRequest[] = [];
  #nextId = 10_000;

  #at(): string {
    return jiraTime(this.now());
  }

  get apiPrefix(): string {
    return '/ex/jira/cloud-1/rest/api/3';
  }

  addUser(displayName: string): Json {
    const accountId = `5b10ac8d82e05b22cc7d${String(++this.#nextId).padStart(4, '0')}`;
    const user = { accountId, accountType: 'atlassian', displayName, active: true, emailAddress: `${displayName.toLowerCase().replace(/\W+/g, '.')}@example.com`, timeZone: this.timeZone, self: `${this.url}${this.apiPrefix}/user?accountId=${accountId}` };
    this.users.push(user);
    return user;
  }

  addProject(key: string, name: string): Json {
    const id = String(++this.#nextId);
    const project = { id, key, name, self: `${this.url}${this.apiPrefix}/project/${id}`, projectTypeKey: 'software', simplified: false, style: 'classic', description: `The ${name} project`, issueTypes: [{ id: '10001', name: 'Task' }, { id: '10002', name: 'Bug' }] };
    this.projects.push(project);
    return project;
  }

  addIssue(projectKey: string, summary: string, extra: Json = {}): Json {
    const project = this.projects.find((p) => p.key === projectKey)!;
    const id = String(++this.#nextId);
    const number = this.issues.filter((i) => i.fields.project.key === projectKey).reduce((max, i) => Math.max(max, Number(i.key.split('-')[1])), 0) + 1;
    const at = this.#at();
    const issue = {
      id,
      key: `${projectKey}-${number}`,
      self: `${this.url}${this.apiPrefix}/issue/${id}`,
      fields: {
        summary,
        description: adf(`About ${summary}`),
        project: { id: project.id, key: project.key, name: project.name },
        issuetype: { id: '10001', name: 'Task' },
        status: { id: '1', name: 'To Do' },
        labels: [],
        priority: { id: '3', name: 'Medium' },
        attachment: [],
        created: at,
        updated: at,
        ...extra,
      },
    };
    this.issues.push(issue);
    this.comments.set(id, []);
    return issue;
  }

  editIssue(key: string, fields: Json): Json {
    const issue = this.issues.find((i) => i.key === key)!;
    Object.assign(issue.fields, fields, { updated: this.#at() });
    return issue;
  }

  addComment(key: string, text: string): Json {
    const issue = this.issues.find((i) => i.key === key)!;
    const at = this.#at();
    const comment = { id: String(++this.#nextId), self: `${issue.self}/comment/${this.#nextId}`, author: { accountId: this.users[0]?.accountId, displayName: this.users[0]?.displayName }, body: adf(text), created: at, updated: at };
    this.comments.get(issue.id)!.push(comment);
    issue.fields.updated = at;
    return comment;
  }

  addAttachment(key: string, filename: string, size: number, mimeType = 'application/octet-stream'): Json {
    const issue = this.issues.find((i) => i.key === key)!;
    const id = String(++this.#nextId);
    this.attachments.set(id, { size, mimeType });
    const attachment = { id, self: `${this.url}${this.apiPrefix}/attachment/${id}`, filename, size, mimeType, created: this.#at(), content: `https://acme.atlassian.net/rest/api/3/attachment/content/${id}` };
    issue.fields.attachment.push(attachment);
    issue.fields.updated = this.#at();
    return attachment;
  }

  addWorklog(key: string, seconds: number): Json {
    const issue = this.issues.find((i) => i.key === key)!;
    const at = this.#at();
    const worklog = { id: String(++this.#nextId), issueId: issue.id, self: `${issue.self}/worklog/${this.#nextId}`, timeSpentSeconds: seconds, started: at, created: at, updated: at, updatedMs: this.now() };
    this.worklogs.push(worklog);
    return worklog;
  }

  editWorklog(id: string, patch: Json): Json {
    const worklog = this.worklogs.find((w) => w.id === id)!;
    return Object.assign(worklog, patch, { updated: this.#at(), updatedMs: this.now() });
  }

  /** Spend the budget: after `remaining` more requests, 429 until `resetInSeconds` from now. */
  setRateLimit(remaining: number, resetInSeconds: number): void {
    this.rate = { limit: this.rate.limit, remaining, resetAt: this.now() + resetInSeconds * 1000 };
  }

  protected errorAnswer(status: number, _failure: Failure): ErrorAnswer {
    if (status === 401) return { status, body: { code: 401, message: 'Unauthorized' } };
    if (status === 429) return { status, body: { errorMessages: ['Rate limit exceeded.'], errors: {} }, headers: { 'retry-after': '1', 'ratelimit-reason': 'jira-quota-global-based' } };
    if (status === 403) return { status, body: { errorMessages: ['You do not have permission to perform this operation.'], errors: {} } };
    if (status === 404) return { status, body: { errorMessages: ['Issue does not exist or you do not have permission to see it.'], errors: {} } };
    if (status >= 500) return { status, body: { errorMessages: ['Internal server error'], errors: {} } };
    return { status, body: { errorMessages: [], errors: { summary: 'You must specify a summary of the issue.' } } };
  }

  #rateHeaders(): Record<string, string> {
    if (this.rate.resetAt <= this.now()) this.rate = { limit: this.rate.limit, remaining: this.rate.limit, resetAt: this.now() + 60_000 };
    const headers: Record<string, string> = { 'x-ratelimit-limit': String(this.rate.limit), 'x-ratelimit-remaining': String(this.rate.remaining), 'x-ratelimit-reset': new Date(this.rate.resetAt).toISOString() };
    if (this.rate.remaining < this.rate.limit / 5) headers['x-ratelimit-nearlimit'] = 'true';
    return headers;
  }

  protected route(request: RecordedRequest, res: ServerResponse): undefined {
    const headers = this.#rateHeaders();
    const reply = (status: number, body: unknown, extra: Record<string, string> = {}): undefined => {
      this.answer(request, res, status, body, { ...headers, ...extra });
    };
    const token = tokenOf(request);
    if (!token || this.expired.has(token) || !(this.tokens.has(token) || this.readOnly.has(token))) return reply(401, { code: 401, message: 'Unauthorized' });
    if (this.rate.remaining <= 0) {
      const retryAfter = Math.max(1, Math.ceil((this.rate.resetAt - this.now()) / 1000));
      request.retryAllowedAt = this.rate.resetAt;
      this.overLimit.push(request);
      return reply(429, { errorMessages: ['Rate limit exceeded.'], errors: {} }, { 'retry-after': String(retryAfter), 'ratelimit-reason': 'jira-quota-global-based' });
    }
    this.rate.remaining--;
    Object.assign(headers, this.#rateHeaders());

    if (!request.path.startsWith(`${this.apiPrefix}/`)) return reply(404, { errorMessages: ['Not found'], errors: {} });
    const path = request.path.slice(this.apiPrefix.length + 1);
    const q = request.query;
    const write = request.method === 'POST' && path !== 'worklog/list' ? true : request.method === 'PUT';
    if (write && this.readOnly.has(token)) return reply(401, { code: 401, message: 'Unauthorized; scope does not match' });
    const body = () => {
      try {
        return JSON.parse(request.body || '{}') as Json;
      } catch {
        return undefined;
      }
    };

    if (path === 'myself') return reply(200, { ...this.users[0], timeZone: this.timeZone });
    if (path === 'search/jql' && request.method === 'GET') return this.#search(request, reply);
    if (path === 'project/search') {
      const startAt = Number(q.get('startAt') ?? 0);
      const maxResults = Math.min(50, Number(q.get('maxResults') ?? 50));
      const values = this.projects.slice(startAt, startAt + maxResults);
      const isLast = startAt + maxResults >= this.projects.length;
      return reply(200, { self: `${this.url}${request.path}`, maxResults, startAt, total: this.projects.length, isLast, values, ...(isLast ? {} : { nextPage: `${this.url}${request.path}?startAt=${startAt + maxResults}&maxResults=${maxResults}` }) });
    }
    if (path === 'users/search') {
      const startAt = Number(q.get('startAt') ?? 0);
      const maxResults = Math.min(1000, Number(q.get('maxResults') ?? 50));
      return reply(200, this.users.slice(startAt, startAt + maxResults));
    }
    if (path === 'worklog/updated') {
      const since = Number(q.get('since') ?? 0);
      const page = this.worklogs.filter((w) => w.updatedMs > since).sort((a, b) => a.updatedMs - b.updatedMs).slice(0, 1000);
      const lastPage = page.length < 1000;
      const until = page.at(-1)?.updatedMs ?? since;
      return reply(200, { values: page.map((w) => ({ worklogId: Number(w.id), updatedTime: w.updatedMs, properties: [] })), since, until, self: `${this.url}${request.path}?since=${since}`, lastPage, ...(lastPage ? {} : { nextPage: `${this.url}${request.path}?since=${until}` }) });
    }
    if (path === 'worklog/list' && request.method === 'POST') {
      const ids = body()?.ids;
      if (!Array.isArray(ids) || ids.length > 1000) return reply(400, { errorMessages: ['ids: between 1 and 1000 worklog ids'], errors: {} });
      return reply(200, this.worklogs.filter((w) => ids.includes(Number(w.id))).map(({ updatedMs: _u, ...w }) => w));
    }
    const content = /^attachment\/content\/(\d+)$/.exec(path);
    if (content && request.method === 'GET') {
      const file = this.attachments.get(content[1]);
      if (!file) return reply(404, { errorMessages: ['The attachment with id does not exist'], errors: {} });
      if (q.get('redirect') !== 'false') return reply(303, '', { location: `https://api.media.atlassian.com/file/${content[1]}/binary` });
      request.status = 200;
      res.writeHead(200, { 'content-type': file.mimeType, 'content-length': String(file.size), ...headers });
      for (const piece of generatedBytes(`jira-attachment-${content[1]}`, 0, file.size)) res.write(piece);
      res.end();
      return undefined;
    }
    const comments = /^issue\/([^/]+)\/comment$/.exec(path);
    if (comments) {
      const issue = this.#issue(comments[1]);
      if (!issue) return reply(404, { errorMessages: ['Issue does not exist or you do not have permission to see it.'], errors: {} });
      const list = this.comments.get(issue.id)!;
      if (request.method === 'POST') {
        const input = body();
        if (input?.body?.type !== 'doc') return reply(400, { errorMessages: [], errors: { comment: 'Comment body can not be empty!' } });
        const comment = this.addComment(issue.key, '');
        comment.body = input!.body;
        return reply(201, comment);
      }
      const startAt = Number(q.get('startAt') ?? 0);
      const maxResults = Math.min(this.maxCommentPage, Number(q.get('maxResults') ?? 50));
      return reply(200, { startAt, maxResults, total: list.length, comments: list.slice(startAt, startAt + maxResults) });
    }
    const one = /^issue\/([^/]+)$/.exec(path);
    if (one) {
      const issue = this.#issue(one[1]);
      if (!issue) return reply(404, { errorMessages: ['Issue does not exist or you do not have permission to see it.'], errors: {} });
      if (request.method === 'GET') return reply(200, this.#view(issue, undefined));
      if (request.method !== 'PUT') return reply(405, { errorMessages: ['Method not allowed'], errors: {} });
      const fields = body()?.fields;
      if (!fields || typeof fields !== 'object') return reply(400, { errorMessages: ['No fields to update'], errors: {} });
      const bad = Object.keys(fields).find((name) => !['summary', 'description', 'labels', 'priority', 'duedate', 'assignee'].includes(name));
      if (bad) return reply(400, { errorMessages: [], errors: { [bad]: `Field '${bad}' cannot be set. It is not on the appropriate screen, or unknown.` } });
      this.editIssue(issue.key, fields);
      request.status = 204;
      res.writeHead(204, headers);
      res.end();
      return undefined;
    }
    if (path === 'issue' && request.method === 'POST') {
      const fields = body()?.fields;
      const project = this.projects.find((p) => p.id === fields?.project?.id || p.key === fields?.project?.key);
      if (!fields?.summary) return reply(400, { errorMessages: [], errors: { summary: 'You must specify a summary of the issue.' } });
      if (!project) return reply(400, { errorMessages: [], errors: { project: 'Specify a valid project ID or key' } });
      const { project: _p, issuetype, ...rest } = fields;
      const created = this.addIssue(project.key, fields.summary, { ...rest, issuetype: project.issueTypes.find((t: Json) => t.id === issuetype?.id) ?? project.issueTypes[0] });
      return reply(201, { id: created.id, key: created.key, self: created.self });
    }
    return reply(404, { errorMessages: ['Not found'], errors: {} });
  }

  #issue(idOrKey: string): Json | undefined {
    return this.issues.find((i) => i.id === idOrKey || i.key === idOrKey);
  }

  /** An issue as the API shows it: the first comments in `fields.comment`, only the fields asked for. */
  #view(issue: Json, fields: string[] | undefined): Json {
    const list = this.comments.get(issue.id)!;
    const all = { ...issue.fields, comment: { comments: list.slice(0, EMBEDDED_COMMENTS), maxResults: EMBEDDED_COMMENTS, total: list.length, startAt: 0 } };
    const wanted = !fields || fields.includes('*all') ? all : Object.fromEntries(Object.entries(all).filter(([name]) => fields.includes(name)));
    return { id: issue.id, key: issue.key, self: issue.self, fields: wanted };
  }

  #search(request: RecordedRequest, reply: (status: number, body: unknown) => undefined): undefined {
    const q = request.query;
    const jql = q.get('jql') ?? '';
    const match = /^\s*updated\s*>=\s*"(\d{4}-\d{2}-\d{2} \d{2}:\d{2})"\s*ORDER BY\s+updated\s+ASC\s*(,\s*key\s+ASC\s*)?$/i.exec(jql);
    if (!match) {
      if (!/^\s*updated\s*>=/i.test(jql)) return reply(400, { errorMessages: ['Unbounded JQL queries are not allowed here. Please add a search restriction to your query.'], errors: {} });
      return reply(400, { errorMessages: [`Error in the JQL Query: ${jql}`], errors: {} });
    }
    const since = zonedToEpoch(match[1], this.timeZone);
    const found = this.issues.filter((i) => Date.parse(i.fields.updated) >= since).sort((a, b) => Date.parse(a.fields.updated) - Date.parse(b.fields.updated) || a.key.localeCompare(b.key, 'en', { numeric: true }));
    const maxResults = Math.min(this.maxSearchPage, Number(q.get('maxResults') ?? 50));
    const token = q.get('nextPageToken');
    const offset = token ? Number(Buffer.from(token, 'base64url').toString('utf8').split('|')[1]) : 0;
    if (!Number.isInteger(offset) || offset < 0) return reply(400, { errorMessages: ['The nextPageToken is invalid.'], errors: {} });
    const fields = q.get('fields')?.split(',');
    const page = found.slice(offset, offset + maxResults).map((issue) => this.#view(issue, fields));
    const isLast = offset + maxResults >= found.length;
    return reply(200, { issues: page, isLast, ...(isLast ? {} : { nextPageToken: Buffer.from(`${jql.length}|${offset + maxResults}`).toString('base64url') }) });
  }
}

/** A one-paragraph Atlassian Document Format body. */
export function adf(text: string): Json {
  return { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text }] }] };
}
