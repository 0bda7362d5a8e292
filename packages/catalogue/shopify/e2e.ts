import assert from 'node:assert/strict';
import { apiRootAt, definitionOf, json, type E2EPlatform, type Served } from '../testing/e2e.ts';
import { FakeAccount } from '../testing/fake-account.ts';
import { FakeShopify } from './fake.ts';

const SHOP = 'e2e-shop.myshopify.com';

export default {
  slug: 'shopify',
  async start() {
    const definition = definitionOf('shopify');
    const shop = await new FakeShopify().start();
    // The identity endpoint (shop.json) is the fake API's own.
    shop.account = new FakeAccount({
      definition,
      accept: (token) => shop.tokens.add(token),
      refuse: (token) => shop.tokens.delete(token),
      callbackParams: () => ({ shop: SHOP, host: Buffer.from(`admin.shopify.com/store/${SHOP}`).toString('base64url'), timestamp: String(Math.floor(Date.now() / 1000)) }),
      tokenPrefix: 'shpua_',
    });
    const products = ['Blue Widget', 'Red Widget', 'Green Gadget'].map((title) => shop.addProduct(title));
    for (const number of [1001, 1002]) shop.addOrder(number);
    for (const email of ['ada@example.com', 'grace@example.com']) shop.addCustomer(email);
    shop.addCollection('custom', 'Summer');
    shop.addCollection('smart', 'On sale');
    shop.addPage('About us');
    const blog = shop.addBlog('News');
    shop.addArticle(blog.id, 'We opened');
    shop.addPriceRule('Ten off', ['TEN', 'TENNER']);
    const location = shop.addLocation('Warehouse');
    for (const product of products) shop.setInventory(location.id, product.variants[0].inventory_item_id, 7);
    let before: { id: number; title: string; body_html: string }[] = [];
    return {
      apiRoot: apiRootAt(definition, shop.url),
      account: shop.account,
      origin: shop.url,
      connect: { kind: 'oauth', params: { shop: SHOP } },
      served() {
        const served = new Map<string, Served>();
        for (const product of shop.products) served.set(`products/${product.handle}.json`, json(product));
        for (const order of shop.orders) served.set(`orders/${order.order_number}.json`, json(order));
        for (const customer of shop.customers) served.set(`customers/${customer.id}.json`, json(customer));
        for (const collection of shop.customCollections) served.set(`collections/custom/${collection.handle}.json`, json(collection));
        for (const collection of shop.smartCollections) served.set(`collections/smart/${collection.handle}.json`, json(collection));
        for (const page of shop.pages) served.set(`pages/${page.handle}.json`, json(page));
        for (const blog of shop.blogs) {
          served.set(`pages/blogs/${blog.handle}.json`, json(blog));
          for (const article of shop.articles.filter((a) => a.blog_id === blog.id)) served.set(`pages/blogs/${blog.handle}/${article.handle}.json`, json(article));
        }
        for (const rule of shop.priceRules) served.set(`price_rules/${rule.id}.json`, json({ ...rule, discount_codes: shop.discountCodes.filter((code) => code.price_rule_id === rule.id) }));
        for (const level of shop.inventoryLevels) served.set(`inventory_levels/${level.location_id}/${level.inventory_item_id}.json`, json(level));
        for (const location of shop.locations) served.set(`locations/${location.id}.json`, json(location));
        return served;
      },
      incremental: {
        resource: 'products',
        read: () => shop.recordsServed(/\/products\.json$/, (body) => body?.products),
        change() {
          shop.advance(120_000);
          const product = shop.products.at(-1)!;
          shop.touch(product, { title: `${product.title} (renamed)` });
          return `products/${product.handle}.json`;
        },
      },
      restore: {
        resource: 'products',
        damage() {
          before = shop.products.map((product) => ({ id: product.id, title: product.title, body_html: product.body_html }));
          for (const product of shop.products) shop.touch(product, { title: `${product.title} (edited)`, body_html: '' });
        },
        check() {
          assert.deepEqual(
            shop.products.map((product) => ({ id: product.id, title: product.title, body_html: product.body_html })),
            before,
          );
        },
      },
      close: () => shop.close(),
    };
  },
} satisfies E2EPlatform;
