import assert from 'node:assert/strict';
import { apiRootAt, definitionOf, json, type E2EPlatform, type Served } from '../testing/e2e.ts';
import { FakeAccount } from '../testing/fake-account.ts';
import { FakeHubSpot } from './fake.ts';

/** Object types of each resource, as the connector stores them (`<resource>/<type>/` when a resource has several). */
const TYPES: Record<string, string[]> = { contacts: ['contacts'], companies: ['companies'], deals: ['deals'], tickets: ['tickets'], products: ['products', 'line_items'], engagements: ['calls', 'emails', 'meetings', 'notes', 'tasks'] };

export default {
  slug: 'hubspot',
  async start() {
    const definition = definitionOf('hubspot');
    const hubspot = await new FakeHubSpot().start();
    hubspot.account = new FakeAccount({
      definition,
      identity: () => ({ portalId: 62515, accountType: 'STANDARD', timeZone: 'US/Eastern', companyCurrency: 'USD', uiDomain: 'app.hubspot.com', dataHostingLocation: 'na1' }),
      accept: (token) => hubspot.tokens.add(token),
      refuse: (token) => hubspot.tokens.delete(token),
    });
    // Pages of 2: every list takes more than one.
    hubspot.maxPage = 2;
    for (let i = 0; i < 5; i++) hubspot.add('contacts', { firstname: `Ada${i}`, lastname: 'Lovelace', email: `ada${i}@example.com` });
    for (let i = 0; i < 3; i++) hubspot.add('companies', { name: `Company ${i}`, domain: `company${i}.example.com` });
    hubspot.add('deals', { dealname: 'Big deal', amount: '1000', dealstage: 'appointmentscheduled', pipeline: 'default', closedate: null });
    hubspot.add('tickets', { subject: 'Help', content: 'It broke', hs_pipeline: '0', hs_pipeline_stage: '1' });
    for (const type of ['products', 'line_items', 'calls', 'emails', 'meetings', 'notes', 'tasks']) hubspot.add(type, { hs_title: `A ${type} record`, hs_body: 'Body' });
    hubspot.addPipeline('deals', 'Sales', ['appointmentscheduled', 'closedwon']);
    hubspot.addPipeline('tickets', 'Support', ['new', 'closed']);
    hubspot.addOwner('owner@example.com');
    let before: unknown[] = [];
    const names = () => hubspot.objects.get('contacts')!.map((contact) => ({ id: contact.id, firstname: contact.properties.firstname, lastname: contact.properties.lastname }));
    return {
      apiRoot: apiRootAt(definition, hubspot.url),
      account: hubspot.account,
      origin: hubspot.url,
      connect: { kind: 'oauth' },
      served() {
        const served = new Map<string, Served>();
        for (const [resource, types] of Object.entries(TYPES)) {
          for (const type of types) {
            const folder = types.length > 1 ? `${resource}/${type}` : resource;
            for (const object of hubspot.objects.get(type)!) served.set(`${folder}/${object.id}.json`, json({ ...object, objectType: type }));
          }
        }
        for (const type of ['deals', 'tickets'] as const) for (const pipeline of hubspot.pipelines.get(type) ?? []) served.set(`${type}/pipelines/${pipeline.id}.json`, json(pipeline));
        for (const owner of hubspot.owners) served.set(`owners/${owner.id}.json`, json(owner));
        return served;
      },
      incremental: {
        resource: 'contacts',
        read: () => hubspot.recordsServed(/^\/crm\/v3\/objects\/contacts(\/search)?$/, (body) => body?.results),
        change() {
          hubspot.advance(120_000);
          const contact = hubspot.objects.get('contacts')!.at(-1)!;
          hubspot.update('contacts', contact.id, { firstname: 'Renamed' });
          return `contacts/${contact.id}.json`;
        },
      },
      restore: {
        resource: 'contacts',
        damage() {
          before = names();
          for (const contact of hubspot.objects.get('contacts')!) hubspot.update('contacts', contact.id, { firstname: 'Overwritten', lastname: null });
        },
        check() {
          assert.deepEqual(names(), before);
        },
      },
      close: () => hubspot.close(),
    };
  },
} satisfies E2EPlatform;
