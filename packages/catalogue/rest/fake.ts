/**
 * A generic JSON REST API with one collection per pagination style, for the REST connector and
 * the SDK's HTTP client tests:
 *   GET  /api/contacts  cursor: `?limit&cursor` → `{data, next_cursor}`; `updated_since` filter
 *   GET  /api/tickets   Stripe-like: `?limit&starting_after` → `{items, has_more}`
 *   GET  /api/orders    page number: `?page&per_page` → `{results, page, total_pages}`
 *   GET  /api/notes     `Link` headers: `?page&per_page` → a bare array
 *   POST /api/contacts  creates (201), honouring `Idempotency-Key`
 *   GET  /api/echo      `{ok: true}`, for retry tests
 * Credentials: `x-api-key` or `Authorization: Bearer`. Errors: `{error:{code, message}}`.
 */
import type { ServerResponse } from 'node:http';
import { FakeServer, tokenOf, type ErrorAnswer, type Failure, type RecordedRequest } from '../testing/fake-server.ts';

export interface RestRecord {
  id: string;
  [key: string]: unknown;
}

export class FakeRest extends FakeServer {
  readonly keys = new Set<string>(['k_valid']);
  readonly collections: Record<'contacts' | 'tickets' | 'orders' | 'notes', RestRecord[]> = { contacts: [], tickets: [], orders: [], notes: [] };
  /** The next POST is processed, then its connection is cut before the answer (a lost response). */
  loseNextResponse = false;
  readonly #idempotent = new Map<string, { status: number; body: unknown }>();
  #cursors = new Map<string, number>();
  #nextId = 1;

  add(collection: keyof FakeRest['collections'], fields: Record<string, unknown> = {}): RestRecord {
    const record: RestRecord = { id: `${collection.slice(0, 3)}_${this.#nextId++}`, updated_at: new Date(this.now()).toISOString(), ...fields };
    this.collections[collection].push(record);
    return record;
  }

  touch(collection: keyof FakeRest['collections'], id: string, patch: Record<string, unknown>): RestRecord {
    const record = this.collections[collection].find((r) => r.id === id)!;
    Object.assign(record, patch, { updated_at: new Date(this.now()).toISOString() });
    return record;
  }

  protected errorAnswer(status: number, _failure: Failure): ErrorAnswer {
    const codes: Record<number, string> = { 400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 422: 'invalid', 429: 'rate_limited' };
    return { status, body: { error: { code: codes[status] ?? 'server_error', message: status >= 500 ? 'Upstream unavailable' : `Injected ${status}` } } };
  }

  protected route(request: RecordedRequest, res: ServerResponse): void {
    const key = (request.headers['x-api-key'] as string | undefined) ?? tokenOf(request);
    if (!key || !this.keys.has(key)) {
      this.answer(request, res, 401, { error: { code: 'unauthorized', message: 'Invalid or missing API key' } });
      return;
    }
    const limit = Number(request.query.get('limit') ?? request.query.get('per_page') ?? 20);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      this.answer(request, res, 400, { error: { code: 'bad_request', message: 'limit must be between 1 and 100' } });
      return;
    }
    const since = request.query.get('updated_since');
    const visible = (records: RestRecord[]) => (since ? records.filter((r) => String(r.updated_at) >= since) : records);

    if (request.method === 'GET' && request.path === '/api/echo') {
      this.answer(request, res, 200, { ok: true, seq: request.seq });
      return;
    }
    if (request.method === 'GET' && request.path === '/api/contacts') {
      const all = visible(this.collections.contacts);
      const token = request.query.get('cursor');
      let offset = 0;
      if (token) {
        if (!this.#cursors.has(token)) {
          this.answer(request, res, 400, { error: { code: 'bad_cursor', message: 'Unknown cursor' } });
          return;
        }
        offset = this.#cursors.get(token)!;
      }
      let next: string | null = null;
      if (offset + limit < all.length) {
        next = `c${offset + limit}x${Math.random().toString(36).slice(2, 8)}`;
        this.#cursors.set(next, offset + limit);
      }
      this.answer(request, res, 200, { data: all.slice(offset, offset + limit), next_cursor: next });
      return;
    }
    if (request.method === 'GET' && request.path === '/api/tickets') {
      let all = visible(this.collections.tickets);
      const after = request.query.get('starting_after');
      if (after) all = all.slice(all.findIndex((r) => r.id === after) + 1);
      this.answer(request, res, 200, { items: all.slice(0, limit), has_more: all.length > limit });
      return;
    }
    if (request.method === 'GET' && (request.path === '/api/orders' || request.path === '/api/notes')) {
      const all = visible(this.collections[request.path === '/api/orders' ? 'orders' : 'notes']);
      const page = Number(request.query.get('page') ?? 1);
      const totalPages = Math.max(1, Math.ceil(all.length / limit));
      const slice = all.slice((page - 1) * limit, page * limit);
      if (request.path === '/api/orders') {
        this.answer(request, res, 200, { results: slice, page, total_pages: totalPages });
        return;
      }
      const headers: Record<string, string> = {};
      if (page < totalPages) {
        const query = new URLSearchParams(request.query);
        query.set('page', String(page + 1));
        headers.link = `<${request.path}?${query}>; rel="next", <${request.path}?page=${totalPages}&per_page=${limit}>; rel="last"`;
      }
      this.answer(request, res, 200, slice, headers);
      return;
    }
    if (request.method === 'POST' && request.path === '/api/contacts') {
      const idempotencyKey = request.headers['idempotency-key'] as string | undefined;
      const stored = idempotencyKey ? this.#idempotent.get(idempotencyKey) : undefined;
      if (stored) {
        this.answer(request, res, stored.status, stored.body, { 'idempotent-replayed': 'true' });
        return;
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(request.body);
      } catch {
        this.answer(request, res, 400, { error: { code: 'bad_request', message: 'Body is not JSON' } });
        return;
      }
      if (typeof body.email !== 'string') {
        this.answer(request, res, 422, { error: { code: 'invalid', message: 'email is required' } });
        return;
      }
      const record = this.add('contacts', body);
      if (idempotencyKey) this.#idempotent.set(idempotencyKey, { status: 201, body: record });
      if (this.loseNextResponse) {
        this.loseNextResponse = false;
        request.status = 0;
        res.socket?.destroy();
        return;
      }
      this.answer(request, res, 201, record);
      return;
    }
    this.answer(request, res, 404, { error: { code: 'not_found', message: `No route ${request.method} ${request.path}` } });
  }
}
