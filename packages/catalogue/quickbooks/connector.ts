/**
 * QuickBooks Online (Accounting API v3 at `https://quickbooks.api.intuit.com/v3/company/{realmId}`,
 * the company from the OAuth callback's `realmId`): customers, vendors, employees, items, the
 * chart of accounts, invoices, bills, payments and journal entries, each entity with every field.
 *
 * Entities are read with the query endpoint (`GET /query?query=select * from Customer …
 * STARTPOSITION 1 MAXRESULTS 1000`), page after page by STARTPOSITION until a page holds fewer
 * than MAXRESULTS. Name lists (customers, vendors, employees, items, accounts) are asked for
 * `Active IN (true, false)`: QuickBooks leaves inactive ones out otherwise. Incremental per
 * entity: the next run asks for `Metadata.LastUpdatedTime >=` the newest one seen (to the second;
 * those seen at it skipped). QuickBooks deletes nothing it lists (lists are made inactive,
 * transactions deleted are gone from queries): the weekly full run drops those.
 *
 * Pacing: 500 requests a minute per company, as Intuit documents; a 429 `ThrottleExceeded` waits
 * and tries again. Every request asks for JSON (QuickBooks answers XML otherwise) at a fixed
 * `minorversion`. Errors are `{"Fault":{"Error":[{"Message","Detail","code"}],"type"}}`; an
 * expired token (401) is refreshed once.
 */
import {
  ConfigError,
  type Connector,
  type ConnectorItem,
  type Cursor,
  type FetchContext,
  type HighWaterState,
  HighWaterMark,
  jsonContent,
  PlatformError,
} from '../sdk/index.ts';

export const MINOR_VERSION = '75';
export const PAGE = 1000;
const PER_MINUTE = 500;

const ENTITIES: Record<string, { entity: string; list: boolean; description: string }> = {
  customers: { entity: 'Customer', list: true, description: 'Customers, active and inactive, with every field.' },
  vendors: { entity: 'Vendor', list: true, description: 'Vendors, active and inactive, with every field.' },
  employees: { entity: 'Employee', list: true, description: 'Employees, active and inactive, with every field.' },
  items: { entity: 'Item', list: true, description: 'Products and services, active and inactive.' },
  accounts: { entity: 'Account', list: true, description: 'The chart of accounts, active and inactive.' },
  invoices: { entity: 'Invoice', list: false, description: 'Invoices with their lines.' },
  bills: { entity: 'Bill', list: false, description: 'Bills with their lines.' },
  payments: { entity: 'Payment', list: false, description: 'Payments received, with what they pay.' },
  journal_entries: { entity: 'JournalEntry', list: false, description: 'Journal entries with their lines.' },
};

type Json = Record<string, any>;

function faultOf(body: unknown): { Message?: unknown; Detail?: unknown; code?: unknown } | undefined {
  const fault = (body as { Fault?: { Error?: unknown } } | undefined)?.Fault;
  const first = Array.isArray(fault?.Error) ? fault.Error[0] : undefined;
  return first && typeof first === 'object' ? first : undefined;
}

export function createQuickBooksConnector(options: { baseUrl?: string } = {}): Connector {
  return {
    slug: 'quickbooks',
    name: 'QuickBooks Online',
    authType: 'oauth2',
    resources: Object.entries(ENTITIES).map(([name, { description }]) => ({ name, description, incremental: true, cursor: 'Metadata.LastUpdatedTime', restorable: false })),
    http: {
      platform: 'QuickBooks',
      // The connection's own company root (…/v3/company/{realmId}) always comes in options.
      baseUrl: options.baseUrl ?? 'https://quickbooks.invalid/v3/company/0',
      rate: () => ({ key: 'minute', limit: PER_MINUTE, intervalMs: 60_000 }),
      errorMessage: (body) => {
        if (typeof body === 'string') return body.trim().slice(0, 500) || undefined;
        const first = faultOf(body);
        return [first?.Message, first?.Detail].filter((s) => typeof s === 'string' && s).join(': ') || undefined;
      },
      errorCode: (body) => {
        const code = faultOf(body)?.code;
        return typeof code === 'string' ? code : undefined;
      },
    },
    fetch(resource, ctx) {
      const entity = ENTITIES[resource];
      if (!entity) throw new ConfigError(`QuickBooks has no resource ${resource}`);
      return fetchEntity(ctx, resource, entity.entity, entity.list);
    },
  };
}

/** A QuickBooks query datetime literal, to the second, in UTC. */
const literal = (iso: string) => new Date(Math.floor(Date.parse(iso) / 1000) * 1000).toISOString().replace('.000Z', '+00:00');

function readMark(value: unknown): HighWaterState<string> | undefined {
  const mark = HighWaterMark.read<string>(value, 'string');
  return mark && !Number.isNaN(Date.parse(mark.at)) ? mark : undefined;
}

async function* fetchEntity(ctx: FetchContext, resource: string, entity: string, list: boolean): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const previous = readMark((ctx.cursor as { mark?: unknown } | null | undefined)?.mark);
  if (ctx.cursor !== undefined && !previous) ctx.log.warn('unreadable cursor, running in full');
  const mark = new HighWaterMark<string>(previous);
  const conditions = [list ? 'Active IN (true, false)' : undefined, mark.since ? `Metadata.LastUpdatedTime >= '${literal(mark.since)}'` : undefined].filter(Boolean);
  const where = conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '';
  const seen = new Set<string>();
  for (let start = 1; ; start += PAGE) {
    const { data } = await ctx.http.json<{ QueryResponse?: Json }>('query', { query: { query: `SELECT * FROM ${entity}${where} STARTPOSITION ${start} MAXRESULTS ${PAGE}`, minorversion: MINOR_VERSION } });
    if (!data?.QueryResponse || typeof data.QueryResponse !== 'object') throw new PlatformError(`QuickBooks: the query of ${entity} answered without QueryResponse`);
    // An empty page names no entity at all.
    const page: unknown = data.QueryResponse[entity] ?? [];
    if (!Array.isArray(page)) throw new PlatformError(`QuickBooks: the query of ${entity} answered ${entity} as no list`);
    for (const record of page as Json[]) {
      const id = String(record.Id);
      const updated = Date.parse(String(record.MetaData?.LastUpdatedTime));
      if (Number.isNaN(updated)) throw new PlatformError(`QuickBooks: ${entity} ${id} has no MetaData.LastUpdatedTime`);
      const at = new Date(updated).toISOString();
      if (seen.has(id) || mark.seenBefore(at, id)) continue;
      seen.add(id);
      mark.see(at, id);
      yield {
        id,
        path: `${resource}/${id}.json`,
        updatedAt: at,
        changeMarker: `${record.MetaData.LastUpdatedTime}/${record.SyncToken ?? ''}`,
        contentType: 'application/json',
        metadata: { entity, name: record.DisplayName ?? record.FullyQualifiedName ?? record.Name ?? record.DocNumber ?? null },
        content: jsonContent(record),
      };
    }
    if (page.length < PAGE) break;
  }
  const state = mark.state();
  return state ? { mark: state } : null;
}
