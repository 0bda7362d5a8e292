import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import DataLoader from 'dataloader';
import type { EntityClass, EntityProperty } from '@mikro-orm/core';
import type { Em } from './db.ts';
import { AppError } from './errors.ts';
import { isUuid } from './ids.ts';
import { keyringSecrets } from './internal-token.ts';
import type { Principal } from './principal.ts';

export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/**
 * A page that also tells how many rows the whole list holds. `totalCount` is a function so the
 * count runs only when a client selects it (GraphQL's default resolver calls it).
 */
export interface CountedPage<T> extends Page<T> {
  totalCount: () => Promise<number> | number;
}

/** The largest page any list gives: the gateway's cost limit prices a page at most this big. */
export const MAX_PAGE_SIZE = 100;

/**
 * `first` of a list, or its default when left out. One rule for every list: 1 to 100. A page size
 * outside it is a mistake and refused, not quietly cut to what the list gives.
 */
export function pageSize(first: number | null | undefined, fallback = 20): number {
  if (first == null) return fallback;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw new AppError('BAD_USER_INPUT', `\`first\` must be a whole number from 1 to ${MAX_PAGE_SIZE}`, { reason: 'BAD_PAGE_SIZE', field: 'first', max: MAX_PAGE_SIZE });
  }
  return first;
}

/**
 * Where a cursor belongs: the list (`Account.jobs`) and whose list it is (the parent's id, or the
 * caller's `principalKey` for lists of everything a caller sees). A cursor is signed with both, so
 * a cursor of another list, of another parent or of another caller is BAD_CURSOR, never a position.
 */
export interface CursorScope {
  list: string;
  owner: string;
}

/** The caller as a cursor's owner: lists of "everything I see" differ from one caller to the next. */
export function principalKey(principal: Principal): string {
  if (principal.kind === 'user') return `user:${principal.userId}`;
  if (principal.kind === 'apiKey') return `apiKey:${principal.apiKeyId}`;
  return 'anonymous';
}

const CURSOR_MAC_BYTES = 16;
// KeyObjects, not Buffers: node:crypto turns a Buffer key into a key object on every createHmac,
// which cost six times the MAC itself and some 12% of the subgraphs' CPU on list-heavy requests.
let signingKey: KeyObject | null = null;
const verifyingKeys: KeyObject[] = [];

/**
 * Takes the cursor keys from `INTERNAL_TOKEN_SECRET` (startSubgraph does it): every service of a
 * deployment shares it, so a cursor one replica gave out reads on another, and `Snapshot.items`
 * cursors made by jobs read in sources. The first secret of the first value signs; every secret
 * seen verifies, so a rotation (`old,new`, then `new,old`, then `new`) keeps cursors working
 * until the old secret is dropped, after which they are BAD_CURSOR and paging starts again.
 */
export function useCursorSecrets(config: string): void {
  for (const secret of keyringSecrets(config)) {
    const key = createSecretKey(createHmac('sha256', secret).update('listbackup-cursor').digest());
    if (!verifyingKeys.some((known) => known.equals(key))) verifyingKeys.push(key);
    signingKey ??= key;
  }
}

function cursorMac(key: KeyObject, scope: CursorScope, payload: string): Buffer {
  return createHmac('sha256', key).update(`${scope.list}\n${scope.owner.toLowerCase()}\n${payload}`).digest().subarray(0, CURSOR_MAC_BYTES);
}

/** Cursors are opaque to clients: base64url of a JSON array of the sort key, and its MAC for the scope. */
export function encodeCursor(scope: CursorScope, key: unknown[]): string {
  if (!signingKey) throw new Error('No cursor key: useCursorSecrets(INTERNAL_TOKEN_SECRET) was not called');
  const payload = Buffer.from(JSON.stringify(key)).toString('base64url');
  return `${payload}.${cursorMac(signingKey, scope, payload).toString('base64url')}`;
}

function signedPayload(scope: CursorScope, cursor: string): string | null {
  const dot = cursor.indexOf('.');
  if (dot < 1) return null;
  const payload = cursor.slice(0, dot);
  const mac = cursor.slice(dot + 1);
  const given = Buffer.from(mac, 'base64url');
  // Only our spelling of the MAC: base64url has spare bits, so several strings decode alike.
  if (given.length !== CURSOR_MAC_BYTES || given.toString('base64url') !== mac) return null;
  return verifyingKeys.some((key) => timingSafeEqual(cursorMac(key, scope, payload), given)) ? payload : null;
}

export function decodeCursor(scope: CursorScope, cursor: string | null | undefined, check: (key: unknown[]) => boolean): unknown[] | null {
  if (cursor == null) return null;
  const payload = signedPayload(scope, cursor);
  let key: unknown = null;
  if (payload !== null) {
    try {
      key = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      key = null;
    }
  }
  if (!Array.isArray(key) || !check(key)) throw new AppError('BAD_USER_INPUT', '`after` is not a cursor this list gave out', { reason: 'BAD_CURSOR', field: 'after' });
  return key;
}

/**
 * Builds a page from `size + 1` rows fetched in order: the extra row only says there is more.
 * Cursors are signed when read, so a query that selects no cursor signs none.
 */
export function toPage<T>(rows: T[], size: number, cursorOf: (row: T) => string): Page<T> {
  const nodes = rows.slice(0, size);
  const edges = nodes.map((node) => ({
    node,
    get cursor() {
      return cursorOf(node);
    },
  }));
  const last = nodes.at(-1);
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > size,
      get endCursor() {
        return last === undefined ? null : cursorOf(last);
      },
    },
  };
}

/** The (createdAt, id) cursor of newest-first lists. */
export const timeCursor =
  (scope: CursorScope) =>
  (row: { createdAt: Date; id: string }): string =>
    encodeCursor(scope, [row.createdAt.toISOString(), row.id]);

export function decodeTimeCursor(scope: CursorScope, cursor: string | null | undefined): { createdAt: Date; id: string } | null {
  const key = decodeCursor(scope, cursor, (k) => k.length === 2 && typeof k[0] === 'string' && !Number.isNaN(Date.parse(k[0])) && typeof k[1] === 'string' && isUuid(k[1]));
  return key ? { createdAt: new Date(key[0] as string), id: key[1] as string } : null;
}

/** The (createdAt, id) key of a time cursor, as `selectParentPages` compares it. */
export function timeKey(scope: CursorScope, cursor: string | null | undefined): unknown[] | null {
  const key = decodeTimeCursor(scope, cursor);
  return key && [key.createdAt, key.id];
}

/** The (text, id) cursor of lists sorted by a name, then id. */
export const nameCursor = (scope: CursorScope, name: string, id: string) => encodeCursor(scope, [name, id]);

export function decodeNameCursor(scope: CursorScope, cursor: string | null | undefined): { name: string; id: string } | null {
  const key = decodeCursor(scope, cursor, (k) => k.length === 2 && typeof k[0] === 'string' && typeof k[1] === 'string' && isUuid(k[1]));
  return key ? { name: key[0] as string, id: key[1] as string } : null;
}

/** A list whose pages are cut per parent (an account's sources, a user's memberships). */
export interface ParentList {
  /** Schema-qualified, quoted table: `"sources"."sources"`. */
  table: string;
  /** The column that names the parent. */
  parent: string;
  /** Sort columns, the last one unique (the id); all ascending, or all descending with `descending`. */
  order: string[];
  descending?: boolean;
  /** A fixed condition every row meets (`"deleted_at" is null`). */
  where?: string;
  /** Columns a key may keep to some values (`filters`): a job's status, a membership's account. */
  filters?: readonly string[];
}

/** Per column of `ParentList.filters`, the values a row may have there; null or absent: any. */
export type ParentFilters = Readonly<Record<string, readonly string[] | null | undefined>>;

export interface ParentPageKey {
  parentId: string;
  /** Rows to fetch: the page size plus one (the extra row says whether there is more). */
  limit: number;
  /** The decoded cursor: the sort key of the last row of the previous page. */
  after: unknown[] | null;
  filters?: ParentFilters;
}

export interface ParentCountKey {
  parentId: string;
  filters?: ParentFilters;
}

/** Keys that differ only by parent, so one statement answers them all. */
function groupKeys<K extends ParentCountKey>(keys: readonly K[], shape: (key: K) => unknown[]): K[][] {
  const groups = new Map<string, K[]>();
  for (const key of keys) {
    const id = JSON.stringify([...shape(key), key.filters ?? null]);
    const group = groups.get(id);
    if (group) group.push(key);
    else groups.set(id, [key]);
  }
  return [...groups.values()];
}

/**
 * Many parents' pages in one statement per distinct (limit, after, filters): for each parent, a
 * lateral subquery reads its rows in list order with a LIMIT, so an index on (parent, sort
 * columns…) answers the first page of a list of 100,000 rows by reading `limit` of them, and
 * `Account.sources(first: 1)` for a thousand accounts is still one query. Answers raw rows,
 * grouped per key in list order.
 */
export async function selectParentPages(em: Em, list: ParentList, keys: readonly ParentPageKey[]): Promise<Record<string, unknown>[][]> {
  const direction = list.descending ? 'desc' : 'asc';
  const order = (alias: string) => list.order.map((column) => `${alias}."${column}" ${direction}`).join(', ');
  const byKey = new Map<ParentPageKey, Record<string, unknown>[]>();
  for (const group of groupKeys(keys, (key) => [key.limit, key.after])) {
    const { limit, after } = group[0];
    const filter = parentFilter(list, group);
    if (!filter) continue;
    const { ids, conditions, params } = filter;
    if (after) {
      conditions.push(`(${list.order.map((column) => `t."${column}"`).join(', ')}) ${list.descending ? '<' : '>'} (${after.map(() => '?').join(', ')})`);
      params.push(...after);
    }
    const sql = `select p.* from unnest(?::uuid[]) as k("parent")
      cross join lateral (
        select t.* from ${list.table} t where t."${list.parent}" = k."parent"${conditions.map((condition) => ` and ${condition}`).join('')}
        order by ${order('t')} limit ?
      ) p order by p."${list.parent}", ${order('p')}`;
    const rows = await em.execute<Record<string, unknown>[]>(sql, [textArray(ids), ...params, limit]);
    const perParent = new Map<string, Record<string, unknown>[]>();
    for (const row of rows) {
      const parentId = String(row[list.parent]).toLowerCase();
      const page = perParent.get(parentId);
      if (page) page.push(row);
      else perParent.set(parentId, [row]);
    }
    for (const key of group) byKey.set(key, perParent.get(key.parentId.toLowerCase()) ?? []);
  }
  return keys.map((key) => byKey.get(key) ?? []);
}

/**
 * Raw rows of an entity's table as plain objects under the entity's property names, each value
 * converted as the ORM converts it: for list rows that are only read, without the identity map
 * and change tracking of `em.map`, which cost some 25 times as much CPU on a page of 100 jobs.
 */
export function rowReader<T extends object>(em: Em, entity: EntityClass<T>): (row: Record<string, unknown>) => T {
  const platform = em.getPlatform();
  const { columns } = tableOf(em, entity);
  return (row) => {
    const object: Record<string, unknown> = {};
    for (const { name, column, type, date } of columns) {
      const value = row[column];
      // A column the statement did not select (a lazy one) stays unset, as the ORM leaves it.
      if (value === undefined && !(column in row)) continue;
      if (value == null) object[name] = null;
      else if (type) object[name] = type.convertToJSValue(value, platform);
      else object[name] = date && !(value instanceof Date) ? new Date(value as string) : value;
    }
    return object as T;
  };
}

interface TableColumns {
  columns: { name: string; column: string; type: EntityProperty['customType']; date: boolean }[];
  /** The select list of `rowsByKey`: every column but the lazy ones. */
  eager: string;
}

/** Per entity's metadata, read once: loaders are built for every request. */
const tables = new WeakMap<object, TableColumns>();

function tableOf(em: Em, entity: EntityClass<object>): TableColumns {
  const meta = em.getMetadata().get(entity);
  let table = tables.get(meta);
  if (!table) {
    const props = meta.props.filter((prop) => prop.kind === 'scalar' && prop.persist !== false && prop.fieldNames?.length === 1);
    table = {
      columns: props.map((prop) => ({ name: prop.name, column: prop.fieldNames[0], type: prop.customType, date: prop.runtimeType === 'Date' })),
      eager: props
        .filter((prop) => !prop.lazy)
        .map((prop) => `r."${prop.fieldNames[0]}"`)
        .join(', '),
    };
    tables.set(meta, table);
  }
  return table;
}

/**
 * Rows by a unique uuid column (the id, or the account of a one-per-account table), for a
 * DataLoader: read-only rows (`rowReader`) in one statement, without the lazy columns, matched to
 * the keys as `byId` matches them. For reads only: what a request changes it loads through the ORM.
 */
export function rowsByKey<T extends object>(em: Em, entity: EntityClass<T>, table: string, column = 'id'): (keys: readonly string[]) => Promise<(T | undefined)[]> {
  const read = rowReader(em, entity);
  const selected = tableOf(em, entity).eager;
  return async (keys) => {
    const ids = [...new Set(keys.filter(isUuid))];
    if (!ids.length) return keys.map(() => undefined);
    const rows = await em.execute<Record<string, unknown>[]>(`select ${selected} from ${table} r where r."${column}" = any(?::uuid[])`, [textArray(ids)]);
    const index = new Map(rows.map((row) => [String(row[column]), read(row)]));
    return keys.map((key) => index.get(key));
  };
}

/** A DataLoader of one parent list's pages, read-only rows (`rowReader`), one statement per batch. */
export function parentPageLoader<T extends object>(em: Em, list: ParentList, entity: EntityClass<T>): DataLoader<ParentPageKey, T[], string> {
  const read = rowReader(em, entity);
  return new DataLoader(async (keys) => (await selectParentPages(em, list, keys)).map((rows) => rows.map(read)), { cacheKeyFn: (key) => JSON.stringify(key) });
}

/** A PostgreSQL text array literal: every element quoted, so no value can end it early. */
const textArray = (values: readonly string[]) => `{${values.map((value) => `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`;

/** The parents (distinct, well-formed ids) and the filter conditions shared by a group of keys; null when no key can match. */
function parentFilter(list: ParentList, group: readonly ParentCountKey[]): { ids: string[]; conditions: string[]; params: unknown[] } | null {
  const ids = [...new Set(group.map((key) => key.parentId.toLowerCase()).filter(isUuid))];
  if (!ids.length) return null;
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (list.where) conditions.push(list.where);
  for (const [column, values] of Object.entries(group[0].filters ?? {})) {
    if (!list.filters?.includes(column)) throw new Error(`${list.table} cannot be filtered by ${column}`);
    if (values == null) continue;
    conditions.push(`t."${column}"::text = any(?::text[])`);
    params.push(textArray(values));
  }
  return { ids, conditions, params };
}

/** How many rows each parent's list holds (for `totalCount`): one grouped count per distinct set of filters. */
export async function countParentRows(em: Em, list: ParentList, keys: readonly ParentCountKey[]): Promise<number[]> {
  const counts = new Map<ParentCountKey, number>();
  for (const group of groupKeys(keys, () => [])) {
    const filter = parentFilter(list, group);
    if (!filter) continue;
    const rows = await em.execute<{ parent: string; count: string }[]>(
      `select t."${list.parent}" as parent, count(*) as count from ${list.table} t where t."${list.parent}" = any(?::uuid[])${filter.conditions.map((condition) => ` and ${condition}`).join('')} group by t."${list.parent}"`,
      [textArray(filter.ids), ...filter.params],
    );
    const perParent = new Map(rows.map((row) => [String(row.parent).toLowerCase(), Number(row.count)]));
    for (const key of group) counts.set(key, perParent.get(key.parentId.toLowerCase()) ?? 0);
  }
  return keys.map((key) => counts.get(key) ?? 0);
}
