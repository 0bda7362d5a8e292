/**
 * A fake of Shopify's REST Admin API (2025-07) under /admin/api/2025-07, for the endpoints the
 * connector uses: products (list, read, create, update), orders, customers, custom and smart
 * collections, pages, blogs and their articles, price rules and their discount codes, locations
 * and inventory levels. Speaks the documented wire format:
 *
 * - cursor pagination: `limit` (default 50, at most 250), a `Link` header with `rel="next"` /
 *   `rel="previous"` URLs carrying `page_info`; a request with `page_info` may add only `limit`
 *   and `fields` (anything else is a 400), the filters of the first page travel inside it;
 * - `updated_at_min` inclusive, timestamps printed with the shop's UTC offset (-05:00);
 * - the leaky bucket per app and store: `X-Shopify-Shop-Api-Call-Limit: used/size` on every
 *   answer, leaking size/20 a second; a request into a full bucket is a 429 with
 *   `Retry-After: 2.0` and `{"errors": "Exceeded 2 calls per second …"}` (`overLimit` counts them);
 * - `{"errors": "[API] Invalid API key or access token …"}` on 401, a missing scope a 403 naming
 *   it, validation failures a 422 `{"errors": {"title": ["can't be blank"]}}`.
 */
import type { ServerResponse } from 'node:http';
import { FakeServer, type ErrorAnswer, type Failure, type RecordedRequest } from '../testing/fake-server.ts';

export const SHOPIFY_API_PREFIX = '/admin/api/2025-07';
const OFFSET_MINUTES = -5 * 60;

type Json = Record<string, any>;

/** Which scope an endpoint (its first path segment) needs. */
const SCOPES: Record<string, string> = {
  products: 'read_products',
  custom_collections: 'read_products',
  smart_collections: 'read_products',
  orders: 'read_orders',
  customers: 'read_customers',
  pages: 'read_content',
  blogs: 'read_content',
  price_rules: 'read_discounts',
  locations: 'read_locations',
  inventory_levels: 'read_inventory',
  shop: '',
};

/** `2025-01-02T03:04:05-05:00`: seconds precision in the shop's time zone, as Shopify prints it. */
export function shopTime(ms: number): string {
  const local = new Date(Math.floor(ms / 1000) * 1000 + OFFSET_MINUTES * 60_000);
  const sign = OFFSET_MINUTES < 0 ? '-' : '+';
  const abs = Math.abs(OFFSET_MINUTES);
  const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return local.toISOString().replace(/\.\d{3}Z$/, offset);
}

interface PageInfo {
  /** Where the page starts in the filtered, id-ordered list. */
  offset: number;
  /** The filters of the first request, which every later page keeps. */
  filters: Record<string, string>;
}

export class FakeShopify extends FakeServer {
  readonly tokens = new Set<string>(['shpat_valid']);
  /** Scopes granted to the app; a request outside them is a 403. */
  readonly scopes = new Set(Object.values(SCOPES).filter(Boolean));
  /** The bucket's size: 40 for a standard shop, 400 on Shopify Plus. It leaks size/20 a second. */
  bucketSize = 40;
  /** Requests another worker of the app sends beside each of ours, into the same bucket. */
  otherWorkerLoad = 0;
  /** Requests that found the bucket full (each answered 429). */
  readonly overLimit: RecordedRequest[] = [];
  readonly products: Json[] = [];
  readonly orders: Json[] = [];
  readonly customers: Json[] = [];
  readonly customCollections: Json[] = [];
  readonly smartCollections: Json[] = [];
  readonly pages: Json[] = [];
  readonly blogs: Json[] = [];
  readonly articles: Json[] = [];
  readonly priceRules: Json[] = [];
  readonly discountCodes: Json[] = [];
  readonly locations: Json[] = [];
  readonly inventoryLevels: Json[] = [];
  #buckets = new Map<string, { level: number; at: number }>();
  #nextId = 1_000_000;

  id(): number {
    return ++this.#nextId;
  }

  #stamp(): { created_at: string; updated_at: string } {
    const at = shopTime(this.now());
    return { created_at: at, updated_at: at };
  }

  /** Fills the token's bucket, as requests of another worker of the same app would. */
  fillBucket(token: string, level: number): void {
    this.#buckets.set(token, { level, at: this.now() });
  }

  addProduct(title: string, extra: Json = {}): Json {
    const id = this.id();
    const handle = title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    const stamp = this.#stamp();
    const variant = { id: this.id(), product_id: id, title: 'Default Title', price: '19.00', sku: `SKU-${id}`, position: 1, inventory_item_id: this.id(), inventory_quantity: 5, ...stamp };
    const product = {
      id,
      title,
      body_html: `<p>${title}</p>`,
      vendor: 'Acme',
      product_type: 'Widget',
      handle,
      status: 'active',
      tags: 'backup, test',
      published_at: stamp.created_at,
      template_suffix: null,
      published_scope: 'web',
      admin_graphql_api_id: `gid://shopify/Product/${id}`,
      options: [{ id: this.id(), product_id: id, name: 'Title', position: 1, values: ['Default Title'] }],
      variants: [variant],
      images: [],
      image: null,
      ...stamp,
      ...extra,
    };
    this.products.push(product);
    return product;
  }

  addOrder(number: number, extra: Json = {}): Json {
    const id = this.id();
    const order = { id, name: `#${number}`, order_number: number, email: `buyer${number}@example.com`, financial_status: 'paid', fulfillment_status: null, currency: 'USD', total_price: '42.00', line_items: [{ id: this.id(), title: 'Widget', quantity: 2, price: '21.00' }], cancelled_at: null, closed_at: null, ...this.#stamp(), ...extra };
    this.orders.push(order);
    return order;
  }

  addCustomer(email: string): Json {
    const id = this.id();
    const customer = { id, email, first_name: email.split('@')[0], last_name: 'Doe', state: 'enabled', orders_count: 0, addresses: [{ id: this.id(), customer_id: id, city: 'Ottawa', country: 'Canada', default: true }], ...this.#stamp() };
    this.customers.push(customer);
    return customer;
  }

  addCollection(kind: 'custom' | 'smart', title: string): Json {
    const collection: Json = { id: this.id(), title, handle: title.toLowerCase().replace(/\W+/g, '-'), body_html: '', published_at: shopTime(this.now()), sort_order: 'best-selling', ...this.#stamp() };
    if (kind === 'smart') {
      collection.rules = [{ column: 'tag', relation: 'equals', condition: 'sale' }];
      collection.disjunctive = false;
      this.smartCollections.push(collection);
    } else {
      this.customCollections.push(collection);
    }
    return collection;
  }

  addPage(title: string): Json {
    const page = { id: this.id(), title, handle: title.toLowerCase().replace(/\W+/g, '-'), body_html: `<p>${title}</p>`, author: 'Shop', published_at: shopTime(this.now()), ...this.#stamp() };
    this.pages.push(page);
    return page;
  }

  addBlog(title: string): Json {
    const blog = { id: this.id(), title, handle: title.toLowerCase().replace(/\W+/g, '-'), commentable: 'no', ...this.#stamp() };
    this.blogs.push(blog);
    return blog;
  }

  addArticle(blogId: number, title: string): Json {
    const article = { id: this.id(), blog_id: blogId, title, handle: title.toLowerCase().replace(/\W+/g, '-'), body_html: `<p>${title}</p>`, author: 'Editor', tags: '', published_at: shopTime(this.now()), ...this.#stamp() };
    this.articles.push(article);
    return article;
  }

  addPriceRule(title: string, codes: string[]): Json {
    const rule = { id: this.id(), title, value_type: 'percentage', value: '-10.0', target_type: 'line_item', target_selection: 'all', allocation_method: 'across', customer_selection: 'all', starts_at: shopTime(this.now()), ends_at: null, ...this.#stamp() };
    this.priceRules.push(rule);
    for (const code of codes) this.discountCodes.push({ id: this.id(), price_rule_id: rule.id, code, usage_count: 0, ...this.#stamp() });
    return rule;
  }

  addLocation(name: string): Json {
    const location = { id: this.id(), name, address1: '1 Main St', city: 'Ottawa', country_code: 'CA', active: true, ...this.#stamp() };
    this.locations.push(location);
    return location;
  }

  setInventory(locationId: number, inventoryItemId: number, available: number): Json {
    let level = this.inventoryLevels.find((l) => l.location_id === locationId && l.inventory_item_id === inventoryItemId);
    if (!level) {
      level = { inventory_item_id: inventoryItemId, location_id: locationId };
      this.inventoryLevels.push(level);
    }
    Object.assign(level, { available, updated_at: shopTime(this.now()), admin_graphql_api_id: `gid://shopify/InventoryLevel/${locationId}?inventory_item_id=${inventoryItemId}` });
    return level;
  }

  /** Changes a record the way an edit in the admin does: new fields, a new `updated_at`. */
  touch(record: Json, patch: Json = {}): Json {
    return Object.assign(record, patch, { updated_at: shopTime(this.now()) });
  }

  protected errorAnswer(status: number, _failure: Failure): ErrorAnswer {
    const errors: Record<number, unknown> = {
      401: '[API] Invalid API key or access token (unrecognized login or wrong password)',
      402: 'Unavailable Shop',
      403: '[API] This action requires merchant approval for read_orders scope.',
      404: 'Not Found',
      422: { title: ["can't be blank"] },
      423: 'This shop is unavailable',
      429: 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.',
    };
    if (status === 429) return { status, body: { errors: errors[429] }, headers: { 'retry-after': '2.0' } };
    if (status >= 500) return { status, body: { errors: 'Internal Server Error' } };
    return { status, body: { errors: errors[status] ?? 'Bad Request' } };
  }

  protected route(request: RecordedRequest, res: ServerResponse): undefined {
    const token = request.headers['x-shopify-access-token'];
    if (typeof token !== 'string' || !this.tokens.has(token)) {
      this.answer(request, res, 401, { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
      return;
    }
    const bucket = this.#leak(token);
    // Another worker of the same app spends the same bucket just before this request.
    bucket.level = Math.min(this.bucketSize, bucket.level + this.otherWorkerLoad);
    const limitHeader = () => ({ 'x-shopify-shop-api-call-limit': `${Math.ceil(bucket.level)}/${this.bucketSize}` });
    if (bucket.level + 1 > this.bucketSize) {
      request.retryAllowedAt = this.now() + 2000;
      this.overLimit.push(request);
      this.answer(request, res, 429, { errors: 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.' }, { ...limitHeader(), 'retry-after': '2.0' });
      return;
    }
    bucket.level += 1;
    const headers = limitHeader();
    const reply = (status: number, body: unknown, extra: Record<string, string> = {}): undefined => {
      this.answer(request, res, status, body, { ...headers, ...extra });
    };

    if (!request.path.startsWith(`${SHOPIFY_API_PREFIX}/`)) return reply(404, { errors: 'Not Found' });
    const parts = request.path.slice(SHOPIFY_API_PREFIX.length + 1).replace(/\.json$/, '').split('/');
    const scope = SCOPES[parts[0]];
    if (scope === undefined) return reply(404, { errors: 'Not Found' });
    if (scope && !this.scopes.has(scope)) return reply(403, { errors: `[API] This action requires merchant approval for ${scope} scope.` });

    const route = `${request.method} ${parts.map((part, i) => (i % 2 === 1 && /^\d+$/.test(part) ? ':id' : part)).join('/')}`;
    const id = (i: number) => Number(parts[i]);
    switch (route) {
      case 'GET shop':
        return reply(200, { shop: { id: 548380009, name: 'Acme Store', myshopify_domain: 'acme.myshopify.com' } });
      case 'GET products':
        return this.#list(request, reply, 'products', this.products);
      case 'GET products/:id': {
        const product = this.products.find((p) => p.id === id(1));
        return product ? reply(200, { product }) : reply(404, { errors: 'Not Found' });
      }
      case 'POST products':
        return this.#writeProduct(request, reply, undefined);
      case 'PUT products/:id': {
        const product = this.products.find((p) => p.id === id(1));
        return product ? this.#writeProduct(request, reply, product) : reply(404, { errors: 'Not Found' });
      }
      case 'GET orders': {
        const status = request.query.get('status') ?? 'open';
        const orders = this.orders.filter((o) => status === 'any' || (status === 'open' ? !o.closed_at && !o.cancelled_at : status === 'closed' ? Boolean(o.closed_at) : Boolean(o.cancelled_at)));
        return this.#list(request, reply, 'orders', orders, ['status']);
      }
      case 'GET customers':
        return this.#list(request, reply, 'customers', this.customers);
      case 'GET custom_collections':
        return this.#list(request, reply, 'custom_collections', this.customCollections);
      case 'GET smart_collections':
        return this.#list(request, reply, 'smart_collections', this.smartCollections);
      case 'GET pages':
        return this.#list(request, reply, 'pages', this.pages);
      case 'GET blogs':
        return this.#list(request, reply, 'blogs', this.blogs, [], false);
      case 'GET blogs/:id/articles':
        if (!this.blogs.some((b) => b.id === id(1))) return reply(404, { errors: 'Not Found' });
        return this.#list(request, reply, 'articles', this.articles.filter((a) => a.blog_id === id(1)));
      case 'GET price_rules':
        return this.#list(request, reply, 'price_rules', this.priceRules);
      case 'GET price_rules/:id/discount_codes':
        if (!this.priceRules.some((r) => r.id === id(1))) return reply(404, { errors: 'Not Found' });
        return this.#list(request, reply, 'discount_codes', this.discountCodes.filter((c) => c.price_rule_id === id(1)), [], false);
      case 'GET locations':
        // Not paginated: every location in one answer.
        return reply(200, { locations: this.locations });
      case 'GET inventory_levels': {
        const first = request.query.get('page_info') ? undefined : request.query;
        if (first && !first.get('location_ids') && !first.get('inventory_item_ids')) return reply(422, { errors: { base: ['Must specify at least one of location_ids or inventory_item_ids'] } });
        if ((first?.get('location_ids') ?? '').split(',').length > 50) return reply(422, { errors: { location_ids: ['must have at most 50 ids'] } });
        const ids = (name: string, filters: URLSearchParams | Record<string, string>) => {
          const value = filters instanceof URLSearchParams ? filters.get(name) : filters[name];
          return value ? value.split(',').map(Number) : undefined;
        };
        return this.#list(request, reply, 'inventory_levels', this.inventoryLevels, ['location_ids', 'inventory_item_ids'], true, (levels, filters) => {
          const locations = ids('location_ids', filters);
          const items = ids('inventory_item_ids', filters);
          return levels.filter((l) => (!locations || locations.includes(l.location_id)) && (!items || items.includes(l.inventory_item_id)));
        });
      }
      default:
        return reply(404, { errors: 'Not Found' });
    }
  }

  #leak(token: string): { level: number; at: number } {
    const now = this.now();
    const bucket = this.#buckets.get(token) ?? { level: 0, at: now };
    bucket.level = Math.max(0, bucket.level - ((now - bucket.at) / 1000) * (this.bucketSize / 20));
    bucket.at = now;
    this.#buckets.set(token, bucket);
    return bucket;
  }

  /** One page of a cursor-paginated list, sorted by id, with its `Link` header. */
  #list(
    request: RecordedRequest,
    reply: (status: number, body: unknown, extra?: Record<string, string>) => undefined,
    key: string,
    all: Json[],
    filterNames: string[] = [],
    updatedFilter = true,
    filter?: (records: Json[], filters: Record<string, string>) => Json[],
  ): undefined {
    const q = request.query;
    const limit = Math.min(250, Math.max(1, Number(q.get('limit') ?? 50)));
    let info: PageInfo;
    const token = q.get('page_info');
    if (token) {
      const extra = [...q.keys()].filter((name) => !['page_info', 'limit', 'fields'].includes(name));
      if (extra.length) return reply(400, { errors: { page_info: [`cannot be combined with ${extra.join(', ')}`] } });
      try {
        info = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as PageInfo;
        if (typeof info.offset !== 'number' || !info.filters) throw new Error('bad page_info');
      } catch {
        return reply(400, { errors: { page_info: ['Invalid value.'] } });
      }
    } else {
      const filters: Record<string, string> = {};
      for (const name of [...filterNames, ...(updatedFilter ? ['updated_at_min', 'updated_at_max'] : [])]) {
        const value = q.get(name);
        if (value !== null) filters[name] = value;
      }
      for (const name of ['updated_at_min', 'updated_at_max']) {
        if (filters[name] !== undefined && Number.isNaN(Date.parse(filters[name]))) return reply(400, { errors: { [name]: ['is not a valid date'] } });
      }
      info = { offset: 0, filters };
    }
    let records = [...all].sort((a, b) => a.id - b.id || 0);
    if (key === 'inventory_levels') records = [...all].sort((a, b) => a.location_id - b.location_id || a.inventory_item_id - b.inventory_item_id);
    const min = info.filters.updated_at_min;
    const max = info.filters.updated_at_max;
    if (min) records = records.filter((r) => Date.parse(r.updated_at) >= Date.parse(min));
    if (max) records = records.filter((r) => Date.parse(r.updated_at) <= Date.parse(max));
    if (filter) records = filter(records, info.filters);
    const start = info.offset;
    const page = records.slice(start, start + limit);
    const links: string[] = [];
    const link = (offset: number, rel: string) => {
      const pageInfo = Buffer.from(JSON.stringify({ offset, filters: info.filters } satisfies PageInfo)).toString('base64url');
      return `<${this.url}${request.path}?limit=${limit}&page_info=${pageInfo}>; rel="${rel}"`;
    };
    if (start > 0) links.push(link(Math.max(0, start - limit), 'previous'));
    if (start + limit < records.length) links.push(link(start + limit, 'next'));
    reply(200, { [key]: page }, links.length ? { link: links.join(', ') } : {});
  }

  #writeProduct(request: RecordedRequest, reply: (status: number, body: unknown, extra?: Record<string, string>) => undefined, existing: Json | undefined): undefined {
    let input: Json;
    try {
      input = (JSON.parse(request.body) as { product?: Json }).product ?? {};
    } catch {
      return reply(400, { errors: { product: ['Required parameter missing or invalid'] } });
    }
    if (!existing && !input.title) return reply(422, { errors: { title: ["can't be blank"] } });
    if (existing && input.title === '') return reply(422, { errors: { title: ["can't be blank"] } });
    for (const field of ['created_at', 'updated_at', 'admin_graphql_api_id']) delete input[field];
    const product: Json = existing ?? { id: this.id(), handle: String(input.handle ?? input.title).toLowerCase().replace(/\W+/g, '-'), admin_graphql_api_id: '', images: [], options: [], variants: [], ...this.#stamp() };
    product.admin_graphql_api_id = `gid://shopify/Product/${product.id}`;
    const { variants, images, ...fields } = input;
    const foreign = Array.isArray(variants) ? variants.find((variant: Json) => variant.id !== undefined && !existing?.variants.some((v: Json) => v.id === variant.id)) : undefined;
    if (foreign) return reply(422, { errors: { variants: [`variant ${foreign.id} does not exist on this product`] } });
    Object.assign(product, fields, { id: product.id, updated_at: shopTime(this.now()) });
    if (Array.isArray(variants)) {
      product.variants = variants.map((variant: Json, i: number) => {
        const known = existing?.variants.find((v: Json) => v.id === variant.id);
        return { ...known, ...variant, id: known?.id ?? this.id(), product_id: product.id, position: i + 1, inventory_item_id: known?.inventory_item_id ?? this.id(), updated_at: shopTime(this.now()), created_at: known?.created_at ?? shopTime(this.now()) };
      });
    }
    if (Array.isArray(images)) product.images = images.map((image: Json, i: number) => ({ ...image, id: image.id ?? this.id(), product_id: product.id, position: i + 1 }));
    if (!existing) this.products.push(product);
    reply(existing ? 200 : 201, { product });
  }
}
