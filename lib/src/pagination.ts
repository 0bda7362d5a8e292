import { ValidationError } from './errors.ts';
import { isUuid } from './ids.ts';

export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export const MAX_PAGE_SIZE = 100;

/** Clamps `first` to 1..max; a negative or zero page is a mistake, not an empty answer. */
export function pageSize(first: number | null | undefined, fallback = 20, max = MAX_PAGE_SIZE): number {
  if (first == null) return fallback;
  if (!Number.isInteger(first) || first < 1) throw new ValidationError('`first` must be a positive integer', 'first');
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
  if (!Array.isArray(key) || !check(key)) throw new ValidationError('`after` is not a cursor this list gave out', 'after');
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

