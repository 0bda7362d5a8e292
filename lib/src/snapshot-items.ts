/**
 * What `Snapshot.items` pages through: the items of a snapshot's manifest, as the sources subgraph
 * shows them and the jobs subgraph (which holds the backup store) reads them.
 */
import { decodeCursor, encodeCursor, pageSize, type Page } from './pagination.ts';

/** One item of a snapshot, as `Snapshot.items` shows it. */
export interface SnapshotItemRecord {
  path: string;
  name: string;
  resource?: string | null;
  size: number;
  contentType?: string | null;
  modifiedAt?: Date | string | null;
}

export interface ItemsPageRequest {
  first?: number | null;
  after?: string | null;
  /** A part of the name or path, matched ignoring case. */
  search?: string | null;
}

/** Items a page holds when `first` is left out (at most 100, like every list). */
export const ITEMS_PAGE_SIZE = 50;

/** A cursor of one snapshot's items (its manifest key, which sources and jobs both know). */
const itemsScope = (manifestKey: string) => ({ list: 'Snapshot.items', owner: manifestKey });

/**
 * The page asked for, checked by the rules of every list (BAD_PAGE_SIZE, BAD_CURSOR): the sources
 * subgraph checks it before asking the subgraph that reads the manifest.
 */
export function itemsPage(manifestKey: string, request: ItemsPageRequest): { size: number; after: string | undefined; needle: string | null } {
  const size = pageSize(request.first, ITEMS_PAGE_SIZE);
  const after = decodeCursor(itemsScope(manifestKey), request.after, (key) => key.length === 1 && typeof key[0] === 'string')?.[0] as string | undefined;
  return { size, after, needle: request.search?.trim().toLowerCase() || null };
}

/**
 * Pages through items in path order: the helper an ItemsReader over any item stream can use. Reads
 * the stream once, keeping only the page (memory does not grow with the snapshot).
 */
export async function pageItems(items: Iterable<SnapshotItemRecord> | AsyncIterable<SnapshotItemRecord>, manifestKey: string, request: ItemsPageRequest): Promise<Page<SnapshotItemRecord>> {
  const { size, after, needle } = itemsPage(manifestKey, request);
  // The `size + 1` smallest paths after the cursor, kept sorted.
  const page: SnapshotItemRecord[] = [];
  for await (const item of items) {
    if (after !== undefined && item.path <= after) continue;
    if (needle && !item.path.toLowerCase().includes(needle) && !item.name.toLowerCase().includes(needle)) continue;
    if (page.length > size && item.path >= page[page.length - 1].path) continue;
    const at = page.findIndex((other) => other.path > item.path);
    page.splice(at === -1 ? page.length : at, 0, item);
    if (page.length > size + 1) page.pop();
  }
  const nodes = page.slice(0, size);
  const edges = nodes.map((node) => ({ cursor: encodeCursor(itemsScope(manifestKey), [node.path]), node }));
  return { edges, pageInfo: { hasNextPage: page.length > size, endCursor: edges.at(-1)?.cursor ?? null } };
}
