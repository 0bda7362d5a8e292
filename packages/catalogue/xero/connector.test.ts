import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthError, ConfigError, PlatformError, RateLimitedError, resetPacing } from '../sdk/index.ts';
import { collect, json, tokenCredentials } from '../testing/connector-run.ts';
import { createXeroConnector, xeroDate } from './connector.ts';
import { FakeXero, XERO_PREFIX } from './fake.ts';

describe('Xero connector', () => {
  const xero = new FakeXero();
  let connector: ReturnType<typeof createXeroConnector>;
  const token = () => tokenCredentials('accessToken', 'xero-valid');
  const contactsPath = `${XERO_PREFIX}/Contacts`;

  beforeAll(async () => {
    await xero.start();
    connector = createXeroConnector({ baseUrl: `${xero.url}${XERO_PREFIX}` });
    for (let i = 1; i <= 250; i++) xero.add('Contacts', { Name: `Customer ${i}`, ContactStatus: i === 250 ? 'ARCHIVED' : 'ACTIVE', EmailAddress: `c${i}@example.com` });
    xero.add('Accounts', { Code: '200', Name: 'Sales', Type: 'REVENUE', Status: 'ACTIVE' });
    xero.add('Accounts', { Code: '400', Name: 'Advertising', Type: 'EXPENSE', Status: 'ACTIVE' });
  });
  afterAll(() => xero.close());
  beforeEach(() => {
    resetPacing();
    xero.advance(2000);
    xero.requests.length = 0;
  });

  it('asks /connections for the organisation, then reads page after page of 100 until a short one', async () => {
    const { items, cursor } = await collect(connector, 'contacts', token());
    expect(items).toHaveLength(250);
    const [connections, ...pages] = xero.requests;
    expect(connections.path).toBe('/connections');
    expect(pages.map((r) => [r.path, r.query.get('page'), r.query.get('includeArchived')])).toEqual([1, 2, 3].map((page) => [contactsPath, String(page), 'true']));
    expect(pages.every((r) => r.headers['xero-tenant-id'] === xero.tenant.tenantId && r.headers['if-modified-since'] === undefined)).toBe(true);
    expect(xero.requests.every((r) => r.headers.authorization === 'Bearer xero-valid')).toBe(true);
    const first = xero.records.get('Contacts')![0];
    const item = items.find((i) => i.id === first.ContactID)!;
    expect(item).toMatchObject({ path: `contacts/${first.ContactID}.json`, updatedAt: xeroDate(first.UpdatedDateUTC), metadata: { name: 'Customer 1' } });
    expect(json(item)).toEqual(first);
    expect(items.find((i) => i.metadata.name === 'Customer 250')).toBeTruthy();
    expect(cursor).toEqual({ since: expect.any(String) });
  });

  it('reads /Date(…)/ times', () => {
    expect(xeroDate('/Date(1573755038314+0000)/')).toBe('2019-11-14T18:10:38.314Z');
    expect(xeroDate('2019-11-14')).toBeUndefined();
  });

  it('a second run sends If-Modified-Since and gets only what changed; a third nothing', async () => {
    const first = await collect(connector, 'contacts', token());
    const changed = xero.records.get('Contacts')![120];
    xero.edit(changed, { Name: 'Renamed' });
    const added = xero.add('Contacts', { Name: 'Newcomer', ContactStatus: 'ACTIVE' });
    xero.advance(2000);
    xero.requests.length = 0;
    const second = await collect(connector, 'contacts', { ...token(), cursor: first.cursor });
    expect(second.items.map((i) => i.id).sort()).toEqual([changed.ContactID, added.ContactID].sort());
    expect(json(second.items.find((i) => i.id === changed.ContactID)!).Name).toBe('Renamed');
    const since = (first.cursor as { since: string }).since;
    expect(xero.requestsTo(contactsPath).map((r) => [r.query.get('page'), r.headers['if-modified-since']])).toEqual([['1', since.slice(0, 19)]]);

    const third = await collect(connector, 'contacts', { ...token(), cursor: second.cursor });
    expect(third.items).toEqual([]);
  });

  it('reads unpaged endpoints whole', async () => {
    const { items } = await collect(connector, 'accounts', token());
    expect(items.map((i) => i.metadata.name)).toEqual(['Sales', 'Advertising']);
    expect(xero.requestsTo(`${XERO_PREFIX}/Accounts`).map((r) => r.query.get('page'))).toEqual([null]);
  });

  it('waits out a minute 429 as Retry-After says and tries again; the day limit fails the run as RATE_LIMITED', async () => {
    xero.failNext({ status: 429, headers: { 'retry-after': '1' }, match: (r) => r.path === `${XERO_PREFIX}/Accounts` });
    const { items } = await collect(connector, 'accounts', token());
    expect(items).toHaveLength(2);
    const [limited, retried] = xero.requestsTo(`${XERO_PREFIX}/Accounts`);
    expect([limited.status, retried.status]).toEqual([429, 200]);
    expect(retried.early).toBeFalsy();

    xero.dayLimit = xero.dayCalls;
    const error = await collect(connector, 'accounts', token()).catch((e: unknown) => e);
    xero.dayLimit = 5000;
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBeGreaterThanOrEqual(60 * 60_000);
    expect(xero.requestsTo(`${XERO_PREFIX}/Accounts`).at(-1)!.status).toBe(429);
  });

  it('refreshes an expired token once; a refused one is an AuthError, and error bodies surface', async () => {
    const expired = tokenCredentials('accessToken', 'xero-expired', 'xero-valid');
    expect((await collect(connector, 'accounts', expired)).items).toHaveLength(2);
    expect(expired.state.refreshes).toBe(1);

    const revoked = tokenCredentials('accessToken', 'xero-revoked');
    const error = await collect(connector, 'accounts', revoked).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ status: 401, platformCode: 'Unauthorized', message: expect.stringMatching(/^Xero answered 401: Unauthorized: TokenExpired: token expired at /) });
    expect(revoked.state.refreshes).toBe(1);

    xero.failNext({ status: 400, match: (r) => r.path === contactsPath });
    const invalid = await collect(connector, 'contacts', token()).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(PlatformError);
    expect(invalid).toMatchObject({ status: 400, platformCode: 'ValidationException', message: 'Xero answered 400: A validation exception occurred; The page parameter must be a positive integer' });

    xero.failNext({ status: 403, match: (r) => r.path === contactsPath });
    const forbidden = await collect(connector, 'contacts', token()).catch((e: unknown) => e);
    expect(forbidden).toMatchObject({ status: 403, platformCode: 'Forbidden', message: 'Xero answered 403: Forbidden: AuthorizationUnsuccessful' });
  });

  it('cannot restore: the books are exported instead', async () => {
    expect(connector.restore).toBeUndefined();
    expect(connector.resources.map((r) => r.name)).toEqual(['contacts', 'invoices', 'credit_notes', 'bank_transactions', 'payments', 'manual_journals', 'accounts', 'items']);
    expect(connector.resources.every((r) => r.incremental && r.restorable === false)).toBe(true);
    await expect(collect(connector, 'reports', token())).rejects.toBeInstanceOf(ConfigError);
  });
});
