import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthError, PlatformError, resetPacing } from '../sdk/index.ts';
import { collect, json, tokenCredentials } from '../testing/connector-run.ts';
import { createQuickBooksConnector } from './connector.ts';
import { FakeQuickBooks } from './fake.ts';

describe('QuickBooks Online connector', () => {
  const quickbooks = new FakeQuickBooks();
  let connector: ReturnType<typeof createQuickBooksConnector>;
  const token = () => tokenCredentials('accessToken', 'qb-valid');
  const queryPath = () => `${quickbooks.prefix}/query`;
  const queries = () => quickbooks.requestsTo(queryPath()).map((r) => r.query.get('query'));

  beforeAll(async () => {
    await quickbooks.start();
    connector = createQuickBooksConnector({ baseUrl: `${quickbooks.url}${quickbooks.prefix}` });
    for (let i = 1; i <= 2300; i++) quickbooks.add('Customer', { DisplayName: `Customer ${i}`, Active: i !== 7, Balance: i });
    for (let i = 1; i <= 3; i++) quickbooks.add('Invoice', { DocNumber: `INV-${i}`, TotalAmt: i * 100, Line: [{ Amount: i * 100, DetailType: 'SalesItemLineDetail' }] });
  });
  afterAll(() => quickbooks.close());
  beforeEach(() => {
    resetPacing();
    quickbooks.advance(2000);
    quickbooks.requests.length = 0;
  });

  it('queries every customer, inactive ones too, 1,000 a page by STARTPOSITION until a short page', async () => {
    const { items, cursor } = await collect(connector, 'customers', token());
    expect(items).toHaveLength(2300);
    expect(queries()).toEqual([1, 1001, 2001].map((start) => `SELECT * FROM Customer WHERE Active IN (true, false) STARTPOSITION ${start} MAXRESULTS 1000`));
    const requests = quickbooks.requestsTo(queryPath());
    expect(requests.every((r) => r.query.get('minorversion') === '75' && r.headers.accept === 'application/json' && r.headers.authorization === 'Bearer qb-valid')).toBe(true);
    const inactive = items.find((i) => i.metadata.name === 'Customer 7')!;
    expect(inactive.path).toBe(`customers/${inactive.id}.json`);
    expect(json(inactive)).toMatchObject({ DisplayName: 'Customer 7', Active: false, Balance: 7, MetaData: { LastUpdatedTime: expect.stringMatching(/-08:00$/) } });
    expect(cursor).toEqual({ mark: { at: expect.any(String), ids: expect.any(Array) } });
  });

  it('a second run asks for Metadata.LastUpdatedTime >= the newest seen and yields only what changed; a third nothing', async () => {
    const first = await collect(connector, 'invoices', token());
    expect(first.items.map((i) => i.metadata.name)).toEqual(['INV-1', 'INV-2', 'INV-3']);
    const [, second_invoice] = quickbooks.entities.get('Invoice')!;
    quickbooks.edit(second_invoice, { TotalAmt: 999 });
    const added = quickbooks.add('Invoice', { DocNumber: 'INV-4', TotalAmt: 50 });
    quickbooks.advance(2000);
    quickbooks.requests.length = 0;
    const second = await collect(connector, 'invoices', { ...token(), cursor: first.cursor });
    expect(second.items.map((i) => i.metadata.name).sort()).toEqual(['INV-2', 'INV-4']);
    expect(json(second.items.find((i) => i.metadata.name === 'INV-2')!)).toMatchObject({ TotalAmt: 999, SyncToken: '1' });
    const at = (first.cursor as { mark: { at: string } }).mark.at;
    expect(queries()).toEqual([`SELECT * FROM Invoice WHERE Metadata.LastUpdatedTime >= '${at.replace('.000Z', '+00:00')}' STARTPOSITION 1 MAXRESULTS 1000`]);
    quickbooks.requests.length = 0;
    const third = await collect(connector, 'invoices', { ...token(), cursor: second.cursor });
    expect(third.items).toEqual([]);
    expect(queries()).toHaveLength(1);
    expect(added.Id).toBeTruthy();
  });

  it('an entity with nothing in it answers an empty QueryResponse: no items, no cursor', async () => {
    const { items, cursor } = await collect(connector, 'journal_entries', token());
    expect(items).toEqual([]);
    expect(cursor).toBeNull();
  });

  it('waits out a 429 ThrottleExceeded as long as it is told, then tries again', async () => {
    quickbooks.failNext({ status: 429, headers: { 'retry-after': '1' }, match: (r) => r.path === queryPath() });
    const { items } = await collect(connector, 'invoices', token());
    expect(items).toHaveLength(4);
    const [limited, retried] = quickbooks.requestsTo(queryPath());
    expect([limited.status, retried.status]).toEqual([429, 200]);
    expect(quickbooks.earlyRetries).toEqual([]);
  });

  it('refreshes an expired token once; a refused one is an AuthError, and Fault bodies surface', async () => {
    const expired = tokenCredentials('accessToken', 'qb-expired', 'qb-valid');
    expect((await collect(connector, 'invoices', expired)).items).toHaveLength(4);
    expect(expired.state.refreshes).toBe(1);

    const revoked = tokenCredentials('accessToken', 'qb-revoked');
    const error = await collect(connector, 'invoices', revoked).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ status: 401, platformCode: '3200', message: 'QuickBooks answered 401: message=AuthenticationFailed; errorCode=003200; statusCode=401: Token expired: the access token is invalid or has expired' });
    expect(revoked.state.refreshes).toBe(1);

    quickbooks.failNext({ status: 400, body: quickbooks.fault(400, 'ValidationFault', '4000', 'Error parsing query', 'QueryParserError: Encountered " <ID> "Bogus" "').body });
    const invalid = await collect(connector, 'customers', token()).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(PlatformError);
    expect(invalid).toMatchObject({ status: 400, platformCode: '4000', message: 'QuickBooks answered 400: Error parsing query: QueryParserError: Encountered " <ID> "Bogus" "' });
  });

  it('cannot restore: the books are exported instead', () => {
    expect(connector.restore).toBeUndefined();
    expect(connector.resources.map((r) => r.name)).toEqual(['customers', 'vendors', 'employees', 'items', 'accounts', 'invoices', 'bills', 'payments', 'journal_entries']);
    expect(connector.resources.every((r) => r.incremental && r.restorable === false)).toBe(true);
  });
});
