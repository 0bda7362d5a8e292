/**
 * Airtable (Web API v0): the schema of every base the token reaches, and every record of every
 * table with its attachments' content.
 *
 * Bases come from `GET /v0/meta/bases` (paged by `offset`), each base's tables, fields and views
 * from `GET /v0/meta/bases/{baseId}/tables`. Records are listed with `GET /v0/{baseId}/{tableId}`,
 * 100 a page (`pageSize`, then the `offset` the answer gives), fields by id (`returnFieldsByFieldId`)
 * so a renamed field stays the same field. Incremental: the next run asks each table only for
 * records created or modified after the previous run began (`filterByFormula` over
 * `LAST_MODIFIED_TIME()` and `CREATED_TIME()`, from Airtable's own clock: the `Date` of the schema
 * answer); a table new since then is read whole. Airtable does not report deletions: the weekly
 * full run drops them. Attachments stream from the URLs the record carries (they expire after a
 * few hours; no credentials go there); an attachment's id is its change marker.
 *
 * Pacing: 5 requests a second per base, as Airtable documents; a 429 waits 30 seconds, the
 * penalty Airtable documents (it names no `Retry-After`). Errors are `{"error": {"type",
 * "message"}}`; an expired OAuth token (401) is refreshed once.
 *
 * Restore writes records back 10 a request: those that still exist are updated in place (`PATCH`,
 * writable fields as they were, cleared ones cleared), the others created again (`POST`, with new
 * ids). Computed fields (formulas, rollups, lookups, counts, auto numbers, created/modified
 * times and users, buttons) are Airtable's to fill; attachments are not uploaded again. Writing
 * needs the `data.records:write` scope.
 */
import {
  ConfigError,
  type Connector,
  ConnectorError,
  type ConnectorItem,
  type Cursor,
  type FetchContext,
  type HttpClient,
  jsonContent,
  parseRetryAfter,
  PlatformError,
  readRestoreJson,
  type RestoreContext,
  type RestoreItem,
  type RestoreResult,
} from '../sdk/index.ts';

export const AIRTABLE_API_URL = 'https://api.airtable.com/v0';

const PAGE = 100;
const WRITE_BATCH = 10;
const PER_BASE_PER_SECOND = 5;
const PENALTY_MS = 30_000;
/** Field types Airtable computes: never written back. Attachments are not uploaded again. */
const NOT_WRITTEN = new Set(['formula', 'rollup', 'multipleLookupValues', 'lookup', 'count', 'autoNumber', 'createdTime', 'lastModifiedTime', 'createdBy', 'lastModifiedBy', 'button', 'multipleAttachments', 'externalSyncSource', 'aiText']);

type Json = Record<string, any>;

interface Base {
  id: string;
  name: string;
  permissionLevel?: string;
}

interface Field {
  id: string;
  name: string;
  type: string;
}

interface Table {
  id: string;
  name: string;
  primaryFieldId: string;
  fields: Field[];
}

interface AirtableRecord {
  id: string;
  createdTime: string;
  fields: Record<string, unknown>;
}

interface Attachment {
  id: string;
  url: string;
  filename?: string;
  size?: number;
  type?: string;
}

/** `rateLimitWaitMs`: the wait after a 429 (Airtable's 30 seconds; tests shorten it with their fake). */
export function createAirtableConnector(options: { baseUrl?: string; rateLimitWaitMs?: number } = {}): Connector {
  const penalty = options.rateLimitWaitMs ?? PENALTY_MS;
  return {
    slug: 'airtable',
    name: 'Airtable',
    authType: 'oauth2',
    resources: [
      { name: 'bases', incremental: false, restorable: false, description: 'Every base with its schema: tables, fields and views.' },
      { name: 'records', incremental: true, cursor: 'records created or modified since the last run (LAST_MODIFIED_TIME())', restorable: true, binaryContent: true, description: 'Every record of every table, with its attachments.' },
    ],
    http: {
      platform: 'Airtable',
      baseUrl: options.baseUrl ?? AIRTABLE_API_URL,
      rate: ({ url }) => {
        const base = /\/(app[A-Za-z0-9]+)(?:\/|$)/.exec(url.pathname)?.[1];
        return base ? { key: base, limit: PER_BASE_PER_SECOND, intervalMs: 1000 } : undefined;
      },
      classify: (info) => (info.status === 429 ? { kind: 'rateLimited', retryAfterMs: parseRetryAfter(info.headers.get('retry-after'), info.serverNow) ?? penalty } : undefined),
      errorMessage: (body) => {
        if (typeof body === 'string') return body.trim().slice(0, 500) || undefined;
        const b = (body ?? {}) as Json;
        if (b.error && typeof b.error === 'object') return [b.error.type, b.error.message].filter((s) => typeof s === 'string').join(': ') || undefined;
        if (typeof b.error === 'string') return b.error;
        if (Array.isArray(b.errors) && b.errors[0]) return [b.errors[0].error, b.errors[0].message].filter((s) => typeof s === 'string').join(': ') || undefined;
        return undefined;
      },
      errorCode: (body) => {
        const b = (body ?? {}) as Json;
        if (typeof b.error?.type === 'string') return b.error.type;
        if (typeof b.error === 'string') return b.error;
        return typeof b.errors?.[0]?.error === 'string' ? b.errors[0].error : undefined;
      },
    },
    fetch(resource, ctx) {
      if (resource === 'bases') return fetchBases(ctx);
      if (resource === 'records') return fetchRecords(ctx);
      throw new ConfigError(`Airtable has no resource ${resource}`);
    },
    restore(resource, items, ctx) {
      if (resource !== 'records') throw new ConfigError(`Airtable cannot restore ${resource}; export it instead`);
      return restoreRecords(items, ctx);
    },
  };
}

async function* listBases(http: HttpClient): AsyncGenerator<Base, void, undefined> {
  let offset: string | undefined;
  for (;;) {
    const { data } = await http.json<{ bases?: Base[]; offset?: string }>('meta/bases', { query: { offset } });
    if (!Array.isArray(data?.bases)) throw new PlatformError('Airtable: meta/bases answered without bases');
    yield* data.bases;
    if (!data.offset) return;
    if (data.offset === offset) throw new PlatformError('Airtable: meta/bases repeats its offset');
    offset = data.offset;
  }
}

async function schemaOf(http: HttpClient, baseId: string): Promise<{ tables: Table[]; at: number }> {
  const { data, headers } = await http.json<{ tables?: Table[] }>(`meta/bases/${baseId}/tables`);
  if (!Array.isArray(data?.tables)) throw new PlatformError(`Airtable: the schema of ${baseId} has no tables`);
  const date = Date.parse(headers.get('date') ?? '');
  return { tables: data.tables, at: Number.isNaN(date) ? Date.now() : date };
}

const safe = (name: string) => name.replace(/[/\\]/g, '_');

async function* fetchBases(ctx: FetchContext): AsyncGenerator<ConnectorItem, undefined, undefined> {
  for await (const base of listBases(ctx.http)) {
    const { tables } = await schemaOf(ctx.http, base.id);
    yield {
      id: base.id,
      path: `bases/${safe(base.name)}.json`,
      contentType: 'application/json',
      metadata: { name: base.name, tables: tables.length, permissionLevel: base.permissionLevel ?? null },
      content: jsonContent({ ...base, tables }),
    };
  }
  return undefined;
}

/** `since` per `baseId/tableId`: ISO 8601 on Airtable's clock. */
function readSince(ctx: FetchContext): Record<string, string> | undefined {
  if (ctx.cursor === undefined) return undefined;
  const tables = (ctx.cursor as { tables?: unknown } | null)?.tables;
  if (tables && typeof tables === 'object' && Object.values(tables).every((v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)))) return tables as Record<string, string>;
  ctx.log.warn('unreadable cursor, running in full');
  return undefined;
}

async function* fetchRecords(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const previous = readSince(ctx) ?? {};
  const next: Record<string, string> = {};
  for await (const base of listBases(ctx.http)) {
    const { tables, at } = await schemaOf(ctx.http, base.id);
    // A second back: the Date header is to the second, and changes within it are read again next time.
    const mark = new Date(Math.floor(at / 1000) * 1000 - 1000).toISOString();
    for (const table of tables) {
      const key = `${base.id}/${table.id}`;
      const since = previous[key];
      const attachmentFields = new Set(table.fields.filter((f) => f.type === 'multipleAttachments').map((f) => f.id));
      const formula = since ? `OR(IS_AFTER(LAST_MODIFIED_TIME(), '${since}'), IS_AFTER(CREATED_TIME(), '${since}'))` : undefined;
      const folder = `records/${safe(base.name)}/${safe(table.name)}`;
      for await (const record of listRecords(ctx.http, base.id, table.id, formula)) {
        yield {
          id: record.id,
          path: `${folder}/${record.id}.json`,
          contentType: 'application/json',
          metadata: { kind: 'record', baseId: base.id, tableId: table.id, createdTime: record.createdTime },
          content: jsonContent(record),
        };
        for (const [fieldId, value] of Object.entries(record.fields)) {
          if (!attachmentFields.has(fieldId) || !Array.isArray(value)) continue;
          for (const attachment of value as Attachment[]) {
            if (!attachment?.id || typeof attachment.url !== 'string') continue;
            yield {
              id: `attachment/${attachment.id}`,
              path: `${folder}/${record.id}/${attachment.id}-${safe(attachment.filename ?? 'attachment')}`,
              // An attachment never changes: a new file is a new attachment.
              changeMarker: attachment.id,
              size: attachment.size,
              contentType: attachment.type,
              metadata: { kind: 'attachment', baseId: base.id, tableId: table.id, recordId: record.id, fieldId, filename: attachment.filename ?? null },
              content: () => ctx.http.stream(attachment.url, { auth: false, resumable: true }),
            };
          }
        }
      }
      next[key] = mark;
    }
  }
  return { tables: next };
}

async function* listRecords(http: HttpClient, baseId: string, tableId: string, filterByFormula?: string, fields?: string[]): AsyncGenerator<AirtableRecord, void, undefined> {
  let offset: string | undefined;
  for (;;) {
    const { data } = await http.json<{ records?: AirtableRecord[]; offset?: string }>(`${baseId}/${tableId}`, {
      query: { pageSize: PAGE, returnFieldsByFieldId: true, filterByFormula, offset, 'fields[]': fields },
    });
    if (!Array.isArray(data?.records)) throw new PlatformError(`Airtable: ${baseId}/${tableId} answered without records`);
    yield* data.records;
    if (!data.offset) return;
    if (data.offset === offset) throw new PlatformError(`Airtable: ${baseId}/${tableId} repeats its offset`);
    offset = data.offset;
  }
}

interface Pending {
  baseId: string;
  tableId: string;
  records: AirtableRecord[];
}

async function restoreRecords(items: AsyncIterable<RestoreItem>, ctx: RestoreContext): Promise<RestoreResult> {
  const schemas = new Map<string, Table[]>();
  let restored = 0;
  let pending: Pending | undefined;
  const flush = async () => {
    if (!pending || pending.records.length === 0) return;
    const { baseId, tableId, records } = pending;
    pending = undefined;
    if (!schemas.has(baseId)) schemas.set(baseId, (await schemaOf(ctx.http, baseId)).tables);
    const table = schemas.get(baseId)!.find((t) => t.id === tableId);
    if (!table) throw new ConfigError(`Airtable: the table ${tableId} of base ${baseId} no longer exists; export the records instead`);
    restored += await writeBatch(ctx, baseId, table, records);
  };
  for await (const item of items) {
    if (item.metadata.kind === 'attachment') continue;
    const baseId = String(item.metadata.baseId ?? '');
    const tableId = String(item.metadata.tableId ?? '');
    if (!/^app[A-Za-z0-9]+$/.test(baseId) || !/^tbl[A-Za-z0-9]+$/.test(tableId)) throw new ConfigError(`Airtable: ${item.path} does not say which base and table it is from`);
    if (pending && (pending.baseId !== baseId || pending.tableId !== tableId || pending.records.length >= WRITE_BATCH)) await flush();
    pending ??= { baseId, tableId, records: [] };
    pending.records.push(await readRecord(item));
  }
  await flush();
  return { restored, units: restored };
}

/** Updates the records that still exist and creates the others again; at most 10. */
async function writeBatch(ctx: RestoreContext, baseId: string, table: Table, records: AirtableRecord[]): Promise<number> {
  const writable = table.fields.filter((f) => !NOT_WRITTEN.has(f.type));
  const fieldsOf = (record: AirtableRecord, clearMissing: boolean) => {
    const fields: Record<string, unknown> = {};
    for (const field of writable) {
      const value = record.fields[field.id];
      if (value !== undefined) fields[field.id] = value;
      else if (clearMissing) fields[field.id] = null;
    }
    return fields;
  };
  const formula = `OR(${records.map((r) => `RECORD_ID()='${r.id}'`).join(', ')})`;
  const existing = new Set<string>();
  for await (const record of listRecords(ctx.http, baseId, table.id, formula, [table.primaryFieldId])) existing.add(record.id);
  const updates = records.filter((r) => existing.has(r.id)).map((r) => ({ id: r.id, fields: fieldsOf(r, true) }));
  const creates = records.filter((r) => !existing.has(r.id)).map((r) => ({ fields: fieldsOf(r, false) }));
  try {
    // PATCH sets what it names and is safe to repeat; a POST repeated would create twice.
    if (updates.length) await ctx.http.json(`${baseId}/${table.id}`, { method: 'PATCH', json: { records: updates, returnFieldsByFieldId: true } });
    if (creates.length) await ctx.http.json(`${baseId}/${table.id}`, { method: 'POST', json: { records: creates, returnFieldsByFieldId: true } });
  } catch (error) {
    if (error instanceof ConnectorError && error.status === 403) {
      throw new ConfigError('Airtable refused to write the records: restoring needs the data.records:write scope and edit access to the base (reconnect Airtable)', { status: 403, platformCode: error.platformCode });
    }
    throw error;
  }
  return records.length;
}

async function readRecord(item: RestoreItem): Promise<AirtableRecord> {
  const record: any = await readRestoreJson(item, 'Airtable', 'a record');
  if (typeof record?.id !== 'string' || !/^rec[A-Za-z0-9]+$/.test(record.id) || !record.fields || typeof record.fields !== 'object') throw new ConfigError(`Airtable: ${item.path} is not a record (no id and fields)`);
  return record;
}
