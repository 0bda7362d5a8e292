import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthError, fetchResource, PlatformError, RateLimitedError, resetPacing } from '../sdk/index.ts';
import { generatedSha256 } from '../testing/content.ts';
import { collect, json, tokenCredentials } from '../testing/connector-run.ts';
import { createSalesforceConnector } from './connector.ts';
import { FakeSalesforce, type FakeSObject, SALESFORCE_VERSION } from './fake.ts';

describe('Salesforce connector', () => {
  const salesforce = new FakeSalesforce();
  let connector: ReturnType<typeof createSalesforceConnector>;
  const token = () => tokenCredentials('accessToken', '00Dvalid!session');
  let account: FakeSObject;
  let invoice: FakeSObject;
  const queryPath = `/services/data/${SALESFORCE_VERSION}/query`;

  beforeAll(async () => {
    await salesforce.start();
    salesforce.batchLimit = 200;
    connector = createSalesforceConnector({ baseUrl: `${salesforce.url}/services/data/${SALESFORCE_VERSION}` });
    account = salesforce.addObject('Account', [
      { name: 'Industry', type: 'picklist' },
      { name: 'BillingAddress', type: 'address' },
      { name: 'BillingCity', type: 'string' },
      { name: 'Logo__c', type: 'base64' },
    ]);
    for (let i = 1; i <= 450; i++) salesforce.addRecord(account, { Name: `Account ${i}`, Industry: i % 2 ? 'Retail' : 'Energy', BillingCity: 'Lyon' });
    invoice = salesforce.addObject('Invoice__c', [{ name: 'Amount__c', type: 'currency' }]);
    for (let i = 1; i <= 3; i++) salesforce.addRecord(invoice, { Name: `INV-${i}`, Amount__c: i * 100 });
    salesforce.addObject('Hidden__c', [], { queryable: false });
    salesforce.addObject('Contact', [{ name: 'Email', type: 'email' }]);
  });
  afterAll(() => salesforce.close());
  beforeEach(() => {
    resetPacing();
    salesforce.advance(2000);
    salesforce.requests.length = 0;
  });

  it('queries every field the describe names, batch after batch by nextRecordsUrl', async () => {
    const expected: unknown[] = [];
    const { items, cursor } = await collect(connector, 'accounts', { ...token(), onExpect: (size) => expected.push(size) });
    expect(items).toHaveLength(450);
    // Each batch repeats the query's totalSize.
    expect(expected).toEqual([450, 450, 450].map((n) => ({ items: n, estimated: false })));
    const [describe, ...pages] = salesforce.requests;
    expect(describe.path).toBe(`/services/data/${SALESFORCE_VERSION}/sobjects/Account/describe`);
    expect(pages[0].query.get('q')).toBe('SELECT Id, IsDeleted, Name, CreatedDate, LastModifiedDate, SystemModstamp, Industry, BillingCity FROM Account ORDER BY SystemModstamp ASC, Id ASC');
    expect(pages.map((r) => r.path)).toEqual([queryPath, expect.stringMatching(/\/query\/01g\w+-200$/), expect.stringMatching(/\/query\/01g\w+-400$/)]);
    const one = items.find((i) => i.id === account.records[0].Id)!;
    expect(json(one)).toEqual({ Id: account.records[0].Id, IsDeleted: false, Name: 'Account 1', CreatedDate: account.records[0].CreatedDate, LastModifiedDate: account.records[0].LastModifiedDate, SystemModstamp: account.records[0].SystemModstamp, Industry: 'Retail', BillingCity: 'Lyon' });
    expect(one).toMatchObject({ path: `accounts/${account.records[0].Id}.json`, metadata: { object: 'Account', name: 'Account 1' } });
    expect(salesforce.requests.every((r) => r.headers.authorization === 'Bearer 00Dvalid!session')).toBe(true);
    expect(cursor).toEqual({ mark: { at: expect.any(String), ids: expect.any(Array) } });
  });

  it('a second run asks for SystemModstamp >= the newest seen and yields only what changed; a third nothing', async () => {
    const first = await collect(connector, 'accounts', token());
    salesforce.edit(account.records[99], { Industry: 'Banking' });
    const added = salesforce.addRecord(account, { Name: 'Newcomer' });
    salesforce.advance(2000);
    salesforce.requests.length = 0;
    const second = await collect(connector, 'accounts', { ...token(), cursor: first.cursor });
    expect(second.items.map((i) => i.metadata.name).sort()).toEqual(['Account 100', 'Newcomer']);
    expect(json(second.items.find((i) => i.metadata.name === 'Account 100')!).Industry).toBe('Banking');
    const at = (first.cursor as { mark: { at: string } }).mark.at;
    expect(salesforce.requestsTo(queryPath)[0].query.get('q')).toContain(`WHERE SystemModstamp >= ${new Date(Math.floor(Date.parse(at) / 1000) * 1000).toISOString().replace('.000Z', 'Z')} ORDER BY`);
    const third = await collect(connector, 'accounts', { ...token(), cursor: second.cursor });
    expect(third.items).toEqual([]);
    expect(added.Id).toBeTruthy();
  });

  it('backs up every queryable custom object, incrementally per object', async () => {
    const first = await collect(connector, 'custom_objects', token());
    expect(first.items.map((i) => [i.path.split('/')[1], i.metadata.name]).sort()).toEqual([['Invoice__c', 'INV-1'], ['Invoice__c', 'INV-2'], ['Invoice__c', 'INV-3']]);
    expect(salesforce.requests.some((r) => r.path.includes('Hidden__c'))).toBe(false);
    salesforce.edit(invoice.records[2], { Amount__c: 999 });
    salesforce.advance(2000);
    const second = await collect(connector, 'custom_objects', { ...token(), cursor: first.cursor });
    expect(second.items.map((i) => json(i).Amount__c)).toEqual([999]);
  });

  it('streams the latest version of each file from VersionData, its Checksum the change marker', async () => {
    const contract = salesforce.addFile('Contract', 'pdf', 300 * 1024 + 7);
    const old = salesforce.addFile('Old draft', 'docx', 10);
    old.IsLatest = false;
    salesforce.advance(2000);
    const { items, cursor } = await collect(connector, 'files', token());
    expect(items.map((i) => i.path)).toEqual(['files/Contract.pdf']);
    expect(createHash('sha256').update(items[0].body).digest('hex')).toBe(generatedSha256(contract.Id, contract.ContentSize));
    expect(salesforce.requestsTo(queryPath)[0].query.get('q')).toMatch(/ FROM ContentVersion WHERE IsLatest = true ORDER BY /);
    const found = [];
    for await (const item of fetchResource(connector, 'files', token())) found.push(item);
    expect(found[0]).toMatchObject({ changeMarker: contract.Checksum, size: contract.ContentSize, metadata: { contentDocumentId: contract.ContentDocumentId } });
    const next = await collect(connector, 'files', { ...token(), cursor });
    expect(next.items).toEqual([]);
    expect(salesforce.requestsTo(queryPath).at(-1)!.query.get('q')).toMatch(/WHERE IsLatest = true AND SystemModstamp >= /);
  });

  it('stops for an hour once 90% of the org’s daily requests are used, before Salesforce refuses', async () => {
    salesforce.apiLimit = 1000;
    salesforce.apiUsed = 899;
    const error = await collect(connector, 'accounts', token()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBeGreaterThan(50 * 60_000);
    // The describe answered api-usage=900/1000: nothing more was sent.
    expect(salesforce.requests).toHaveLength(1);
    expect(salesforce.overLimit).toEqual([]);
    salesforce.apiLimit = 100_000;
  });

  it('backs off from a concurrent-requests REQUEST_LIMIT_EXCEEDED and tries again; the daily one fails the run', async () => {
    salesforce.failNext({ status: 403, reason: 'concurrent', match: (r) => r.path === queryPath });
    const { items } = await collect(connector, 'accounts', token());
    expect(items).toHaveLength(451);
    const [limited, retried] = salesforce.requestsTo(queryPath);
    expect([limited.status, retried.status]).toEqual([403, 200]);

    salesforce.failNext({ status: 403, body: [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }] });
    const error = await collect(connector, 'accounts', token()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ platformCode: 'REQUEST_LIMIT_EXCEEDED', message: 'Salesforce answered 403: TotalRequests Limit exceeded.' });
  });

  it('refreshes an expired session once; a refused one is an AuthError, and error arrays surface', async () => {
    const expired = tokenCredentials('accessToken', '00Dexpired!session', '00Dvalid!session');
    expect((await collect(connector, 'contacts', expired)).items).toEqual([]);
    expect(expired.state.refreshes).toBe(1);

    const revoked = tokenCredentials('accessToken', '00Drevoked!session');
    const error = await collect(connector, 'contacts', revoked).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ status: 401, platformCode: 'INVALID_SESSION_ID', message: 'Salesforce answered 401: Session expired or invalid' });
    expect(revoked.state.refreshes).toBe(1);

    salesforce.failNext({ status: 400, body: [{ message: "No such column 'Industry' on entity 'Account'.", errorCode: 'INVALID_FIELD' }] });
    const invalid = await collect(connector, 'accounts', token()).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(PlatformError);
    expect(invalid).toMatchObject({ status: 400, platformCode: 'INVALID_FIELD', message: "Salesforce answered 400: No such column 'Industry' on entity 'Account'." });
  });

  it('cannot restore: records are exported instead', () => {
    expect(connector.restore).toBeUndefined();
    expect(connector.resources.map((r) => r.name)).toEqual(['accounts', 'contacts', 'leads', 'opportunities', 'cases', 'tasks', 'files', 'custom_objects']);
    expect(connector.resources.find((r) => r.name === 'files')).toMatchObject({ binaryContent: true });
    expect(connector.resources.every((r) => r.incremental)).toBe(true);
  });
});
