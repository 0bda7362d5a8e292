import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectorRegistry, platformResources } from '../index.ts';
import type { RestDefinition } from '@listbackup/lib/rest-definition';
import { createRestConnector, valueAt } from './connector.ts';
import { ConfigError, jsonContent, PlatformError, type RestoreItem, restoreResource, TransientError } from '../sdk/index.ts';
import { FakeRest } from './fake.ts';
import { collect, FAST_RETRY, json, tokenCredentials } from '../testing/connector-run.ts';

describe('REST/JSON connector', () => {
  const rest = new FakeRest();
  let definition: RestDefinition;
  const key = () => tokenCredentials('apiKey', 'k_valid');

  beforeAll(async () => {
    await rest.start();
    definition = {
      name: 'Acme CRM',
      baseUrl: `${rest.url}/api`,
      auth: { type: 'header', name: 'X-API-Key' },
      resources: [
        {
          name: 'contacts',
          path: 'contacts',
          items: '/data',
          pagination: { style: 'cursor', nextCursor: '/next_cursor', limit: 50 },
          incremental: { param: 'updated_since', field: '/updated_at' },
          restore: { path: 'contacts' },
        },
        { name: 'tickets', path: 'tickets', items: '/items', pagination: { style: 'cursor', cursorParam: 'starting_after', hasMore: '/has_more', limit: 40 } },
        { name: 'orders', path: 'orders', items: '/results', pagination: { style: 'page', size: 30, totalPages: '/total_pages' } },
        { name: 'notes', path: 'notes', pagination: { style: 'link', sizeParam: 'per_page', size: 25 } },
      ],
    };
    for (let i = 0; i < 120; i++) rest.add('contacts', { email: `p${i}@example.com`, name: `Person ${i}` });
    for (let i = 0; i < 95; i++) rest.add('tickets', { subject: `Ticket ${i}` });
    for (let i = 0; i < 70; i++) rest.add('orders', { total: i * 10 });
    for (let i = 0; i < 60; i++) rest.add('notes', { text: `Note ${i}` });
  });
  afterAll(() => rest.close());

  it('pages with a next cursor, starting_after/has_more, page numbers and Link headers', async () => {
    const connector = createRestConnector(definition);
    rest.requests.length = 0;
    const results: Record<string, number> = {};
    for (const name of ['contacts', 'tickets', 'orders', 'notes']) {
      const { items } = await collect(connector, name, key());
      results[name] = new Set(items.map((i) => i.id)).size;
      expect(items.length).toBe(results[name]);
    }
    expect(results).toEqual({ contacts: 120, tickets: 95, orders: 70, notes: 60 });
    expect(rest.requestsTo('/api/contacts').map((r) => r.query.get('cursor') !== null)).toEqual([false, true, true]);
    expect(rest.requestsTo('/api/tickets').map((r) => r.query.get('starting_after'))).toEqual([null, 'tic_160', 'tic_200']);
    expect(rest.requestsTo('/api/orders').map((r) => r.query.get('page'))).toEqual(['1', '2', '3']);
    expect(rest.requestsTo('/api/notes').map((r) => r.query.get('page'))).toEqual([null, '2', '3']);
    expect(rest.requests.every((r) => r.headers['x-api-key'] === 'k_valid' && r.headers.authorization === undefined)).toBe(true);
  });

  it('says what total_pages promises: pages × page size while pages are left, the items listed at the last page', async () => {
    const connector = createRestConnector(definition);
    const expected: unknown[] = [];
    const { items } = await collect(connector, 'orders', { ...key(), onExpect: (size) => expected.push(size) });
    expect(items).toHaveLength(70);
    // 70 orders, 30 a page: 3 pages, the last one short.
    expect(expected).toEqual([
      { items: 90, estimated: true },
      { items: 90, estimated: true },
      { items: 70, estimated: false },
    ]);
    // Styles that give no total say nothing.
    const silent: unknown[] = [];
    await collect(connector, 'notes', { ...key(), onExpect: (size) => silent.push(size) });
    expect(silent).toEqual([]);
  });

  it('an incremental run asks for changes since the high-water mark and gets only those', async () => {
    const connector = createRestConnector(definition);
    const first = await collect(connector, 'contacts', key());
    rest.advance(3_000);
    const changed = rest.touch('contacts', rest.collections.contacts[10].id, { name: 'Renamed' });
    const added = rest.add('contacts', { email: 'new@example.com' });
    rest.requests.length = 0;
    const second = await collect(connector, 'contacts', { ...key(), cursor: first.cursor });
    expect(second.items.map((i) => i.id).sort()).toEqual([changed.id, added.id].sort());
    expect(json(second.items.find((i) => i.id === changed.id)!).name).toBe('Renamed');
    expect(rest.requests[0].query.get('updated_since')).toBe((first.cursor as { at: string }).at);
    expect((await collect(connector, 'contacts', { ...key(), cursor: second.cursor })).items).toEqual([]);
  });

  it('restores items with POST, an idempotency key making a retried write land once', async () => {
    const connector = createRestConnector(definition);
    const records = [
      { id: 'restored_1', email: 'r1@example.com', name: 'Restored One' },
      { id: 'restored_2', email: 'r2@example.com', name: 'Restored Two' },
    ];
    const items = async function* (): AsyncGenerator<RestoreItem> {
      for (const record of records) yield { id: record.id, path: `contacts/${record.id}.json`, metadata: {}, content: jsonContent(record) };
    };
    rest.requests.length = 0;
    rest.loseNextResponse = true;
    rest.failNext({ status: 503, match: (r) => r.method === 'POST' && r.body.includes('restored_2') });
    const result = await restoreResource(connector, 'contacts', items(), { ...key(), retry: FAST_RETRY });
    expect(result.restored).toBe(2);
    const posts = rest.requestsTo('/api/contacts', 'POST');
    expect(posts.map((r) => r.status)).toEqual([0, 201, 503, 201]);
    expect(posts[0].headers['idempotency-key']).toBe(posts[1].headers['idempotency-key']);
    for (const record of records) {
      const stored = rest.collections.contacts.filter((c) => c.id === record.id);
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject(record);
    }
  });

  it('a write without an idempotency key is not sent twice after a lost answer', async () => {
    const connector = createRestConnector({
      ...definition,
      resources: [{ name: 'contacts', path: 'contacts', items: '/data', restore: { path: 'contacts', idempotencyHeader: null } }],
    });
    const before = rest.collections.contacts.length;
    rest.loseNextResponse = true;
    const items = async function* (): AsyncGenerator<RestoreItem> {
      yield { id: 'once', path: 'contacts/once.json', metadata: {}, content: jsonContent({ id: 'once', email: 'once@example.com' }) };
    };
    const error = await restoreResource(connector, 'contacts', items(), { ...key(), retry: FAST_RETRY }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect(rest.collections.contacts.length).toBe(before + 1);
  });

  it('platform errors carry the platform message; a resource without restore cannot be restored', async () => {
    const connector = createRestConnector(definition);
    const items = async function* (): AsyncGenerator<RestoreItem> {
      yield { id: 'bad', path: 'contacts/bad.json', metadata: {}, content: jsonContent({ id: 'bad' }) };
    };
    const invalid = await restoreResource(connector, 'contacts', items(), key()).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(PlatformError);
    expect(invalid).toMatchObject({ failureType: 'INTERNAL', status: 422, platformCode: 'invalid' });
    expect((invalid as Error).message).toBe('Acme CRM answered 422: email is required');
    await expect(restoreResource(connector, 'tickets', items(), key())).rejects.toBeInstanceOf(ConfigError);
  });

  it('rejects a definition that cannot work, listing every problem', () => {
    const attempt = (d: unknown) => {
      try {
        createRestConnector(d);
        return undefined;
      } catch (error) {
        return error as Error;
      }
    };
    const error = attempt({ baseUrl: 'ftp://example.com', resources: [{ name: 'x y', path: 'x', items: 'data' }] });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.message).toMatch(/baseUrl/);
    expect(error!.message).toMatch(/resources\.0\.name/);
    expect(error!.message).toMatch(/resources\.0\.items/);
    expect(attempt({ baseUrl: 'https://x.test', resources: [{ name: 'a', path: 'a', pagination: { style: 'cursor' } }] })!.message).toMatch(/neither nextCursor nor hasMore/);
    expect(attempt({ ...definition })).toBeUndefined();
  });

  it('is served by the catalogue under the rest slug, built from the connection definition', () => {
    const registry = createConnectorRegistry();
    expect(registry.get('rest', definition).name).toBe(definition.name);
    expect(platformResources('rest', definition).map((r) => [r.name, r.incremental, r.restorable])).toEqual([
      ['contacts', true, true],
      ['tickets', false, false],
      ['orders', false, false],
      ['notes', false, false],
    ]);
    expect(platformResources('rest', { name: 'not a definition' })).toEqual([]);
    expect(platformResources('rest')).toEqual([]);
    expect(valueAt({ 'a/b': { '~c': [10, 20] } }, '/a~1b/~0c/1')).toBe(20);
  });
});
