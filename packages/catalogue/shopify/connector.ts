/**
 * Shopify (REST Admin API, 2025-07): products, orders, customers, inventory levels, collections,
 * online store pages and blog articles, price rules with their discount codes, and locations of
 * the shop the token was installed in. The connection's API root carries the shop
 * (`https://{shop}/admin/api/2025-07`).
 *
 * Lists page with cursors: `limit=250`, then the `Link` header's `rel="next"` URL as given (its
 * `page_info` keeps the first page's filters; Shopify refuses other parameters beside it).
 * Incremental lists ask `updated_at_min` (inclusive) of the newest `updated_at` seen; Shopify
 * prints timestamps with the shop's UTC offset, so they are compared as instants.
 *
 * Pacing: the REST API is a leaky bucket per app and store (40 requests, leaking 2 a second; 400
 * and 20 on Plus). Requests go out at the leak rate, and `X-Shopify-Shop-Api-Call-Limit:
 * used/size` on every answer holds the next request while the bucket is nearly full (another
 * worker of the app drains the same bucket); a 429 waits its `Retry-After`.
 *
 * Restore writes products back: an update (PUT) of a product that still exists, keeping the
 * variants and images it still has; otherwise a new product (POST).
 */
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
  PlatformError,
  readRestoreJson,
  type ResponseInfo,
  type RestoreContext,
  type RestoreItem,
  type RestoreResult,
} from '../sdk/index.ts';

const LIMIT = 250;
/** A bucket drains completely in 20 seconds whatever its size (40 at 2/s, 400 at 20/s). */
const DRAIN_MS = 20_000;
const STANDARD_BUCKET = 40;
/** Requests of other runs that may be in flight when the header was read. */
const BUCKET_MARGIN = 2;
/** Shopify accepts at most 50 location ids in one inventory_levels request. */
const LOCATIONS_PER_REQUEST = 50;

/** Bucket size per shop, as its answers say (Plus shops have 400). */
const bucketSizes = new Map<string, number>();

type Record_ = { id: number; updated_at?: string; [key: string]: unknown };

interface ListSpec {
  /** The endpoint under the API root, without `.json`. */
  path: string;
  /** The answer's field holding the page. */
  key: string;
  query?: Record<string, string>;
}

/** One list an incremental resource reads, with the cursor key it keeps its mark under. */
interface Source extends ListSpec {
  mark: string;
  item: (record: Record_) => Omit<ConnectorItem, 'content' | 'changeMarker' | 'updatedAt'>;
}

type ShopifyCursor = Record<string, HighWaterState<number>>;

export function createShopifyConnector(options: { baseUrl?: string } = {}): Connector {
  return {
    slug: 'shopify',
    name: 'Shopify',
    authType: 'oauth2',
    resources: [
      { name: 'products', incremental: true, cursor: 'updated_at_min (updated_at)', restorable: true, description: 'Products with their variants, options and images.' },
      { name: 'orders', incremental: true, restorable: false, cursor: 'updated_at_min (updated_at)', description: 'Orders in every status (the last 60 days unless the app has read_all_orders).' },
      { name: 'customers', incremental: true, restorable: false, cursor: 'updated_at_min (updated_at)', description: 'Customers with their addresses.' },
      { name: 'inventory_levels', incremental: true, restorable: false, cursor: 'updated_at_min (updated_at), over every location', description: 'Available inventory of each item at each location.' },
      { name: 'collections', incremental: true, restorable: false, cursor: 'updated_at_min (updated_at), custom and smart collections', description: 'Custom and smart collections.' },
      { name: 'pages', incremental: true, restorable: false, cursor: 'updated_at_min (updated_at), pages and the articles of each blog', description: 'Online store pages, blogs and blog articles.' },
      { name: 'price_rules', incremental: true, restorable: false, cursor: 'updated_at_min (updated_at) of the rule; codes of unchanged rules at the weekly full run', description: 'Price rules, each with its discount codes.' },
      { name: 'locations', incremental: false, restorable: false, description: 'Locations: stores, warehouses and fulfilment services.' },
    ],
    http: {
      platform: 'Shopify',
      baseUrl: options.baseUrl ?? 'https://shopify.invalid/admin/api/2025-07',
      authorize: (credentials) => {
        const token = credentials.accessToken ?? credentials.apiKey;
        if (!token) throw new ConfigError('The Shopify connection has no access token');
        return { 'x-shopify-access-token': token };
      },
      rate: ({ url }) => {
        const size = bucketSizes.get(url.origin) ?? STANDARD_BUCKET;
        return { key: 'rest', limit: size / 20, intervalMs: 1000 };
      },
      quota: bucketHold,
      errorMessage: errorMessage,
    },
    fetch(resource, ctx) {
      switch (resource) {
        case 'products':
          return fetchSources(ctx, [{ path: 'products', key: 'products', mark: 'products', item: (p) => entry(`products/${safe(String(p.handle ?? p.id))}.json`, p, { title: p.title, status: p.status, vendor: p.vendor }) }]);
        case 'orders':
          return fetchSources(ctx, [{ path: 'orders', key: 'orders', query: { status: 'any' }, mark: 'orders', item: (o) => entry(`orders/${o.order_number ?? o.id}.json`, o, { name: o.name, financialStatus: o.financial_status, total: o.total_price, currency: o.currency }) }]);
        case 'customers':
          return fetchSources(ctx, [{ path: 'customers', key: 'customers', mark: 'customers', item: (c) => entry(`customers/${c.id}.json`, c, { email: c.email ?? null, state: c.state }) }]);
        case 'collections':
          return fetchSources(ctx, [
            { path: 'custom_collections', key: 'custom_collections', mark: 'custom_collections', item: (c) => entry(`collections/custom/${safe(String(c.handle ?? c.id))}.json`, c, { title: c.title, kind: 'custom' }) },
            { path: 'smart_collections', key: 'smart_collections', mark: 'smart_collections', item: (c) => entry(`collections/smart/${safe(String(c.handle ?? c.id))}.json`, c, { title: c.title, kind: 'smart' }) },
          ]);
        case 'pages':
          return fetchPages(ctx);
        case 'price_rules':
          return fetchPriceRules(ctx);
        case 'inventory_levels':
          return fetchInventory(ctx);
        case 'locations':
          return fetchLocations(ctx);
        default:
          throw new ConfigError(`Shopify has no resource ${resource}`);
      }
    },
    restore(resource, items, ctx) {
      if (resource !== 'products') throw new ConfigError(`Shopify cannot restore ${resource}; export it instead`);
      return restoreProducts(items, ctx);
    },
  };
}

/** `used/size` of the answer's bucket: hold while fewer than the margin is left. */
function bucketHold(info: ResponseInfo): number | undefined {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(info.headers.get('x-shopify-shop-api-call-limit') ?? '');
  if (!match) return undefined;
  const used = Number(match[1]);
  const size = Number(match[2]);
  if (!(size > 0)) return undefined;
  bucketSizes.set(new URL(info.url).origin, size);
  const over = used - (size - BUCKET_MARGIN);
  return over > 0 ? (over * DRAIN_MS) / size : undefined;
}

/** `{"errors": "…"}` or `{"errors": {"title": ["can't be blank"]}}`. */
function errorMessage(body: unknown): string | undefined {
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  if (typeof errors === 'string') return errors;
  if (Array.isArray(errors)) return errors.map(String).join('; ');
  if (errors && typeof errors === 'object') {
    return Object.entries(errors)
      .map(([field, problems]) => `${field} ${Array.isArray(problems) ? problems.join(', ') : String(problems)}`)
      .join('; ');
  }
  return undefined;
}

function readCursor(ctx: FetchContext): ShopifyCursor {
  const result: ShopifyCursor = {};
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

function instant(record: Record_): number | undefined {
  const at = typeof record.updated_at === 'string' ? Date.parse(record.updated_at) : Number.NaN;
  return Number.isNaN(at) ? undefined : at;
}

/** Every record of a list changed since its mark (all of them without one), once each. */
async function* changed(ctx: FetchContext, spec: ListSpec, mark: HighWaterMark<number>, query: Record<string, string> = {}): AsyncGenerator<Record_, void, undefined> {
  const since = mark.since === undefined ? undefined : new Date(mark.since).toISOString();
  const pages = paginateLink<Record_>(ctx.http, `${spec.path}.json`, {
    query: { limit: LIMIT, ...spec.query, ...query, updated_at_min: since },
    items: (body) => listOf<Record_>(body, spec.key),
  });
  const seen = new Set<number>();
  for await (const record of eachItem(pages)) {
    if (seen.has(record.id)) continue;
    seen.add(record.id);
    const at = instant(record);
    if (at !== undefined) {
      if (mark.seenBefore(at, String(record.id))) continue;
      mark.see(at, String(record.id));
    }
    yield record;
  }
}

async function* fetchSources(ctx: FetchContext, sources: Source[]): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const previous = readCursor(ctx);
  const next: ShopifyCursor = {};
  for (const source of sources) {
    const mark = new HighWaterMark<number>(previous[source.mark]);
    for await (const record of changed(ctx, source, mark)) yield withContent(source.item(record), record);
    keep(next, source.mark, mark);
  }
  return next;
}

async function* fetchPages(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const previous = readCursor(ctx);
  const next: ShopifyCursor = {};
  const pages = new HighWaterMark<number>(previous.pages);
  for await (const page of changed(ctx, { path: 'pages', key: 'pages' }, pages)) {
    yield withContent(entry(`pages/${safe(String(page.handle ?? page.id))}.json`, page, { title: page.title, kind: 'page' }), page);
  }
  keep(next, 'pages', pages);

  // blogs.json takes no updated_at_min: every blog is listed, and those changed since the mark yielded.
  const blogsMark = new HighWaterMark<number>(previous.blogs);
  const blogs: Record_[] = [];
  for await (const blog of eachItem(paginateLink<Record_>(ctx.http, 'blogs.json', { query: { limit: LIMIT }, items: (body) => listOf<Record_>(body, 'blogs') }))) {
    blogs.push(blog);
    const at = instant(blog);
    if (at !== undefined) {
      if (blogsMark.seenBefore(at, String(blog.id))) continue;
      blogsMark.see(at, String(blog.id));
    }
    yield withContent(entry(`blogs/${safe(String(blog.handle ?? blog.id))}.json`, blog, { title: blog.title, kind: 'blog' }), blog);
  }
  keep(next, 'blogs', blogsMark);

  for (const blog of blogs) {
    const key = `articles:${blog.id}`;
    const mark = new HighWaterMark<number>(previous[key]);
    for await (const article of changed(ctx, { path: `blogs/${blog.id}/articles`, key: 'articles' }, mark)) {
      yield withContent(entry(`blogs/${safe(String(blog.handle ?? blog.id))}/${safe(String(article.handle ?? article.id))}.json`, article, { title: article.title, kind: 'article', blogId: blog.id }), article);
    }
    keep(next, key, mark);
  }
  return next;
}

async function* fetchPriceRules(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const previous = readCursor(ctx);
  const mark = new HighWaterMark<number>(previous.price_rules);
  for await (const rule of changed(ctx, { path: 'price_rules', key: 'price_rules' }, mark)) {
    const codes: unknown[] = [];
    const listing = paginateLink<unknown>(ctx.http, `price_rules/${rule.id}/discount_codes.json`, { query: { limit: LIMIT }, items: (body) => listOf(body, 'discount_codes') });
    for await (const code of eachItem(listing)) codes.push(code);
    const body = { ...rule, discount_codes: codes };
    yield withContent(entry(`price_rules/${rule.id}.json`, rule, { title: rule.title, codes: codes.length }), body);
  }
  const next: ShopifyCursor = {};
  keep(next, 'price_rules', mark);
  return next;
}

async function listLocations(ctx: FetchContext): Promise<Record_[]> {
  const locations: Record_[] = [];
  for await (const location of eachItem(paginateLink<Record_>(ctx.http, 'locations.json', { items: (body) => listOf<Record_>(body, 'locations') }))) locations.push(location);
  return locations;
}

async function* fetchLocations(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor | undefined, undefined> {
  for (const location of await listLocations(ctx)) {
    yield withContent(entry(`locations/${location.id}.json`, location, { name: location.name, active: location.active ?? null }), location);
  }
  return undefined;
}

async function* fetchInventory(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const previous = readCursor(ctx);
  const mark = new HighWaterMark<number>(previous.inventory_levels);
  const since = mark.since === undefined ? undefined : new Date(mark.since).toISOString();
  const locations = await listLocations(ctx);
  const names = new Map(locations.map((l) => [l.id, l.name]));
  for (let i = 0; i < locations.length; i += LOCATIONS_PER_REQUEST) {
    const ids = locations.slice(i, i + LOCATIONS_PER_REQUEST).map((l) => l.id).join(',');
    const pages = paginateLink<Record<string, unknown>>(ctx.http, 'inventory_levels.json', {
      query: { limit: LIMIT, location_ids: ids, updated_at_min: since },
      items: (body) => listOf(body, 'inventory_levels'),
    });
    for await (const level of eachItem(pages)) {
      const id = `${String(level.inventory_item_id)}@${String(level.location_id)}`;
      const at = typeof level.updated_at === 'string' ? Date.parse(level.updated_at) : Number.NaN;
      if (!Number.isNaN(at)) {
        if (mark.seenBefore(at, id)) continue;
        mark.see(at, id);
      }
      const item = { id, path: `inventory_levels/${String(level.location_id)}/${String(level.inventory_item_id)}.json`, metadata: { location: names.get(level.location_id as number) ?? null, locationId: level.location_id, inventoryItemId: level.inventory_item_id, available: level.available ?? null } };
      yield withContent(item, level);
    }
  }
  const next: ShopifyCursor = {};
  keep(next, 'inventory_levels', mark);
  return next;
}

function keep(cursor: ShopifyCursor, key: string, mark: HighWaterMark<number>): void {
  const state = mark.state();
  if (state) cursor[key] = state;
}

function entry(path: string, record: Record_, metadata: Record<string, unknown>) {
  return { id: String(record.id), path, metadata: { ...metadata, updatedAt: record.updated_at ?? null } };
}

function withContent(item: Omit<ConnectorItem, 'content' | 'changeMarker' | 'updatedAt'>, body: Record<string, unknown>): ConnectorItem {
  const updated = typeof body.updated_at === 'string' ? body.updated_at : undefined;
  const at = updated ? Date.parse(updated) : Number.NaN;
  return {
    ...item,
    updatedAt: Number.isNaN(at) ? undefined : new Date(at).toISOString(),
    changeMarker: updated,
    contentType: 'application/json',
    content: jsonContent(body),
  };
}

function listOf<T>(body: unknown, key: string): T[] {
  const list = (body as Record<string, unknown> | undefined)?.[key];
  if (!Array.isArray(list)) throw new PlatformError(`Shopify: the answer has no ${key} list`);
  return list as T[];
}

/** Fields Shopify sets itself: never sent back. */
const READ_ONLY = new Set(['id', 'created_at', 'updated_at', 'admin_graphql_api_id', 'image']);
const READ_ONLY_VARIANT = new Set(['product_id', 'created_at', 'updated_at', 'admin_graphql_api_id', 'inventory_item_id', 'inventory_quantity', 'old_inventory_quantity', 'image_id']);
const READ_ONLY_IMAGE = new Set(['product_id', 'created_at', 'updated_at', 'admin_graphql_api_id', 'variant_ids']);

async function restoreProducts(items: AsyncIterable<RestoreItem>, ctx: RestoreContext): Promise<RestoreResult> {
  let restored = 0;
  for await (const item of items) {
    const product = await readRecord(item);
    const current = await currentProduct(ctx, item.id);
    const payload = writable(product, READ_ONLY);
    const known = (list: unknown) => new Set((Array.isArray(list) ? list : []).map((v: { id?: unknown }) => v.id));
    const variantIds = known(current?.variants);
    const imageIds = known(current?.images);
    // Ids that still exist are updated in place; anything else is created anew.
    if (Array.isArray(product.variants)) payload.variants = product.variants.map((v: Record<string, unknown>) => withoutIdUnless(writable(v, READ_ONLY_VARIANT), variantIds));
    if (Array.isArray(product.images)) payload.images = product.images.map((i: Record<string, unknown>) => withoutIdUnless(writable(i, READ_ONLY_IMAGE), imageIds));
    if (Array.isArray(product.options)) payload.options = product.options.map((o: Record<string, unknown>) => ({ name: o.name, values: o.values }));
    if (current) {
      await ctx.http.json(`products/${current.id}.json`, { method: 'PUT', json: { product: { ...payload, id: current.id } } });
    } else {
      await ctx.http.json('products.json', { method: 'POST', json: { product: payload } });
    }
    restored++;
  }
  return { restored, units: restored };
}

async function currentProduct(ctx: RestoreContext, id: string): Promise<Record<string, any> | undefined> {
  if (!/^\d+$/.test(id)) return undefined;
  try {
    const { data } = await ctx.http.json<{ product?: Record<string, any> }>(`products/${id}.json`);
    return data?.product;
  } catch (error) {
    if (error instanceof ConnectorError && error.status === 404) return undefined;
    throw error;
  }
}

function readRecord(item: RestoreItem): Promise<Record<string, any>> {
  return readRestoreJson(item, 'Shopify', 'a product record', { object: true });
}

function writable(record: Record<string, unknown>, readOnly: Set<string>): Record<string, any> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !readOnly.has(key)));
}

function withoutIdUnless(record: Record<string, any>, existing: Set<unknown>): Record<string, any> {
  if (existing.has(record.id)) return record;
  const { id: _id, ...rest } = record;
  return rest;
}

function safe(segment: string): string {
  return segment.replace(/[/\\]/g, '_') || '(unnamed)';
}
