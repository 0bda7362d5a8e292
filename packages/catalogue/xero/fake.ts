/**
 * A fake of the Xero Accounting API 2.0 for what the connector uses: `GET /connections` (the
 * organisations a token may read) and, under `/api.xro/2.0`, contacts, invoices, credit notes,
 * bank transactions, payments, manual journals, accounts and items. Speaks the documented wire
 * format:
 *
 * - every request names its organisation in `xero-tenant-id` (403 `AuthorizationUnsuccessful`
 *   otherwise); answers are `{"Id", "Status": "OK", "ProviderName", "DateTimeUTC", "Contacts": […]}`
 *   with dates as `/Date(1573755038314+0000)/`;
 * - paged endpoints answer 100 records a page for `page=N` (all of them without `page`), in the
 *   order they were added (contacts archived ones only with `includeArchived=true`); `If-Modified-Since` (`2026-12-03T10:15:30`, UTC, or an HTTP date)
 *   keeps those whose `UpdatedDateUTC` is later;
 * - `X-MinLimit-Remaining`, `X-DayLimit-Remaining` and `X-AppMinLimit-Remaining` on every answer;
 *   beyond 60 calls a minute or 5,000 a day of a tenant, a 429 with `Retry-After` and
 *   `X-Rate-Limit-Problem: minute|day`;
 * - errors as `{"ErrorNumber", "Type", "Message", "Elements"}` (400 `ValidationException`), 401
 *   and 403 as `{"Type", "Title", "Status", "Detail"}`, 404 as plain text.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { FakeServer, tokenOf, type ErrorAnswer, type Failure, type RecordedRequest } from '../testing/fake-server.ts';

type Json = Record<string, any>;

export const XERO_PREFIX = '/api.xro/2.0';
const PAGE = 100;
const PAGED = new Set(['Contacts', 'Invoices', 'CreditNotes', 'BankTransactions', 'Payments', 'ManualJournals']);
const ID_FIELD: Record<string, string> = {
  Contacts: 'ContactID',
  Invoices: 'InvoiceID',
  CreditNotes: 'CreditNoteID',
  BankTransactions: 'BankTransactionID',
  Payments: 'PaymentID',
  ManualJournals: 'ManualJournalID',
  Accounts: 'AccountID',
  Items: 'ItemID',
};

/** Xero's JSON dates: `/Date(1573755038314+0000)/`. */
export const xeroTime = (ms: number) => `/Date(${ms}+0000)/`;
const msOf = (date: string) => Number(/\((\d+)/.exec(date)![1]);

export class FakeXero extends FakeServer {
  readonly tokens = new Set<string>(['xero-valid']);
  readonly tenant = { id: randomUUID(), tenantId: randomUUID(), tenantType: 'ORGANISATION', tenantName: 'Demo Company (UK)' };
  readonly records = new Map<string, Json[]>(Object.keys(ID_FIELD).map((endpoint) => [endpoint, []]));
  minuteLimit = 60;
  dayLimit = 5000;
  readonly #calls: number[] = [];
  dayCalls = 0;

  add(endpoint: string, values: Json): Json {
    const record = { [ID_FIELD[endpoint]]: randomUUID(), ...values, UpdatedDateUTC: xeroTime(this.now()) };
    this.records.get(endpoint)!.push(record);
    return record;
  }

  edit(record: Json, values: Json): void {
    Object.assign(record, values, { UpdatedDateUTC: xeroTime(this.now()) });
  }

  #problem(status: number, title: string, detail: string): ErrorAnswer {
    return { status, body: { Type: null, Title: title, Status: status, Detail: detail, Instance: randomUUID(), Extensions: {} } };
  }

  #limited(problem: 'minute' | 'day'): ErrorAnswer {
    const now = this.now();
    const retryAfter = problem === 'minute' ? 60 : Math.ceil((Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate() + 1) - now) / 1000);
    return { status: 429, body: '', headers: { 'retry-after': String(retryAfter), 'x-rate-limit-problem': problem, 'content-type': 'text/plain' } };
  }

  protected errorAnswer(status: number, failure: Failure): ErrorAnswer {
    if (status === 401) return { ...this.#problem(401, 'Unauthorized', `TokenExpired: token expired at ${new Date(this.now()).toUTCString()}`), headers: { 'www-authenticate': 'Bearer error="invalid_token"' } };
    if (status === 403) return this.#problem(403, 'Forbidden', 'AuthorizationUnsuccessful');
    if (status === 404) return { status, body: "The resource you're looking for cannot be found", headers: { 'content-type': 'text/plain' } };
    if (status === 429) return this.#limited(failure.reason === 'day' ? 'day' : 'minute');
    if (status >= 500) return { status, body: { ErrorNumber: 500, Type: 'UnknownErrorException', Message: 'An error occurred in Xero. Check the API Status page for current service status.' } };
    return { status, body: { ErrorNumber: 10, Type: 'ValidationException', Message: 'A validation exception occurred', Elements: [{ ValidationErrors: [{ Message: 'The page parameter must be a positive integer' }] }] } };
  }

  protected route(request: RecordedRequest, res: ServerResponse): undefined {
    const limits = () => ({
      'x-minlimit-remaining': String(Math.max(0, this.minuteLimit - this.#calls.length)),
      'x-daylimit-remaining': String(Math.max(0, this.dayLimit - this.dayCalls)),
      'x-appminlimit-remaining': '9999',
    });
    const send = (answer: ErrorAnswer): undefined => {
      this.answer(request, res, answer.status, answer.body, { ...limits(), ...answer.headers });
    };
    const token = tokenOf(request);
    if (!token || !this.tokens.has(token)) return send(this.errorAnswer(401, {}));
    if (request.method !== 'GET') return send(this.errorAnswer(404, {}));
    if (request.path === '/connections') {
      const at = new Date(this.now()).toISOString();
      return send({ status: 200, body: [{ ...this.tenant, authEventId: randomUUID(), createdDateUtc: at, updatedDateUtc: at }] });
    }
    if (request.headers['xero-tenant-id'] !== this.tenant.tenantId) return send(this.errorAnswer(403, {}));

    const now = this.now();
    while (this.#calls.length && this.#calls[0] <= now - 60_000) this.#calls.shift();
    if (this.dayCalls >= this.dayLimit) return send(this.#limited('day'));
    if (this.#calls.length >= this.minuteLimit) return send(this.#limited('minute'));
    this.#calls.push(now);
    this.dayCalls++;

    const endpoint = request.path.startsWith(`${XERO_PREFIX}/`) ? request.path.slice(XERO_PREFIX.length + 1) : '';
    let records = this.records.get(endpoint);
    if (!records) return send(this.errorAnswer(404, {}));
    const since = request.headers['if-modified-since'];
    if (typeof since === 'string') {
      const at = Date.parse(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(since) ? `${since}Z` : since);
      if (Number.isNaN(at)) return send(this.errorAnswer(400, {}));
      records = records.filter((r) => msOf(r.UpdatedDateUTC) > at);
    }
    if (endpoint === 'Contacts' && request.query.get('includeArchived') !== 'true') records = records.filter((r) => r.ContactStatus !== 'ARCHIVED');
    const page = request.query.get('page');
    if (page !== null && PAGED.has(endpoint)) {
      const n = Number(page);
      if (!Number.isInteger(n) || n < 1) return send(this.errorAnswer(400, {}));
      records = records.slice((n - 1) * PAGE, n * PAGE);
    }
    return send({ status: 200, body: { Id: randomUUID(), Status: 'OK', ProviderName: 'ListBackup', DateTimeUTC: xeroTime(now), [endpoint]: records } });
  }
}
