/**
 * A fake of the Zendesk Support and Help Center APIs under /api/v2 for what the connector uses:
 * the incremental exports (tickets and users cursor-based, organizations and help center articles
 * time-based), ticket comments with their attachments, groups, macros, triggers, automations and
 * views, and tickets read, updated and imported. Speaks the documented wire format:
 *
 * - cursor pagination: `page[size]` (at most 100) and `page[after]`, answers with
 *   `meta.has_more`, `meta.after_cursor` and `links.next`;
 * - cursor-based incremental exports: `start_time` (epoch seconds) or `cursor`, `per_page` (at
 *   most 1000), answers with `after_cursor`, `after_url` and `end_of_stream`; time-based ones
 *   answer `next_page`, `end_time` and `end_of_stream`, a page growing past its size to hold every
 *   item of its last second; nothing changed in the last minute is exported yet;
 * - `X-Rate-Limit`, `X-Rate-Limit-Remaining`, `ratelimit-limit`, `ratelimit-remaining`,
 *   `ratelimit-reset` (seconds) on every answer; over the account's limit, or over the incremental
 *   exports' 10 a minute, a 429 `APIRateLimitExceeded` with `Retry-After` (`overLimit` counts them);
 * - errors as `{"error": …, "description": …}` (`RecordNotFound`, `RecordInvalid` with `details`,
 *   `Forbidden`), an unknown token `{"error": "Couldn't authenticate you"}`, an expired OAuth token
 *   `{"error": "invalid_token", "error_description": …}`.
 */
import type { ServerResponse } from 'node:http';
import { generatedBytes } from '../testing/content.ts';
import { FakeServer, isoSeconds, tokenOf, type ErrorAnswer, type Failure, type RecordedRequest } from '../testing/fake-server.ts';

type Json = Record<string, any>;

interface Window {
  limit: number;
  remaining: number;
  /** Epoch seconds by the fake's clock. */
  resetAt: number;
}

export class FakeZendesk extends FakeServer {
  readonly tokens = new Set<string>(['zd-valid']);
  /** OAuth access tokens past their expiry. */
  readonly expired = new Set<string>(['zd-expired']);
  /** Tokens granted `read` only: writes are refused. */
  readonly readOnly = new Set<string>(['zd-readonly']);
  readonly tickets: Json[] = [];
  readonly comments = new Map<number, Json[]>();
  readonly users: Json[] = [];
  readonly organizations: Json[] = [];
  readonly groups: Json[] = [];
  readonly articles: Json[] = [];
  /** Macros, triggers, automations and views by their endpoint. */
  readonly business = new Map<string, Json[]>([['macros', []], ['triggers', []], ['automations', []], ['views', []]]);
  readonly attachments = new Map<string, { size: number; contentType: string }>();
  /** Most items an incremental export page holds, whatever `per_page` asks (tests make pages small). */
  exportPage = 1000;
  rate: Window = { limit: 700, remaining: 700, resetAt: 0 };
  exportRate: Window = { limit: 10, remaining: 10, resetAt: 0 };
  readonly overLimit: RecordedRequest[] = [];
  #nextId = 1000;

  #nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  #stamp(item: Json): Json {
    item.updated_at = isoSeconds(this.now());
    item.generated_timestamp = this.#nowSeconds();
    return item;
  }

  addUser(name: string, extra: Json = {}): Json {
    const id = ++this.#nextId;
    const at = isoSeconds(this.now());
    const user = { id, url: `${this.url}/api/v2/users/${id}.json`, name, email: `${name.toLowerCase().replace(/\W+/g, '.')}@example.com`, role: 'end-user', active: true, organization_id: null, created_at: at, ...extra };
    this.users.push(this.#stamp(user));
    return user;
  }

  addOrganization(name: string): Json {
    const id = ++this.#nextId;
    const org = { id, url: `${this.url}/api/v2/organizations/${id}.json`, name, domain_names: [], details: '', notes: '', tags: [], created_at: isoSeconds(this.now()) };
    this.organizations.push(this.#stamp(org));
    return org;
  }

  addGroup(name: string): Json {
    const id = ++this.#nextId;
    const group = { id, name, description: '', default: false, deleted: false, created_at: isoSeconds(this.now()) };
    this.groups.push(this.#stamp(group));
    return group;
  }

  addBusinessRule(kind: 'macros' | 'triggers' | 'automations' | 'views', title: string): Json {
    const id = ++this.#nextId;
    const rule = { id, title, active: true, actions: [{ field: 'status', value: 'solved' }], position: this.business.get(kind)!.length, created_at: isoSeconds(this.now()) };
    this.business.get(kind)!.push(this.#stamp(rule));
    return rule;
  }

  addArticle(title: string, body: string): Json {
    const id = ++this.#nextId;
    const article = { id, url: `${this.url}/api/v2/help_center/en-us/articles/${id}.json`, title, body, locale: 'en-us', section_id: 1, author_id: 1, draft: false, created_at: isoSeconds(this.now()) };
    this.articles.push(this.#stamp(article));
    return article;
  }

  addTicket(subject: string, requesterId: number, extra: Json = {}): Json {
    const id = this.tickets.reduce((max, t) => Math.max(max, t.id), 0) + 1;
    const at = isoSeconds(this.now());
    const ticket = { id, url: `${this.url}/api/v2/tickets/${id}.json`, subject, description: `About ${subject}`, status: 'open', priority: 'normal', type: 'question', requester_id: requesterId, submitter_id: requesterId, assignee_id: null, group_id: null, organization_id: null, tags: [], custom_fields: [], created_at: at, ...extra };
    this.tickets.push(this.#stamp(ticket));
    this.comments.set(id, []);
    this.addComment(id, requesterId, ticket.description);
    return ticket;
  }

  addComment(ticketId: number, authorId: number, body: string, attachment?: { name: string; size: number; contentType?: string }): Json {
    const id = ++this.#nextId;
    const attachments = [];
    if (attachment) {
      const token = `tok${id}`;
      const contentType = attachment.contentType ?? 'application/octet-stream';
      this.attachments.set(token, { size: attachment.size, contentType });
      attachments.push({ id: ++this.#nextId, file_name: attachment.name, content_url: `${this.url}/attachments/token/${token}/?name=${encodeURIComponent(attachment.name)}`, content_type: contentType, size: attachment.size, inline: false, deleted: false });
    }
    const comment = { id, type: 'Comment', author_id: authorId, body, html_body: `<p>${body}</p>`, plain_body: body, public: true, attachments, created_at: isoSeconds(this.now()) };
    this.comments.get(ticketId)!.push(comment);
    const ticket = this.tickets.find((t) => t.id === ticketId);
    if (ticket) this.#stamp(ticket);
    return comment;
  }

  editTicket(id: number, patch: Json): Json {
    return this.#stamp(Object.assign(this.tickets.find((t) => t.id === id)!, patch));
  }

  editUser(id: number, patch: Json): Json {
    return this.#stamp(Object.assign(this.users.find((u) => u.id === id)!, patch));
  }

  editOrganization(id: number, patch: Json): Json {
    return this.#stamp(Object.assign(this.organizations.find((o) => o.id === id)!, patch));
  }

  editArticle(id: number, patch: Json): Json {
    return this.#stamp(Object.assign(this.articles.find((a) => a.id === id)!, patch));
  }

  /** Spend the account's quota: after `remaining` more requests, 429 until `resetInSeconds` from now. */
  setRateLimit(remaining: number, resetInSeconds: number): void {
    this.rate = { limit: this.rate.limit, remaining, resetAt: this.#nowSeconds() + resetInSeconds };
  }

  protected errorAnswer(status: number, _failure: Failure): ErrorAnswer {
    if (status === 429) return { status, body: { error: 'APIRateLimitExceeded', description: 'Number of allowed API requests per minute exceeded' }, headers: { 'retry-after': '1' } };
    if (status === 401) return { status, body: { error: "Couldn't authenticate you" } };
    if (status === 403) return { status, body: { error: 'Forbidden', description: 'You do not have access to this page. Please contact the account owner of this help desk for further help.' } };
    if (status === 404) return { status, body: { error: 'RecordNotFound', description: 'Not found' } };
    if (status >= 500) return { status, body: { error: 'InternalServerError', description: 'Something went wrong' } };
    return { status, body: { error: 'RecordInvalid', description: 'Record validation errors', details: {} } };
  }

  #refill(window: Window): void {
    const now = this.#nowSeconds();
    if (window.resetAt <= now) Object.assign(window, { remaining: window.limit, resetAt: now + 60 });
  }

  #rateHeaders(): Record<string, string> {
    this.#refill(this.rate);
    const reset = String(Math.max(0, this.rate.resetAt - this.#nowSeconds()));
    const remaining = String(this.rate.remaining);
    return { 'x-rate-limit': String(this.rate.limit), 'x-rate-limit-remaining': remaining, 'ratelimit-limit': String(this.rate.limit), 'ratelimit-remaining': remaining, 'ratelimit-reset': reset };
  }

  protected route(request: RecordedRequest, res: ServerResponse): undefined {
    const headers = this.#rateHeaders();
    const reply = (status: number, body: unknown, extra: Record<string, string> = {}): undefined => {
      this.answer(request, res, status, body, { ...headers, ...extra });
    };
    const token = tokenOf(request);
    if (token && this.expired.has(token)) return reply(401, { error: 'invalid_token', error_description: 'The access token provided is expired, revoked, malformed or invalid for other reasons.' });
    if (!token || !(this.tokens.has(token) || this.readOnly.has(token))) return reply(401, { error: "Couldn't authenticate you" });

    const exporting = /\/incremental\//.test(request.path);
    const windows = exporting ? [this.rate, this.exportRate] : [this.rate];
    for (const window of windows) this.#refill(window);
    const spent = windows.find((window) => window.remaining <= 0);
    if (spent) {
      const retryAfter = Math.max(1, spent.resetAt - this.#nowSeconds());
      request.retryAllowedAt = spent.resetAt * 1000;
      this.overLimit.push(request);
      const what = spent === this.exportRate ? 'incremental export API requests' : 'API requests';
      return reply(429, { error: 'APIRateLimitExceeded', description: `Number of allowed ${what} per minute exceeded` }, { 'retry-after': String(retryAfter) });
    }
    for (const window of windows) window.remaining--;
    Object.assign(headers, this.#rateHeaders());

    const attachment = /^\/attachments\/token\/([^/]+)\/?$/.exec(request.path);
    if (attachment && request.method === 'GET') {
      const file = this.attachments.get(attachment[1]);
      if (!file) return reply(404, { error: 'RecordNotFound', description: 'Not found' });
      request.status = 200;
      res.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.size), ...headers });
      for (const piece of generatedBytes(`attachment-${attachment[1]}`, 0, file.size)) res.write(piece);
      res.end();
      return undefined;
    }
    const path = request.path.replace(/\.json$/, '');
    const q = request.query;
    const write = request.method !== 'GET';
    if (write && this.readOnly.has(token)) return reply(403, { error: 'Forbidden', description: 'You do not have access to this page. Please contact the account owner of this help desk for further help.' });

    if (path === '/api/v2/incremental/tickets/cursor') return this.#cursorExport(request, reply, 'tickets', this.tickets.filter((t) => q.get('exclude_deleted') !== 'true' || t.status !== 'deleted'));
    if (path === '/api/v2/incremental/users/cursor') return this.#cursorExport(request, reply, 'users', this.users);
    if (path === '/api/v2/incremental/organizations') return this.#timeExport(request, reply, 'organizations', this.organizations);
    if (path === '/api/v2/help_center/incremental/articles') return this.#timeExport(request, reply, 'articles', this.articles);
    if (path === '/api/v2/groups') return this.#cursorPage(request, reply, 'groups', this.groups);
    const rules = /^\/api\/v2\/(macros|triggers|automations|views)$/.exec(path);
    if (rules && request.method === 'GET') return this.#cursorPage(request, reply, rules[1], this.business.get(rules[1])!);
    const comments = /^\/api\/v2\/tickets\/(\d+)\/comments$/.exec(path);
    if (comments && request.method === 'GET') {
      const list = this.comments.get(Number(comments[1]));
      const ticket = this.tickets.find((t) => t.id === Number(comments[1]));
      if (!list || !ticket || ticket.status === 'deleted') return reply(404, { error: 'RecordNotFound', description: 'Not found' });
      return this.#cursorPage(request, reply, 'comments', list);
    }
    const one = /^\/api\/v2\/tickets\/(\d+)$/.exec(path);
    if (one) {
      const ticket = this.tickets.find((t) => t.id === Number(one[1]) && t.status !== 'deleted');
      if (!ticket) return reply(404, { error: 'RecordNotFound', description: 'Not found' });
      if (request.method === 'GET') return reply(200, { ticket });
      if (request.method !== 'PUT') return reply(405, { error: 'MethodNotAllowed', description: `${request.method} is not allowed here` });
      const body = this.#body(request);
      if (!body?.ticket || typeof body.ticket !== 'object') return reply(400, { error: 'InvalidParameter', description: 'ticket parameter is missing' });
      if (ticket.status === 'closed') return reply(422, { error: 'RecordInvalid', description: 'Record validation errors', details: { status: [{ description: 'Status: closed prevents ticket update' }] } });
      const patch: Json = {};
      for (const name of ['subject', 'status', 'priority', 'type', 'tags', 'assignee_id', 'group_id', 'custom_fields', 'due_at']) if (body.ticket[name] !== undefined) patch[name] = body.ticket[name];
      return reply(200, { ticket: this.editTicket(ticket.id, patch) });
    }
    if (path === '/api/v2/imports/tickets' && request.method === 'POST') {
      const input = this.#body(request)?.ticket;
      if (!input || typeof input !== 'object') return reply(400, { error: 'InvalidParameter', description: 'ticket parameter is missing' });
      if (!this.users.some((u) => u.id === input.requester_id)) return reply(422, { error: 'RecordInvalid', description: 'Record validation errors', details: { requester: [{ description: 'Requester: is not a valid user' }] } });
      const { comments: imported = [], ...fields } = input;
      const ticket = this.addTicket(String(fields.subject ?? ''), input.requester_id, { ...fields, description: imported[0]?.value ?? '' });
      this.comments.set(ticket.id, imported.map((c: Json) => ({ id: ++this.#nextId, type: 'Comment', author_id: c.author_id, body: c.value, html_body: `<p>${c.value}</p>`, plain_body: c.value, public: c.public !== false, attachments: [], created_at: c.created_at ?? ticket.created_at })));
      return reply(201, { ticket });
    }
    return reply(404, { error: 'InvalidEndpoint', description: 'Not found' });
  }

  #body(request: RecordedRequest): Json | undefined {
    try {
      return JSON.parse(request.body || '{}');
    } catch {
      return undefined;
    }
  }

  /** `page[size]` / `page[after]`, with `meta` and `links`. */
  #cursorPage(request: RecordedRequest, reply: (status: number, body: unknown) => undefined, key: string, all: Json[]): undefined {
    const size = Number(request.query.get('page[size]') ?? 100);
    if (!Number.isInteger(size) || size < 1 || size > 100) return reply(400, { error: 'InvalidPaginationParameter', description: 'page[size] must be between 1 and 100' });
    const after = request.query.get('page[after]');
    const sorted = [...all].sort((a, b) => a.id - b.id);
    let start = 0;
    if (after) {
      const decoded = /^i(\d+)$/.exec(Buffer.from(after, 'base64url').toString('utf8'));
      if (!decoded) return reply(400, { error: 'InvalidPaginationParameter', description: 'page[after] is invalid' });
      start = sorted.findIndex((item) => item.id > Number(decoded[1]));
      if (start < 0) start = sorted.length;
    }
    const page = sorted.slice(start, start + size);
    const hasMore = start + size < sorted.length;
    const cursor = (item: Json | undefined) => (item ? Buffer.from(`i${item.id}`).toString('base64url') : null);
    const next = new URL(`${this.url}${request.path}`);
    for (const [name, value] of request.query) if (name !== 'page[after]') next.searchParams.set(name, value);
    next.searchParams.set('page[after]', cursor(page.at(-1)) ?? '');
    return reply(200, { [key]: page, meta: { has_more: hasMore, after_cursor: cursor(page.at(-1)), before_cursor: cursor(page[0]) }, links: { next: hasMore ? next.toString() : null, prev: null } });
  }

  /** Cursor-based incremental export ordered by (generated_timestamp, id). */
  #cursorExport(request: RecordedRequest, reply: (status: number, body: unknown) => undefined, key: string, all: Json[]): undefined {
    const q = request.query;
    const perPage = Math.min(this.exportPage, 1000, Number(q.get('per_page') ?? 1000));
    let position: [number, number];
    const cursor = q.get('cursor');
    if (cursor) {
      const decoded = /^(\d+)\.(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
      if (!decoded) return reply(400, { error: 'InvalidPaginationParameter', description: 'Invalid cursor' });
      position = [Number(decoded[1]), Number(decoded[2])];
    } else {
      const start = q.get('start_time');
      if (start === null || !/^\d+$/.test(start)) return reply(400, { error: 'InvalidPaginationParameter', description: 'Invalid start_time or cursor' });
      if (Number(start) > this.#nowSeconds() - 60) return reply(400, { error: 'InvalidPaginationParameter', description: 'Too recent start_time. Use a start_time older than 1 minute' });
      position = [Number(start) - 1, Number.MAX_SAFE_INTEGER];
    }
    const horizon = this.#nowSeconds() - 60;
    const after = (item: Json) => item.generated_timestamp > position[0] || (item.generated_timestamp === position[0] && item.id > position[1]);
    const eligible = all.filter((item) => after(item) && item.generated_timestamp <= horizon).sort((a, b) => a.generated_timestamp - b.generated_timestamp || a.id - b.id);
    const page = eligible.slice(0, perPage);
    const last = page.at(-1);
    const nextPosition = last ? `${last.generated_timestamp}.${last.id}` : `${position[0]}.${position[1]}`;
    const afterCursor = Buffer.from(nextPosition).toString('base64url');
    const afterUrl = `${this.url}${request.path}?cursor=${afterCursor}${q.get('per_page') ? `&per_page=${q.get('per_page')}` : ''}${q.get('exclude_deleted') ? `&exclude_deleted=${q.get('exclude_deleted')}` : ''}`;
    return reply(200, { [key]: page, after_cursor: afterCursor, after_url: afterUrl, before_cursor: null, before_url: null, end_of_stream: eligible.length <= perPage });
  }

  /** Time-based incremental export: at least `start_time`, a page holding all of its last second. */
  #timeExport(request: RecordedRequest, reply: (status: number, body: unknown) => undefined, key: string, all: Json[]): undefined {
    const start = request.query.get('start_time');
    if (start === null || !/^\d+$/.test(start)) return reply(400, { error: 'InvalidPaginationParameter', description: 'start_time is required' });
    const horizon = this.#nowSeconds() - 60;
    const eligible = all.filter((item) => item.generated_timestamp >= Number(start) && item.generated_timestamp <= horizon).sort((a, b) => a.generated_timestamp - b.generated_timestamp || a.id - b.id);
    let page = eligible.slice(0, this.exportPage);
    const last = page.at(-1);
    if (last) page = eligible.filter((item) => item.generated_timestamp <= last.generated_timestamp);
    const endOfStream = page.length === eligible.length;
    const endTime = last ? last.generated_timestamp : Number(start);
    const nextPage = `${this.url}${request.path}?start_time=${endOfStream ? endTime : endTime + 1}`;
    return reply(200, { [key]: page, count: page.length, end_time: endTime, next_page: endOfStream ? null : nextPage, end_of_stream: endOfStream });
  }
}
