/**
 * A generic REST/JSON connector, configured rather than coded: a base URL, how to authenticate,
 * and per resource the path, where the items are (a JSON pointer), which field is the id, the
 * pagination style (cursor, page number, `Link`, or none) and optionally an incremental filter
 * and how to write items back (`restore`).
 */
import { createHash } from 'node:crypto';
import { type ParsedRestDefinition, parseRestDefinition, RestDefinitionError, type RestResourceSpec, restAuthHeaders } from '@listbackup/lib/rest-definition';
import {
  ConfigError,
  type Connector,
  type ConnectorItem,
  type Cursor,
  eachItem,
  type FetchContext,
  HighWaterMark,
  jsonContent,
  type Page,
  paginateCursor,
  paginateLink,
  paginatePages,
  PlatformError,
  readAll,
  type RestoreContext,
  type RestoreItem,
  type RestoreResult,
} from '../sdk/index.ts';

const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** Builds the connector a definition describes (the REST platform's connection settings). */
export function createRestConnector(input: unknown): Connector<Record<string, never>> {
  let definition: ParsedRestDefinition;
  try {
    definition = parseRestDefinition(input);
  } catch (error) {
    if (error instanceof RestDefinitionError) throw new ConfigError(error.message);
    throw error;
  }
  const sendsCredentials = definition.auth.type !== 'none';
  const spec = (name: string) => {
    const found = definition.resources.find((r) => r.name === name);
    if (!found) throw new ConfigError(`${definition.name} has no resource ${name}`);
    return found;
  };

  return {
    slug: 'rest',
    name: definition.name,
    authType: sendsCredentials ? 'apiKey' : 'none',
    resources: definition.resources.map((r) => ({
      name: r.name,
      description: `GET ${r.path}`,
      incremental: Boolean(r.incremental),
      ...(r.incremental ? { cursor: `${r.incremental.param}=<newest ${r.incremental.field} seen>` } : {}),
      restorable: Boolean(r.restore),
    })),
    http: {
      platform: definition.name,
      baseUrl: definition.baseUrl,
      headers: { accept: 'application/json', ...definition.headers },
      authorize: (credentials) => {
        const secret = credentials.apiKey ?? credentials.accessToken;
        if (!secret) throw new ConfigError(`${definition.name}: the connection has no API key or token`);
        return restAuthHeaders(definition, secret);
      },
    },
    fetch(resource, ctx) {
      return fetchResourceItems(spec(resource), sendsCredentials, ctx);
    },
    async restore(resource, items, ctx) {
      return restoreItems(definition, spec(resource), sendsCredentials, items, ctx);
    },
  };
}

async function* fetchResourceItems(resource: RestResourceSpec, auth: boolean, ctx: FetchContext<Record<string, never>>): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const incremental = resource.incremental;
  const previous = incremental ? (HighWaterMark.read<string>(ctx.cursor, 'string') ?? HighWaterMark.read<number>(ctx.cursor, 'number')) : undefined;
  const mark = new HighWaterMark<string | number>(previous);
  const query: Record<string, string | number | undefined> = { ...resource.query };
  if (incremental && mark.since !== undefined) query[incremental.param] = mark.since;
  const seen = new Set<string>();
  for await (const raw of eachItem(pages(resource, auth, query, ctx))) {
    const id = valueAt(raw, resource.idField);
    if (id === undefined || id === null || id === '') throw new PlatformError(`${resource.name}: an item has no id at ${resource.idField}`);
    const key = String(id);
    if (seen.has(key)) continue;
    seen.add(key);
    let updatedAt: string | undefined;
    if (incremental) {
      const at = valueAt(raw, incremental.field);
      if (typeof at === 'string' || typeof at === 'number') {
        if (mark.seenBefore(at, key)) continue;
        mark.see(at, key);
        updatedAt = typeof at === 'string' ? at : undefined;
      }
    }
    yield {
      id: key,
      path: `${resource.name}/${key.replace(/[/\\]/g, '_')}.json`,
      updatedAt,
      contentType: 'application/json',
      metadata: { resource: resource.name },
      content: jsonContent(raw),
    };
  }
  return incremental ? (mark.state() ?? null) : null;
}

function pages(resource: RestResourceSpec, auth: boolean, query: Record<string, string | number | undefined>, ctx: FetchContext<Record<string, never>>): AsyncIterable<Page<unknown>> {
  const items = (body: unknown) => {
    const list = valueAt(body, resource.items);
    if (!Array.isArray(list)) throw new PlatformError(`${resource.name}: no list at "${resource.items}" in the answer`);
    return list;
  };
  const p = resource.pagination;
  switch (p.style) {
    case 'none':
      return (async function* () {
        const answer = await ctx.http.json(resource.path, { query, auth });
        yield { items: items(answer.data), body: answer.data, headers: answer.headers, url: answer.url };
      })();
    case 'link':
      return paginateLink(ctx.http, resource.path, { auth, items, query: p.sizeParam && p.size ? { ...query, [p.sizeParam]: p.size } : query });
    case 'page': {
      const totalPages = p.totalPages ? (body: unknown) => numberAt(body, p.totalPages!) : undefined;
      const listing = paginatePages(ctx.http, resource.path, { auth, items, query, pageParam: p.pageParam, sizeParam: p.sizeParam, size: p.size, startPage: p.startPage, totalPages });
      return totalPages ? expectingPages(listing, totalPages, p.size, ctx) : listing;
    }
    case 'cursor':
      return paginateCursor(ctx.http, resource.path, {
        auth,
        items,
        query,
        cursorParam: p.cursorParam,
        limitParam: p.limitParam,
        limit: p.limit,
        hasMore: (body) => (p.hasMore ? valueAt(body, p.hasMore) === true : p.nextCursor ? Boolean(valueAt(body, p.nextCursor)) : false),
        nextCursor: (body, list) => {
          const value = p.nextCursor ? valueAt(body, p.nextCursor) : valueAt(list.at(-1), resource.idField);
          return value === undefined || value === null || value === '' ? undefined : String(value);
        },
      });
  }
}

/**
 * Tells the run what `totalPages` promises: until the last page, the items read plus a full page
 * for each page left (an estimate: the last page may be short); at the last page, the items listed.
 */
async function* expectingPages(listing: AsyncIterable<Page<unknown>>, totalPages: (body: unknown) => number | undefined, size: number, ctx: FetchContext<Record<string, never>>): AsyncGenerator<Page<unknown>, void, undefined> {
  let pages = 0;
  let listed = 0;
  for await (const page of listing) {
    pages++;
    listed += page.items.length;
    const total = totalPages(page.body);
    if (total !== undefined) ctx.expect(pages >= total ? { items: listed } : { items: listed + (total - pages) * size, estimated: true });
    yield page;
  }
}

async function restoreItems(
  definition: ParsedRestDefinition,
  resource: RestResourceSpec,
  auth: boolean,
  items: AsyncIterable<RestoreItem>,
  ctx: RestoreContext<Record<string, never>>,
): Promise<RestoreResult> {
  const target = resource.restore;
  if (!target) throw new ConfigError(`${definition.name}: ${resource.name} cannot be restored (no restore target in its definition)`);
  let restored = 0;
  for await (const item of items) {
    const body = await readAll(limited(item.content(), MAX_RECORD_BYTES));
    let record: unknown;
    try {
      record = JSON.parse(body.toString('utf8'));
    } catch {
      throw new ConfigError(`${definition.name}: ${item.path} is not a JSON record`);
    }
    const headers: Record<string, string> = {};
    if (target.idempotencyHeader) {
      headers[target.idempotencyHeader.toLowerCase()] = createHash('sha256').update(`${resource.name}\0${item.id}\0`).update(body).digest('hex');
    }
    const path = target.path.replace('{id}', encodeURIComponent(item.id));
    await ctx.http.json(path, { method: target.method, json: record, headers, auth, idempotent: target.method === 'PUT' || Boolean(target.idempotencyHeader) });
    restored++;
  }
  return { restored, units: restored };
}

async function* limited(content: AsyncIterable<Uint8Array>, max: number): AsyncGenerator<Uint8Array, void, undefined> {
  let size = 0;
  for await (const chunk of content) {
    size += chunk.byteLength;
    if (size > max) throw new ConfigError(`a record larger than ${max} bytes cannot be restored through a JSON API`);
    yield chunk;
  }
}

/** RFC 6901 JSON pointer lookup; undefined when a step is missing. */
export function valueAt(document: unknown, path: string): unknown {
  if (path === '') return document;
  let current: unknown = document;
  for (const raw of path.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (current === null || typeof current !== 'object') return undefined;
    current = Array.isArray(current) ? current[Number(key)] : (current as Record<string, unknown>)[key];
  }
  return current;
}

function numberAt(document: unknown, path: string): number | undefined {
  const value = valueAt(document, path);
  return typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : undefined;
}
