// The jobs subgraph's lists are pages: each runs the shared paging checks on rows of its own.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import type { Principal } from '@listbackup/lib/principal';
import { describePaging, type PagingResponse } from '../../../test/support/paging.ts';
import { startJobs } from '../src/index.ts';
import { JobLog } from '../src/entities/job-log.ts';
import { createJobRecord } from '../src/services/job-service.ts';
import { newSecret, newUser, startTestSubgraph, type TestSubgraph } from './support/subgraph-harness.ts';

let subgraph: TestSubgraph;
const alice: Principal = newUser();
const bob: Principal = newUser();
const accountA = randomUUID();
const accountB = randomUUID();
const sourceA = randomUUID();
const sourceB = randomUUID();
/** Alice's jobs newest first (ties on the same instant by id, descending), and the backups among them. */
let jobOrder: string[];
let backupOrder: string[];
let loggedJob: string;
let bobsJob: string;
const JOB_COUNT = 45;
const LOG_LINES = 130;
const logLines = Array.from({ length: LOG_LINES }, (_, i) => `paged-log-${String(i).padStart(3, '0')}`);

beforeAll(async () => {
  subgraph = await startTestSubgraph('jobs', (runtime) => startJobs(runtime, { sourcesUrl: 'http://127.0.0.1:9/graphql' }), { secret: newSecret() });
  subgraph.access.grant(alice, accountA, 'viewer').grant(bob, accountB, 'admin');
  const em = subgraph.service.orm.em.fork();
  const start = Date.parse('2026-03-01T00:00:00Z');
  const jobs: { id: string; kind: string; createdAt: number }[] = [];
  // Three at a time on the same instant, kinds interleaved: ties are broken by id.
  for (let i = 0; i < JOB_COUNT; i++) {
    const kind = i % 3 === 1 ? 'VERIFY' : 'BACKUP';
    const createdAt = start + Math.floor(i / 3) * 60_000;
    const job = await createJobRecord(em, { accountId: accountA, sourceId: sourceA, kind, status: 'SUCCEEDED', createdAt: new Date(createdAt) });
    jobs.push({ id: job.id, kind, createdAt });
  }
  bobsJob = (await createJobRecord(em, { accountId: accountB, sourceId: sourceB, kind: 'BACKUP', status: 'SUCCEEDED', createdAt: new Date(start + 30 * 60_000) })).id;
  jobs.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
  jobOrder = jobs.map((job) => job.id);
  backupOrder = jobs.filter((job) => job.kind === 'BACKUP').map((job) => job.id);
  loggedJob = jobOrder[0];
  for (const message of logLines) em.create(JobLog, { jobId: loggedJob, accountId: accountA, message });
  for (const message of ['bob-1', 'bob-2']) em.create(JobLog, { jobId: bobsJob, accountId: accountB, message });
  await em.flush();
});
afterAll(async () => {
  await subgraph?.close();
});

const query = (principal: Principal, document: string, variables: Record<string, unknown>) => subgraph.query(principal, document, variables) as Promise<PagingResponse>;

const ACCOUNT_JOBS = `query($reps: [_Any!]!, $first: Int, $after: String) { _entities(representations: $reps) { ... on Account {
  jobs(first: $first, after: $after, kind: [BACKUP]) { edges { cursor node { id kind account { id } } } pageInfo { hasNextPage endCursor } } } } }`;
const accountJobs = (by: Principal, accountId: string) => (first?: number, after?: string | null) =>
  query(by, ACCOUNT_JOBS, { reps: [{ __typename: 'Account', id: accountId }], first, after });

describePaging('Account.jobs (of a kind)', {
  page: accountJobs(alice, accountA),
  connection: (response) => response.data!._entities[0].jobs,
  failed: (response) => response.data?._entities?.[0],
  label: (node) => node.id,
  expected: () => backupOrder,
  walk: 7,
  secret: () => backupOrder[0],
  foreign: {
    cursor: async () => (await accountJobs(bob, accountB)(1)).data!._entities[0].jobs.pageInfo.endCursor,
  },
  stranger: { page: accountJobs(bob, accountA), code: 'NOT_FOUND' },
});

const SOURCE_JOBS = `query($reps: [_Any!]!, $first: Int, $after: String) { _entities(representations: $reps) { ... on Source {
  jobs(first: $first, after: $after) { edges { cursor node { id account { id } } } pageInfo { hasNextPage endCursor } } } } }`;
const sourceJobs = (by: Principal, sourceId: string) => (first?: number, after?: string | null) =>
  query(by, SOURCE_JOBS, { reps: [{ __typename: 'Source', id: sourceId }], first, after });

describePaging('Source.jobs', {
  page: sourceJobs(alice, sourceA),
  connection: (response) => response.data!._entities[0].jobs,
  failed: (response) => response.data?._entities?.[0],
  label: (node) => node.id,
  expected: () => jobOrder,
  walk: 10,
  secret: () => jobOrder[0],
  foreign: {
    cursor: async () => (await sourceJobs(bob, sourceB)(1)).data!._entities[0].jobs.pageInfo.endCursor,
  },
  stranger: { page: sourceJobs(bob, sourceA), code: 'NOT_FOUND' },
});

const LOG = `query($id: ID!, $first: Int, $after: String) { job(id: $id) {
  log(first: $first, after: $after) { edges { cursor node { message } } pageInfo { hasNextPage endCursor } } } }`;
const jobLog = (by: Principal, jobId: () => string) => (first?: number, after?: string | null) => query(by, LOG, { id: jobId(), first, after });
const base64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describePaging('Job.log', {
  page: jobLog(alice, () => loggedJob),
  connection: (response) => response.data!.job.log,
  failed: (response) => response.data?.job,
  label: (node) => node.message,
  expected: () => logLines,
  walk: 40,
  defaultSize: 100,
  secret: () => 'paged-log',
  forged: () => [base64([1.5]), base64(['1']), base64([1, 2])],
  foreign: {
    cursor: async () => (await jobLog(bob, () => bobsJob)(1)).data!.job.log.pageInfo.endCursor,
  },
  stranger: { page: jobLog(bob, () => loggedJob), code: 'NOT_FOUND' },
});
