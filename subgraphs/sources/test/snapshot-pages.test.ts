// A source's snapshots and a snapshot's items are pages: each runs the shared paging checks.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@listbackup/lib/principal';
import { describePaging, type PagingResponse } from '../../../test/support/paging.ts';
import { startSources } from '../src/index.ts';
import { rowReader } from '@listbackup/lib/pagination';
import { Snapshot } from '../src/entities/snapshot.ts';
import { Source } from '../src/entities/source.ts';
import { createSourceRecord } from '../src/services/source-service.ts';
import { InMemoryItemsReader, type ItemsPageRequest, type SnapshotItemRecord } from '../src/services/items-reader.ts';
import { SourcesClient } from '../../jobs/src/clients/sources-client.ts';
import { errorCodes, newUser, startTestSubgraph, type TestSubgraph } from '../../jobs/test/support/subgraph-harness.ts';

/** The in-memory reader, counting what it is asked: a refused page must not reach it. */
class CountingItemsReader extends InMemoryItemsReader {
  asked = 0;
  override list(snapshot: Snapshot, request: ItemsPageRequest) {
    this.asked++;
    return super.list(snapshot, request);
  }
}

let subgraph: TestSubgraph;
const items = new CountingItemsReader();
const alice: Principal = newUser();
const bob: Principal = newUser();
const accountA = randomUUID();
const accountB = randomUUID();
let sourceA: string;
let sourceB: string;
/** Alice's snapshots newest first (ties on the same instant by id, descending). */
let snapshotOrder: string[];
let bobsSnapshot: string;
const SNAPSHOT_COUNT = 45;
const ITEM_COUNT = 120;
// Paths in an order apart from the manifest's.
const itemPaths = Array.from({ length: ITEM_COUNT }, (_, i) => `paged-item/${String((i * 37) % ITEM_COUNT).padStart(3, '0')}.json`);
const record = (path: string): SnapshotItemRecord => ({ path, name: path.split('/').at(-1)!, resource: 'items', size: 1, contentType: 'application/json' });

beforeAll(async () => {
  subgraph = await startTestSubgraph('sources', (runtime) =>
    startSources(runtime, { platformsUrl: 'http://127.0.0.1:9/graphql', jobsUrl: 'http://127.0.0.1:9', scheduler: false, items }),
  );
  const client = new SourcesClient(subgraph.url, subgraph.secret);
  subgraph.access.grant(alice, accountA, 'viewer').grant(bob, accountB, 'owner');
  const em = subgraph.service.orm.em.fork();
  sourceA = (await createSourceRecord(em, { accountId: accountA, connectionId: randomUUID(), name: 'Paged', resources: ['items'] })).id;
  sourceB = (await createSourceRecord(em, { accountId: accountB, connectionId: randomUUID(), name: 'Theirs', resources: ['items'] })).id;
  const made: { id: string; at: number }[] = [];
  for (let i = 0; i < SNAPSHOT_COUNT; i++) {
    const jobId = randomUUID();
    const at = Date.UTC(2026, 2, 1) + Math.floor(i / 3) * 60_000;
    const input = { jobId, sourceId: sourceA, accountId: accountA, itemCount: ITEM_COUNT, logicalBytes: 1, storedBytes: 1, manifestKey: `manifests/${jobId}`, createdAt: new Date(at).toISOString() };
    made.push({ id: (await client.recordSnapshot(input)).id, at });
    items.set(`manifests/${jobId}`, itemPaths.map(record));
  }
  made.sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1));
  snapshotOrder = made.map((snapshot) => snapshot.id);
  const theirJob = randomUUID();
  bobsSnapshot = (await client.recordSnapshot({ jobId: theirJob, sourceId: sourceB, accountId: accountB, itemCount: 2, logicalBytes: 1, storedBytes: 1, manifestKey: `manifests/${theirJob}` })).id;
  items.set(`manifests/${theirJob}`, ['a-theirs/1.json', 'a-theirs/2.json'].map(record));
});
afterAll(async () => {
  await subgraph?.close();
});

const query = (principal: Principal, document: string, variables: Record<string, unknown>) => subgraph.query(principal, document, variables) as Promise<PagingResponse>;

const SOURCE_SNAPSHOTS = `query($reps: [_Any!]!, $first: Int, $after: String) { _entities(representations: $reps) { ... on Source {
  snapshots(first: $first, after: $after) { edges { cursor node { id account { id } } } pageInfo { hasNextPage endCursor } } } } }`;
const snapshots = (by: Principal, sourceId: () => string) => (first?: number, after?: string | null) =>
  query(by, SOURCE_SNAPSHOTS, { reps: [{ __typename: 'Source', id: sourceId() }], first, after });

describePaging('Source.snapshots', {
  page: snapshots(alice, () => sourceA),
  connection: (response) => response.data!._entities[0].snapshots,
  failed: (response) => response.data?._entities?.[0],
  label: (node) => node.id,
  expected: () => snapshotOrder,
  walk: 10,
  secret: () => snapshotOrder[0],
  foreign: {
    cursor: async () => (await snapshots(bob, () => sourceB)(1)).data!._entities[0].snapshots.pageInfo.endCursor,
  },
  stranger: { page: snapshots(bob, () => sourceA), code: 'NOT_FOUND' },
});

const ITEMS = `query($id: ID!, $first: Int, $after: String) { snapshot(id: $id) {
  items(first: $first, after: $after) { edges { cursor node { path } } pageInfo { hasNextPage endCursor } } } }`;
const snapshotItems = (by: Principal, snapshotId: () => string) => (first?: number, after?: string | null) => query(by, ITEMS, { id: snapshotId(), first, after });
const base64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describePaging('Snapshot.items', {
  page: snapshotItems(alice, () => snapshotOrder[0]),
  connection: (response) => response.data!.snapshot.items,
  failed: (response) => response.data?.snapshot,
  label: (node) => node.path,
  expected: () => [...itemPaths].sort(),
  walk: 40,
  defaultSize: 50,
  secret: () => 'paged-item',
  forged: () => [base64([1]), base64(['a', 'b'])],
  foreign: {
    cursor: async () => (await snapshotItems(bob, () => bobsSnapshot)(1)).data!.snapshot.items.pageInfo.endCursor,
  },
  stranger: { page: snapshotItems(bob, () => snapshotOrder[0]), code: 'NOT_FOUND' },
});

describe('list rows', () => {
  it('are read without the ORM holding what the ORM itself would load', async () => {
    const em = subgraph.service.orm.em.fork();
    // Every kind of column: json, text[], bigint, double, timestamps, nulls.
    await em.execute(`update "sources"."snapshots" set "changes" = ?::jsonb, "anomaly_share" = 0.25, "anomaly_detected_at" = now(), "stored_bytes" = ? where "id" = ?`, [
      JSON.stringify({ added: 3, removed: 1 }),
      2 ** 40,
      snapshotOrder[0],
    ]);
    for (const [entity, table] of [[Snapshot, 'snapshots'], [Source, 'sources']] as const) {
      const rows = await em.execute<Record<string, unknown>[]>(`select * from "sources"."${table}" where "account_id" = ?`, [accountA]);
      expect(rows.length).toBeGreaterThan(0);
      const read = rowReader(em, entity as typeof Snapshot);
      for (const row of rows) expect(read(row)).toEqual({ ...em.fork().map(entity as typeof Snapshot, row) });
    }
  });
});

describe('Snapshot.items', () => {
  it('refuses a bad page before asking the subgraph that reads the manifest', async () => {
    const asked = items.asked;
    for (const [first, after] of [[0, null], [101, null], [5, 'not-a-cursor']] as const) {
      const response = await snapshotItems(alice, () => snapshotOrder[0])(first, after);
      expect(errorCodes(response as never)).toEqual(['BAD_USER_INPUT']);
    }
    expect(items.asked).toBe(asked);
  });
});
