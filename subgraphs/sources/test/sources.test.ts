import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@listbackup/lib/principal';
import { startSources } from '../src/index.ts';
import type { Source } from '../src/entities/source.ts';
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
const ACCOUNT_SOURCES = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Account { id sources { id name } } } }`;
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
        { id: accountA, sources: [{ id: customersA.id, name: 'Billing data' }, { id: reposA.id, name: 'Code' }] },
      ]);
      const bobs = await subgraph.query(bob, ACCOUNT_SOURCES, { reps: accountRefs([accountB]) });
      expect(bobs.data!._entities[0].sources).toEqual([{ id: ordersB.id, name: 'Orders' }]);
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
      expect(result.data!._entities.map((a: { sources: { name: string }[] }) => a.sources.map((s) => s.name))).toEqual(
        accounts.map((_, i) => (i % 7 === 0 ? [`Source ${i}`] : [])),
      );
      expect(selectsFrom(subgraph.queries, 'sources', 'sources')).toHaveLength(1);
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
