import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, ConfigError, type ConnectorItem, fetchResource, PlatformError, type RestoreItem, restoreResource } from '../sdk/index.ts';
import { collect, type CollectedItem, FAST_RETRY, json, tokenCredentials } from '../testing/connector-run.ts';
import { createShopifyConnector } from './connector.ts';
import { FakeShopify, SHOPIFY_API_PREFIX } from './fake.ts';

const path = (name: string) => `${SHOPIFY_API_PREFIX}/${name}`;

describe('Shopify connector', () => {
  const shop = new FakeShopify();
  let connector: ReturnType<typeof createShopifyConnector>;
  const token = () => tokenCredentials('accessToken', 'shpat_valid');

  beforeAll(async () => {
    await shop.start();
    connector = createShopifyConnector({ baseUrl: `${shop.url}${SHOPIFY_API_PREFIX}` });
    // A Shopify Plus shop (a bucket of 400 leaking 20 a second), learned from the first answer; one test uses a standard one.
    shop.bucketSize = 400;
    for (let i = 0; i < 600; i++) shop.addProduct(`Widget ${i}`);
    for (let i = 0; i < 30; i++) shop.addOrder(1001 + i, i % 3 === 0 ? { closed_at: '2025-01-01T00:00:00-05:00' } : {});
    for (let i = 0; i < 1250; i++) shop.addCustomer(`customer${i}@example.com`);
    shop.addCollection('custom', 'Summer');
    shop.addCollection('smart', 'On sale');
    shop.addPage('About us');
    shop.addPage('Contact');
    const news = shop.addBlog('News');
    for (let i = 0; i < 3; i++) shop.addArticle(news.id, `Post ${i}`);
    shop.addPriceRule('Ten off', ['TEN', 'TENNER']);
    for (let i = 0; i < 55; i++) shop.addLocation(`Store ${i}`);
    for (const product of shop.products.slice(0, 4)) {
      for (const location of [shop.locations[0], shop.locations[54]]) shop.setInventory(location.id, product.variants[0].inventory_item_id, 7);
    }
  });
  afterAll(() => shop.close());

  it('pages products with limit=250 and the Link header, sending nothing but limit and page_info after the first page', async () => {
    shop.requests.length = 0;
    const { items, cursor } = await collect(connector, 'products', token());
    expect(items).toHaveLength(600);
    expect(new Set(items.map((i) => i.id)).size).toBe(600);
    const pages = shop.requestsTo(path('products.json'));
    expect(pages).toHaveLength(3);
    expect([...pages[0].query.keys()]).toEqual(['limit']);
    expect(pages[0].query.get('limit')).toBe('250');
    for (const page of pages.slice(1)) expect([...page.query.keys()].sort()).toEqual(['limit', 'page_info']);
    expect(pages.every((r) => r.headers['x-shopify-access-token'] === 'shpat_valid' && r.status === 200)).toBe(true);
    const first = items.find((i) => i.id === String(shop.products[0].id))!;
    expect(first.path).toBe('products/widget-0.json');
    expect(json(first)).toEqual(shop.products[0]);
    // Shopify prints the shop's offset; the cursor holds the instant.
    expect(cursor).toEqual({ products: { at: Date.parse(shop.products.at(-1)!.updated_at), ids: expect.any(Array) } });
  });

  it('gives each record its updated_at as change marker', async () => {
    const items: ConnectorItem[] = [];
    for await (const item of fetchResource(connector, 'collections', token())) items.push(item);
    expect(items.map((i) => i.path)).toEqual(['collections/custom/summer.json', 'collections/smart/on-sale.json']);
    expect(items[0].changeMarker).toBe(shop.customCollections[0].updated_at);
    expect(items[0].updatedAt).toBe(new Date(Date.parse(shop.customCollections[0].updated_at)).toISOString());
  });

  it('a second run asks updated_at_min of the newest change and gets only what changed; a third gets nothing', async () => {
    const first = await collect(connector, 'products', token());
    shop.advance(5_000);
    const edited = shop.touch(shop.products[10], { title: 'Widget 10 (renamed)' });
    const added = shop.addProduct('Gadget');
    shop.requests.length = 0;
    const second = await collect(connector, 'products', { ...token(), cursor: first.cursor });
    expect(second.items.map((i) => i.id).sort()).toEqual([String(edited.id), String(added.id)].sort());
    expect(json(second.items.find((i) => i.id === String(edited.id))!).title).toBe('Widget 10 (renamed)');
    const asked = shop.requestsTo(path('products.json'))[0].query.get('updated_at_min')!;
    expect(Date.parse(asked)).toBe((first.cursor as { products: { at: number } }).products.at);
    const third = await collect(connector, 'products', { ...token(), cursor: second.cursor });
    expect(third.items).toEqual([]);
  });

  it('backs up orders in every status, customers across five pages, pages with blogs and articles, price rules with their codes', async () => {
    const orders = await collect(connector, 'orders', token());
    expect(orders.items).toHaveLength(30);
    expect(shop.requestsTo(path('orders.json')).at(-1)!.query.get('status')).toBe('any');
    expect(orders.items.map((i) => i.path)).toContain('orders/1001.json');

    shop.requests.length = 0;
    const customers = await collect(connector, 'customers', token());
    expect(customers.items).toHaveLength(1250);
    expect(shop.requestsTo(path('customers.json'))).toHaveLength(5);

    const pages = await collect(connector, 'pages', token());
    expect(pages.items.map((i) => i.path).sort()).toEqual(['blogs/news.json', 'blogs/news/post-0.json', 'blogs/news/post-1.json', 'blogs/news/post-2.json', 'pages/about-us.json', 'pages/contact.json']);
    expect(Object.keys(pages.cursor as object).sort()).toEqual([`articles:${shop.blogs[0].id}`, 'blogs', 'pages']);

    const rules = await collect(connector, 'price_rules', token());
    expect(rules.items).toHaveLength(1);
    expect(json(rules.items[0]).discount_codes.map((c: { code: string }) => c.code)).toEqual(['TEN', 'TENNER']);
  });

  it('an incremental pages run yields a changed article and no unchanged blog', async () => {
    const first = await collect(connector, 'pages', token());
    shop.advance(5_000);
    shop.touch(shop.articles[1], { title: 'Post 1, corrected' });
    const second = await collect(connector, 'pages', { ...token(), cursor: first.cursor });
    expect(second.items.map((i) => i.path)).toEqual(['blogs/news/post-1.json']);
  });

  it('lists locations and reads inventory levels for at most 50 locations a request', async () => {
    shop.requests.length = 0;
    const locations = await collect(connector, 'locations', token());
    expect(locations.items).toHaveLength(55);
    const levels = await collect(connector, 'inventory_levels', token());
    expect(levels.items).toHaveLength(8);
    const requests = shop.requestsTo(path('inventory_levels.json'));
    expect(requests.map((r) => r.query.get('location_ids')!.split(',').length)).toEqual([50, 5]);
    const item = levels.items[0];
    expect(item.id).toBe(`${shop.products[0].variants[0].inventory_item_id}@${shop.locations[0].id}`);
    expect(json(item)).toMatchObject({ available: 7, location_id: shop.locations[0].id });

    shop.advance(5_000);
    shop.setInventory(shop.locations[54].id, shop.products[2].variants[0].inventory_item_id, 3);
    const second = await collect(connector, 'inventory_levels', { ...token(), cursor: levels.cursor });
    expect(second.items.map((i) => json(i).available)).toEqual([3]);
  });

  it('holds requests while the call-limit header says the shared bucket is nearly full, so Shopify never answers 429', async () => {
    shop.requests.length = 0;
    shop.overLimit.length = 0;
    shop.bucketSize = 40;
    shop.fillBucket('shpat_valid', 36);
    shop.otherWorkerLoad = 1;
    try {
      const { items } = await collect(connector, 'customers', token());
      expect(items).toHaveLength(1250);
    } finally {
      shop.otherWorkerLoad = 0;
      shop.bucketSize = 400;
    }
    expect(shop.requests.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(shop.overLimit).toEqual([]);
  });

  it('waits out a 429 for its Retry-After before asking again', async () => {
    shop.requests.length = 0;
    shop.failNext({ status: 429, match: (r) => r.path === path('locations.json') });
    const { items } = await collect(connector, 'locations', token());
    expect(items).toHaveLength(55);
    const [limited, retried] = shop.requests;
    expect([limited.status, retried.status]).toEqual([429, 200]);
    expect(retried.at).toBeGreaterThanOrEqual(limited.retryAllowedAt!);
    expect(shop.earlyRetries).toEqual([]);
  });

  it('a refused token is refreshed once, then a CONFIG failure with Shopify’s message', async () => {
    const revoked = tokenCredentials('accessToken', 'shpat_revoked', 'shpat_revoked_too');
    const error = await collect(connector, 'locations', revoked).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ failureType: 'AUTH', status: 401, retryable: false });
    expect((error as Error).message).toContain('Invalid API key or access token');
    expect(revoked.state.refreshes).toBe(1);
  });

  it('a scope the merchant did not grant is a CONFIG failure naming it', async () => {
    shop.scopes.delete('read_orders');
    try {
      const error = await collect(connector, 'orders', token()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('read_orders');
    } finally {
      shop.scopes.add('read_orders');
    }
  });

  it('restores products: an edited one is put back in place with its variant ids, a deleted one is created anew', async () => {
    const backup = await collect(connector, 'products', token());
    const edited = shop.products[20];
    const deleted = shop.products[21];
    const original = (id: number) => backup.items.find((i) => i.id === String(id))!;
    shop.touch(edited, { title: 'Vandalised', body_html: '' });
    shop.products.splice(shop.products.indexOf(deleted), 1);
    const before = shop.products.length;

    const result = await restoreResource(connector, 'products', items([original(edited.id), original(deleted.id)]), { ...token(), retry: FAST_RETRY });
    expect(result).toEqual({ restored: 2, units: 2 });
    const put = shop.requestsTo(path(`products/${edited.id}.json`), 'PUT');
    expect(put).toHaveLength(1);
    expect(JSON.parse(put[0].body).product).not.toHaveProperty('created_at');
    const restoredEdit = shop.products.find((p) => p.id === edited.id)!;
    expect(restoredEdit).toMatchObject({ title: json(original(edited.id)).title, body_html: json(original(edited.id)).body_html });
    expect(restoredEdit.variants.map((v: { id: number }) => v.id)).toEqual(json(original(edited.id)).variants.map((v: { id: number }) => v.id));

    expect(shop.products).toHaveLength(before + 1);
    const recreated = shop.products.at(-1)!;
    expect(recreated.id).not.toBe(deleted.id);
    expect(recreated).toMatchObject({ title: deleted.title, vendor: deleted.vendor, tags: deleted.tags });
    expect(recreated.variants.map((v: { sku: string; price: string }) => [v.sku, v.price])).toEqual(deleted.variants.map((v: { sku: string; price: string }) => [v.sku, v.price]));
    const post = JSON.parse(shop.requestsTo(path('products.json'), 'POST').at(-1)!.body).product;
    expect(post).not.toHaveProperty('id');
    expect(post.variants[0]).not.toHaveProperty('id');
  });

  it('a product Shopify refuses is a failure with its validation message; only products can be restored', async () => {
    const blank = { id: 'x1', path: 'products/blank.json', metadata: {}, body: Buffer.from(JSON.stringify({ title: '' })) };
    const error = await restoreResource(connector, 'products', items([blank]), { ...token(), retry: FAST_RETRY }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlatformError);
    expect((error as Error).message).toContain("title can't be blank");
    await expect(restoreResource(connector, 'orders', items([]), token())).rejects.toBeInstanceOf(ConfigError);
  });

  it('an item that is not a product record is a CONFIG failure naming it, and nothing is written', async () => {
    const writes = () => shop.requests.filter((r) => r.method !== 'GET').length;
    const before = writes();
    for (const body of ['{"title": "cut sho', '["a", "list"]', 'null']) {
      const item = { id: 'x2', path: 'products/broken.json', metadata: {}, body: Buffer.from(body) };
      const error = await restoreResource(connector, 'products', items([item]), { ...token(), retry: FAST_RETRY }).catch((e: unknown) => e);
      expect(error, body).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toBe('Shopify: products/broken.json is not a product record');
    }
    expect(writes()).toBe(before);
  });

  it('never sent a request into a full bucket in the whole run', () => {
    expect(shop.overLimit).toEqual([]);
  });
});

async function* items(collected: CollectedItem[]): AsyncGenerator<RestoreItem, void, undefined> {
  for (const item of collected) {
    yield { id: item.id, path: item.path, metadata: item.metadata, content: async function* () { yield item.body; } };
  }
}
