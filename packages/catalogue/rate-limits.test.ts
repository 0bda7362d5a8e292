// Two platforms backed up at once, in one process: each connector keeps to its own platform's
// limit (the fakes count every request over it) and waits out every 429 before asking again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotionConnector } from './notion/connector.ts';
import { FakeNotion } from './notion/fake.ts';
import { createShopifyConnector } from './shopify/connector.ts';
import { FakeShopify, SHOPIFY_API_PREFIX } from './shopify/fake.ts';
import { collect, tokenCredentials } from './testing/connector-run.ts';
import type { FakeServer, RecordedRequest } from './testing/fake-server.ts';

/** The request after `limited` asking for the same thing again. */
function retryOf(fake: FakeServer, limited: RecordedRequest): RecordedRequest | undefined {
  const same = (r: RecordedRequest) => r.method === limited.method && r.path === limited.path && r.query.toString() === limited.query.toString() && r.body === limited.body;
  return fake.requests.find((r) => r.seq > limited.seq && same(r));
}

describe('two platforms backed up at once', () => {
  const shop = new FakeShopify();
  const notion = new FakeNotion();

  beforeAll(async () => {
    await Promise.all([shop.start(), notion.start()]);
    // A standard shop (a bucket of 40 leaking 2 a second), nearly full, with another worker of the
    // app draining it beside us: without holding, the backup would overflow it within a few calls.
    shop.bucketSize = 40;
    shop.otherWorkerLoad = 1;
    for (let i = 0; i < 1250; i++) shop.addCustomer(`customer${i}@example.com`);
    shop.fillBucket('shpat_both', 36);
    shop.tokens.add('shpat_both');
    // Notion: 3 requests a second; search pages of 2 and block trees of more than one page of children.
    notion.tokens.add('secret_both');
    notion.maxPage.page_or_database = 2;
    for (let i = 0; i < 5; i++) notion.addBlocks(notion.addPage(`Page ${i}`).id, Array.from({ length: 120 }, (_, n) => `Paragraph ${n}`));
  });
  afterAll(() => Promise.all([shop.close(), notion.close()]));

  it('each stays within its own rate limit, and every 429 is followed by a wait before the retry', { timeout: 120_000 }, async () => {
    // One 429 each in the middle of the run, with the platform's Retry-After.
    shop.failNext({ status: 429, match: (r) => r.path.endsWith('/customers.json') && r.query.has('page_info') });
    notion.failNext({ status: 429, match: (r) => r.path.startsWith('/v1/blocks/') && r.query.has('start_cursor') });

    const [customers, pages] = await Promise.all([
      collect(createShopifyConnector({ baseUrl: `${shop.url}${SHOPIFY_API_PREFIX}` }), 'customers', tokenCredentials('accessToken', 'shpat_both')),
      collect(createNotionConnector({ baseUrl: `${notion.url}/v1` }), 'pages', tokenCredentials('accessToken', 'secret_both')),
    ]);
    expect(customers.items).toHaveLength(1250);
    expect(pages.items).toHaveLength(5);

    // Never a request the platform's own limit refused.
    expect(shop.overLimit, 'requests Shopify found its bucket full for').toEqual([]);
    expect(notion.overLimit, 'requests over Notion’s 3 a second').toEqual([]);

    for (const [name, fake] of [['Shopify', shop], ['Notion', notion]] as const) {
      const limited = fake.requests.filter((r) => r.status === 429);
      expect(limited, `${name}: the injected 429`).toHaveLength(1);
      for (const request of limited) {
        expect(request.retryAllowedAt, `${name}: the 429 named a wait`).toBeGreaterThan(request.at);
        const retry = retryOf(fake, request);
        expect(retry, `${name}: ${request.path} asked again`).toBeDefined();
        expect(retry!.at, `${name}: the retry of ${request.path} came after the wait`).toBeGreaterThanOrEqual(request.retryAllowedAt!);
        expect(retry!.status).toBe(200);
      }
      // Nothing at all was sent to the platform during a wait it named.
      expect(fake.earlyRetries, `${name}: requests sent before the platform said they could be`).toEqual([]);
    }
  });
});
