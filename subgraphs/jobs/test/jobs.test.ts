import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@listbackup/lib/principal';
import { startJobs } from '../src/index.ts';
import type { Job } from '../src/entities/job.ts';
import { createJobRecord } from '../src/services/job-service.ts';
import {
  ANONYMOUS,
  accountRefs,
  errorCodes,
  invalidTokens,
  newUser,
  selectsFrom,
  startTestSubgraph,
  type TestSubgraph,
} from './support/subgraph-harness.ts';

const JOB = `query($id: ID!) { job(id: $id) { id kind status createdAt startedAt finishedAt account { id } source { id } } }`;
const ACCOUNT_JOBS = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Account { id jobs { id kind } } } }`;
const JOB_ENTITY = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Job { id status } } }`;

describe('jobs subgraph', () => {
  let subgraph: TestSubgraph;
  let alice: Principal;
  let bob: Principal;
  const accountA = randomUUID();
  const accountB = randomUUID();
  const sourceA = randomUUID();
  let backupA: Job;
  let exportA: Job;
  let backupB: Job;

  beforeAll(async () => {
    subgraph = await startTestSubgraph('jobs', startJobs);
    alice = newUser();
    bob = newUser();
    subgraph.access.grant(alice, accountA, 'viewer').grant(bob, accountB, 'admin');
    const em = subgraph.service.orm.em.fork();
    backupA = await createJobRecord(em, { accountId: accountA, sourceId: sourceA, kind: 'BACKUP', status: 'SUCCEEDED', createdAt: new Date('2026-01-01T10:00:00Z') });
    exportA = await createJobRecord(em, { accountId: accountA, kind: 'EXPORT', createdAt: new Date('2026-01-01T11:00:00Z') });
    backupB = await createJobRecord(em, { accountId: accountB, sourceId: randomUUID(), kind: 'BACKUP' });
  });
  afterAll(async () => {
    await subgraph?.close();
  });

  it('has migrations that match the entities exactly', async () => {
    expect((await subgraph.service.orm.schema.getUpdateSchemaSQL()).trim()).toBe('');
  });

  describe('job(id)', () => {
    it('returns a job of an account the caller can see, with references to its account and source', async () => {
      const result = await subgraph.query(alice, JOB, { id: backupA.id });
      expect(result.errors).toBeUndefined();
      expect(result.data!.job).toEqual({
        id: backupA.id,
        kind: 'BACKUP',
        status: 'SUCCEEDED',
        createdAt: backupA.createdAt.toISOString(),
        startedAt: null,
        finishedAt: null,
        account: { id: accountA },
        source: { id: sourceA },
      });
      expect((await subgraph.query(alice, JOB, { id: exportA.id })).data!.job).toMatchObject({ kind: 'EXPORT', status: 'QUEUED', source: null });
    });

    it('answers the same NOT_FOUND for an unknown id, a malformed id and another tenant’s job', async () => {
      for (const id of [randomUUID(), 'not-a-uuid', backupB.id]) {
        const result = await subgraph.query(alice, JOB, { id });
        expect(result.data).toBeNull();
        expect(errorCodes(result)).toEqual(['NOT_FOUND']);
        expect(result.errors![0].message).toBe('Job not found');
      }
    });

    it('refuses an anonymous caller', async () => {
      const result = await subgraph.query(ANONYMOUS, JOB, { id: backupA.id });
      expect(result.data).toBeNull();
      expect(errorCodes(result)).toEqual(['UNAUTHENTICATED']);
    });
  });

  describe('Account.jobs', () => {
    it('lists only that account’s jobs, newest first', async () => {
      const result = await subgraph.query(alice, ACCOUNT_JOBS, { reps: accountRefs([accountA]) });
      expect(result.errors).toBeUndefined();
      expect(result.data!._entities).toEqual([
        { id: accountA, jobs: [{ id: exportA.id, kind: 'EXPORT' }, { id: backupA.id, kind: 'BACKUP' }] },
      ]);
      const bobs = await subgraph.query(bob, ACCOUNT_JOBS, { reps: accountRefs([accountB]) });
      expect(bobs.data!._entities[0].jobs).toEqual([{ id: backupB.id, kind: 'BACKUP' }]);
    });

    it('gives NOT_FOUND and no jobs for an account the caller cannot see', async () => {
      const result = await subgraph.query(alice, ACCOUNT_JOBS, { reps: accountRefs([accountB]) });
      expect(result.data!._entities).toEqual([null]);
      expect(errorCodes(result)).toEqual(['NOT_FOUND']);
      expect(JSON.stringify(result)).not.toContain(backupB.id);
    });

    it('resolves 50 accounts with one SQL query for jobs', async () => {
      const user = newUser();
      const accounts = Array.from({ length: 50 }, () => randomUUID());
      const em = subgraph.service.orm.em.fork();
      for (const [i, accountId] of accounts.entries()) {
        subgraph.access.grant(user, accountId, 'viewer');
        if (i % 10 === 0) await createJobRecord(em, { accountId, kind: 'VERIFY' });
      }
      subgraph.resetQueries();
      const result = await subgraph.query(user, ACCOUNT_JOBS, { reps: accountRefs(accounts) });
      expect(result.errors).toBeUndefined();
      expect(result.data!._entities.map((a: { jobs: unknown[] }) => a.jobs.length)).toEqual(accounts.map((_, i) => (i % 10 === 0 ? 1 : 0)));
      expect(selectsFrom(subgraph.queries, 'jobs', 'jobs')).toHaveLength(1);
    });
  });

  describe('Job entity (_entities)', () => {
    it('resolves a representation the caller may see', async () => {
      const result = await subgraph.query(alice, JOB_ENTITY, { reps: [{ __typename: 'Job', id: backupA.id }] });
      expect(result.errors).toBeUndefined();
      expect(result.data!._entities).toEqual([{ id: backupA.id, status: 'SUCCEEDED' }]);
    });

    it('gives NOT_FOUND and no data for another tenant’s job', async () => {
      const result = await subgraph.query(alice, JOB_ENTITY, { reps: [{ __typename: 'Job', id: backupB.id }] });
      expect(result.data!._entities).toEqual([null]);
      expect(errorCodes(result)).toEqual(['NOT_FOUND']);
      expect(result.errors![0].message).toBe('Job not found');
    });
  });

  describe('gateway proof', () => {
    const operations = {
      root: { query: JOB, variables: () => ({ id: backupA.id }) },
      _entities: { query: JOB_ENTITY, variables: () => ({ reps: [{ __typename: 'Job', id: backupA.id }] }) },
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
