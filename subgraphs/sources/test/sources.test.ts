import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@listbackup/lib/principal';
import { startSources } from '../src/index.ts';
import { Source } from '../src/entities/source.ts';
import { createSourceRecord } from '../src/services/source-service.ts';
import {
  ANONYMOUS,
  accountRefs,
  errorCodes,
  invalidTokens,
  newUser,
  selectsFrom,
  startTestSubgraph,
  type TestSubgraph,
} from '../../jobs/test/support/subgraph-harness.ts';

const SOURCE = `query($id: ID!) { source(id: $id) { id name resources paused createdAt account { id } connection { id }
  schedule { kind cron timeZone } retention { keepLast keepDaily keepWeekly keepMonthly } nextRunAt } }`;
const ACCOUNT_SOURCES = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Account { id sources { edges { node { id name } } } } } }`;
const SOURCE_PAGE = `query($reps: [_Any!]!, $first: Int, $after: String) { _entities(representations: $reps) {
  ... on Account { sources(first: $first, after: $after) { edges { cursor node { id name accountId: account { id } } } pageInfo { hasNextPage endCursor } } } } }`;
const names = (connection: { edges: { node: { name: string } }[] }) => connection.edges.map((edge) => edge.node.name);
const SOURCE_ENTITY = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Source { id name } } }`;

describe('sources subgraph', () => {
  let subgraph: TestSubgraph;
  let alice: Principal;
  let bob: Principal;
  const accountA = randomUUID();
  const accountB = randomUUID();
  const connectionA = randomUUID();
  let customersA: Source;
  let reposA: Source;
  let ordersB: Source;

  beforeAll(async () => {
    subgraph = await startTestSubgraph('sources', (runtime) => startSources(runtime, { platformsUrl: 'http://127.0.0.1:9/graphql', jobsUrl: 'http://127.0.0.1:9', scheduler: false }));
    alice = newUser();
    bob = newUser();
    subgraph.access.grant(alice, accountA, 'operator').grant(bob, accountB, 'viewer');
    const em = subgraph.service.orm.em.fork();
    customersA = await createSourceRecord(em, { accountId: accountA, connectionId: connectionA, name: 'Billing data', resources: ['customers', 'invoices'] });
    reposA = await createSourceRecord(em, { accountId: accountA, connectionId: randomUUID(), name: 'Code', resources: ['repositories'], paused: true });
    ordersB = await createSourceRecord(em, { accountId: accountB, connectionId: randomUUID(), name: 'Orders', resources: ['orders'] });
  });
  afterAll(async () => {
    await subgraph?.close();
  });

  it('has migrations that match the entities exactly', async () => {
    expect((await subgraph.service.orm.schema.getUpdateSchemaSQL()).trim()).toBe('');
  });

  describe('source(id)', () => {
    it('returns a source of an account the caller can see, with references to its account and connection', async () => {
      const result = await subgraph.query(alice, SOURCE, { id: customersA.id });
      expect(result.errors).toBeUndefined();
      expect(result.data!.source).toEqual({
        id: customersA.id,
        name: 'Billing data',
        resources: ['customers', 'invoices'],
        paused: false,
        createdAt: customersA.createdAt.toISOString(),
        account: { id: accountA },
        connection: { id: connectionA },
        schedule: { kind: 'MANUAL', cron: null, timeZone: null },
        retention: { keepLast: 7, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 },
        nextRunAt: null,
      });
      expect((await subgraph.query(alice, SOURCE, { id: reposA.id })).data!.source).toMatchObject({ paused: true, resources: ['repositories'] });
    });

    it('answers the same NOT_FOUND for an unknown id, a malformed id and another tenant’s source', async () => {
      for (const id of [randomUUID(), 'not-a-uuid', ordersB.id]) {
        const result = await subgraph.query(alice, SOURCE, { id });
        expect(result.data).toBeNull();
        expect(errorCodes(result)).toEqual(['NOT_FOUND']);
        expect(result.errors![0].message).toBe('Source not found');
      }
    });

    it('refuses an anonymous caller', async () => {
      const result = await subgraph.query(ANONYMOUS, SOURCE, { id: customersA.id });
      expect(result.data).toBeNull();
      expect(errorCodes(result)).toEqual(['UNAUTHENTICATED']);
    });
  });

  describe('Account.sources', () => {
    it('lists only that account’s sources', async () => {
      const result = await subgraph.query(alice, ACCOUNT_SOURCES, { reps: accountRefs([accountA]) });
      expect(result.errors).toBeUndefined();
      expect(result.data!._entities).toEqual([
        { id: accountA, sources: { edges: [{ node: { id: customersA.id, name: 'Billing data' } }, { node: { id: reposA.id, name: 'Code' } }] } },
      ]);
      const bobs = await subgraph.query(bob, ACCOUNT_SOURCES, { reps: accountRefs([accountB]) });
      expect(bobs.data!._entities[0].sources.edges).toEqual([{ node: { id: ordersB.id, name: 'Orders' } }]);
    });

    it('gives NOT_FOUND and no sources for an account the caller cannot see', async () => {
      const result = await subgraph.query(alice, ACCOUNT_SOURCES, { reps: accountRefs([accountB]) });
      expect(result.data!._entities).toEqual([null]);
      expect(errorCodes(result)).toEqual(['NOT_FOUND']);
      expect(JSON.stringify(result)).not.toContain(ordersB.id);
    });

    it('resolves 50 accounts with one SQL query for sources', async () => {
      const user = newUser();
      const accounts = Array.from({ length: 50 }, () => randomUUID());
      const em = subgraph.service.orm.em.fork();
      for (const [i, accountId] of accounts.entries()) {
        subgraph.access.grant(user, accountId, 'viewer');
        if (i % 7 === 0) await createSourceRecord(em, { accountId, connectionId: randomUUID(), name: `Source ${i}` });
      }
      subgraph.resetQueries();
      const result = await subgraph.query(user, ACCOUNT_SOURCES, { reps: accountRefs(accounts) });
      expect(result.errors).toBeUndefined();
      expect(result.data!._entities.map((a: { sources: { edges: { node: { name: string } }[] } }) => names(a.sources))).toEqual(
        accounts.map((_, i) => (i % 7 === 0 ? [`Source ${i}`] : [])),
      );
      expect(selectsFrom(subgraph.queries, 'sources', 'sources')).toHaveLength(1);
    });
  });

  describe('Account.sources pages', () => {
    const big = randomUUID();
    const other = randomUUID();
    const pager = newUser();
    const stranger = newUser();
    const count = 130;
    const expected = Array.from({ length: count }, (_, i) => `S${String(i).padStart(3, '0')}`);

    beforeAll(async () => {
      subgraph.access.grant(pager, big, 'viewer').grant(stranger, other, 'owner');
      const em = subgraph.service.orm.em.fork();
      for (const name of [...expected].reverse()) await createSourceRecord(em, { accountId: big, connectionId: randomUUID(), name });
      const gone = await createSourceRecord(em, { accountId: big, connectionId: randomUUID(), name: 'S050b' });
      await em.nativeUpdate(Source, { id: gone.id }, { deletedAt: new Date() });
      for (const name of ['A', 'S050a', 'Z']) await createSourceRecord(em, { accountId: other, connectionId: randomUUID(), name });
    });

    const page = async (principal: Principal, accountId: string, first?: number, after?: string | null) =>
      subgraph.query(principal, SOURCE_PAGE, { reps: accountRefs([accountId]), first, after });

    it('walks every live source once, by name, in pages of `first`, and says when there is no more', async () => {
      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const result = await page(pager, big, 40, after);
        expect(result.errors).toBeUndefined();
        const connection = result.data!._entities[0].sources;
        seen.push(...names(connection));
        pages++;
        if (!connection.pageInfo.hasNextPage) break;
        expect(connection.pageInfo.endCursor).toBe(connection.edges.at(-1).cursor);
        after = connection.pageInfo.endCursor;
      }
      expect(seen).toEqual(expected);
      expect(pages).toBe(4);
    });

    it('gives 20 by default and up to 100 when asked', async () => {
      expect(names((await page(pager, big)).data!._entities[0].sources)).toEqual(expected.slice(0, 20));
      const largest = await page(pager, big, 100);
      expect(names(largest.data!._entities[0].sources)).toEqual(expected.slice(0, 100));
      expect(largest.data!._entities[0].sources.pageInfo.hasNextPage).toBe(true);
    });

    it('refuses a zero, negative or above-100 `first` and a forged cursor with BAD_USER_INPUT and a reason, and shows no source', async () => {
      const forged = [
        'not-a-cursor',
        Buffer.from('{"name":"S001"}').toString('base64url'),
        Buffer.from(JSON.stringify(['S001', 'not-a-uuid'])).toString('base64url'),
        Buffer.from(JSON.stringify([1, randomUUID()])).toString('base64url'),
      ];
      const cases: { first: number; after?: string; reason: string }[] = [
        { first: 0, reason: 'BAD_PAGE_SIZE' },
        { first: -5, reason: 'BAD_PAGE_SIZE' },
        { first: 101, reason: 'BAD_PAGE_SIZE' },
        { first: 1_000_000, reason: 'BAD_PAGE_SIZE' },
        ...forged.map((after) => ({ first: 5, after, reason: 'BAD_CURSOR' })),
      ];
      for (const { first, after, reason } of cases) {
        const result = await page(pager, big, first, after);
        expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
        expect(result.errors![0].extensions).toMatchObject({ reason });
        expect(result.data!._entities).toEqual([null]);
        expect(JSON.stringify(result)).not.toContain('S0');
      }
    });

    it('answers a `first` beyond Int with a validation error, not a server error', async () => {
      const result = await page(pager, big, 2 ** 40);
      expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
      expect(result.data).toBeUndefined();
    });

    it('refuses another account’s cursor with BAD_CURSOR rather than reading it as a position in the caller’s own list', async () => {
      const theirs = await page(stranger, other, 2);
      const cursor = theirs.data!._entities[0].sources.pageInfo.endCursor;
      expect(names(theirs.data!._entities[0].sources)).toEqual(['A', 'S050a']);
      const mine = await page(pager, big, 3, cursor);
      expect(errorCodes(mine)).toEqual(['BAD_USER_INPUT']);
      expect(mine.errors![0].extensions).toMatchObject({ reason: 'BAD_CURSOR' });
      expect(JSON.stringify(mine)).not.toContain('S05');
    });

    it('gives NOT_FOUND and no page for an account the caller cannot see, with or without a cursor', async () => {
      const cursor = (await page(pager, big, 1)).data!._entities[0].sources.pageInfo.endCursor;
      for (const after of [null, cursor]) {
        const result = await page(stranger, big, 5, after);
        expect(errorCodes(result)).toEqual(['NOT_FOUND']);
        expect(result.data!._entities).toEqual([null]);
        expect(JSON.stringify(result)).not.toContain('S0');
      }
    });
  });

  describe('Source entity (_entities)', () => {
    it('resolves representations the caller may see in one SQL query', async () => {
      subgraph.resetQueries();
      const reps = [customersA, reposA].map((s) => ({ __typename: 'Source', id: s.id }));
      const result = await subgraph.query(alice, SOURCE_ENTITY, { reps });
      expect(result.errors).toBeUndefined();
      expect(result.data!._entities).toEqual([{ id: customersA.id, name: 'Billing data' }, { id: reposA.id, name: 'Code' }]);
      expect(selectsFrom(subgraph.queries, 'sources', 'sources')).toHaveLength(1);
    });

    it('gives NOT_FOUND and no data for another tenant’s source', async () => {
      const result = await subgraph.query(alice, SOURCE_ENTITY, { reps: [{ __typename: 'Source', id: ordersB.id }] });
      expect(result.data!._entities).toEqual([null]);
      expect(errorCodes(result)).toEqual(['NOT_FOUND']);
      expect(result.errors![0].message).toBe('Source not found');
    });
  });

  describe('gateway proof', () => {
    const operations = {
      root: { query: SOURCE, variables: () => ({ id: customersA.id }) },
      _entities: { query: SOURCE_ENTITY, variables: () => ({ reps: [{ __typename: 'Source', id: customersA.id }] }) },
      _service: { query: '{ _service { sdl } }', variables: () => ({}) },
    };

    it('answers 401 with no data to a request without a valid internal token', async () => {
      const tokens = await invalidTokens(subgraph, alice);
      for (const [operation, { query, variables }] of Object.entries(operations)) {
        for (const [kind, header] of Object.entries(tokens)) {
          const result = await subgraph.queryWithHeader(header, query, variables());
          expect({ operation, kind, status: result.status, data: result.data }).toEqual({ operation, kind, status: 401, data: undefined });
          expect(errorCodes(result)).toEqual(['UNAUTHENTICATED']);
        }
      }
    });

    it('answers the same requests with a valid token (the check above is not vacuous)', async () => {
      for (const { query, variables } of Object.values(operations)) {
        const result = await subgraph.query(alice, query, variables());
        expect(result.status).toBe(200);
        expect(result.errors).toBeUndefined();
      }
    });
  });
});
