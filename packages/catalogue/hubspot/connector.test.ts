import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, ConfigError, RateLimitedError, type RestoreItem, restoreResource } from '../sdk/index.ts';
import { collect, type CollectedItem, FAST_RETRY, json, tokenCredentials } from '../testing/connector-run.ts';
import { createHubSpotConnector } from './connector.ts';
import { FakeHubSpot } from './fake.ts';

describe('HubSpot connector', () => {
  const hubspot = new FakeHubSpot();
  let connector: ReturnType<typeof createHubSpotConnector>;
  const token = () => tokenCredentials('accessToken', 'hs-valid');

  beforeAll(async () => {
    await hubspot.start();
    connector = createHubSpotConnector({ baseUrl: hubspot.url });
    // A millisecond apart, so the newest timestamp is one contact's and a search from it finds only what changed after.
    for (let i = 0; i < 250; i++, hubspot.advance(1)) hubspot.add('contacts', { firstname: `First${i}`, lastname: 'Person', email: `person${i}@example.com`, notes_internal: `note ${i}` });
    for (let i = 0; i < 500; i++) hubspot.add('companies', { name: `Company ${i}`, domain: `c${i}.example.com` });
    for (let i = 0; i < 3; i++) hubspot.add('deals', { dealname: `Deal ${i}`, amount: '1000', dealstage: 'appointmentscheduled', pipeline: 'default' });
    hubspot.addPipeline('deals', 'Sales', ['appointmentscheduled', 'closedwon']);
    hubspot.add('tickets', { subject: 'Broken', content: 'It broke', hs_pipeline: '0', hs_pipeline_stage: '1' });
    hubspot.addPipeline('tickets', 'Support', ['new', 'closed']);
    hubspot.add('products', { hs_title: 'Widget' });
    hubspot.add('line_items', { hs_title: 'Widget x2' });
    for (const type of ['calls', 'emails', 'meetings', 'notes', 'tasks']) hubspot.add(type, { hs_title: `A ${type}`, hs_body: 'body' });
    for (let i = 0; i < 120; i++) hubspot.addOwner(`owner${i}@example.com`);
  });
  afterAll(() => hubspot.close());

  it('lists every contact with every property, following paging.next.after', async () => {
    hubspot.requests.length = 0;
    const { items, cursor } = await collect(connector, 'contacts', token());
    expect(items).toHaveLength(250);
    const pages = hubspot.requestsTo('/crm/v3/objects/contacts');
    expect(pages).toHaveLength(3);
    expect(pages[0].query.get('after')).toBeNull();
    expect(pages[1].query.get('after')).toBeTruthy();
    expect(pages.every((r) => r.query.get('limit') === '100' && r.query.get('properties')!.split(',').includes('notes_internal'))).toBe(true);
    expect(pages.every((r) => r.headers.authorization === 'Bearer hs-valid')).toBe(true);
    const first = hubspot.objects.get('contacts')![0];
    const item = items.find((i) => i.id === first.id)!;
    expect(item.path).toBe(`contacts/${first.id}.json`);
    expect(json(item)).toMatchObject({ id: first.id, properties: first.properties, updatedAt: first.updatedAt, objectType: 'contacts' });
    expect(cursor).toEqual({ contacts: { at: Date.parse(hubspot.objects.get('contacts')!.at(-1)!.updatedAt), ids: expect.any(Array) } });
  });

  it('a second run searches lastmodifieddate >= the newest seen and yields only what changed; a third yields nothing', async () => {
    const first = await collect(connector, 'contacts', token());
    hubspot.advance(2_000);
    const changed = hubspot.update('contacts', hubspot.objects.get('contacts')![7].id, { firstname: 'Renamed' });
    const added = hubspot.add('contacts', { firstname: 'New', email: 'new@example.com' });
    hubspot.requests.length = 0;
    const second = await collect(connector, 'contacts', { ...token(), cursor: first.cursor });
    expect(second.items.map((i) => i.id)).toEqual([changed.id, added.id]);
    expect(json(second.items[0]).properties.firstname).toBe('Renamed');
    const search = hubspot.requestsTo('/crm/v3/objects/contacts/search', 'POST');
    expect(search).toHaveLength(1);
    expect(JSON.parse(search[0].body)).toMatchObject({
      filterGroups: [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE', value: String((first.cursor as { contacts: { at: number } }).contacts.at) }] }],
      sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }],
      limit: 200,
    });
    const third = await collect(connector, 'contacts', { ...token(), cursor: second.cursor });
    expect(third.items).toEqual([]);
  });

  it('past the 10,000 results one search reaches, starts a new search at the newest timestamp seen', async () => {
    hubspot.searchCap = 400;
    const connector = createHubSpotConnector({ baseUrl: hubspot.url, searchCap: 400 });
    try {
      const first = await collect(connector, 'companies', token());
      for (const company of hubspot.objects.get('companies')!) {
        hubspot.advance(1);
        hubspot.update('companies', company.id, { domain: `new-${company.properties.domain}` });
      }
      hubspot.requests.length = 0;
      const second = await collect(connector, 'companies', { ...token(), cursor: first.cursor });
      expect(second.items).toHaveLength(500);
      expect(new Set(second.items.map((i) => i.id)).size).toBe(500);
      expect(second.items.every((i) => json(i).properties.domain.startsWith('new-'))).toBe(true);
      const searches = hubspot.requestsTo('/crm/v3/objects/companies/search', 'POST').map((r) => JSON.parse(r.body));
      expect(searches.map((s) => s.after ?? null)).toEqual([null, '200', null]);
      expect(Number(searches[2].filterGroups[0].filters[0].value)).toBeGreaterThan(Number(searches[0].filterGroups[0].filters[0].value));
      expect(hubspot.requests.every((r) => r.status === 200)).toBe(true);
    } finally {
      hubspot.searchCap = 10_000;
    }
  });

  it('backs up deals and tickets with their pipelines, products with line items, the five engagement types and owners', async () => {
    const deals = await collect(connector, 'deals', token());
    expect(deals.items.filter((i) => i.metadata.objectType === 'deals')).toHaveLength(3);
    expect(deals.items.filter((i) => i.metadata.kind === 'pipeline').map((i) => json(i).label)).toEqual(['Sales']);
    const tickets = await collect(connector, 'tickets', token());
    expect(tickets.items.map((i) => i.path.split('/')[1])).toEqual([hubspot.objects.get('tickets')![0].id + '.json', 'pipelines']);
    const products = await collect(connector, 'products', token());
    expect(products.items.map((i) => i.path.split('/').slice(0, 2).join('/'))).toEqual(['products/products', 'products/line_items']);
    const engagements = await collect(connector, 'engagements', token());
    expect(engagements.items.map((i) => i.id.split('/')[0])).toEqual(['calls', 'emails', 'meetings', 'notes', 'tasks']);
    expect(Object.keys(engagements.cursor as object)).toEqual(['calls', 'emails', 'meetings', 'notes', 'tasks']);
    const owners = await collect(connector, 'owners', token());
    expect(owners.items).toHaveLength(120);
    expect(hubspot.requestsTo('/crm/v3/owners').slice(-2).map((r) => Boolean(r.query.get('after')))).toEqual([false, true]);

    hubspot.advance(2_000);
    const again = await collect(connector, 'deals', { ...token(), cursor: deals.cursor });
    expect(again.items).toEqual([]);
  });

  it('paces requests to the limit the X-HubSpot-RateLimit headers state, so the account is never over it', async () => {
    hubspot.rate = { max: 10, intervalMs: 1000 };
    hubspot.maxPage = 10;
    hubspot.requests.length = 0;
    hubspot.overLimit.length = 0;
    try {
      const { items } = await collect(connector, 'contacts', token());
      expect(items).toHaveLength(251);
    } finally {
      hubspot.maxPage = 100;
    }
    expect(hubspot.requests.length).toBe(27);
    expect(hubspot.overLimit).toEqual([]);
    expect(hubspot.requests.every((r) => r.status === 200)).toBe(true);
    hubspot.rate = { max: 110, intervalMs: 10_000 };
    await collect(connector, 'owners', token());
  });

  it('a 429 waits by its policy: the rolling interval, a second for search; the daily limit fails with RATE_LIMITED', async () => {
    hubspot.requests.length = 0;
    hubspot.failNext({ status: 429, headers: { 'x-hubspot-ratelimit-interval-milliseconds': '1000' }, match: (r) => r.path === '/crm/v3/owners' });
    await collect(connector, 'owners', token());
    const [limited, retried] = hubspot.requestsTo('/crm/v3/owners');
    expect([limited.status, retried.status]).toEqual([429, 200]);
    expect(retried.at).toBeGreaterThanOrEqual(limited.at + 1000);

    hubspot.failNext({ status: 429, body: { status: 'error', message: 'You have reached your daily limit.', errorType: 'RATE_LIMIT', policyName: 'DAILY', correlationId: 'x' } });
    const error = await collect(connector, 'owners', token()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBeGreaterThan(0);
  });

  it('refreshes an expired token once; a refused one is a CONFIG failure', async () => {
    const expired = tokenCredentials('accessToken', 'hs-expired', 'hs-valid');
    const { items } = await collect(connector, 'owners', expired);
    expect(items).toHaveLength(120);
    expect(expired.state.refreshes).toBe(1);

    const revoked = tokenCredentials('accessToken', 'hs-revoked', 'hs-revoked-too');
    const error = await collect(connector, 'owners', revoked).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ failureType: 'AUTH', status: 401, platformCode: 'INVALID_AUTHENTICATION' });
    expect(revoked.state.refreshes).toBe(1);
  });

  it('a scope the app lacks is a CONFIG failure', async () => {
    hubspot.scopes.delete('tickets');
    try {
      const error = await collect(connector, 'tickets', token()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ status: 403, platformCode: 'MISSING_SCOPES' });
    } finally {
      hubspot.scopes.add('tickets');
    }
  });

  it('restores contacts: an edited one patched back, a deleted one created, one whose email was taken merged into the holder', async () => {
    const backup = await collect(connector, 'contacts', token());
    const contacts = hubspot.objects.get('contacts')!;
    const [edited, deleted, replaced] = [contacts[1], contacts[2], contacts[3]];
    const original = (id: string) => backup.items.find((i) => i.id === id)!;
    hubspot.update('contacts', edited.id, { firstname: 'Wrong', notes_internal: 'overwritten' });
    contacts.splice(contacts.indexOf(deleted), 1);
    contacts.splice(contacts.indexOf(replaced), 1);
    const holder = hubspot.add('contacts', { email: replaced.properties.email, firstname: 'Someone else' });
    hubspot.requests.length = 0;

    const result = await restoreResource(connector, 'contacts', items([original(edited.id), original(deleted.id), original(replaced.id)]), { ...token(), retry: FAST_RETRY });
    expect(result).toEqual({ restored: 3, units: 3 });
    expect(contacts.find((c) => c.id === edited.id)!.properties).toMatchObject({ firstname: json(original(edited.id)).properties.firstname, notes_internal: json(original(edited.id)).properties.notes_internal });
    const recreated = contacts.find((c) => c.properties.email === deleted.properties.email)!;
    expect(recreated.id).not.toBe(deleted.id);
    expect(recreated.properties).toMatchObject({ firstname: deleted.properties.firstname, notes_internal: deleted.properties.notes_internal });
    expect(holder.properties.firstname).toBe(replaced.properties.firstname);
    const writes = hubspot.requests.filter((r) => r.method === 'PATCH' || r.method === 'POST');
    expect(writes.map((r) => r.status)).toEqual([200, 201, 409, 200]);
    for (const write of writes) expect(Object.keys(JSON.parse(write.body).properties)).not.toContain('lastmodifieddate');
  });

  it('restores a company; deals cannot be restored', async () => {
    const backup = await collect(connector, 'companies', token());
    const company = hubspot.objects.get('companies')![0];
    hubspot.update('companies', company.id, { name: 'Vandalised' });
    await restoreResource(connector, 'companies', items([backup.items.find((i) => i.id === company.id)!]), { ...token(), retry: FAST_RETRY });
    expect(company.properties.name).toBe(json(backup.items.find((i) => i.id === company.id)!).properties.name);
    await expect(restoreResource(connector, 'deals', items([]), token())).rejects.toBeInstanceOf(ConfigError);
  });

  it('never went over a limit in the whole run, and search is paced at 5 a second', () => {
    expect(hubspot.overLimit).toEqual([]);
    expect(connector.http!.rate!({ method: 'POST', url: new URL(`${hubspot.url}/crm/v3/objects/deals/search`) })).toEqual({ key: 'search', limit: 5, intervalMs: 1000 });
  });
});

async function* items(collected: CollectedItem[]): AsyncGenerator<RestoreItem, void, undefined> {
  for (const item of collected) {
    yield { id: item.id, path: item.path, metadata: item.metadata, content: async function* () { yield item.body; } };
  }
}
