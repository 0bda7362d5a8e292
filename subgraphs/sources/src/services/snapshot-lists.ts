import type { Em } from '@listbackup/lib/db';
import { Snapshot } from '../entities/snapshot.ts';
import { decodeTimeCursor } from '@listbackup/lib/pagination';
import { isUuid } from '@listbackup/lib/ids';

/** One newest-first page of a source's snapshots. */
export interface SnapshotListKey {
  sourceId: string;
  /** The page size plus one (the extra row says whether there is more). */
  limit: number;
  after: string | null;
}

/** Many sources' pages in one query per distinct (limit, after). */
export async function loadSnapshotPages(em: Em, keys: readonly SnapshotListKey[]): Promise<Snapshot[][]> {
  const groups = new Map<string, SnapshotListKey[]>();
  for (const key of keys) {
    const shape = JSON.stringify([key.limit, key.after]);
    groups.set(shape, [...(groups.get(shape) ?? []), key]);
  }
  const pages = new Map<SnapshotListKey, Snapshot[]>();
  for (const group of groups.values()) {
    const { limit, after } = group[0];
    const ids = [...new Set(group.map((key) => key.sourceId).filter(isUuid))];
    const rows = ids.length ? await selectPages(em, ids, limit, after) : [];
    for (const key of group) pages.set(key, rows.filter((snapshot) => snapshot.sourceId === key.sourceId));
  }
  return keys.map((key) => pages.get(key) ?? []);
}

async function selectPages(em: Em, sourceIds: string[], limit: number, after: string | null): Promise<Snapshot[]> {
  const conditions = [`"source_id" in (${sourceIds.map(() => '?').join(', ')})`];
  const params: unknown[] = [...sourceIds];
  const cursor = decodeTimeCursor(after);
  if (cursor) {
    conditions.push('("created_at", "id") < (?, ?)');
    params.push(cursor.createdAt, cursor.id);
  }
  params.push(limit);
  const sql = `select * from (
      select s.*, row_number() over (partition by s."source_id" order by s."created_at" desc, s."id" desc) as "page_row"
      from "sources"."snapshots" s where ${conditions.join(' and ')}
    ) ranked where "page_row" <= ? order by "created_at" desc, "id" desc`;
  const rows = await em.execute<Record<string, unknown>[]>(sql, params);
  return rows.map(({ page_row: _, ...row }) => em.map(Snapshot, row));
}
