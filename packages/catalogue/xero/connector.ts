/**
 * Xero (Accounting API 2.0, `https://api.xero.com/api.xro/2.0`): contacts, invoices, credit notes,
 * bank transactions, payments, manual journals, the chart of accounts and items of the
 * organisation the connection authorised.
 *
 * Every request names the organisation in `xero-tenant-id`: the tenant the connection's identity
 * is (the first of `GET https://api.xero.com/connections`), asked once per run. Paged endpoints are
 * read `page=1, 2, …` (100 a page) until a short or empty page; accounts and items come whole.
 * Every resource is incremental: the next run sends `If-Modified-Since` a second before the
 * previous listing's first page was answered (Xero's `Date`), so whatever changed while it ran is
 * read again; Xero's default order is kept (ordering by `UpdatedDateUTC` would move a record
 * changed during the listing to a later page and skip another). Xero reports no deletions: the
 * weekly full run drops them.
 *
 * Pacing: at most 60 requests a minute per organisation, as Xero documents. A 429 waits its
 * `Retry-After` and tries again, except the daily limit (`X-Rate-Limit-Problem: day`), which fails
 * the run as RATE_LIMITED for its `Retry-After`, an hour at least. Errors are `{"ErrorNumber", "Type", "Message",
 * "Elements"}` (validation errors listed) or `{"Title", "Status", "Detail"}`; an expired token
 * (401) is refreshed once.
 */
import {
  ConfigError,
  type Connector,
  type ConnectorItem,
  type Cursor,
  type FetchContext,
  jsonContent,
  PlatformError,
} from '../sdk/index.ts';

const PAGE = 100;
const HOUR_MS = 60 * 60_000;

type Json = Record<string, any>;

interface XeroResource {
  /** The endpoint and the key of its answer (`Contacts` → `{"Contacts": […]}`). */
  endpoint: string;
  id: string;
  paged: boolean;
  name: (record: Json) => unknown;
  description: string;
}

const RESOURCES: Record<string, XeroResource> = {
  contacts: { endpoint: 'Contacts', id: 'ContactID', paged: true, name: (r) => r.Name, description: 'Customers and suppliers, archived ones included.' },
  invoices: { endpoint: 'Invoices', id: 'InvoiceID', paged: true, name: (r) => r.InvoiceNumber, description: 'Sales invoices and bills with their line items.' },
  credit_notes: { endpoint: 'CreditNotes', id: 'CreditNoteID', paged: true, name: (r) => r.CreditNoteNumber, description: 'Credit notes with their line items and allocations.' },
  bank_transactions: { endpoint: 'BankTransactions', id: 'BankTransactionID', paged: true, name: (r) => r.Reference, description: 'Spend and receive money transactions with their line items.' },
  payments: { endpoint: 'Payments', id: 'PaymentID', paged: true, name: (r) => r.Reference, description: 'Payments against invoices and credit notes.' },
  manual_journals: { endpoint: 'ManualJournals', id: 'ManualJournalID', paged: true, name: (r) => r.Narration, description: 'Manual journals with their lines.' },
  accounts: { endpoint: 'Accounts', id: 'AccountID', paged: false, name: (r) => r.Name, description: 'The chart of accounts.' },
  items: { endpoint: 'Items', id: 'ItemID', paged: false, name: (r) => r.Code, description: 'Products and services.' },
};

export function createXeroConnector(options: { baseUrl?: string } = {}): Connector {
  return {
    slug: 'xero',
    name: 'Xero',
    authType: 'oauth2',
    resources: Object.entries(RESOURCES).map(([name, { description }]) => ({ name, description, incremental: true, cursor: 'If-Modified-Since (UpdatedDateUTC)', restorable: false })),
    http: {
      platform: 'Xero',
      baseUrl: options.baseUrl ?? 'https://api.xero.com/api.xro/2.0',
      rate: () => ({ key: 'minute', limit: 60, intervalMs: 60_000 }),
      classify: (info) => {
        if (info.status !== 429 || info.headers.get('x-rate-limit-problem')?.toLowerCase() !== 'day') return undefined;
        // The day's calls are the organisation's, shared with its other apps: an hour at least.
        const seconds = Number(info.headers.get('retry-after'));
        return { kind: 'rateLimited', retryAfterMs: Math.max(HOUR_MS, Number.isFinite(seconds) ? seconds * 1000 : 0) };
      },
      errorMessage: (body) => {
        if (typeof body === 'string') return body.trim().slice(0, 500) || undefined;
        const b = (body ?? {}) as Json;
        if (typeof b.Message === 'string') {
          const elements: Json[] = Array.isArray(b.Elements) ? b.Elements : [];
          const validation = elements.flatMap((e) => (Array.isArray(e?.ValidationErrors) ? e.ValidationErrors : [])).map((v: Json) => v?.Message).filter((m): m is string => typeof m === 'string');
          return [b.Message, ...validation].join('; ');
        }
        return [b.Title, b.Detail].filter((s) => typeof s === 'string' && s).join(': ') || undefined;
      },
      errorCode: (body) => {
        const b = (body ?? {}) as Json;
        const code = typeof b.Type === 'string' && b.Type ? b.Type : b.Title;
        return typeof code === 'string' ? code : undefined;
      },
    },
    fetch(resource, ctx) {
      const spec = RESOURCES[resource];
      if (!spec) throw new ConfigError(`Xero has no resource ${resource}`);
      return fetchRecords(ctx, resource, spec);
    },
  };
}

/** The organisation the connection authorised: the first tenant, as its identity is. */
async function tenantOf(ctx: FetchContext): Promise<string> {
  const { data } = await ctx.http.json<Json[]>(new URL('/connections', ctx.http.url('')).toString());
  const tenant = Array.isArray(data) ? data[0]?.tenantId : undefined;
  if (typeof tenant !== 'string' || !tenant) throw new ConfigError('Xero: the connection has no organisation authorised (connections is empty); connect it again');
  return tenant;
}

/** `/Date(1573755038314+0000)/` as an ISO time. */
export function xeroDate(value: unknown): string | undefined {
  const ms = /^\/Date\((-?\d+)([+-]\d{4})?\)\/$/.exec(String(value ?? ''))?.[1];
  return ms === undefined ? undefined : new Date(Number(ms)).toISOString();
}

function readSince(ctx: FetchContext): string | undefined {
  if (ctx.cursor === undefined) return undefined;
  const since = (ctx.cursor as { since?: unknown } | null)?.since;
  if (typeof since === 'string' && !Number.isNaN(Date.parse(since))) return since;
  ctx.log.warn('unreadable cursor, running in full');
  return undefined;
}

async function* fetchRecords(ctx: FetchContext, resource: string, spec: XeroResource): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const since = readSince(ctx);
  const tenant = await tenantOf(ctx);
  // Xero reads If-Modified-Since as UTC, to the second.
  const headers: Record<string, string> = { 'xero-tenant-id': tenant, ...(since ? { 'if-modified-since': since.slice(0, 19) } : {}) };
  let began: number | undefined;
  const seen = new Set<string>();
  for (let page = 1; ; page++) {
    const { data, headers: answered } = await ctx.http.json<Json>(spec.endpoint, { headers, query: spec.paged ? { page, ...(resource === 'contacts' ? { includeArchived: 'true' } : {}) } : {} });
    if (began === undefined) {
      const date = Date.parse(answered.get('date') ?? '');
      began = Number.isNaN(date) ? Date.now() : date;
    }
    const records = data?.[spec.endpoint];
    if (!Array.isArray(records)) throw new PlatformError(`Xero: ${spec.endpoint} answered without ${spec.endpoint}`);
    for (const record of records) {
      const id = String(record[spec.id]);
      if (seen.has(id)) continue;
      seen.add(id);
      const name = spec.name(record);
      yield {
        id,
        path: `${resource}/${id}.json`,
        updatedAt: xeroDate(record.UpdatedDateUTC),
        changeMarker: typeof record.UpdatedDateUTC === 'string' ? record.UpdatedDateUTC : undefined,
        contentType: 'application/json',
        metadata: { name: typeof name === 'string' && name ? name : null, status: record.Status ?? null },
        content: jsonContent(record),
      };
    }
    if (!spec.paged || records.length < PAGE) break;
  }
  // A second before the listing began: whatever changed while it ran is read again next time.
  return { since: new Date(Math.floor((began ?? Date.now()) / 1000) * 1000 - 1000).toISOString() };
}
