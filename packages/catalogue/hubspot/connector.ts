/**
 * HubSpot (CRM v3): contacts, companies, deals and tickets with their pipelines, products and
 * line items, engagements (calls, emails, meetings, notes, tasks) and owners of the account the
 * app was installed in, every record with all its properties (read from the properties API).
 *
 * A full run lists each object type with `limit=100` and `paging.next.after`. An incremental run
 * asks the search endpoint for records whose last-modified property (`lastmodifieddate` for
 * contacts, `hs_lastmodifieddate` for the others) is at least the newest seen, sorted ascending;
 * one search reaches 10,000 results, so a longer walk starts a new search from the newest
 * timestamp it reached.
 *
 * Pacing: the app's rolling limit as the `X-HubSpot-RateLimit-Max` / `-Interval-Milliseconds`
 * headers state it (110 per 10 seconds for a public app until the first answer says otherwise),
 * a hold while `-Remaining` or `-Secondly-Remaining` is 0, and search at its own 5 a second. A 429
 * waits by its `policyName` (a second, the interval; the daily limit fails the run with RATE_LIMITED).
 *
 * Restore writes contacts and companies back: an update (PATCH) of the record if it still exists,
 * else a new record (POST); a contact whose email another contact now has updates that one.
 * Read-only properties (the properties API says which) are never sent.
 */
import {
  ConfigError,
  type Connector,
  ConnectorError,
  type ConnectorItem,
  type Cursor,
  type FetchContext,
  HighWaterMark,
  type HighWaterState,
  jsonContent,
  paginateCursor,
  PlatformError,
  readRestoreJson,
  type ResponseInfo,
  type RestoreContext,
  type RestoreItem,
  type RestoreResult,
  type Verdict,
} from '../sdk/index.ts';

export const HUBSPOT_API_URL = 'https://api.hubapi.com';

const PAGE = 100;
const SEARCH_PAGE = 200;
const SEARCH_CAP = 10_000;
const DEFAULT_LIMIT = { max: 110, intervalMs: 10_000 };

/** The app's rolling limit per API root, as the answers state it. */
const limits = new Map<string, { max: number; intervalMs: number }>();

interface HubSpotObject {
  id: string;
  properties: Record<string, string | null>;
  createdAt?: string;
  updatedAt?: string;
  archived?: boolean;
}

interface Property {
  name: string;
  modificationMetadata?: { readOnlyValue?: boolean };
  calculated?: boolean;
}

interface ResourceSpec {
  description: string;
  types: string[];
  pipelines?: 'deals' | 'tickets';
}

const RESOURCES: Record<string, ResourceSpec> = {
  contacts: { description: 'Contacts with all their properties.', types: ['contacts'] },
  companies: { description: 'Companies with all their properties.', types: ['companies'] },
  deals: { description: 'Deals with all their properties, and the deal pipelines with their stages.', types: ['deals'], pipelines: 'deals' },
  tickets: { description: 'Service tickets with all their properties, and the ticket pipelines.', types: ['tickets'], pipelines: 'tickets' },
  products: { description: 'Products and line items.', types: ['products', 'line_items'] },
  engagements: { description: 'Calls, emails, meetings, notes and tasks.', types: ['calls', 'emails', 'meetings', 'notes', 'tasks'] },
};
const RESTORABLE = new Set(['contacts', 'companies']);

const lastModified = (type: string) => (type === 'contacts' ? 'lastmodifieddate' : 'hs_lastmodifieddate');

/** `searchCap`: the results one search reaches (HubSpot's 10,000; tests lower it with their fake's). */
export function createHubSpotConnector(options: { baseUrl?: string; searchCap?: number } = {}): Connector {
  const searchCap = options.searchCap ?? SEARCH_CAP;
  return {
    slug: 'hubspot',
    name: 'HubSpot',
    authType: 'oauth2',
    resources: [
      ...Object.entries(RESOURCES).map(([name, spec]) => ({
        name,
        description: spec.description,
        incremental: true,
        cursor: spec.pipelines ? 'search on hs_lastmodifieddate; pipelines by updatedAt' : name === 'contacts' ? 'search on lastmodifieddate' : 'search on hs_lastmodifieddate',
        restorable: RESTORABLE.has(name),
      })),
      { name: 'owners', incremental: false, restorable: false, description: 'Owners: the users records are assigned to.' },
    ],
    http: {
      platform: 'HubSpot',
      baseUrl: options.baseUrl ?? HUBSPOT_API_URL,
      rate: ({ method, url }) => {
        if (method === 'POST' && url.pathname.endsWith('/search')) return { key: 'search', limit: 5, intervalMs: 1000 };
        const limit = limits.get(url.origin) ?? DEFAULT_LIMIT;
        return { key: 'api', limit: limit.max, intervalMs: limit.intervalMs };
      },
      quota: readQuota,
      classify: classifyHubSpot,
      errorCode: (body) => {
        const category = (body as { category?: unknown } | undefined)?.category;
        return typeof category === 'string' ? category : undefined;
      },
    },
    fetch(resource, ctx) {
      if (resource === 'owners') return fetchOwners(ctx);
      const spec = RESOURCES[resource];
      if (!spec) throw new ConfigError(`HubSpot has no resource ${resource}`);
      return fetchObjects(resource, spec, ctx, searchCap);
    },
    restore(resource, items, ctx) {
      if (!RESTORABLE.has(resource)) throw new ConfigError(`HubSpot cannot restore ${resource}; export it instead`);
      return restoreObjects(resource, items, ctx);
    },
  };
}

/** Learns the app's limit from the headers; holds while none is left. */
function readQuota(info: ResponseInfo): number | undefined {
  const header = (name: string) => {
    const value = info.headers.get(`x-hubspot-ratelimit-${name}`);
    return value !== null && /^\d+$/.test(value.trim()) ? Number(value) : undefined;
  };
  const max = header('max');
  const intervalMs = header('interval-milliseconds');
  if (max && intervalMs) limits.set(new URL(info.url).origin, { max, intervalMs });
  if (header('remaining') === 0) return intervalMs ?? DEFAULT_LIMIT.intervalMs;
  if (header('secondly-remaining') === 0) return 1000;
  return undefined;
}

function classifyHubSpot(info: ResponseInfo): Verdict | undefined {
  if (info.status !== 429 || info.headers.get('retry-after') !== null) return undefined;
  const policy = (info.body as { policyName?: unknown } | undefined)?.policyName;
  if (policy === 'DAILY') return { kind: 'rateLimited', retryAfterMs: msUntilUtcMidnight(info.serverNow) };
  if (policy === 'SECONDLY') return { kind: 'rateLimited', retryAfterMs: 1000 };
  const interval = Number(info.headers.get('x-hubspot-ratelimit-interval-milliseconds') ?? Number.NaN);
  return { kind: 'rateLimited', retryAfterMs: Number.isFinite(interval) && interval > 0 ? interval : DEFAULT_LIMIT.intervalMs };
}

function msUntilUtcMidnight(now: number): number {
  const midnight = new Date(now);
  midnight.setUTCHours(24, 0, 0, 0);
  return midnight.getTime() - now;
}

function readCursor(ctx: FetchContext): Record<string, HighWaterState<number>> {
  const result: Record<string, HighWaterState<number>> = {};
  if (ctx.cursor === undefined) return result;
  if (!ctx.cursor || typeof ctx.cursor !== 'object' || Array.isArray(ctx.cursor)) {
    ctx.log.warn('unreadable cursor, running in full');
    return result;
  }
  for (const [key, value] of Object.entries(ctx.cursor)) {
    const state = HighWaterMark.read<number>(value, 'number');
    if (state) result[key] = state;
  }
  return result;
}

async function propertiesOf(ctx: FetchContext | RestoreContext, type: string): Promise<Property[]> {
  const { data } = await ctx.http.json<{ results?: Property[] }>(`crm/v3/properties/${type}`);
  if (!Array.isArray(data?.results)) throw new PlatformError(`HubSpot: the properties of ${type} came without results`);
  return data.results;
}

async function* fetchObjects(resource: string, spec: ResourceSpec, ctx: FetchContext, searchCap: number): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const previous = readCursor(ctx);
  const next: Record<string, HighWaterState<number>> = {};
  for (const type of spec.types) {
    const names = (await propertiesOf(ctx, type)).map((p) => p.name);
    const mark = new HighWaterMark<number>(previous[type]);
    const records = mark.since === undefined ? listAll(ctx, type, names) : searchSince(ctx, type, names, mark.since, searchCap);
    const seen = new Set<string>();
    for await (const record of records) {
      if (seen.has(record.id)) continue;
      seen.add(record.id);
      const at = instantOf(record, type);
      if (at !== undefined) {
        if (mark.seenBefore(at, record.id)) continue;
        mark.see(at, record.id);
      }
      yield objectItem(resource, spec, type, record);
    }
    const state = mark.state();
    if (state) next[type] = state;
  }
  if (spec.pipelines) {
    const key = `pipelines:${spec.pipelines}`;
    const mark = new HighWaterMark<number>(previous[key]);
    const { data } = await ctx.http.json<{ results?: (Record<string, unknown> & { id: string; label?: string; updatedAt?: string })[] }>(`crm/v3/pipelines/${spec.pipelines}`);
    for (const pipeline of data?.results ?? []) {
      const at = typeof pipeline.updatedAt === 'string' ? Date.parse(pipeline.updatedAt) : Number.NaN;
      if (!Number.isNaN(at)) {
        if (mark.seenBefore(at, pipeline.id)) continue;
        mark.see(at, pipeline.id);
      }
      yield {
        id: `pipeline:${pipeline.id}`,
        path: `${resource}/pipelines/${pipeline.id}.json`,
        updatedAt: Number.isNaN(at) ? undefined : new Date(at).toISOString(),
        changeMarker: pipeline.updatedAt,
        contentType: 'application/json',
        metadata: { kind: 'pipeline', label: pipeline.label ?? null },
        content: jsonContent(pipeline),
      };
    }
    const state = mark.state();
    if (state) next[key] = state;
  }
  return next;
}

async function* listAll(ctx: FetchContext, type: string, properties: string[]): AsyncGenerator<HubSpotObject, void, undefined> {
  const pages = paginateCursor<HubSpotObject>(ctx.http, `crm/v3/objects/${type}`, {
    limit: PAGE,
    cursorParam: 'after',
    query: { properties: properties.join(','), archived: false },
    items: (body) => resultsOf(body),
    hasMore: (body) => Boolean(nextAfter(body)),
    nextCursor: (body) => nextAfter(body),
  });
  for await (const page of pages) yield* page.items;
}

/**
 * Records modified at or after `since`, oldest first. A search stops at 10,000 results: the walk
 * then starts a new search at the newest timestamp it reached (the caller skips repeats).
 */
async function* searchSince(ctx: FetchContext, type: string, properties: string[], since: number, cap: number): AsyncGenerator<HubSpotObject, void, undefined> {
  const property = lastModified(type);
  let from = since;
  for (;;) {
    let after: string | undefined;
    let newest = from;
    let reachedCap = false;
    for (;;) {
      const body = {
        filterGroups: [{ filters: [{ propertyName: property, operator: 'GTE', value: String(from) }] }],
        sorts: [{ propertyName: property, direction: 'ASCENDING' }],
        properties,
        limit: SEARCH_PAGE,
        ...(after === undefined ? {} : { after }),
      };
      // A search changes nothing: it may be sent again after a failure.
      const { data } = await ctx.http.json(`crm/v3/objects/${type}/search`, { method: 'POST', json: body, idempotent: true });
      for (const record of resultsOf<HubSpotObject>(data)) {
        const at = instantOf(record, type);
        if (at !== undefined && at > newest) newest = at;
        yield record;
      }
      after = nextAfter(data);
      if (!after) return;
      if (Number(after) + SEARCH_PAGE > cap) {
        reachedCap = true;
        break;
      }
    }
    if (reachedCap && newest === from) throw new PlatformError(`HubSpot: more than ${cap} ${type} share one modification time; a full run is needed`);
    from = newest;
  }
}

async function* fetchOwners(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor | undefined, undefined> {
  const pages = paginateCursor<Record<string, unknown> & { id: string; email?: string; updatedAt?: string }>(ctx.http, 'crm/v3/owners', {
    limit: PAGE,
    cursorParam: 'after',
    query: { archived: false },
    items: (body) => resultsOf(body),
    hasMore: (body) => Boolean(nextAfter(body)),
    nextCursor: (body) => nextAfter(body),
  });
  for await (const page of pages) {
    for (const owner of page.items) {
      yield {
        id: owner.id,
        path: `owners/${owner.id}.json`,
        updatedAt: owner.updatedAt,
        changeMarker: owner.updatedAt,
        contentType: 'application/json',
        metadata: { email: owner.email ?? null, name: [owner.firstName, owner.lastName].filter(Boolean).join(' ') || null },
        content: jsonContent(owner),
      };
    }
  }
  return undefined;
}

function objectItem(resource: string, spec: ResourceSpec, type: string, record: HubSpotObject): ConnectorItem {
  const folder = spec.types.length > 1 ? `${resource}/${type}` : resource;
  const props = record.properties ?? {};
  const title = props.email ?? props.name ?? props.dealname ?? props.subject ?? props.hs_title ?? null;
  return {
    // Ids are unique per object type, not across the types of one resource.
    id: spec.types.length > 1 ? `${type}/${record.id}` : record.id,
    path: `${folder}/${record.id}.json`,
    updatedAt: record.updatedAt,
    changeMarker: record.updatedAt,
    contentType: 'application/json',
    metadata: { objectType: type, title },
    content: jsonContent({ ...record, objectType: type }),
  };
}

function instantOf(record: HubSpotObject, type: string): number | undefined {
  const value = record.updatedAt ?? record.properties?.[lastModified(type)] ?? undefined;
  const at = value ? Date.parse(value) : Number.NaN;
  return Number.isNaN(at) ? undefined : at;
}

function resultsOf<T>(body: unknown): T[] {
  const results = (body as { results?: unknown } | undefined)?.results;
  if (!Array.isArray(results)) throw new PlatformError('HubSpot: the answer has no results list');
  return results as T[];
}

function nextAfter(body: unknown): string | undefined {
  const after = (body as { paging?: { next?: { after?: unknown } } } | undefined)?.paging?.next?.after;
  return typeof after === 'string' && after !== '' ? after : undefined;
}

async function restoreObjects(type: string, items: AsyncIterable<RestoreItem>, ctx: RestoreContext): Promise<RestoreResult> {
  const properties = await propertiesOf(ctx, type);
  const writable = new Set(properties.filter((p) => !p.modificationMetadata?.readOnlyValue && !p.calculated).map((p) => p.name));
  let restored = 0;
  for await (const item of items) {
    const record = await readRecord(item);
    const values = Object.fromEntries(Object.entries(record.properties).filter(([name, value]) => writable.has(name) && value !== null && value !== undefined));
    const id = /^\d+$/.test(record.id) ? record.id : undefined;
    if (id && (await exists(ctx, type, id))) {
      await ctx.http.json(`crm/v3/objects/${type}/${id}`, { method: 'PATCH', json: { properties: values } });
    } else {
      try {
        await ctx.http.json(`crm/v3/objects/${type}`, { method: 'POST', json: { properties: values } });
      } catch (error) {
        const existing = error instanceof ConnectorError && error.status === 409 ? /Existing ID: (\d+)/.exec(error.message)?.[1] : undefined;
        if (!existing) throw error;
        await ctx.http.json(`crm/v3/objects/${type}/${existing}`, { method: 'PATCH', json: { properties: values } });
      }
    }
    restored++;
  }
  return { restored, units: restored };
}

async function exists(ctx: RestoreContext, type: string, id: string): Promise<boolean> {
  try {
    await ctx.http.json(`crm/v3/objects/${type}/${id}`, { query: { properties: 'hs_object_id' } });
    return true;
  } catch (error) {
    if (error instanceof ConnectorError && error.status === 404) return false;
    throw error;
  }
}

async function readRecord(item: RestoreItem): Promise<HubSpotObject> {
  const record: unknown = await readRestoreJson(item, 'HubSpot', 'a CRM record');
  const { id, properties } = (record ?? {}) as Partial<HubSpotObject>;
  if (typeof id !== 'string' || !properties || typeof properties !== 'object') throw new ConfigError(`HubSpot: ${item.path} is not a CRM record (no id and properties)`);
  return { id, properties };
}
