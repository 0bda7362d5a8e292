/**
 * Job analytics: read models kept by the analytics consumer from job and source events, answered
 * through Account.jobAnalytics and Source.jobAnalytics from aggregates (a fixed number of SQL
 * statements however many jobs), rolled up over a parent's sub-accounts, and tenant-isolated.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utcDay } from '@listbackup/lib/analytics';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import { createEvent } from '@listbackup/lib/events/contract';
import type { EventBus } from '@listbackup/lib/events/bus';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { NatsEventBus } from '@listbackup/lib/events/nats-bus';
import type { Principal } from '@listbackup/lib/principal';
import { openDatabase } from '@listbackup/lib/db';
import { database } from '../src/database.ts';
import { startJobs } from '../src/index.ts';
import type { FailureType, JobKind, JobStatus } from '../src/entities/job.ts';
import { handleJobEvent } from '../src/events/analytics-consumer.ts';
import { finishedJobOf, recordFinishedJob } from '../src/services/analytics-records.ts';
import type { BackupSummary } from '../src/services/job-state.ts';
import { FakeSources } from './backup/support.ts';
import { errorCodes, NATS_URL, natsIsReachable, newUser, startTestSubgraph, type TestSubgraph, uniqueName, waitFor } from './support/subgraph-harness.ts';

const natsReachable = await natsIsReachable();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const STATS = `runs succeeded failed cancelled partial successRate durationP50Seconds durationP95Seconds failuresByType { type count }
  itemsBackedUp bytesBackedUp itemsAdded itemsChanged itemsDeleted`;
const ACCOUNT_ANALYTICS = `query($id: ID!, $range: AnalyticsRange, $kind: JobKind, $sub: Boolean!) {
  _entities(representations: [{ __typename: "Account", id: $id }]) { ... on Account {
    jobAnalytics(range: $range, kind: $kind, includeSubAccounts: $sub) {
      from to kind accounts totals { ${STATS} } days { day stats { runs succeeded durationP50Seconds } }
      byPlatform { platform { id } sources stats { runs succeeded failed } }
      recovery { sources onSchedule behind neverBackedUp unscheduled lastSuccessfulBackupAt oldestLastSuccessfulBackupAt }
    } } } }`;
const SOURCE_ANALYTICS = `query($id: ID!, $range: AnalyticsRange, $kind: JobKind) {
  _entities(representations: [{ __typename: "Source", id: $id }]) { ... on Source {
    jobAnalytics(range: $range, kind: $kind) {
      from to kind totals { ${STATS} } days { day stats { runs } }
      recoveryPoint { status lastSuccessfulBackupAt lastSuccessfulJob { id } ageSeconds targetSeconds }
    } } } }`;

interface FinishedSpec {
  accountId: string;
  sourceId: string;
  status: JobStatus;
  kind?: JobKind;
  finishedAt: Date;
  durationMs?: number;
  failureType?: FailureType;
  partial?: boolean;
  backup?: Partial<BackupSummary>;
  jobId?: string;
}

/** A `job.completed|failed|cancelled` event as the worker writes it. */
function finishedEvent(spec: FinishedSpec): EventEnvelope {
  const jobId = spec.jobId ?? randomUUID();
  const type = spec.status === 'SUCCEEDED' ? 'job.completed' : spec.status === 'FAILED' ? 'job.failed' : 'job.cancelled';
  const startedAt = spec.durationMs === undefined ? null : new Date(spec.finishedAt.getTime() - spec.durationMs).toISOString();
  const backup = spec.status === 'SUCCEEDED' && (spec.kind ?? 'BACKUP') === 'BACKUP' ? { snapshotId: randomUUID(), items: 0, logicalBytes: 0, changes: null, anomaly: false, ...spec.backup } : undefined;
  return createEvent(type, spec.accountId, jobId, {
    accountId: spec.accountId,
    sourceId: spec.sourceId,
    jobId,
    job: {
      __typename: 'Job',
      id: jobId,
      kind: spec.kind ?? 'BACKUP',
      status: spec.status,
      attempts: 1,
      progress: { itemsDone: 0, itemsTotal: null, bytesDone: 0, bytesTotal: null, itemsPerSecond: null, bytesPerSecond: null, etaSeconds: null, percent: null },
      failureType: spec.failureType ?? null,
      failureReason: spec.failureType ? 'it failed' : null,
      partialSuccess: spec.partial ?? false,
      cancelRequested: false,
      createdAt: spec.finishedAt.toISOString(),
      startedAt,
      finishedAt: spec.finishedAt.toISOString(),
      nextAttemptAt: null,
    },
    ...(backup ? { backup } : {}),
  });
}

function sourceEvent(type: 'source.created' | 'source.updated' | 'source.paused' | 'source.deleted', accountId: string, sourceId: string, source: Record<string, unknown>, time?: Date): EventEnvelope {
  const state = { name: 'S', paused: false, deletedAt: null, ...source } as { name: string; paused: boolean; deletedAt: string | null; schedule: { kind: string; cron: string | null; timeZone: string | null } };
  const extra = { 'source.created': { connectionId: randomUUID(), resources: ['customers'], schedule: state.schedule }, 'source.updated': { changed: ['schedule'] }, 'source.paused': {}, 'source.deleted': { withSnapshots: false } }[type];
  const event = createEvent(type, accountId, sourceId, { accountId, sourceId, source: state, ...extra } as never);
  return time ? { ...event, time: time.toISOString() } : event;
}

const daily = { kind: 'CRON', cron: '0 3 * * *', timeZone: 'UTC' };
const manual = { kind: 'MANUAL', cron: null, timeZone: null };
const stripe = { id: randomUUID(), slug: 'stripe' };
const github = { id: randomUUID(), slug: 'github' };

describe('job analytics', () => {
  let jobs: TestSubgraph;
  const fakeSources = new FakeSources();
  const namespace = uniqueName('lbanalytics');
  let bus: EventBus;
  const owner = newUser();
  const accountId = randomUUID();
  const stripeSource = randomUUID();
  const githubSource = randomUUID();
  const now = new Date();
  const today = utcDay(now);
  const yesterday = utcDay(new Date(now.getTime() - DAY));

  /** Publishes events on the bus and waits until the consumer has applied them all. */
  async function publish(...events: EventEnvelope[]): Promise<void> {
    for (const event of events) await bus.publish(event);
    const orm = jobs.service.orm;
    await waitFor(async () => {
      const rows = await orm.em.fork().getConnection().execute<{ n: string }[]>(`select count(*) as n from "jobs"."processed_events" where "event_id" = any(?::uuid[])`, [`{${events.map((e) => e.id).join(',')}}`]);
      return Number(rows[0].n) === events.length;
    }, 'the analytics consumer to apply the events');
  }

  const accountAnalytics = (principal: Principal, id: string, variables: Record<string, unknown> = {}) =>
    jobs.query(principal, ACCOUNT_ANALYTICS, { id, sub: false, ...variables });
  const sourceAnalytics = (principal: Principal, id: string, variables: Record<string, unknown> = {}) => jobs.query(principal, SOURCE_ANALYTICS, { id, ...variables });

  beforeAll(async () => {
    await fakeSources.start();
    // The consumer's durable subscriptions on JetStream, as deployed (in-process only where NATS is missing outside CI).
    bus = natsReachable ? await NatsEventBus.connect(NATS_URL, { namespace, stream: namespace.toUpperCase() }) : new InProcessEventBus();
    jobs = await startTestSubgraph('jobs', (runtime) => startJobs(runtime, { sourcesUrl: fakeSources.url }), { bus, durablePrefix: namespace });
    jobs.access.grant(owner, accountId, 'viewer');
    await publish(
      sourceEvent('source.created', accountId, stripeSource, { schedule: daily, platform: stripe }),
      sourceEvent('source.created', accountId, githubSource, { schedule: manual, platform: github }),
    );
  });

  afterAll(async () => {
    await jobs?.close();
    if (bus instanceof NatsEventBus) await (await bus.connection.jetstreamManager()).streams.delete(bus.stream).catch(() => undefined);
    await bus?.close();
    await fakeSources.close();
  });

  it('adds up finished jobs per day and platform: success rate, p50/p95 durations, failures by type, items and bytes', async () => {
    const at = (day: string, hour: number) => new Date(`${day}T${String(hour).padStart(2, '0')}:00:00Z`);
    const durations = [60_000, 120_000, 180_000, 240_000, 300_000, 600_000, 3_600_000];
    const events = [
      ...durations.map((durationMs, i) =>
        finishedEvent({ accountId, sourceId: stripeSource, status: 'SUCCEEDED', finishedAt: at(yesterday, 3), durationMs, partial: i === 0, backup: { items: 100, logicalBytes: 1000, changes: { previousItems: 100, added: 2, changed: 3, deleted: 1 } } }),
      ),
      finishedEvent({ accountId, sourceId: stripeSource, status: 'FAILED', failureType: 'RATE_LIMITED', finishedAt: at(yesterday, 4), durationMs: 5_000 }),
      finishedEvent({ accountId, sourceId: githubSource, status: 'FAILED', failureType: 'CONFIG', finishedAt: at(yesterday, 5), durationMs: 1_000 }),
      finishedEvent({ accountId, sourceId: githubSource, status: 'FAILED', failureType: 'CONFIG', finishedAt: at(yesterday, 6) }),
      finishedEvent({ accountId, sourceId: githubSource, status: 'CANCELLED', finishedAt: at(yesterday, 7), durationMs: 2_000 }),
      // Another kind is counted apart.
      finishedEvent({ accountId, sourceId: stripeSource, kind: 'PRUNE', status: 'SUCCEEDED', finishedAt: at(yesterday, 8), durationMs: 10 }),
    ];
    await publish(...events);

    const response = await accountAnalytics(owner, accountId, { range: { from: yesterday, to: today } });
    expect(response.errors).toBeUndefined();
    const analytics = response.data!._entities[0].jobAnalytics;
    expect(analytics).toMatchObject({ from: yesterday, to: today, kind: 'BACKUP', accounts: 1 });
    expect(analytics.totals).toMatchObject({
      runs: 11,
      succeeded: 7,
      failed: 3,
      cancelled: 1,
      partial: 1,
      successRate: 7 / 10,
      failuresByType: [
        { type: 'CONFIG', count: 2 },
        { type: 'RATE_LIMITED', count: 1 },
      ],
      itemsBackedUp: 700,
      bytesBackedUp: 7000,
      itemsAdded: 14,
      itemsChanged: 21,
      itemsDeleted: 7,
    });
    // The durations of timed jobs: 10 of the 11 (one failed before it started).
    const timed = [...durations, 5_000, 1_000, 2_000].sort((a, b) => a - b);
    const exact = (q: number) => timed[Math.floor(q * (timed.length - 1))] / 1000;
    expect(Math.abs(analytics.totals.durationP50Seconds - exact(0.5)) / exact(0.5)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(analytics.totals.durationP95Seconds - exact(0.95)) / exact(0.95)).toBeLessThanOrEqual(0.01);
    expect(analytics.days).toEqual([
      { day: yesterday, stats: expect.objectContaining({ runs: 11, succeeded: 7 }) },
      { day: today, stats: { runs: 0, succeeded: 0, durationP50Seconds: null } },
    ]);
    expect(analytics.byPlatform).toEqual([
      { platform: { id: stripe.id }, sources: 1, stats: { runs: 8, succeeded: 7, failed: 1 } },
      { platform: { id: github.id }, sources: 1, stats: { runs: 3, succeeded: 0, failed: 2 } },
    ]);

    const prunes = await accountAnalytics(owner, accountId, { range: { from: yesterday, to: today }, kind: 'PRUNE' });
    expect(prunes.data!._entities[0].jobAnalytics.totals).toMatchObject({ runs: 1, succeeded: 1, itemsBackedUp: 0 });

    // Every event applied again (a redelivery, a replay of the stream) changes no total.
    for (const event of events) expect(await handleJobEvent(jobs.service.orm, event)).toBe(false);
    const again = await accountAnalytics(owner, accountId, { range: { from: yesterday, to: today } });
    expect(again.data!._entities[0].jobAnalytics).toEqual(analytics);

    const perSource = await sourceAnalytics(owner, githubSource, { range: { from: yesterday, to: yesterday } });
    expect(perSource.errors).toBeUndefined();
    expect(perSource.data!._entities[0].jobAnalytics.totals).toMatchObject({ runs: 3, succeeded: 0, failed: 2, cancelled: 1, successRate: 0 });
  });

  it('tells the recovery point each source achieves against its schedule', async () => {
    const account = randomUUID();
    jobs.access.grant(owner, account, 'viewer');
    const onTime = randomUUID();
    const late = randomUUID();
    const never = randomUUID();
    const byHand = randomUUID();
    const lastGood = new Date(now.getTime() - 2 * HOUR);
    const goodJob = randomUUID();
    await publish(
      sourceEvent('source.created', account, onTime, { schedule: { kind: 'CRON', cron: '0 * * * *', timeZone: 'UTC' }, platform: stripe }),
      sourceEvent('source.created', account, late, { schedule: daily, platform: stripe }),
      sourceEvent('source.created', account, never, { schedule: daily, platform: stripe }),
      sourceEvent('source.created', account, byHand, { schedule: manual, platform: github }),
      finishedEvent({ accountId: account, sourceId: onTime, status: 'SUCCEEDED', finishedAt: new Date(now.getTime() - 10 * 60_000), durationMs: 1000 }),
      finishedEvent({ accountId: account, sourceId: late, status: 'SUCCEEDED', finishedAt: lastGood, durationMs: 1000, jobId: goodJob }),
      finishedEvent({ accountId: account, sourceId: late, status: 'FAILED', failureType: 'TRANSIENT', finishedAt: new Date(now.getTime() - HOUR), durationMs: 1000 }),
      finishedEvent({ accountId: account, sourceId: byHand, status: 'SUCCEEDED', finishedAt: new Date(now.getTime() - 40 * DAY), durationMs: 1000 }),
    );
    // Yesterday's and today's runs of the daily source are missed once it is three days later: move its last success back.
    const stale = new Date(now.getTime() - 3 * DAY);
    await publish(sourceEvent('source.updated', account, late, { schedule: daily }));
    await publish(finishedEvent({ accountId: account, sourceId: late, status: 'SUCCEEDED', finishedAt: stale, durationMs: 1000 }));

    const point = async (sourceId: string) => (await sourceAnalytics(owner, sourceId)).data!._entities[0].jobAnalytics.recoveryPoint;
    expect(await point(onTime)).toMatchObject({ status: 'ON_SCHEDULE', targetSeconds: 3600 });
    // The older success arriving later does not replace the newer one.
    const lateSource = await point(late);
    expect(lateSource).toMatchObject({ targetSeconds: 86_400, lastSuccessfulBackupAt: lastGood.toISOString(), lastSuccessfulJob: null });
    expect(lateSource.ageSeconds).toBeGreaterThanOrEqual(2 * 3600);
    expect(await point(never)).toMatchObject({ status: 'NEVER_BACKED_UP', lastSuccessfulBackupAt: null, ageSeconds: null });
    expect(await point(byHand)).toMatchObject({ status: 'UNSCHEDULED', targetSeconds: null });
    expect((await point(byHand)).ageSeconds).toBeGreaterThanOrEqual(40 * 86_400);

    const response = await accountAnalytics(owner, account);
    expect(response.data!._entities[0].jobAnalytics.recovery).toMatchObject({ sources: 4, neverBackedUp: 1, unscheduled: 1, lastSuccessfulBackupAt: expect.any(String) });

    // Paused, then deleted: no longer promised; a deleted source leaves the summary.
    await publish(sourceEvent('source.paused', account, onTime, { schedule: { kind: 'CRON', cron: '0 * * * *', timeZone: 'UTC' }, paused: true }));
    expect(await point(onTime)).toMatchObject({ status: 'UNSCHEDULED' });
    await publish(sourceEvent('source.deleted', account, never, { schedule: daily, deletedAt: now.toISOString() }));
    expect((await accountAnalytics(owner, account)).data!._entities[0].jobAnalytics.recovery).toMatchObject({ sources: 3, neverBackedUp: 0 });
  });

  it('marks a scheduled source BEHIND once a whole scheduled backup is missing', async () => {
    const account = randomUUID();
    jobs.access.grant(owner, account, 'viewer');
    const sourceId = randomUUID();
    await publish(
      sourceEvent('source.created', account, sourceId, { schedule: daily, platform: stripe }),
      finishedEvent({ accountId: account, sourceId, status: 'SUCCEEDED', finishedAt: new Date(now.getTime() - 3 * DAY), durationMs: 1000 }),
    );
    const analytics = (await sourceAnalytics(owner, sourceId)).data!._entities[0].jobAnalytics;
    expect(analytics.recoveryPoint).toMatchObject({ status: 'BEHIND', targetSeconds: 86_400 });
    expect(analytics.recoveryPoint.ageSeconds).toBeGreaterThan(analytics.recoveryPoint.targetSeconds * 2);
    expect((await accountAnalytics(owner, account)).data!._entities[0].jobAnalytics.recovery).toMatchObject({ sources: 1, behind: 1, onSchedule: 0 });
  });

  it("rolls a parent up over its sub-accounts, and never over an account outside the caller's tree", async () => {
    const msp = randomUUID();
    const clientA = randomUUID();
    const clientB = randomUUID();
    const grandchild = randomUUID();
    const elsewhere = randomUUID();
    const operator = newUser();
    jobs.access.place(clientA, msp).place(clientB, msp).place(grandchild, clientA);
    for (const id of [msp, clientA, clientB, grandchild]) jobs.access.grant(operator, id, 'viewer');
    // The operator also sees an unrelated account: it must stay out of the MSP's roll-up.
    jobs.access.grant(operator, elsewhere, 'owner');
    const sources = Object.fromEntries([msp, clientA, clientB, grandchild, elsewhere].map((id) => [id, randomUUID()]));
    const events: EventEnvelope[] = [];
    for (const [account, sourceId] of Object.entries(sources)) {
      events.push(sourceEvent('source.created', account, sourceId, { schedule: manual, platform: stripe }));
      events.push(finishedEvent({ accountId: account, sourceId, status: 'SUCCEEDED', finishedAt: now, durationMs: 1000, backup: { items: 10 } }));
    }
    // One client's backup failed too: it heads the MSP's list of accounts.
    events.push(finishedEvent({ accountId: clientB, sourceId: sources[clientB], status: 'FAILED', failureType: 'TRANSIENT', finishedAt: now, durationMs: 1000 }));
    await publish(...events);

    const own = (await accountAnalytics(operator, msp)).data!._entities[0].jobAnalytics;
    expect(own).toMatchObject({ accounts: 1, totals: { runs: 1, itemsBackedUp: 10 } });
    const rolled = (await accountAnalytics(operator, msp, { sub: true })).data!._entities[0].jobAnalytics;
    expect(rolled).toMatchObject({ accounts: 4, totals: { runs: 5, itemsBackedUp: 40 }, recovery: { sources: 4 } });

    // Per account, a page at a time, the most failures first; every account of the tree and no other.
    const BY_ACCOUNT = `query($id: ID!, $after: String) { _entities(representations: [{ __typename: "Account", id: $id }]) { ... on Account {
      jobAnalytics(includeSubAccounts: true) { byAccount(first: 2, after: $after) { totalCount edges { cursor node { account { id } stats { runs failed } } } pageInfo { hasNextPage endCursor } } } } } }`;
    const page1 = (await jobs.query(operator, BY_ACCOUNT, { id: msp })).data!._entities[0].jobAnalytics.byAccount;
    expect(page1).toMatchObject({ totalCount: 4, pageInfo: { hasNextPage: true } });
    expect(page1.edges[0].node).toEqual({ account: { id: clientB }, stats: { runs: 2, failed: 1 } });
    const page2 = (await jobs.query(operator, BY_ACCOUNT, { id: msp, after: page1.pageInfo.endCursor })).data!._entities[0].jobAnalytics.byAccount;
    expect(page2.pageInfo.hasNextPage).toBe(false);
    const listed = [...page1.edges, ...page2.edges].map((edge: { node: { account: { id: string } } }) => edge.node.account.id);
    expect(new Set(listed)).toEqual(new Set([msp, clientA, clientB, grandchild]));
    expect(listed).toHaveLength(4);
    for (const after of ['garbage', Buffer.from('[-1]').toString('base64url')]) {
      expect(errorCodes(await jobs.query(operator, BY_ACCOUNT, { id: msp, after }))).toEqual(['BAD_USER_INPUT']);
    }
    const client = (await accountAnalytics(operator, clientA, { sub: true })).data!._entities[0].jobAnalytics;
    expect(client).toMatchObject({ accounts: 2, totals: { runs: 2 } });

    // A client's own member asking for the MSP learns nothing, rolled up or not.
    const clientMember = newUser();
    // Roles are inherited downwards: the client's owner sees the grandchild too (as accounts answers).
    jobs.access.grant(clientMember, clientA, 'owner').grant(clientMember, grandchild, 'owner');
    for (const sub of [false, true]) {
      const refused = await accountAnalytics(clientMember, msp, { sub });
      expect(errorCodes(refused)).toEqual(['NOT_FOUND']);
    }
    const clientRollUp = (await accountAnalytics(clientMember, clientA, { sub: true })).data!._entities[0].jobAnalytics;
    expect(clientRollUp).toMatchObject({ accounts: 2, totals: { runs: 2 } });
  });

  it('answers with the same number of SQL statements for an account with 10,000 jobs as for one with 10', { timeout: 240_000 }, async () => {
    const small = randomUUID();
    const large = randomUUID();
    const smallSource = randomUUID();
    // The large account's 10,000 jobs are spread over four sources, seeded side by side.
    const largeSources = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const largeSource = largeSources[0];
    jobs.access.grant(owner, small, 'viewer').grant(owner, large, 'viewer');
    await publish(
      sourceEvent('source.created', small, smallSource, { schedule: daily, platform: stripe }),
      ...largeSources.map((id) => sourceEvent('source.created', large, id, { schedule: daily, platform: stripe })),
    );
    // Seeded through the consumer's own write path, on connections of their own that log nothing (10,000 logged statements would be slow).
    const seeding = await openDatabase({ url: jobs.service.orm.config.get('clientUrl')!, ...database });
    const seed = async (account: string, sourceId: string, count: number) =>
      seeding.em.fork().transactional(async (tx) => {
        for (let i = 0; i < count; i++) {
          const event = finishedEvent({ accountId: account, sourceId, status: i % 10 === 0 ? 'FAILED' : 'SUCCEEDED', failureType: 'TRANSIENT', finishedAt: new Date(now.getTime() - (i % 20) * DAY), durationMs: 1000 + i });
          await recordFinishedJob(tx, finishedJobOf(event)!);
        }
      });
    try {
      await seed(small, smallSource, 10);
      await Promise.all(largeSources.map((sourceId) => seed(large, sourceId, 2_500)));
    } finally {
      await seeding.close();
    }

    const statements = async (run: () => Promise<unknown>) => {
      jobs.resetQueries();
      await run();
      // The outbox relay polls meanwhile (its own transactions, on outbox_events): those are not the request's.
      return jobs.queries.filter((sql) => sql.includes('"jobs".') && !sql.includes('outbox_events') && !sql.includes('processed_events'));
    };
    const range = { from: utcDay(new Date(now.getTime() - 29 * DAY)), to: today };
    let largeTotals: unknown;
    const forSmall = await statements(() => accountAnalytics(owner, small, { range }));
    const forLarge = await statements(async () => {
      largeTotals = (await accountAnalytics(owner, large, { range })).data!._entities[0].jobAnalytics.totals;
    });
    expect(largeTotals).toMatchObject({ runs: 10_000, succeeded: 9_000, failed: 1_000, failuresByType: [{ type: 'TRANSIENT', count: 1_000 }] });
    expect(forLarge.length).toBe(forSmall.length);
    expect(forLarge.length).toBeLessThanOrEqual(3);
    // Nothing reads the jobs table itself.
    expect(forLarge.some((sql) => sql.includes('"jobs"."jobs"'))).toBe(false);

    const sourceSmall = await statements(() => sourceAnalytics(owner, smallSource, { range }));
    // A source with 2,500 jobs against one with 10.
    const sourceLarge = await statements(() => sourceAnalytics(owner, largeSource, { range }));
    expect(sourceLarge.length).toBe(sourceSmall.length);
    // The source's facts, counters and duration bins, and the job of its last success.
    expect(sourceLarge.length).toBeLessThanOrEqual(4);
  });

  it('keeps every tenant to its own analytics, through _entities too', async () => {
    const stranger = newUser();
    const strangerAccount = randomUUID();
    jobs.access.grant(stranger, strangerAccount, 'owner');
    // Another tenant's account and source: "not found", exactly like ids that do not exist.
    for (const response of [await accountAnalytics(stranger, accountId), await accountAnalytics(stranger, accountId, { sub: true }), await sourceAnalytics(stranger, stripeSource)]) {
      expect(errorCodes(response)).toEqual(['NOT_FOUND']);
      expect(response.data?._entities?.[0] ?? null).toBeNull();
    }
    // Unknown sources: neither the read model nor the sources subgraph knows them.
    expect(errorCodes(await sourceAnalytics(owner, randomUUID()))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await sourceAnalytics(owner, 'not-a-source'))).toEqual(['NOT_FOUND']);
    // A source no job of which has finished yet is found through the sources subgraph, and authorized on its account.
    const fresh = fakeSources.add(accountId, randomUUID(), ['customers']);
    const freshAnalytics = await sourceAnalytics(owner, fresh.id);
    expect(freshAnalytics.errors).toBeUndefined();
    expect(freshAnalytics.data!._entities[0].jobAnalytics).toMatchObject({ totals: { runs: 0 }, recoveryPoint: { status: 'UNSCHEDULED' } });
    expect(errorCodes(await sourceAnalytics(stranger, fresh.id))).toEqual(['NOT_FOUND']);
    // The stranger's own account is empty, not someone else's.
    const own = await accountAnalytics(stranger, strangerAccount);
    expect(own.data!._entities[0].jobAnalytics).toMatchObject({ accounts: 1, totals: { runs: 0 }, byPlatform: [], recovery: { sources: 0 } });

    // An API key needs the jobs:read scope.
    const key: Principal = { kind: 'apiKey', apiKeyId: randomUUID(), accountId, scopes: ['sources:read'] };
    jobs.access.grant(key, accountId, 'admin');
    expect(errorCodes(await accountAnalytics(key, accountId))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await accountAnalytics(key, accountId, { sub: true }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await sourceAnalytics(key, stripeSource))).toEqual(['FORBIDDEN']);
  });

  it('refuses a range in the future, reversed, too long or malformed with a stable reason', async () => {
    const tomorrow = utcDay(new Date(now.getTime() + DAY));
    const cases: [Record<string, string>, string][] = [
      [{ from: today, to: tomorrow }, 'RANGE_IN_FUTURE'],
      [{ from: today, to: yesterday }, 'RANGE_REVERSED'],
      [{ from: '2020-01-01', to: today }, 'RANGE_TOO_LONG'],
    ];
    for (const [range, reason] of cases) {
      for (const response of [await accountAnalytics(owner, accountId, { range }), await sourceAnalytics(owner, stripeSource, { range })]) {
        expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
        expect((response.errors![0].extensions as { reason?: string }).reason).toBe(reason);
      }
    }
    for (const from of ['2026-02-30', '2026-13-01', 'yesterday', '']) {
      const response = await accountAnalytics(owner, accountId, { range: { from, to: today } });
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    }
    // 366 days is the most a range covers.
    const longest = await accountAnalytics(owner, accountId, { range: { from: utcDay(new Date(now.getTime() - 365 * DAY)), to: today } });
    expect(longest.errors).toBeUndefined();
    expect(longest.data!._entities[0].jobAnalytics.days).toHaveLength(366);
  });
});
