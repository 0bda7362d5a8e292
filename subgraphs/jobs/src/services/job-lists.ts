import type { Em } from '@listbackup/lib/db';
import { Job, JOB_KINDS, JOB_STATUSES, type JobKind, type JobStatus } from '../entities/job.ts';
import { decodeTimeCursor } from '@listbackup/lib/pagination';
import { isUuid } from '@listbackup/lib/ids';

/** One newest-first page of the jobs of one account or one source. */
export interface JobListKey {
  parent: 'account' | 'source';
  id: string;
  /** Rows to fetch: the page size plus one (the extra row says whether there is more). */
  limit: number;
  after: string | null;
  status: JobStatus[] | null;
  kind: JobKind[] | null;
}

const PARENT_COLUMN = { account: 'account_id', source: 'source_id' } as const;

/**
 * Loads many pages at once: keys that differ only by parent share one query, which numbers each
 * parent's rows (newest first) and keeps the first `limit` of each.
 */
export async function loadJobPages(em: Em, keys: readonly JobListKey[]): Promise<Job[][]> {
  const groups = new Map<string, JobListKey[]>();
  for (const key of keys) {
    const shape = JSON.stringify([key.parent, key.limit, key.after, key.status, key.kind]);
    groups.set(shape, [...(groups.get(shape) ?? []), key]);
  }
  const pages = new Map<JobListKey, Job[]>();
  for (const group of groups.values()) {
    const { parent, limit, after, status, kind } = group[0];
    const ids = [...new Set(group.map((key) => key.id).filter(isUuid))];
    const rows = ids.length ? await selectPages(em, parent, ids, limit, after, status, kind) : [];
    for (const key of group) pages.set(key, rows.filter((job) => (parent === 'account' ? job.accountId : job.sourceId) === key.id));
  }
  return keys.map((key) => pages.get(key) ?? []);
}

async function selectPages(
  em: Em,
  parent: JobListKey['parent'],
  ids: string[],
  limit: number,
  after: string | null,
  status: JobStatus[] | null,
  kind: JobKind[] | null,
): Promise<Job[]> {
  const column = PARENT_COLUMN[parent];
  const conditions = [`"${column}" in (${ids.map(() => '?').join(', ')})`];
  const params: unknown[] = [...ids];
  const cursor = decodeTimeCursor(after);
  if (cursor) {
    conditions.push('("created_at", "id") < (?, ?)');
    params.push(cursor.createdAt, cursor.id);
  }
  if (status) {
    const valid = status.filter((s) => (JOB_STATUSES as readonly string[]).includes(s));
    conditions.push(valid.length ? `"status" in (${valid.map(() => '?').join(', ')})` : 'false');
    params.push(...valid);
  }
  if (kind) {
    const valid = kind.filter((k) => (JOB_KINDS as readonly string[]).includes(k));
    conditions.push(valid.length ? `"kind" in (${valid.map(() => '?').join(', ')})` : 'false');
    params.push(...valid);
  }
  params.push(limit);
  const sql = `select * from (
      select j.*, row_number() over (partition by j."${column}" order by j."created_at" desc, j."id" desc) as "page_row"
      from "jobs"."jobs" j where ${conditions.join(' and ')}
    ) ranked where "page_row" <= ? order by "created_at" desc, "id" desc`;
  const rows = await em.execute<Record<string, unknown>[]>(sql, params);
  return rows.map(({ page_row: _, ...row }) => em.map(Job, row));
}
