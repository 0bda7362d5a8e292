/**
 * Salesforce (REST API v62.0 on the org's instance, `{instance_url}/services/data/v62.0`): the
 * records of the standard objects (accounts, contacts, leads, opportunities, cases, tasks) and of
 * every custom object the user can query, each with every field it has, and files (the latest
 * `ContentVersion` of each, its bytes streamed from `VersionData`, its `Checksum` the change marker).
 *
 * An object's fields come from its describe (`GET /sobjects/{name}/describe`; compound address
 * and location fields are left out, their parts are fields of their own, and so are base64 fields,
 * which SOQL reads one record at a time); its records from a SOQL query over them (`GET
 * /query?q=SELECT … ORDER BY SystemModstamp ASC, Id ASC`), batch after batch by `nextRecordsUrl`
 * until `done`. Incremental: the next run asks for `SystemModstamp >=` the newest one seen (to the
 * second; those seen at it skipped), per object. Deleted records are not asked for: the weekly
 * full run drops them. Custom objects are those `GET /sobjects` names custom and queryable
 * (`…__c`).
 *
 * Pacing: every answer's `Sforce-Limit-Info: api-usage=<used>/<limit>` counts the org's requests
 * in its rolling day; once 90% is used, ListBackup stops for an hour (the job is retried later) and
 * leaves the rest to the org's other integrations. A 403 `REQUEST_LIMIT_EXCEEDED` is a rate limit:
 * the daily one ends the run for an hour, the concurrent one backs off and tries again. Errors are
 * arrays of `{"message", "errorCode"}`; an expired session (401 `INVALID_SESSION_ID`) is
 * refreshed once.
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
  type ResponseInfo,
} from '../sdk/index.ts';

/** The share of the org's daily API requests ListBackup may use. */
const DAILY_SHARE = 0.9;
const HOUR_MS = 60 * 60_000;
/** Field types a SOQL query over many records cannot or need not select. */
const NOT_SELECTED = new Set(['address', 'location', 'base64']);

const STANDARD: Record<string, { object: string; description: string }> = {
  accounts: { object: 'Account', description: 'Accounts, with every field.' },
  contacts: { object: 'Contact', description: 'Contacts, with every field.' },
  leads: { object: 'Lead', description: 'Leads, with every field.' },
  opportunities: { object: 'Opportunity', description: 'Opportunities, with every field.' },
  cases: { object: 'Case', description: 'Cases, with every field.' },
  tasks: { object: 'Task', description: 'Tasks and logged activities, with every field.' },
};

type Json = Record<string, any>;

export function createSalesforceConnector(options: { baseUrl?: string } = {}): Connector {
  return {
    slug: 'salesforce',
    name: 'Salesforce',
    authType: 'oauth2',
    resources: [
      ...Object.entries(STANDARD).map(([name, { description }]) => ({ name, description, incremental: true, cursor: 'SystemModstamp', restorable: false })),
      { name: 'files', incremental: true, cursor: 'SystemModstamp', binaryContent: true, restorable: false, description: 'Files (the latest version of each) with their content.' },
      { name: 'custom_objects', incremental: true, cursor: 'SystemModstamp, per object', restorable: false, description: 'The records of every custom object (…__c) the user can query.' },
    ],
    http: {
      platform: 'Salesforce',
      // The connection's own instance (instance_url from the token answer) always comes in options.
      baseUrl: options.baseUrl ?? 'https://salesforce.invalid/services/data/v62.0',
      quota: dailyHold,
      classify: (info) => {
        const first = errorOf(info.body);
        if (info.status !== 403 || first?.errorCode !== 'REQUEST_LIMIT_EXCEEDED') return undefined;
        return /TotalRequests/i.test(String(first.message)) ? { kind: 'rateLimited', retryAfterMs: HOUR_MS } : { kind: 'rateLimited' };
      },
      errorMessage: (body) => {
        if (typeof body === 'string') return body.trim().slice(0, 500) || undefined;
        const first = errorOf(body);
        return typeof first?.message === 'string' ? first.message : undefined;
      },
      errorCode: (body) => {
        const code = errorOf(body)?.errorCode;
        return typeof code === 'string' ? code : undefined;
      },
    },
    fetch(resource, ctx) {
      const standard = STANDARD[resource];
      if (standard) return fetchStandard(ctx, resource, standard.object);
      if (resource === 'files') return fetchStandard(ctx, resource, 'ContentVersion');
      if (resource === 'custom_objects') return fetchCustom(ctx);
      throw new ConfigError(`Salesforce has no resource ${resource}`);
    },
  };
}

function errorOf(body: unknown): { message?: unknown; errorCode?: unknown } | undefined {
  const first = Array.isArray(body) ? body[0] : body;
  return first && typeof first === 'object' ? (first as { message?: unknown; errorCode?: unknown }) : undefined;
}

/** An hour's hold once the org's day is 90% used (`Sforce-Limit-Info: api-usage=18/15000`). */
function dailyHold(info: ResponseInfo): number | undefined {
  const usage = /api-usage=(\d+)\/(\d+)/.exec(info.headers.get('sforce-limit-info') ?? '');
  if (!usage) return undefined;
  const [used, limit] = [Number(usage[1]), Number(usage[2])];
  return limit > 0 && used >= limit * DAILY_SHARE ? HOUR_MS : undefined;
}

async function fieldsOf(ctx: FetchContext, object: string): Promise<string[]> {
  const { data } = await ctx.http.json<{ fields?: { name: string; type: string }[] }>(`sobjects/${object}/describe`);
  if (!Array.isArray(data?.fields)) throw new PlatformError(`Salesforce: the describe of ${object} has no fields`);
  return data.fields.filter((field) => !NOT_SELECTED.has(field.type)).map((field) => field.name);
}

/** SOQL datetime literal, to the second. */
const literal = (iso: string) => new Date(Math.floor(Date.parse(iso) / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** The records of one object changed since the mark (all without one); the mark moves on. */
async function* records(
  ctx: FetchContext,
  object: string,
  mark: HighWaterMark<string>,
  toItem: (values: Json, id: string, at: string) => ConnectorItem,
  options: { condition?: string; onTotal?: (totalSize: number) => void } = {},
): AsyncGenerator<ConnectorItem, void, undefined> {
  const { condition, onTotal } = options;
  const fields = await fieldsOf(ctx, object);
  if (!fields.includes('Id') || !fields.includes('SystemModstamp')) throw new ConfigError(`Salesforce: ${object} cannot be backed up (it has no Id and SystemModstamp)`);
  const conditions = [condition, mark.since ? `SystemModstamp >= ${literal(mark.since)}` : undefined].filter(Boolean);
  const where = conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '';
  let url: string | undefined = ctx.http.url('query', { q: `SELECT ${fields.join(', ')} FROM ${object}${where} ORDER BY SystemModstamp ASC, Id ASC` }).toString();
  const seen = new Set<string>();
  while (url) {
    const { data }: { data: { records?: Json[]; totalSize?: number; done?: boolean; nextRecordsUrl?: string } } = await ctx.http.json(url);
    if (!Array.isArray(data?.records)) throw new PlatformError(`Salesforce: the query of ${object} answered without records`);
    // Every page repeats the query's totalSize: the records it matches.
    if (typeof data.totalSize === 'number') onTotal?.(data.totalSize);
    for (const record of data.records) {
      const id = String(record.Id);
      const at = new Date(Date.parse(String(record.SystemModstamp).replace(/([+-]\d\d)(\d\d)$/, '$1:$2'))).toISOString();
      if (seen.has(id) || mark.seenBefore(at, id)) continue;
      seen.add(id);
      mark.see(at, id);
      const { attributes: _attributes, ...values } = record;
      yield toItem(values, id, at);
    }
    if (data.done !== false) return;
    if (typeof data.nextRecordsUrl !== 'string') throw new PlatformError(`Salesforce: the query of ${object} is not done but names no nextRecordsUrl`);
    // nextRecordsUrl is a path on the instance (/services/data/v62.0/query/01g…-2000).
    url = new URL(data.nextRecordsUrl, ctx.http.url('')).toString();
  }
}

/** A record as JSON in `folder`. */
const recordIn = (object: string, folder: string) => (values: Json, id: string, at: string): ConnectorItem => ({
  id,
  path: `${folder}/${id}.json`,
  updatedAt: at,
  changeMarker: String(values.SystemModstamp),
  contentType: 'application/json',
  metadata: { object, name: typeof values.Name === 'string' ? values.Name : null },
  content: jsonContent(values),
});

/** The latest version of a file, its bytes streamed from VersionData. */
const fileOf = (ctx: FetchContext) => (values: Json, id: string, at: string): ConnectorItem => {
  const title = String(values.Title ?? id).replace(/[/\\]/g, '_');
  const extension = typeof values.FileExtension === 'string' && values.FileExtension && !title.endsWith(`.${values.FileExtension}`) ? `.${values.FileExtension}` : '';
  return {
    id,
    path: `files/${title}${extension}`,
    updatedAt: at,
    // ContentVersion's MD5 of the bytes.
    changeMarker: typeof values.Checksum === 'string' ? values.Checksum : undefined,
    size: typeof values.ContentSize === 'number' ? values.ContentSize : undefined,
    contentType: 'application/octet-stream',
    metadata: { object: 'ContentVersion', contentDocumentId: values.ContentDocumentId ?? null, versionNumber: values.VersionNumber ?? null, title: values.Title ?? null, checksum: values.Checksum ?? null },
    content: () => ctx.http.stream(`sobjects/ContentVersion/${id}/VersionData`, { resumable: true }),
  };
};

function readMark(value: unknown): HighWaterState<string> | undefined {
  const mark = HighWaterMark.read<string>(value, 'string');
  return mark && !Number.isNaN(Date.parse(mark.at)) ? mark : undefined;
}

async function* fetchStandard(ctx: FetchContext, resource: string, object: string): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const previous = readMark((ctx.cursor as { mark?: unknown } | null | undefined)?.mark);
  if (ctx.cursor !== undefined && !previous) ctx.log.warn('unreadable cursor, running in full');
  const mark = new HighWaterMark<string>(previous);
  const onTotal = (items: number) => ctx.expect({ items });
  yield* resource === 'files' ? records(ctx, 'ContentVersion', mark, fileOf(ctx), { condition: 'IsLatest = true', onTotal }) : records(ctx, object, mark, recordIn(object, resource), { onTotal });
  const state = mark.state();
  return state ? { mark: state } : null;
}

async function* fetchCustom(ctx: FetchContext): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const objects = (ctx.cursor as { objects?: unknown } | null | undefined)?.objects;
  if (ctx.cursor !== undefined && (!objects || typeof objects !== 'object')) ctx.log.warn('unreadable cursor, running in full');
  const { data } = await ctx.http.json<{ sobjects?: { name: string; custom?: boolean; queryable?: boolean }[] }>('sobjects');
  if (!Array.isArray(data?.sobjects)) throw new PlatformError('Salesforce: sobjects answered without sobjects');
  const next: Record<string, HighWaterState<string>> = {};
  for (const sobject of data.sobjects) {
    if (!sobject.custom || !sobject.queryable || !sobject.name.endsWith('__c')) continue;
    const mark = new HighWaterMark<string>(readMark((objects as Record<string, unknown> | undefined)?.[sobject.name]));
    yield* records(ctx, sobject.name, mark, recordIn(sobject.name, `custom_objects/${sobject.name}`));
    const state = mark.state();
    if (state) next[sobject.name] = state;
  }
  return { objects: next };
}
