import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@listbackup/lib/principal';
import { OutboxEvent } from '@listbackup/lib/events/outbox';
import { INTERNAL_TOKEN_HEADER, signInternalToken } from '@listbackup/lib/internal-token';
import { startSources } from '../src/index.ts';
import type { Source } from '../src/entities/source.ts';
import { Snapshot } from '../src/entities/snapshot.ts';
import { createSourceRecord } from '../src/services/source-service.ts';
import { InMemoryItemsReader, type SnapshotItemRecord } from '../src/services/items-reader.ts';
import { SourcesClient } from '../../jobs/src/clients/sources-client.ts';
import { errorCodes, newUser, selectsFrom, startTestSubgraph, type TestSubgraph } from '../../jobs/test/support/subgraph-harness.ts';

const SNAPSHOTS = `query($sourceId: ID!, $first: Int, $after: String) { snapshots(sourceId: $sourceId, first: $first, after: $after) {
  edges { cursor node { id createdAt itemCount logicalBytes storedBytes partial job { id } source { id } account { id } } } pageInfo { hasNextPage endCursor } } }`;
const SNAPSHOT = `query($id: ID!, $first: Int, $after: String, $search: String) { snapshot(id: $id) { id itemCount
  items(first: $first, after: $after, search: $search) { edges { node { path name resource size contentType } } pageInfo { hasNextPage endCursor } } } }`;
const SOURCE_SNAPSHOTS = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Source { id snapshots(first: 2) { edges { node { id } } } } } }`;
const SNAPSHOT_ENTITY = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Snapshot { id storedBytes } } }`;
const JOB_SNAPSHOT = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Job { id snapshot { id itemCount } } } }`;

const ids = (page: { edges: { node: { id: string } }[] }) => page.edges.map((edge) => edge.node.id);

describe('sources: snapshots', () => {
  let subgraph: TestSubgraph;
  let client: SourcesClient;
  const items = new InMemoryItemsReader();
  let alice: Principal;
  let bob: Principal;
  const accountA = randomUUID();
  const accountB = randomUUID();
  let source: Source;
  let otherSource: Source;
  let theirSource: Source;
  const jobs = [randomUUID(), randomUUID(), randomUUID()];
  const snapshotIds: string[] = [];
  let theirSnapshot: string;
  const theirJob = randomUUID();

  const files: SnapshotItemRecord[] = [
    ...Array.from({ length: 7 }, (_, i) => ({ path: `customers/cus_${i}.json`, name: `cus_${i}.json`, resource: 'customers', size: 100 + i, contentType: 'application/json' })),
    { path: 'invoices/in_1.json', name: 'in_1.json', resource: 'invoices', size: 300, contentType: 'application/json' },
    { path: 'invoices/in_2.json', name: 'in_2.json', resource: 'invoices', size: 301, contentType: 'application/json' },
  ];

  beforeAll(async () => {
    subgraph = await startTestSubgraph('sources', (runtime) =>
      startSources(runtime, { platformsUrl: 'http://127.0.0.1:9/graphql', jobsUrl: 'http://127.0.0.1:9', scheduler: false, items }),
    );
    client = new SourcesClient(subgraph.url, subgraph.secret);
    alice = newUser();
    bob = newUser();
    subgraph.access.grant(alice, accountA, 'viewer').grant(bob, accountB, 'owner');
    const em = subgraph.service.orm.em.fork();
    source = await createSourceRecord(em, { accountId: accountA, connectionId: randomUUID(), name: 'Stripe', resources: ['customers', 'invoices'] });
    otherSource = await createSourceRecord(em, { accountId: accountA, connectionId: randomUUID(), name: 'GitHub', resources: ['repositories'] });
    theirSource = await createSourceRecord(em, { accountId: accountB, connectionId: randomUUID(), name: 'Theirs', resources: ['customers'] });
    for (const [i, jobId] of jobs.entries()) {
      const { id } = await client.recordSnapshot({
        jobId,
        sourceId: source.id,
        accountId: accountA,
        itemCount: files.length,
        logicalBytes: 10_000 * (i + 1),
        storedBytes: i === 0 ? 8_000 : 50,
        manifestKey: `manifests/${jobId}`,
        createdAt: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
      });
      snapshotIds.push(id);
      items.set(`manifests/${jobId}`, files);
    }
    theirSnapshot = (await client.recordSnapshot({ jobId: theirJob, sourceId: theirSource.id, accountId: accountB, itemCount: 1, logicalBytes: 1, storedBytes: 1, manifestKey: 'manifests/theirs' })).id;
  });
  afterAll(async () => {
    await subgraph?.close();
  });

  describe('recording (the worker’s internal route)', () => {
    it('records one snapshot per job, with a data.synced event', async () => {
      const again = await client.recordSnapshot({ jobId: jobs[0], sourceId: source.id, accountId: accountA, itemCount: 1, logicalBytes: 1, storedBytes: 1, manifestKey: 'other' });
      expect(again.id).toBe(snapshotIds[0]);
      expect(await subgraph.service.orm.em.fork().count(Snapshot, { jobId: jobs[0] })).toBe(1);
      const [event] = await subgraph.service.orm.em.fork().find(OutboxEvent, { type: 'data.synced', subject: snapshotIds[0] });
      expect(event.accountId).toBe(accountA);
      expect(event.data).toEqual({ accountId: accountA, sourceId: source.id, jobId: jobs[0], snapshotId: snapshotIds[0], items: 9, logicalBytes: 10_000, storedBytes: 8_000, partial: false });
    });

    it('refuses a snapshot of a source of another account, or of a deleted one, and malformed input', async () => {
      const before = await subgraph.service.orm.em.fork().count(Snapshot, {});
      await expect(client.recordSnapshot({ jobId: randomUUID(), sourceId: theirSource.id, accountId: accountA, itemCount: 1, logicalBytes: 1, storedBytes: 1, manifestKey: 'x' })).rejects.toThrow(/409/);
      await expect(client.recordSnapshot({ jobId: 'nope', sourceId: source.id, accountId: accountA, itemCount: -1, logicalBytes: 1, storedBytes: 1, manifestKey: 'x' })).rejects.toThrow(/400/);
      expect(await subgraph.service.orm.em.fork().count(Snapshot, {})).toBe(before);
    });

    it('answers only callers holding the internal token', async () => {
      for (const header of [undefined, await signInternalToken('another-secret-another-secret-0000', 'sources', { principal: { kind: 'anonymous' }, requestId: 't' })]) {
        const response = await fetch(new URL('/internal/snapshots/list', subgraph.url), {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(header ? { [INTERNAL_TOKEN_HEADER]: header } : {}) },
          body: JSON.stringify({ sourceId: source.id }),
        });
        expect(response.status).toBe(401);
      }
      expect((await client.listSnapshots(source.id)).map((s) => s.id)).toEqual([...snapshotIds].reverse());
    });
  });

  describe('snapshots(sourceId) and Source.snapshots', () => {
    it('lists a source’s snapshots newest first, with sizes and the job that made them, page by page', async () => {
      const first = await subgraph.query(alice, SNAPSHOTS, { sourceId: source.id, first: 2 });
      expect(first.errors).toBeUndefined();
      const page = first.data!.snapshots;
      expect(ids(page)).toEqual([snapshotIds[2], snapshotIds[1]]);
      expect(page.edges[0].node).toEqual({
        id: snapshotIds[2],
        createdAt: '2026-01-03T00:00:00.000Z',
        itemCount: 9,
        logicalBytes: 30_000,
        storedBytes: 50,
        partial: false,
        job: { id: jobs[2] },
        source: { id: source.id },
        account: { id: accountA },
      });
      expect(page.pageInfo.hasNextPage).toBe(true);
      const second = await subgraph.query(alice, SNAPSHOTS, { sourceId: source.id, first: 2, after: page.pageInfo.endCursor });
      expect(ids(second.data!.snapshots)).toEqual([snapshotIds[0]]);
      expect(second.data!.snapshots.pageInfo.hasNextPage).toBe(false);
      expect(ids((await subgraph.query(alice, SNAPSHOTS, { sourceId: otherSource.id })).data!.snapshots)).toEqual([]);
    });

    it('resolves the snapshots of many sources with one SQL query', async () => {
      subgraph.resetQueries();
      const result = await subgraph.query(alice, SOURCE_SNAPSHOTS, { reps: [source, otherSource].map((s) => ({ __typename: 'Source', id: s.id })) });
      expect(result.errors).toBeUndefined();
      expect(result.data!._entities.map((s: { snapshots: { edges: { node: { id: string } }[] } }) => ids(s.snapshots))).toEqual([[snapshotIds[2], snapshotIds[1]], []]);
      expect(selectsFrom(subgraph.queries, 'sources', 'snapshots')).toHaveLength(1);
    });

    it('shows nothing of another tenant’s source: root field, nested field, entity', async () => {
      const root = await subgraph.query(alice, SNAPSHOTS, { sourceId: theirSource.id });
      expect(errorCodes(root)).toEqual(['NOT_FOUND']);
      expect(root.errors![0].message).toBe('Source not found');
      const nested = await subgraph.query(alice, SOURCE_SNAPSHOTS, { reps: [{ __typename: 'Source', id: theirSource.id }] });
      expect(nested.data!._entities).toEqual([null]);
      for (const result of [root, nested]) expect(JSON.stringify(result)).not.toContain(theirSnapshot);
    });
  });

  describe('snapshot(id) and its items', () => {
    it('pages through the items in path order', async () => {
      const first = await subgraph.query(alice, SNAPSHOT, { id: snapshotIds[0], first: 4 });
      expect(first.errors).toBeUndefined();
      const page = first.data!.snapshot.items;
      expect(page.edges.map((e: { node: { path: string } }) => e.node.path)).toEqual(['customers/cus_0.json', 'customers/cus_1.json', 'customers/cus_2.json', 'customers/cus_3.json']);
      expect(page.edges[0].node).toEqual({ path: 'customers/cus_0.json', name: 'cus_0.json', resource: 'customers', size: 100, contentType: 'application/json' });
      const rest: string[] = [];
      let after = page.pageInfo.endCursor;
      for (let hasNext = page.pageInfo.hasNextPage; hasNext; ) {
        const next = (await subgraph.query(alice, SNAPSHOT, { id: snapshotIds[0], first: 4, after })).data!.snapshot.items;
        rest.push(...next.edges.map((e: { node: { path: string } }) => e.node.path));
        after = next.pageInfo.endCursor;
        hasNext = next.pageInfo.hasNextPage;
      }
      expect(rest).toEqual(['customers/cus_4.json', 'customers/cus_5.json', 'customers/cus_6.json', 'invoices/in_1.json', 'invoices/in_2.json']);
    });

    it('finds items by a part of their name or path, ignoring case', async () => {
      const byPath = await subgraph.query(alice, SNAPSHOT, { id: snapshotIds[0], search: 'INVOICES/' });
      expect(byPath.data!.snapshot.items.edges.map((e: { node: { name: string } }) => e.node.name)).toEqual(['in_1.json', 'in_2.json']);
      const byName = await subgraph.query(alice, SNAPSHOT, { id: snapshotIds[0], search: 'cus_5' });
      expect(byName.data!.snapshot.items.edges.map((e: { node: { name: string } }) => e.node.name)).toEqual(['cus_5.json']);
    });

    it('answers the same NOT_FOUND for another tenant’s snapshot, an unknown and a malformed id', async () => {
      for (const id of [theirSnapshot, randomUUID(), 'nope']) {
        const result = await subgraph.query(alice, SNAPSHOT, { id });
        expect(result.data).toBeNull();
        expect(errorCodes(result)).toEqual(['NOT_FOUND']);
        expect(result.errors![0].message).toBe('Snapshot not found');
      }
      const entity = await subgraph.query(alice, SNAPSHOT_ENTITY, { reps: [{ __typename: 'Snapshot', id: theirSnapshot }] });
      expect(entity.data!._entities).toEqual([null]);
      expect(errorCodes(entity)).toEqual(['NOT_FOUND']);
      const mine = await subgraph.query(bob, SNAPSHOT_ENTITY, { reps: [{ __typename: 'Snapshot', id: theirSnapshot }] });
      expect(mine.data!._entities).toEqual([{ id: theirSnapshot, storedBytes: 1 }]);
    });
  });

  describe('Job.snapshot', () => {
    it('gives the snapshot a backup job made, and null for another tenant’s job or one without a snapshot', async () => {
      const result = await subgraph.query(alice, JOB_SNAPSHOT, { reps: [jobs[1], theirJob, randomUUID()].map((id) => ({ __typename: 'Job', id })) });
      expect(result.errors).toBeUndefined();
      expect(result.data!._entities).toEqual([
        { id: jobs[1], snapshot: { id: snapshotIds[1], itemCount: 9 } },
        { id: theirJob, snapshot: null },
        expect.objectContaining({ snapshot: null }),
      ]);
    });
  });
});
