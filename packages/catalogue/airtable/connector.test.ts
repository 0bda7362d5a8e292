import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthError, ConfigError, resetPacing, type RestoreItem, restoreResource } from '../sdk/index.ts';
import { generatedSha256 } from '../testing/content.ts';
import { collect, type CollectedItem, FAST_RETRY, json, tokenCredentials } from '../testing/connector-run.ts';
import { createAirtableConnector } from './connector.ts';
import { FakeAirtable, type FakeAirtableBase, type FakeAirtableTable } from './fake.ts';

describe('Airtable connector', () => {
  const airtable = new FakeAirtable();
  let connector: ReturnType<typeof createAirtableConnector>;
  const token = () => tokenCredentials('accessToken', 'pat-valid');
  let crm: FakeAirtableBase;
  let contacts: FakeAirtableTable;
  let deals: FakeAirtableTable;
  let contract: Record<string, any>;

  beforeAll(async () => {
    await airtable.start();
    airtable.penaltyMs = 1500;
    airtable.basesPage = 2;
    connector = createAirtableConnector({ baseUrl: `${airtable.url}/v0`, rateLimitWaitMs: 1500 });
    crm = airtable.addBase('CRM');
    contacts = airtable.addTable(crm, 'Contacts', [
      { name: 'Name', type: 'singleLineText' },
      { name: 'Email', type: 'email' },
      { name: 'Notes', type: 'multilineText' },
      { name: 'Label', type: 'formula', options: { formula: 'UPPER({Name})' } },
    ]);
    deals = airtable.addTable(crm, 'Deals', [
      { name: 'Deal', type: 'singleLineText' },
      { name: 'Files', type: 'multipleAttachments' },
    ]);
    for (let i = 1; i <= 650; i++) airtable.addRecord(contacts, { Name: `Contact ${i}`, Email: `c${i}@example.com`, Label: `CONTACT ${i}` });
    contract = airtable.attachment('Contract.pdf', 512 * 1024 + 9);
    airtable.addRecord(deals, { Deal: 'Big one', Files: [contract] });
    airtable.addRecord(deals, { Deal: 'Small one' });
    for (const name of ['Ops', 'Hiring']) airtable.addTable(airtable.addBase(name), 'Tasks', [{ name: 'Task', type: 'singleLineText' }]);
  });
  afterAll(() => airtable.close());
  beforeEach(() => {
    resetPacing();
    // Past the second everything before was done in: the next run's marks are after it.
    airtable.advance(2000);
    airtable.requests.length = 0;
    airtable.overLimit.length = 0;
  });

  it('lists every base’s schema, paging meta/bases by offset', async () => {
    const { items } = await collect(connector, 'bases', token());
    expect(items.map((i) => i.metadata.name)).toEqual(['CRM', 'Ops', 'Hiring']);
    expect(airtable.requestsTo('/v0/meta/bases').filter((r) => r.path === '/v0/meta/bases').map((r) => r.query.get('offset') !== null)).toEqual([false, true]);
    expect(json(items[0]).tables.map((t: { name: string }) => t.name)).toEqual(['Contacts', 'Deals']);
    expect(json(items[0]).tables[0].fields.map((f: { type: string }) => f.type)).toEqual(['singleLineText', 'email', 'multilineText', 'formula']);
  });

  it('lists every record 100 a page by offset, fields by id, with attachments’ content, within 5 requests a second per base', async () => {
    const { items, cursor } = await collect(connector, 'records', token());
    const records = items.filter((i) => i.metadata.kind === 'record');
    expect(records).toHaveLength(652);
    const pages = airtable.requestsTo(`/v0/${crm.id}/${contacts.id}`);
    expect(pages.map((r) => r.query.get('offset') !== null)).toEqual([false, true, true, true, true, true, true]);
    expect(pages.every((r) => r.query.get('pageSize') === '100' && r.query.get('returnFieldsByFieldId') === 'true' && r.query.get('filterByFormula') === null)).toBe(true);
    const first = json(records.find((i) => i.path === `records/CRM/Contacts/${contacts.records[0].id}.json`)!);
    expect(first.fields).toEqual({ [contacts.fields[0].id]: 'Contact 1', [contacts.fields[1].id]: 'c1@example.com', [contacts.fields[3].id]: 'CONTACT 1' });
    const [file] = items.filter((i) => i.metadata.kind === 'attachment');
    expect(file.path).toBe(`records/CRM/Deals/${deals.records[0].id}/${contract.id}-Contract.pdf`);
    expect(createHash('sha256').update(file.body).digest('hex')).toBe(generatedSha256(contract.id, contract.size));
    expect(airtable.requestsTo('/attachments/').every((r) => r.headers.authorization === undefined)).toBe(true);
    // Paced before Airtable says no: nothing over 5 a second, no 429.
    expect(airtable.overLimit).toEqual([]);
    expect(Object.keys((cursor as { tables: Record<string, string> }).tables).sort()).toEqual(airtable.bases.flatMap((b) => b.tables.map((t) => `${b.id}/${t.id}`)).sort());
  });

  it('a second run asks each table only for records created or modified since; a third gets nothing', async () => {
    const first = await collect(connector, 'records', token());
    airtable.advance(2000);
    airtable.editRecord(contacts, contacts.records[41], { Notes: 'Met at the fair' });
    const added = airtable.addRecord(deals, { Deal: 'New one' });
    // The mark is a second before Airtable's clock at the run's start: what changed within that second is read again.
    airtable.advance(2000);
    airtable.requests.length = 0;
    const second = await collect(connector, 'records', { ...token(), cursor: first.cursor });
    expect(second.items.map((i) => i.id).sort()).toEqual([contacts.records[41].id, added.id].sort());
    expect(json(second.items.find((i) => i.id === contacts.records[41].id)!).fields[contacts.fields[2].id]).toBe('Met at the fair');
    const since = (first.cursor as { tables: Record<string, string> }).tables[`${crm.id}/${contacts.id}`];
    expect(airtable.requestsTo(`/v0/${crm.id}/${contacts.id}`)[0].query.get('filterByFormula')).toBe(`OR(IS_AFTER(LAST_MODIFIED_TIME(), '${since}'), IS_AFTER(CREATED_TIME(), '${since}'))`);

    airtable.advance(2000);
    const third = await collect(connector, 'records', { ...token(), cursor: second.cursor });
    expect(third.items).toEqual([]);
  });

  it('waits 30 seconds (here shortened) after a 429, as Airtable asks', async () => {
    airtable.penalize(crm);
    const { items } = await collect(connector, 'bases', token());
    expect(items).toHaveLength(3);
    const [limited, retried] = airtable.requestsTo(`/v0/meta/bases/${crm.id}/tables`);
    expect([limited.status, retried.status]).toEqual([429, 200]);
    expect(retried.at).toBeGreaterThanOrEqual(limited.retryAllowedAt!);
    expect(airtable.earlyRetries).toEqual([]);
  });

  it('refreshes an expired token once; a refused one is an AuthError, and error bodies surface', async () => {
    const expired = tokenCredentials('accessToken', 'oauth-expired', 'pat-valid');
    expect((await collect(connector, 'bases', expired)).items).toHaveLength(3);
    expect(expired.state.refreshes).toBe(1);

    const revoked = tokenCredentials('accessToken', 'pat-revoked', 'pat-revoked');
    const error = await collect(connector, 'bases', revoked).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ status: 401, platformCode: 'AUTHENTICATION_REQUIRED', message: 'Airtable answered 401: AUTHENTICATION_REQUIRED: Authentication required' });
    expect(revoked.state.refreshes).toBe(1);

    airtable.failNext({ status: 403, match: (r) => r.path.endsWith('/tables') });
    const forbidden = await collect(connector, 'bases', token()).catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(ConfigError);
    expect(forbidden).toMatchObject({ status: 403, platformCode: 'INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND', message: expect.stringContaining('Invalid permissions, or the requested model was not found') });
  });

  it('restores records 10 a request: existing ones patched back, deleted ones created again, computed fields left to Airtable', async () => {
    const backup = await collect(connector, 'records', token());
    const saved = (id: string) => backup.items.find((i) => i.id === id)!;
    const edited = contacts.records.slice(0, 12);
    for (const record of edited) airtable.editRecord(contacts, record, { Name: 'Vandalised', Notes: 'spam' });
    const gone = contacts.records.splice(20, 3);
    const attachment = backup.items.find((i) => i.metadata.kind === 'attachment')!;
    airtable.requests.length = 0;
    const result = await restoreResource(connector, 'records', items([...edited.map((r) => saved(r.id)), ...gone.map((r) => saved(r.id)), attachment, saved(deals.records[1].id)]), { ...token(), retry: FAST_RETRY });
    expect(result.restored).toBe(16);
    for (const [i, record] of edited.entries()) expect(airtable.fieldsByName(contacts, record)).toEqual({ Name: `Contact ${i + 1}`, Email: `c${i + 1}@example.com`, Notes: null, Label: `CONTACT ${i + 1}` });
    const recreated = contacts.records.slice(-3).map((r) => airtable.fieldsByName(contacts, r));
    expect(recreated).toEqual([21, 22, 23].map((n) => ({ Name: `Contact ${n}`, Email: `c${n}@example.com` })));
    const writes = airtable.requests.filter((r) => r.method !== 'GET');
    expect(writes.map((r) => [r.method, JSON.parse(r.body).records.length])).toEqual([['PATCH', 10], ['PATCH', 2], ['POST', 3], ['PATCH', 1]]);
    expect(airtable.overLimit).toEqual([]);

    const error = await restoreResource(connector, 'records', items([saved(edited[0].id)]), { ...tokenCredentials('accessToken', 'pat-readonly'), retry: FAST_RETRY }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('data.records:write');
    await expect(restoreResource(connector, 'bases', items([]), token())).rejects.toBeInstanceOf(ConfigError);
  });
});

async function* items(collected: CollectedItem[]): AsyncGenerator<RestoreItem, void, undefined> {
  for (const item of collected) {
    yield { id: item.id, path: item.path, metadata: item.metadata, content: async function* () { yield item.body; } };
  }
}
