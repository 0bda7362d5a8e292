/**
 * A fake of the Intercom REST API (Intercom-Version 2.11) for what the connector uses: contacts
 * (list and search), companies (scroll), conversations (list, search, read with their parts),
 * tickets (search) and help center articles. Speaks the documented wire format:
 *
 * - cursor pages: `per_page` (at most 150) and `starting_after`, answers with
 *   `pages.next.starting_after` while there are more; search takes them in its `pagination`
 *   body and a `query` on `updated_at` / `created_at` (unix seconds, `>` or `<`);
 * - the companies scroll: `scroll_param` until a page comes back empty;
 * - articles: `page` / `per_page` with `pages.total_pages`;
 * - `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (epoch seconds, 10-second
 *   windows) on every answer; once spent, a 429 `rate_limit_exceeded` (`overLimit` counts them);
 * - errors as `{"type": "error.list", "request_id": …, "errors": [{"code": …, "message": …}]}`
 *   (`unauthorized`, `not_found`, `parameter_invalid`).
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { FakeServer, tokenOf, type ErrorAnswer, type Failure, type RecordedRequest } from '../testing/fake-server.ts';

type Json = Record<string, any>;

export const INTERCOM_VERSION = '2.11';
export const VALID_TOKEN = 'dG9rOjAbCdEfGhIjKlMnOpQrStUvWxYz0123';

export class FakeIntercom extends FakeServer {
  readonly tokens = new Set<string>([VALID_TOKEN]);
  readonly contacts: Json[] = [];
  readonly companies: Json[] = [];
  readonly conversations: Json[] = [];
  readonly tickets: Json[] = [];
  readonly articles: Json[] = [];
  /** Companies a scroll page holds. */
  scrollPage = 50;
  rate = { limit: 1666, remaining: 1666, resetAt: 0 };
  readonly overLimit: RecordedRequest[] = [];
  #nextId = 7000;

  #seconds(): number {
    return Math.floor(this.now() / 1000);
  }

  #stamp<T extends Json>(item: T): T {
    (item as Json).updated_at = this.#seconds();
    return item;
  }

  addContact(name: string, role: 'user' | 'lead' = 'user'): Json {
    const id = (++this.#nextId).toString(16).padStart(24, '0');
    const contact = { type: 'contact', id, workspace_id: 'abc123', role, name, email: `${name.toLowerCase().replace(/\W+/g, '.')}@example.com`, custom_attributes: {}, created_at: this.#seconds() };
    this.contacts.push(this.#stamp(contact));
    return contact;
  }

  addCompany(name: string): Json {
    const id = (++this.#nextId).toString(16).padStart(24, '0');
    const company = { type: 'company', id, company_id: `c-${this.#nextId}`, name, plan: {}, custom_attributes: {}, created_at: this.#seconds() };
    this.companies.push(this.#stamp(company));
    return company;
  }

  addConversation(title: string, parts: string[] = []): Json {
    const id = String(++this.#nextId);
    const conversation = {
      type: 'conversation',
      id,
      title,
      state: 'open',
      created_at: this.#seconds(),
      source: { type: 'conversation', id: String(++this.#nextId), body: `<p>${title}</p>`, author: { type: 'user', id: this.contacts[0]?.id } },
      conversation_parts: { type: 'conversation_part.list', conversation_parts: [] as Json[], total_count: 0 },
    };
    this.conversations.push(this.#stamp(conversation));
    for (const part of parts) this.addPart(id, part);
    return conversation;
  }

  addPart(conversationId: string, body: string): Json {
    const conversation = this.conversations.find((c) => c.id === conversationId)!;
    const part = { type: 'conversation_part', id: String(++this.#nextId), part_type: 'comment', body: `<p>${body}</p>`, created_at: this.#seconds(), author: { type: 'admin', id: '1' } };
    conversation.conversation_parts.conversation_parts.push(part);
    conversation.conversation_parts.total_count++;
    this.#stamp(conversation);
    return part;
  }

  addTicket(title: string): Json {
    const id = String(++this.#nextId);
    const ticket = { type: 'ticket', id, ticket_id: String(this.tickets.length + 1), ticket_attributes: { _default_title_: title, _default_description_: `About ${title}` }, ticket_state: 'submitted', open: true, created_at: this.#seconds() };
    this.tickets.push(this.#stamp(ticket));
    return ticket;
  }

  addArticle(title: string): Json {
    const id = String(++this.#nextId);
    const article = { type: 'article', id, workspace_id: 'abc123', title, body: `<p>${title}</p>`, author_id: 1, state: 'published', created_at: this.#seconds() };
    this.articles.push(this.#stamp(article));
    return article;
  }

  edit(item: Json, patch: Json): Json {
    return this.#stamp(Object.assign(item, patch));
  }

  /** Spend the budget: after `remaining` more requests, 429 until `resetInSeconds` from now. */
  setRateLimit(remaining: number, resetInSeconds: number): void {
    this.rate = { limit: this.rate.limit, remaining, resetAt: this.#seconds() + resetInSeconds };
  }

  #error(status: number, code: string, message: string): ErrorAnswer {
    return { status, body: { type: 'error.list', request_id: randomUUID(), errors: [{ code, message }] } };
  }

  protected errorAnswer(status: number, _failure: Failure): ErrorAnswer {
    if (status === 401) return this.#error(401, 'unauthorized', 'Access Token Invalid');
    if (status === 404) return this.#error(404, 'not_found', 'Resource Not Found');
    if (status === 429) return { ...this.#error(429, 'rate_limit_exceeded', 'Exceeded rate limit of 1666 in 10_seconds'), headers: { 'retry-after': '1' } };
    if (status >= 500) return this.#error(status, 'server_error', 'Server Error');
    return this.#error(status, 'parameter_invalid', 'Invalid parameter');
  }

  #rateHeaders(): Record<string, string> {
    if (this.rate.resetAt <= this.#seconds()) this.rate = { limit: this.rate.limit, remaining: this.rate.limit, resetAt: this.#seconds() + 10 };
    return { 'x-ratelimit-limit': String(this.rate.limit), 'x-ratelimit-remaining': String(this.rate.remaining), 'x-ratelimit-reset': String(this.rate.resetAt) };
  }

  protected route(request: RecordedRequest, res: ServerResponse): undefined {
    const headers = this.#rateHeaders();
    const send = (answer: ErrorAnswer): undefined => {
      this.answer(request, res, answer.status, answer.body, { ...headers, ...answer.headers });
    };
    const reply = (status: number, body: unknown): undefined => send({ status, body });
    const token = tokenOf(request);
    if (!token || !this.tokens.has(token)) return send(this.#error(401, 'unauthorized', 'Access Token Invalid'));
    if (this.rate.remaining <= 0) {
      request.retryAllowedAt = this.rate.resetAt * 1000;
      this.overLimit.push(request);
      return send(this.#error(429, 'rate_limit_exceeded', `Exceeded rate limit of ${this.rate.limit} in 10_seconds`));
    }
    this.rate.remaining--;
    Object.assign(headers, this.#rateHeaders());
    if (request.headers['intercom-version'] !== INTERCOM_VERSION) return send(this.#error(400, 'intercom_version_invalid', `Requested version is not valid: ${request.headers['intercom-version']}`));

    const q = request.query;
    const path = request.path;
    let body: Json = {};
    if (request.method === 'POST') {
      try {
        body = JSON.parse(request.body || '{}');
      } catch {
        return send(this.#error(400, 'parameter_invalid', 'Invalid JSON'));
      }
    }
    const listView = (c: Json) => {
      const { conversation_parts: _parts, ...rest } = c;
      return rest;
    };
    if (path === '/contacts' && request.method === 'GET') return this.#cursorPage(reply, 'list', 'data', this.contacts, q.get('per_page'), q.get('starting_after'));
    if (path === '/conversations' && request.method === 'GET') return this.#cursorPage(reply, 'conversation.list', 'conversations', this.conversations.map(listView), q.get('per_page'), q.get('starting_after'));
    const search = /^\/(contacts|conversations|tickets)\/search$/.exec(path);
    if (search && request.method === 'POST') {
      const query = body.query;
      if (!query || !['updated_at', 'created_at'].includes(query.field) || !['>', '<'].includes(query.operator) || typeof query.value !== 'number') return send(this.#error(400, 'parameter_invalid', 'query is not a valid search query'));
      const all = search[1] === 'contacts' ? this.contacts : search[1] === 'tickets' ? this.tickets : this.conversations.map(listView);
      const found = all.filter((item) => (query.operator === '>' ? item[query.field] > query.value : item[query.field] < query.value));
      const [type, key] = search[1] === 'contacts' ? ['list', 'data'] : search[1] === 'tickets' ? ['ticket.list', 'tickets'] : ['conversation.list', 'conversations'];
      return this.#cursorPage(reply, type, key, found, body.pagination?.per_page, body.pagination?.starting_after);
    }
    const conversation = /^\/conversations\/(\d+)$/.exec(path);
    if (conversation && request.method === 'GET') {
      const found = this.conversations.find((c) => c.id === conversation[1]);
      return found ? reply(200, found) : send(this.#error(404, 'not_found', 'Resource Not Found'));
    }
    if (path === '/companies/scroll' && request.method === 'GET') {
      const param = q.get('scroll_param');
      let offset = 0;
      if (param) {
        const decoded = /^s(\d+)$/.exec(Buffer.from(param, 'base64url').toString('utf8'));
        if (!decoded) return send(this.#error(404, 'scroll_parameter_not_found', 'scroll parameter not found'));
        offset = Number(decoded[1]);
      }
      const data = this.companies.slice(offset, offset + this.scrollPage);
      return reply(200, { type: 'list', data, pages: null, total_count: null, scroll_param: Buffer.from(`s${offset + data.length}`).toString('base64url') });
    }
    if (path === '/articles' && request.method === 'GET') {
      const perPage = Math.min(250, Number(q.get('per_page') ?? 50));
      const page = Math.max(1, Number(q.get('page') ?? 1));
      const totalPages = Math.max(1, Math.ceil(this.articles.length / perPage));
      return reply(200, { type: 'list', data: this.articles.slice((page - 1) * perPage, page * perPage), total_count: this.articles.length, pages: { type: 'pages', page, per_page: perPage, total_pages: totalPages, next: page < totalPages ? `${this.url}/articles?page=${page + 1}&per_page=${perPage}` : null } });
    }
    return send(this.#error(404, 'not_found', 'Resource Not Found'));
  }

  #cursorPage(reply: (status: number, body: unknown) => undefined, type: string, key: string, all: Json[], perPageValue: unknown, after: unknown): undefined {
    const perPage = Math.min(150, Number(perPageValue ?? 50));
    let offset = 0;
    if (typeof after === 'string' && after) {
      const decoded = /^o(\d+)$/.exec(Buffer.from(after, 'base64url').toString('utf8'));
      if (!decoded) return reply(400, { type: 'error.list', request_id: randomUUID(), errors: [{ code: 'parameter_invalid', message: 'starting_after is invalid' }] });
      offset = Number(decoded[1]);
    }
    const totalPages = Math.max(1, Math.ceil(all.length / perPage));
    const page = Math.floor(offset / perPage) + 1;
    const more = offset + perPage < all.length;
    const pages = { type: 'pages', page, per_page: perPage, total_pages: totalPages, ...(more ? { next: { page: page + 1, starting_after: Buffer.from(`o${offset + perPage}`).toString('base64url') } } : {}) };
    return reply(200, { type, [key]: all.slice(offset, offset + perPage), total_count: all.length, pages });
  }
}
