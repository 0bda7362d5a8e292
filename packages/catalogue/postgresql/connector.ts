/**
 * PostgreSQL: every table of a database as one item of NDJSON rows (`row_to_json`, so values keep
 * their exact text: numerics, timestamps with microseconds, bytea as hex), read through a
 * server-side cursor a batch at a time, all tables from one exported snapshot. An incremental run
 * skips a table whose `updated_at` high-water mark and row count have not moved. `restore` creates
 * the tables in a target database and loads the rows in one transaction.
 */
import pg from 'pg';
import { z } from 'zod';
import { findOutboundError, OutboundError, outboundPg } from '@listbackup/lib/outbound';
import {
  abortReason,
  AuthError,
  backoffDelay,
  ConfigError,
  type Connector,
  type ConnectorContext,
  type ConnectorItem,
  type Cursor,
  type FetchContext,
  PlatformError,
  type RestoreContext,
  type RestoreItem,
  type RestoreResult,
  sleep,
  TransientError,
} from '../sdk/index.ts';

const BATCH_ROWS = 1000;
const RESTORE_BATCH_BYTES = 4 * 1024 * 1024;
const INCREMENTAL_COLUMN = 'updated_at';

const settingsSchema = z.object({
  /** Schemas to back up; every non-system schema when absent. */
  schemas: z.array(z.string().min(1)).optional(),
  /** `schema.table` names to back up; every table of the chosen schemas when absent. */
  tables: z.array(z.string().regex(/^[^.]+\.[^.]+$/, 'must be schema.table')).optional(),
});
export type PostgresSettings = z.infer<typeof settingsSchema>;

export interface ColumnInfo {
  name: string;
  type: string;
  notNull: boolean;
  generated: boolean;
}

interface TableInfo {
  oid: number;
  schema: string;
  table: string;
  partitioned: boolean;
  columns: ColumnInfo[];
  primaryKey: string[];
}

type TableState = { rows: string; maxUpdatedAt: string | null; shape: string };

const restoreOptionsSchema = z.object({
  /** Put every table in this schema instead of its original one. */
  schema: z.string().min(1).optional(),
  /** What to do when a target table already has rows: refuse (default), add to them, or replace them. */
  existing: z.enum(['fail', 'append', 'replace']).default('fail'),
});

export function createPostgresConnector(): Connector<PostgresSettings> {
  return {
    slug: 'postgresql',
    name: 'PostgreSQL',
    authType: 'database',
    settingsSchema,
    resources: [
      {
        name: 'tables',
        incremental: true,
        restorable: true,
        cursor: 'per table: the updated_at high-water mark and the row count; a table without updated_at is read whole',
        description: 'Every table of the database, its rows as NDJSON, read from one consistent snapshot.',
      },
    ],
    fetch(resource, ctx) {
      if (resource !== 'tables') throw new ConfigError(`PostgreSQL has no resource ${resource}`);
      return fetchTables(ctx);
    },
    async restore(resource, items, ctx) {
      if (resource !== 'tables') throw new ConfigError(`PostgreSQL has no resource ${resource}`);
      return restoreTables(items, ctx);
    },
  };
}

async function* fetchTables(ctx: FetchContext<PostgresSettings>): AsyncGenerator<ConnectorItem, Cursor, undefined> {
  const previous = readCursor(ctx.cursor);
  const next: Record<string, TableState> = {};
  const client = await connect(ctx);
  let snapshot: string | undefined;
  try {
    await query(client, 'begin isolation level repeatable read read only');
    snapshot = (await query<{ id: string }>(client, 'select pg_export_snapshot() as id')).rows[0].id;
    const tables = await listTables(client, ctx.settings);
    for (const info of tables) {
      if (ctx.signal.aborted) throw abortReason(ctx.signal);
      const key = `${info.schema}.${info.table}`;
      const relation = `${quoteIdent(info.schema)}.${quoteIdent(info.table)}`;
      const shape = info.columns.map((c) => `${c.name}:${c.type}`).join(',');
      const incremental = info.columns.find((c) => c.name === INCREMENTAL_COLUMN && /^timestamp|^date$/.test(c.type));
      let rows: string | undefined;
      if (incremental) {
        const stats = (await query<{ rows: string; max: string | null }>(client, `select count(*)::text as rows, max(${quoteIdent(INCREMENTAL_COLUMN)})::text as max from ${relation}`)).rows[0];
        rows = stats.rows;
        next[key] = { rows: stats.rows, maxUpdatedAt: stats.max, shape };
        const before = previous[key];
        if (before && before.rows === stats.rows && before.maxUpdatedAt === stats.max && before.shape === shape) continue;
      }
      const exportSnapshot = () => snapshot;
      yield {
        id: key,
        path: `tables/${info.schema}/${info.table}.ndjson`,
        contentType: 'application/x-ndjson',
        metadata: {
          schema: info.schema,
          table: info.table,
          columns: info.columns,
          primaryKey: info.primaryKey,
          ...(rows !== undefined ? { rows: Number(rows), incrementalColumn: INCREMENTAL_COLUMN } : {}),
        },
        content: () => streamRows(ctx, info, exportSnapshot),
      };
    }
    await query(client, 'commit');
  } finally {
    snapshot = undefined;
    await client.end().catch(() => {});
  }
  return { tables: next };
}

/** Rows as NDJSON, a cursor batch per chunk, read in the run's snapshot while it is still open. */
async function* streamRows(ctx: ConnectorContext, info: TableInfo, snapshot: () => string | undefined): AsyncGenerator<Uint8Array, void, undefined> {
  const client = await connect(ctx);
  let open = false;
  try {
    await query(client, 'begin isolation level repeatable read read only');
    open = true;
    const id = snapshot();
    if (id) {
      try {
        await query(client, `set transaction snapshot ${quoteLiteral(id)}`);
      } catch {
        // the run finished and its snapshot went with it: this table is read on its own
        await query(client, 'rollback');
        await query(client, 'begin isolation level repeatable read read only');
      }
    }
    const relation = `${info.partitioned ? '' : 'only '}${quoteIdent(info.schema)}.${quoteIdent(info.table)}`;
    const order = info.primaryKey.length ? ` order by ${info.primaryKey.map(quoteIdent).join(', ')}` : '';
    await query(client, `declare rows_out no scroll cursor for select row_to_json(t)::text as line from ${relation} t${order}`);
    for (;;) {
      if (ctx.signal.aborted) throw abortReason(ctx.signal);
      const batch = await query<{ line: string }>(client, `fetch ${BATCH_ROWS} from rows_out`);
      if (batch.rows.length === 0) break;
      yield Buffer.from(`${batch.rows.map((r) => r.line).join('\n')}\n`, 'utf8');
    }
    await query(client, 'commit');
    open = false;
  } finally {
    if (open) await client.query('rollback').catch(() => {});
    await client.end().catch(() => {});
  }
}

async function restoreTables(items: AsyncIterable<RestoreItem>, ctx: RestoreContext<PostgresSettings>): Promise<RestoreResult> {
  const parsed = restoreOptionsSchema.safeParse(ctx.options);
  if (!parsed.success) throw new ConfigError(`PostgreSQL restore options are invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const options = parsed.data;
  const client = await connect(ctx);
  let restored = 0;
  let rows = 0;
  try {
    await query(client, 'begin');
    const tables: { item: RestoreItem; table: ReturnType<typeof tableOf> }[] = [];
    for await (const item of items) tables.push({ item, table: tableOf(item, options.schema) });
    for (const { item, table } of await referencedFirst(client, tables)) {
      if (ctx.signal.aborted) throw abortReason(ctx.signal);
      const relation = `${quoteIdent(table.schema)}.${quoteIdent(table.table)}`;
      await query(client, `create schema if not exists ${quoteIdent(table.schema)}`);
      const existing = await query(client, 'select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2', [table.schema, table.table]);
      if (existing.rows.length === 0) {
        // generated columns become plain ones holding the backed-up values
        const columns = table.columns.map((c) => `${quoteIdent(c.name)} ${c.type}${c.notNull ? ' not null' : ''}`);
        if (table.primaryKey.length) columns.push(`primary key (${table.primaryKey.map(quoteIdent).join(', ')})`);
        await query(client, `create table ${relation} (${columns.join(', ')})`);
      } else if (options.existing === 'replace') {
        await query(client, `delete from ${relation}`);
      } else if (options.existing === 'fail') {
        const any = await query(client, `select 1 from ${relation} limit 1`);
        if (any.rows.length) throw new ConfigError(`PostgreSQL: ${table.schema}.${table.table} already has rows; restore into an empty table or choose append or replace`);
      }
      const writable = await query<{ name: string }>(
        client,
        `select attname as name from pg_attribute where attrelid = $1::regclass and attnum > 0 and not attisdropped and attgenerated = ''`,
        [relation],
      );
      const targetColumns = new Set(writable.rows.map((r) => r.name));
      const insertable = table.columns.filter((c) => targetColumns.has(c.name)).map((c) => quoteIdent(c.name)).join(', ');
      const insert = `insert into ${relation} (${insertable}) overriding system value select ${insertable} from json_populate_recordset(null::${relation}, $1::json)`;
      for await (const batch of ndjsonBatches(item.content(), RESTORE_BATCH_BYTES)) {
        if (ctx.signal.aborted) throw abortReason(ctx.signal);
        await query(client, insert, [`[${batch.join(',')}]`]);
        rows += batch.length;
      }
      restored++;
    }
    await query(client, 'commit');
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    await client.end().catch(() => {});
  }
  return { restored, units: rows };
}

/**
 * The tables in an order their existing foreign keys accept: a table the target database already
 * has with a key to another restored table comes after it (a cycle keeps the snapshot's order).
 */
async function referencedFirst<T extends { table: { schema: string; table: string } }>(client: pg.Client, tables: T[]): Promise<T[]> {
  const name = (t: { schema: string; table: string }) => `${t.schema}.${t.table}`;
  const keys = await query<{ from: string; to: string }>(
    client,
    `select fn.nspname || '.' || fc.relname as "from", tn.nspname || '.' || tc.relname as "to"
       from pg_constraint k join pg_class fc on fc.oid = k.conrelid join pg_namespace fn on fn.oid = fc.relnamespace
       join pg_class tc on tc.oid = k.confrelid join pg_namespace tn on tn.oid = tc.relnamespace
      where k.contype = 'f' and k.conrelid <> k.confrelid`,
  );
  const restoring = new Set(tables.map((t) => name(t.table)));
  const needs = new Map<string, Set<string>>();
  for (const key of keys.rows) if (restoring.has(key.from) && restoring.has(key.to)) needs.set(key.from, (needs.get(key.from) ?? new Set()).add(key.to));
  const ordered: T[] = [];
  const placed = new Set<string>();
  let left = [...tables];
  while (left.length) {
    const ready = left.filter((t) => [...(needs.get(name(t.table)) ?? [])].every((to) => placed.has(to)));
    const next = ready.length ? ready : left;
    for (const t of next) placed.add(name(t.table));
    ordered.push(...next);
    left = left.filter((t) => !next.includes(t));
  }
  return ordered;
}

function tableOf(item: RestoreItem, schemaOverride: string | undefined): { schema: string; table: string; columns: ColumnInfo[]; primaryKey: string[] } {
  const meta = item.metadata as { schema?: unknown; table?: unknown; columns?: unknown; primaryKey?: unknown };
  const columns = Array.isArray(meta.columns) ? (meta.columns as ColumnInfo[]) : [];
  if (typeof meta.schema !== 'string' || typeof meta.table !== 'string' || columns.length === 0) {
    throw new ConfigError(`PostgreSQL: ${item.path} is not a table item (its metadata names no table and columns)`);
  }
  for (const column of columns) {
    // Types come from format_type() at backup time; anything else is refused rather than spliced into SQL.
    if (typeof column.name !== 'string' || typeof column.type !== 'string' || !/^[\w ."(),[\]]+$/.test(column.type) || /;|--/.test(column.type)) {
      throw new ConfigError(`PostgreSQL: ${item.path} has an unusable column definition`);
    }
  }
  const primaryKey = Array.isArray(meta.primaryKey) ? (meta.primaryKey as string[]) : [];
  return { schema: schemaOverride ?? meta.schema, table: meta.table, columns, primaryKey };
}

/** Complete NDJSON lines, grouped into batches of about `maxBytes`. */
async function* ndjsonBatches(content: AsyncIterable<Uint8Array>, maxBytes: number): AsyncGenerator<string[], void, undefined> {
  const decoder = new TextDecoder();
  let rest = '';
  let batch: string[] = [];
  let size = 0;
  for await (const chunk of content) {
    const text = rest + decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      if (!line) continue;
      batch.push(line);
      size += line.length;
      if (size >= maxBytes) {
        yield batch;
        batch = [];
        size = 0;
      }
    }
  }
  rest += decoder.decode();
  if (rest.trim()) batch.push(rest);
  if (batch.length) yield batch;
}

async function listTables(client: pg.Client, settings: PostgresSettings): Promise<TableInfo[]> {
  const tables = await query<{ oid: number; schema: string; table: string; kind: string }>(
    client,
    `select c.oid::int as oid, n.nspname as schema, c.relname as table, c.relkind as kind
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and not c.relispartition
        and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp%'
        and ($1::text[] is null or n.nspname = any($1))
      order by n.nspname, c.relname`,
    [settings.schemas ?? null],
  );
  let chosen = tables.rows;
  if (settings.tables?.length) {
    const wanted = new Set(settings.tables);
    chosen = chosen.filter((t) => wanted.has(`${t.schema}.${t.table}`));
    const found = new Set(chosen.map((t) => `${t.schema}.${t.table}`));
    const missing = settings.tables.filter((t) => !found.has(t));
    if (missing.length) throw new ConfigError(`PostgreSQL: no table ${missing.join(', ')} (or no permission to see it)`);
  }
  if (chosen.length === 0) return [];
  const oids = chosen.map((t) => t.oid);
  const columns = await query<{ oid: number; name: string; type: string; not_null: boolean; generated: string }>(
    client,
    `select a.attrelid::int as oid, a.attname as name, format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null, a.attgenerated::text as generated
       from pg_attribute a where a.attrelid = any($1::oid[]) and a.attnum > 0 and not a.attisdropped order by a.attrelid, a.attnum`,
    [oids],
  );
  const keys = await query<{ oid: number; name: string }>(
    client,
    `select i.indrelid::int as oid, a.attname as name
       from pg_index i cross join lateral unnest(i.indkey) with ordinality as k(attnum, position)
       join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
      where i.indisprimary and i.indrelid = any($1::oid[]) order by i.indrelid, k.position`,
    [oids],
  );
  return chosen.map((t) => ({
    oid: t.oid,
    schema: t.schema,
    table: t.table,
    partitioned: t.kind === 'p',
    columns: columns.rows.filter((c) => c.oid === t.oid).map((c) => ({ name: c.name, type: c.type, notNull: c.not_null, generated: c.generated !== '' })),
    primaryKey: keys.rows.filter((k) => k.oid === t.oid).map((k) => k.name),
  }));
}

/** Connects with the connection's credentials: transient failures back off, a refused login refreshes once. */
async function connect(ctx: ConnectorContext): Promise<pg.Client> {
  let refreshed = false;
  for (let attempt = 1; ; attempt++) {
    if (ctx.signal.aborted) throw abortReason(ctx.signal);
    const { connectionString } = await ctx.credentials();
    if (!connectionString) throw new ConfigError('The PostgreSQL connection has no connection string');
    const client = new pg.Client({ ...outboundPg(connectionString), application_name: 'listbackup', connectionTimeoutMillis: 30_000 });
    client.on('error', () => {});
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => {});
      const mapped = mapPgError(error);
      if (mapped instanceof AuthError && !refreshed) {
        refreshed = true;
        await ctx.refreshCredentials();
        continue;
      }
      if (!(mapped instanceof TransientError) || attempt >= ctx.http.policy.maxAttempts) throw mapped;
      ctx.log.warn({ attempt, error: mapped.message }, 'database unreachable, retrying');
      await sleep(backoffDelay(attempt, ctx.http.policy), ctx.signal);
    }
  }
}

async function query<R extends pg.QueryResultRow = pg.QueryResultRow>(client: pg.Client, text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
  try {
    return await client.query<R>(text, values);
  } catch (error) {
    throw mapPgError(error);
  }
}

/** Socket errors about the address: said only as TARGET_UNREACHABLE, never what answered there. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '53300', '40001', '40P01']);

/** SQLSTATEs and socket errors as failure types. */
export function mapPgError(error: unknown): Error {
  if (!(error instanceof Error)) return new PlatformError(String(error));
  if (error.name === 'AbortError') return error;
  const target = findOutboundError(error);
  if (target?.code === 'TARGET_NOT_ALLOWED') return new ConfigError(`PostgreSQL: ${target.message}`, { platformCode: target.code });
  const code = String((error as { code?: unknown }).code ?? '');
  if (target || UNREACHABLE_CODES.has(code)) return new TransientError(`PostgreSQL: ${new OutboundError('TARGET_UNREACHABLE').message}`, { platformCode: 'TARGET_UNREACHABLE' });
  const details = { platformCode: code || undefined, cause: error };
  const message = `PostgreSQL: ${error.message}`;
  if (code === '28P01' || code === '28000') return new AuthError(message, details);
  if (code === '3D000' || code === '42501' || code === '42P01' || code === '3F000') return new ConfigError(message, details);
  if (TRANSIENT_CODES.has(code) || code.startsWith('08') || /Connection terminated|timeout/i.test(error.message)) return new TransientError(message, details);
  if (code.startsWith('22') || code.startsWith('23') || code.startsWith('42')) return new ConfigError(message, details);
  return new PlatformError(message, details);
}

function readCursor(value: unknown): Record<string, TableState> {
  const tables = (value as { tables?: unknown } | undefined)?.tables;
  if (!tables || typeof tables !== 'object') return {};
  const out: Record<string, TableState> = {};
  for (const [key, state] of Object.entries(tables)) {
    const s = state as Partial<TableState>;
    if (typeof s?.rows === 'string' && typeof s.shape === 'string' && (typeof s.maxUpdatedAt === 'string' || s.maxUpdatedAt === null)) out[key] = s as TableState;
  }
  return out;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
