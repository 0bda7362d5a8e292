import type { Em } from './db.ts';
import { AppError } from './errors.ts';
import { isUuid } from './ids.ts';

export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export const MAX_PAGE_SIZE = 100;

/** Clamps `first` to 1..max; a negative or zero page is a mistake, not an empty answer. */
export function pageSize(first: number | null | undefined, fallback = 20, max = MAX_PAGE_SIZE): number {
  if (first == null) return fallback;
  if (!Number.isInteger(first) || first < 1) throw new AppError('BAD_USER_INPUT', '`first` must be a positive integer', { reason: 'BAD_PAGE_SIZE', field: 'first' });
  return Math.min(first, max);
}

/** Cursors are opaque to clients: base64url of a JSON array of the sort key. */
export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined, check: (key: unknown[]) => boolean): unknown[] | null {
  if (cursor == null) return null;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = null;
  }
  if (!Array.isArray(key) || !check(key)) throw new AppError('BAD_USER_INPUT', '`after` is not a cursor this list gave out', { reason: 'BAD_CURSOR', field: 'after' });
  return key;
}

/** Builds a page from `size + 1` rows fetched in order: the extra row only says there is more. */
export function toPage<T>(rows: T[], size: number, cursorOf: (row: T) => string): Page<T> {
  const nodes = rows.slice(0, size);
  const edges = nodes.map((node) => ({ cursor: cursorOf(node), node }));
  return { edges, pageInfo: { hasNextPage: rows.length > size, endCursor: edges.at(-1)?.cursor ?? null } };
}

/** The (createdAt, id) cursor of newest-first lists. */
export const timeCursor = (row: { createdAt: Date; id: string }) => encodeCursor([row.createdAt.toISOString(), row.id]);

export function decodeTimeCursor(cursor: string | null | undefined): { createdAt: Date; id: string } | null {
  const key = decodeCursor(cursor, (k) => k.length === 2 && typeof k[0] === 'string' && !Number.isNaN(Date.parse(k[0])) && typeof k[1] === 'string' && isUuid(k[1]));
  return key ? { createdAt: new Date(key[0] as string), id: key[1] as string } : null;
}


/** The (createdAt, id) key of a time cursor, as `selectParentPages` compares it. */
export function timeKey(cursor: string | null | undefined): unknown[] | null {
  const key = decodeTimeCursor(cursor);
  return key && [key.createdAt, key.id];
}

/** The (text, id) cursor of lists sorted by a name, then id. */
export const nameCursor = (name: string, id: string) => encodeCursor([name, id]);

export function decodeNameCursor(cursor: string | null | undefined): { name: string; id: string } | null {
  const key = decodeCursor(cursor, (k) => k.length === 2 && typeof k[0] === 'string' && typeof k[1] === 'string' && isUuid(k[1]));
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
}

export interface ParentPageKey {
  parentId: string;
  /** Rows to fetch: the page size plus one (the extra row says whether there is more). */
  limit: number;
  /** The decoded cursor: the sort key of the last row of the previous page. */
  after: unknown[] | null;
}

/**
 * Many parents' pages in one statement per distinct (limit, after): the rows of each parent are
 * numbered in list order (`row_number() over (partition by parent …)`) and the first `limit` kept,
 * so `Account.sources(first: 1)` for a thousand accounts is one query. Answers raw rows, grouped
 * per key in list order.
 */
export async function selectParentPages(em: Em, list: ParentList, keys: readonly ParentPageKey[]): Promise<Record<string, unknown>[][]> {
  const groups = new Map<string, ParentPageKey[]>();
  for (const key of keys) {
    const shape = JSON.stringify([key.limit, key.after]);
    groups.set(shape, [...(groups.get(shape) ?? []), key]);
  }
  const direction = list.descending ? 'desc' : 'asc';
  const order = list.order.map((column) => `"${column}" ${direction}`).join(', ');
  const byKey = new Map<ParentPageKey, Record<string, unknown>[]>();
  for (const group of groups.values()) {
    const { limit, after } = group[0];
    const ids = [...new Set(group.map((key) => key.parentId).filter(isUuid))];
    if (!ids.length) continue;
    const conditions = [`"${list.parent}" in (${ids.map(() => '?').join(', ')})`];
    const params: unknown[] = [...ids];
    if (list.where) conditions.push(list.where);
    if (after) {
      conditions.push(`(${list.order.map((column) => `"${column}"`).join(', ')}) ${list.descending ? '<' : '>'} (${after.map(() => '?').join(', ')})`);
      params.push(...after);
    }
    params.push(limit);
    const sql = `select * from (
        select t.*, row_number() over (partition by t."${list.parent}" order by ${order}) as "page_row"
        from ${list.table} t where ${conditions.join(' and ')}
      ) ranked where "page_row" <= ? order by ${order}`;
    const rows = await em.execute<Record<string, unknown>[]>(sql, params);
    const perParent = new Map<string, Record<string, unknown>[]>();
    for (const { page_row: _, ...row } of rows) {
      const parentId = row[list.parent] as string;
      const page = perParent.get(parentId);
      if (page) page.push(row);
      else perParent.set(parentId, [row]);
    }
    for (const key of group) byKey.set(key, perParent.get(key.parentId) ?? []);
  }
  return keys.map((key) => byKey.get(key) ?? []);
}
