import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@listbackup/lib/principal';
import { OutboxEvent } from '@listbackup/lib/events/outbox';
import { startJobs } from '../src/index.ts';
import { Job } from '../src/entities/job.ts';
import { createJobRecord } from '../src/services/job-service.ts';
import { jobsService } from './support/jobs-support.ts';
import { startSources } from '../../sources/src/index.ts';
import { createSourceRecord } from '../../sources/src/services/source-service.ts';
import { Source } from '../../sources/src/entities/source.ts';
import {
  ANONYMOUS,
  accountRefs,
  errorCodes,
  invalidTokens,
  newSecret,
  newUser,
  selectsFrom,
  startTestSubgraph,
  type TestSubgraph,
} from './support/subgraph-harness.ts';

const JOB = `query($id: ID!) { job(id: $id) { id kind status attempts createdAt startedAt finishedAt failureType failureReason partialSuccess cancelRequested nextAttemptAt
  progress { itemsDone itemsTotal bytesDone bytesTotal itemsPerSecond bytesPerSecond etaSeconds percent totalsEstimated } triggeredBy { kind id } account { id } source { id } } }`;
const ACCOUNT_JOBS = `query($reps: [_Any!]!, $first: Int, $after: String, $status: [JobStatus!], $kind: [JobKind!]) {
  _entities(representations: $reps) { ... on Account { id jobs(first: $first, after: $after, status: $status, kind: $kind) { edges { cursor node { id kind } } pageInfo { hasNextPage endCursor } } } } }`;
const SOURCE_JOBS = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Source { id jobs { edges { node { id kind status } } } } } }`;
const JOB_ENTITY = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Job { id status log { edges { node { message } } } } } }`;
const JOBS = `query($filter: JobFilter, $first: Int, $after: String) { jobs(filter: $filter, first: $first, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`;
const TRIGGER = `mutation($sourceId: ID!) { triggerSync(sourceId: $sourceId) { id kind status attempts source { id } account { id } triggeredBy { kind id } } }`;

const ids = (page: { edges: { node: { id: string } }[] }) => page.edges.map((edge) => edge.node.id);

describe('jobs subgraph', () => {
  let subgraph: TestSubgraph;
  let sources: TestSubgraph;
  let alice: Principal;
  let bob: Principal;
  const accountA = randomUUID();
  const accountB = randomUUID();
  const sourceA = randomUUID();
  const sourceB = randomUUID();
  let backupA: Job;
  let exportA: Job;
  let verifyA: Job;
  let backupB: Job;

  beforeAll(async () => {
    // Both services hold the same internal token secret, as in a deployment.
    const secret = newSecret();
    sources = await startTestSubgraph('sources', (runtime) => startSources(runtime, { platformsUrl: 'http://127.0.0.1:9/graphql', jobsUrl: 'http://127.0.0.1:9', scheduler: false }), { secret });
    subgraph = await startTestSubgraph('jobs', (runtime) => startJobs(runtime, { sourcesUrl: sources.url }), { secret });
    alice = newUser();
    bob = newUser();
    subgraph.access.grant(alice, accountA, 'viewer').grant(bob, accountB, 'admin');
    const em = subgraph.service.orm.em.fork();
    backupA = await createJobRecord(em, { accountId: accountA, sourceId: sourceA, kind: 'BACKUP', status: 'SUCCEEDED', createdAt: new Date('2026-01-01T10:00:00Z') });
    exportA = await createJobRecord(em, { accountId: accountA, kind: 'EXPORT', createdAt: new Date('2026-01-01T11:00:00Z') });
    verifyA = await createJobRecord(em, { accountId: accountA, sourceId: sourceA, kind: 'VERIFY', status: 'FAILED', createdAt: new Date('2026-01-01T12:00:00Z') });
    backupB = await createJobRecord(em, { accountId: accountB, sourceId: sourceB, kind: 'BACKUP' });
  });
  afterAll(async () => {
    await subgraph?.close();
    await sources?.close();
  });

  it('has migrations that match the entities exactly', async () => {
    expect((await subgraph.service.orm.schema.getUpdateSchemaSQL()).trim()).toBe('');
  });

  describe('job(id)', () => {
    it('returns a job of an account the caller can see, with its state and references', async () => {
      const result = await subgraph.query(alice, JOB, { id: backupA.id });
      expect(result.errors).toBeUndefined();
      expect(result.data!.job).toEqual({
        id: backupA.id,
        kind: 'BACKUP',
        status: 'SUCCEEDED',
        attempts: 0,
        createdAt: backupA.createdAt.toISOString(),
        startedAt: null,
        finishedAt: null,
        failureType: null,
        failureReason: null,
        partialSuccess: false,
        cancelRequested: false,
        nextAttemptAt: null,
        progress: { itemsDone: 0, itemsTotal: null, bytesDone: 0, bytesTotal: null, itemsPerSecond: null, bytesPerSecond: null, etaSeconds: null, percent: null, totalsEstimated: false },
        triggeredBy: { kind: 'SYSTEM', id: null },
        account: { id: accountA },
        source: { id: sourceA },
      });
      expect((await subgraph.query(alice, JOB, { id: exportA.id })).data!.job).toMatchObject({ kind: 'EXPORT', status: 'QUEUED', source: null });
    });

    it('derives percent and ETA from the stored progress', async () => {
      const em = subgraph.service.orm.em.fork();
      const running = await createJobRecord(em, { accountId: accountA, kind: 'VERIFY', status: 'RUNNING' });
      running.progress = { itemsDone: 25, itemsTotal: 100, bytesDone: 1_000, bytesTotal: 4_000, itemsPerSecond: 5, bytesPerSecond: 100 };
      await em.flush();
      const result = await subgraph.query(alice, JOB, { id: running.id });
      expect(result.data!.job.progress).toEqual({ itemsDone: 25, itemsTotal: 100, bytesDone: 1000, bytesTotal: 4000, itemsPerSecond: 5, bytesPerSecond: 100, etaSeconds: 30, percent: 25, totalsEstimated: false });
      await em.nativeDelete(Job, { id: running.id });
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
    it('pages through only that account’s jobs, newest first', async () => {
      const first = await subgraph.query(alice, ACCOUNT_JOBS, { reps: accountRefs([accountA]), first: 2 });
      expect(first.errors).toBeUndefined();
      const page = first.data!._entities[0].jobs;
      expect(ids(page)).toEqual([verifyA.id, exportA.id]);
      expect(page.pageInfo).toEqual({ hasNextPage: true, endCursor: page.edges[1].cursor });
      const second = await subgraph.query(alice, ACCOUNT_JOBS, { reps: accountRefs([accountA]), first: 2, after: page.pageInfo.endCursor });
      expect(ids(second.data!._entities[0].jobs)).toEqual([backupA.id]);
      expect(second.data!._entities[0].jobs.pageInfo.hasNextPage).toBe(false);
      const bobs = await subgraph.query(bob, ACCOUNT_JOBS, { reps: accountRefs([accountB]) });
      expect(ids(bobs.data!._entities[0].jobs)).toEqual([backupB.id]);
    });

    it('filters by status and kind', async () => {
      const failed = await subgraph.query(alice, ACCOUNT_JOBS, { reps: accountRefs([accountA]), status: ['FAILED', 'SUCCEEDED'], kind: ['BACKUP'] });
      expect(ids(failed.data!._entities[0].jobs)).toEqual([backupA.id]);
    });

    it('gives NOT_FOUND and no jobs for an account the caller cannot see', async () => {
      const result = await subgraph.query(alice, ACCOUNT_JOBS, { reps: accountRefs([accountB]) });
      expect(result.data!._entities).toEqual([null]);
      expect(errorCodes(result)).toEqual(['NOT_FOUND']);
      expect(JSON.stringify(result)).not.toContain(backupB.id);
    });

    it('refuses a cursor it did not give out, and a page size below one', async () => {
      for (const variables of [{ after: 'bm9wZQ' }, { first: 0 }]) {
        const result = await subgraph.query(alice, ACCOUNT_JOBS, { reps: accountRefs([accountA]), ...variables });
        expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
      }
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
      expect(result.data!._entities.map((a: { jobs: { edges: unknown[] } }) => a.jobs.edges.length)).toEqual(accounts.map((_, i) => (i % 10 === 0 ? 1 : 0)));
      expect(selectsFrom(subgraph.queries, 'jobs', 'jobs')).toHaveLength(1);
    });
  });

  describe('jobs(filter)', () => {
    it('lists the jobs of every account the caller can see, or of one, filtered and paged', async () => {
      const carol = newUser();
      subgraph.access.grant(carol, accountA, 'viewer').grant(carol, accountB, 'viewer');
      const all = await subgraph.query(carol, JOBS, {});
      expect(all.errors).toBeUndefined();
      expect(new Set(ids(all.data!.jobs))).toEqual(new Set([backupA.id, exportA.id, verifyA.id, backupB.id]));
      expect(ids((await subgraph.query(carol, JOBS, { filter: { accountId: accountB } })).data!.jobs)).toEqual([backupB.id]);
      expect(ids((await subgraph.query(carol, JOBS, { filter: { sourceId: sourceA } })).data!.jobs)).toEqual([verifyA.id, backupA.id]);
      expect(ids((await subgraph.query(carol, JOBS, { filter: { kind: ['EXPORT'], status: ['QUEUED'] } })).data!.jobs)).toEqual([exportA.id]);
      const page = (await subgraph.query(carol, JOBS, { filter: { accountId: accountA }, first: 1 })).data!.jobs;
      expect(ids(page)).toEqual([verifyA.id]);
      const next = (await subgraph.query(carol, JOBS, { filter: { accountId: accountA }, first: 5, after: page.pageInfo.endCursor })).data!.jobs;
      expect(ids(next)).toEqual([exportA.id, backupA.id]);
    });

    it('never shows another tenant’s jobs, whatever the filter', async () => {
      const mine = await subgraph.query(alice, JOBS, {});
      expect(ids(mine.data!.jobs)).not.toContain(backupB.id);
      expect(ids((await subgraph.query(alice, JOBS, { filter: { sourceId: sourceB } })).data!.jobs)).toEqual([]);
      const theirs = await subgraph.query(alice, JOBS, { filter: { accountId: accountB } });
      expect(errorCodes(theirs)).toEqual(['NOT_FOUND']);
      expect(JSON.stringify(theirs)).not.toContain(backupB.id);
    });
  });

  describe('Source.jobs', () => {
    it('lists a source’s jobs newest first, and nothing of another tenant’s source', async () => {
      const result = await subgraph.query(alice, SOURCE_JOBS, { reps: [{ __typename: 'Source', id: sourceA }] });
      expect(result.errors).toBeUndefined();
      expect(ids(result.data!._entities[0].jobs)).toEqual([verifyA.id, backupA.id]);
      const theirs = await subgraph.query(alice, SOURCE_JOBS, { reps: [{ __typename: 'Source', id: sourceB }] });
      expect(theirs.data!._entities).toEqual([null]);
      expect(errorCodes(theirs)).toEqual(['NOT_FOUND']);
      expect(JSON.stringify(theirs)).not.toContain(backupB.id);
    });
  });

  describe('Job entity (_entities) and its log', () => {
    it('resolves a representation the caller may see, with its log', async () => {
      const result = await subgraph.query(alice, JOB_ENTITY, { reps: [{ __typename: 'Job', id: backupA.id }] });
      expect(result.errors).toBeUndefined();
      expect(result.data!._entities).toEqual([{ id: backupA.id, status: 'SUCCEEDED', log: { edges: [] } }]);
    });

    it('gives NOT_FOUND and no data (nor log) for another tenant’s job', async () => {
      const result = await subgraph.query(alice, JOB_ENTITY, { reps: [{ __typename: 'Job', id: backupB.id }] });
      expect(result.data!._entities).toEqual([null]);
      expect(errorCodes(result)).toEqual(['NOT_FOUND']);
      expect(result.errors![0].message).toBe('Job not found');
    });
  });

  describe('triggerSync', () => {
    let operator: Principal;
    let source: Source;
    let theirSource: Source;

    beforeAll(async () => {
      operator = newUser();
      subgraph.access.grant(operator, accountA, 'operator');
      const em = sources.service.orm.em.fork();
      source = await createSourceRecord(em, { accountId: accountA, connectionId: randomUUID(), name: 'Stripe', resources: ['customers'] });
      theirSource = await createSourceRecord(em, { accountId: accountB, connectionId: randomUUID(), name: 'Theirs', resources: ['customers'] });
    });

    it('returns the new backup job at once, QUEUED, with its job.created event in the outbox', async () => {
      const result = await subgraph.query(operator, TRIGGER, { sourceId: source.id });
      expect(result.errors).toBeUndefined();
      const job = result.data!.triggerSync;
      expect(job).toMatchObject({ kind: 'BACKUP', status: 'QUEUED', attempts: 0, source: { id: source.id }, account: { id: accountA } });
      expect(job.triggeredBy).toEqual({ kind: 'USER', id: (operator as { userId: string }).userId });
      const events = await subgraph.service.orm.em.fork().find(OutboxEvent, { subject: job.id });
      expect(events.map((e) => e.type)).toEqual(['job.created']);
      expect(events[0].data).toMatchObject({ accountId: accountA, sourceId: source.id, jobId: job.id, job: { status: 'QUEUED' } });
      // A second trigger while it is queued answers the same job instead of a parallel backup.
      expect((await subgraph.query(operator, TRIGGER, { sourceId: source.id })).data!.triggerSync.id).toBe(job.id);
    });

    it('with full: true, queues a backup that reads every resource in full', async () => {
      const fresh = await createSourceRecord(sources.service.orm.em.fork(), { accountId: accountA, connectionId: randomUUID(), name: 'Full', resources: ['customers'] });
      const full = await subgraph.query(operator, `mutation($sourceId: ID!) { triggerSync(sourceId: $sourceId, full: true) { id kind status } }`, { sourceId: fresh.id });
      expect(full.errors).toBeUndefined();
      const row = await subgraph.service.orm.em.fork().findOneOrFail(Job, { id: full.data!.triggerSync.id });
      expect(row.params).toEqual({ full: true });
      const plain = await subgraph.service.orm.em.fork().findOneOrFail(Job, { sourceId: source.id, kind: 'BACKUP' });
      expect(plain.params ?? {}).toEqual({});
    });

    it('refuses a viewer, and answers NOT_FOUND for another tenant’s, a deleted or an unknown source, creating nothing', async () => {
      const before = await subgraph.service.orm.em.fork().count(Job, {});
      expect(errorCodes(await subgraph.query(alice, TRIGGER, { sourceId: source.id }))).toEqual(['FORBIDDEN']);
      const deleted = await createSourceRecord(sources.service.orm.em.fork(), { accountId: accountA, connectionId: randomUUID(), name: 'Gone', resources: ['customers'] });
      await sources.service.orm.em.fork().nativeUpdate(Source, { id: deleted.id }, { deletedAt: new Date() });
      for (const sourceId of [theirSource.id, deleted.id, randomUUID(), 'nope']) {
        const result = await subgraph.query(operator, TRIGGER, { sourceId });
        expect(errorCodes(result)).toEqual(['NOT_FOUND']);
        expect(result.errors![0].message).toBe('Source not found');
      }
      expect(await subgraph.service.orm.em.fork().count(Job, {})).toBe(before);
    });
  });

  describe('queueing', () => {
    const messagesOf = async (jobId: string) =>
      (await subgraph.service.orm.em.fork().getConnection().execute(`select count(*)::int as n from "pgboss"."job" where data->>'jobId' = ?`, [jobId]))[0].n as number;

    it('writes the queue message in the Job row’s transaction: rolled back, neither exists; committed, both do', async () => {
      const queue = jobsService(subgraph).queue;
      let jobId = '';
      const attempt = (fail: boolean) =>
        subgraph.service.orm.em.fork().transactional(async (tx) => {
          const now = new Date();
          jobId = randomUUID();
          const job = tx.create(Job, {
            id: jobId,
            accountId: accountA,
            kind: 'VERIFY',
            status: 'QUEUED',
            params: {},
            triggerKind: 'SYSTEM',
            attempts: 0,
            failures: 0,
            failuresWithoutProgress: 0,
            run: 1,
            progress: { itemsDone: 0, bytesDone: 0 },
            partialSuccess: false,
            createdAt: now,
            updatedAt: now,
          });
          await queue.enqueue(tx, job);
          if (fail) throw new Error('rolled back');
        });
      await expect(attempt(true)).rejects.toThrow('rolled back');
      expect(await messagesOf(jobId)).toBe(0);
      expect(await subgraph.service.orm.em.fork().count(Job, { id: jobId })).toBe(0);
      await attempt(false);
      expect(await messagesOf(jobId)).toBe(1);
      expect(await subgraph.service.orm.em.fork().count(Job, { id: jobId })).toBe(1);
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
