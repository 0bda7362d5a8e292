import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { json, type E2EPlatform } from '../testing/e2e.ts';
import { FakeRest, type RestRecord } from './fake.ts';

export default {
  slug: 'rest',
  async start() {
    const rest = await new FakeRest().start();
    const apiKey = `k_${randomBytes(12).toString('hex')}`;
    rest.keys.add(apiKey);
    // More contacts than one page of 20.
    for (let i = 0; i < 45; i++) {
      rest.add('contacts', { email: `contact${i}@example.com`, name: `Contact ${i}` });
      rest.advance(1_000);
    }
    const definition = {
      name: 'Acme CRM',
      baseUrl: `${rest.url}/api`,
      auth: { type: 'header', name: 'X-API-Key' },
      resources: [{ name: 'contacts', path: 'contacts', items: '/data', pagination: { style: 'cursor', nextCursor: '/next_cursor', limit: 20 }, incremental: { param: 'updated_since', field: '/updated_at' }, restore: { method: 'POST', path: 'contacts' } }],
    };
    let removed: RestRecord[] = [];
    return {
      connect: { kind: 'apiKey', apiKey, params: { definition: JSON.stringify(definition) } },
      served: () => new Map(rest.collections.contacts.map((contact) => [`contacts/${contact.id}.json`, json(contact)])),
      restore: {
        resource: 'contacts',
        damage() {
          removed = rest.collections.contacts.splice(0, 5);
        },
        check() {
          for (const contact of removed) {
            const back = rest.collections.contacts.find((record) => record.id === contact.id);
            assert.deepEqual(back && { email: back.email, name: back.name }, { email: contact.email, name: contact.name }, `contact ${contact.id} was not restored`);
          }
        },
      },
      incremental: {
        resource: 'contacts',
        read: () => rest.recordsServed(/^\/api\/contacts$/, (body) => body?.data),
        change() {
          rest.advance(120_000);
          // A new contact: the restore above wrote every record back with a POST, so an old id may be there twice.
          const contact = rest.add('contacts', { email: 'late@example.com', name: 'Added later' });
          return `contacts/${contact.id}.json`;
        },
      },
      close: () => rest.close(),
    };
  },
} satisfies E2EPlatform;
