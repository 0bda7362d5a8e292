import { PlatformError } from './errors.ts';
import type { HttpClient, JsonResponse, QueryValue, RequestOptions } from './http.ts';

/** One page of a listing: its items and the whole answer, for cursors or totals. */
export interface Page<T> {
  items: T[];
  body: unknown;
  headers: Headers;
  url: string;
}

/** Parses an RFC 8288 `Link` header into rel → URL. */
export function parseLinkHeader(header: string | null): Record<string, string> {
  const links: Record<string, string> = {};
  if (!header) return links;
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (!match) continue;
    const rel = /(?:^|;)\s*rel\s*=\s*"?([^";]+)"?/i.exec(match[2])?.[1];
    if (!rel) continue;
    for (const name of rel.trim().split(/\s+/)) links[name.toLowerCase()] = match[1];
  }
  return links;
}

export interface LinkPaginationOptions<T> extends RequestOptions {
  /** Where the page's items are; default: the body is the array. */
  items?: (body: unknown) => T[];
}

/** Follows `Link: <...>; rel="next"` (GitHub, many REST APIs) until there is none. */
export async function* paginateLink<T>(http: HttpClient, path: string, options: LinkPaginationOptions<T> = {}): AsyncGenerator<Page<T>, void, undefined> {
  const { items = asArray<T>, ...request } = options;
  let next: string | undefined = path;
  let query = request.query;
  const seen = new Set<string>();
  while (next) {
    const page: JsonResponse<unknown> = await http.json(next, { ...request, query });
    yield { items: items(page.data), body: page.data, headers: page.headers, url: page.url };
    const link: string | undefined = parseLinkHeader(page.headers.get('link')).next;
    next = link ? new URL(link, page.url).toString() : undefined;
    query = undefined;
    if (next && seen.has(next)) throw new PlatformError(`${http.config.platform}: pagination loops back to ${next}`);
    if (next) seen.add(next);
  }
}

export interface CursorPaginationOptions<T> extends RequestOptions {
  /** Where the page's items are; default `data` (Stripe list objects). */
  items?: (body: unknown) => T[];
  /** Whether there is a next page; default `has_more`. */
  hasMore?: (body: unknown) => boolean;
  /** The cursor for the next page; default: the id of the last item (Stripe `starting_after`). */
  nextCursor?: (body: unknown, items: T[]) => string | undefined;
  cursorParam?: string;
  limitParam?: string;
  limit?: number;
}

/** Cursor pagination: `starting_after=<last id>` while `has_more`, or any token the answer names. */
export async function* paginateCursor<T>(http: HttpClient, path: string, options: CursorPaginationOptions<T> = {}): AsyncGenerator<Page<T>, void, undefined> {
  const {
    items = (body) => asArray<T>((body as { data?: unknown })?.data),
    hasMore = (body) => (body as { has_more?: unknown })?.has_more === true,
    nextCursor = (_body, pageItems) => idOf(pageItems.at(-1)),
    cursorParam = 'starting_after',
    limitParam = 'limit',
    limit,
    ...request
  } = options;
  let cursor: string | undefined;
  for (;;) {
    const query: Record<string, QueryValue> = { ...request.query };
    if (limit !== undefined) query[limitParam] = limit;
    if (cursor !== undefined) query[cursorParam] = cursor;
    const page = await http.json(path, { ...request, query });
    const pageItems = items(page.data);
    yield { items: pageItems, body: page.data, headers: page.headers, url: page.url };
    if (!hasMore(page.data) || pageItems.length === 0) return;
    const next = nextCursor(page.data, pageItems);
    if (next === undefined || next === cursor) throw new PlatformError(`${http.config.platform}: has more pages but gives no new cursor`);
    cursor = next;
  }
}

export interface PagePaginationOptions<T> extends RequestOptions {
  items?: (body: unknown) => T[];
  pageParam?: string;
  sizeParam?: string;
  size: number;
  startPage?: number;
  /** Total pages when the answer says so; otherwise a short or empty page ends the listing. */
  totalPages?: (body: unknown, headers: Headers) => number | undefined;
}

/** Page-number pagination: `page=1,2,...` with a page size. */
export async function* paginatePages<T>(http: HttpClient, path: string, options: PagePaginationOptions<T>): AsyncGenerator<Page<T>, void, undefined> {
  const { items = asArray<T>, pageParam = 'page', sizeParam = 'per_page', size, startPage = 1, totalPages, ...request } = options;
  for (let page = startPage; ; page++) {
    const answer = await http.json(path, { ...request, query: { ...request.query, [pageParam]: page, [sizeParam]: size } });
    const pageItems = items(answer.data);
    yield { items: pageItems, body: answer.data, headers: answer.headers, url: answer.url };
    const total = totalPages?.(answer.data, answer.headers);
    if (total !== undefined ? page - startPage + 1 >= total : pageItems.length < size) return;
    if (pageItems.length === 0) return;
  }
}

export interface TokenPaginationOptions<T> extends RequestOptions {
  items: (body: unknown) => T[];
  tokenParam?: string;
  nextToken?: (body: unknown) => string | undefined;
}

/** Google-style `pageToken` / `nextPageToken`. */
export async function* paginateToken<T>(http: HttpClient, path: string, options: TokenPaginationOptions<T>): AsyncGenerator<Page<T>, void, undefined> {
  const { items, tokenParam = 'pageToken', nextToken = (body) => (body as { nextPageToken?: string })?.nextPageToken || undefined, ...request } = options;
  let token: string | undefined;
  for (;;) {
    const answer = await http.json(path, { ...request, query: { ...request.query, [tokenParam]: token } });
    yield { items: items(answer.data), body: answer.data, headers: answer.headers, url: answer.url };
    const next = nextToken(answer.data);
    if (!next) return;
    if (next === token) throw new PlatformError(`${http.config.platform}: nextPageToken repeats itself`);
    token = next;
  }
}

/** Every item of every page. */
export async function* eachItem<T>(pages: AsyncIterable<Page<T>>): AsyncGenerator<T, void, undefined> {
  for await (const page of pages) yield* page.items;
}

function asArray<T>(body: unknown): T[] {
  if (!Array.isArray(body)) throw new PlatformError(`expected a list in the answer, got ${body === null ? 'null' : typeof body}`);
  return body as T[];
}

function idOf(item: unknown): string | undefined {
  const id = (item as { id?: unknown } | undefined)?.id;
  return id === undefined || id === null ? undefined : String(id);
}
