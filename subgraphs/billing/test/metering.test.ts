import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@listbackup/lib/principal';
import { createEvent, type EventDataInput, type EventType } from '@listbackup/lib/events/contract';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { createLogger } from '@listbackup/lib/logger';
import { LocalDirectoryStore, Repository, runBackup, StaticKeyProvider } from '@listbackup/engine';
import { engineStorageUsage } from '../../jobs/src/backup/storage-usage.ts';
import { startBilling } from '../src/index.ts';
import { reconcileAccount } from '../src/services/reconciliation.ts';
import { ANONYMOUS, errorCodes, newUser, startTestSubgraph, uniqueName, waitFor, type TestSubgraph } from '../../jobs/test/support/subgraph-harness.ts';

const GIB = 1024 ** 3;
const DAY = 86_400_000;
const JAN = Date.UTC(2026, 0, 1);

const USAGE = `query($reps: [_Any!]!, $from: DateTime!, $to: DateTime!) { _entities(representations: $reps) { ... on Account { id storageUsage {
  storedBytes logicalBytes dedupRatio sources { sourceId storedBytes logicalBytes } gbMonths(from: $from, to: $to) history(from: $from, to: $to) { at storedBytes logicalBytes } } } } }`;

const at = (ms: number) => ({ time: new Date(ms) });
const event = <T extends EventType>(type: T, accountId: string, data: EventDataInput<T>, time: number) => createEvent(type, accountId, randomUUID(), data, at(time));

const synced = (accountId: string, sourceId: string, snapshotId: string, storedBytes: number, logicalBytes: number, time: number) =>
  event('data.synced', accountId, { accountId, sourceId, jobId: randomUUID(), snapshotId, items: 10, logicalBytes, storedBytes, partial: false }, time);
const deleted = (accountId: string, sourceId: string, snapshotIds: string[], time: number) =>
  event('data.deleted', accountId, { accountId, sourceId, snapshots: snapshotIds.map((id) => ({ id, manifestKey: `${accountId}/snapshots/${id}` })) }, time);
const collected = (accountId: string, deletedBytes: number, time: number) =>
  event('data.garbage_collected', accountId, { accountId, jobId: randomUUID(), deletedBytes, deletedChunks: 3 }, time);

/**
 * One account's month, written down independently of the code under test: the stored bytes as a
 * step function and its integral, in GiB-days.
 *   Jan 1   snapshot 1 of source A: 1 GiB stored, 3 GiB logical
 *   Jan 11  snapshot 2 of source A: 1 GiB more stored, 3 GiB logical
 *   Jan 15  snapshot 1 of source B: 0.5 GiB stored, 1 GiB logical
 *   Jan 21  retention drops A's snapshot 1 (its bytes stay stored until GC)
 *   Jan 26  GC frees 1 GiB
 */
function month(accountId: string, a: string, b: string, snapshots: string[]) {
  const events = [
    synced(accountId, a, snapshots[0]!, GIB, 3 * GIB, JAN),
    synced(accountId, a, snapshots[1]!, GIB, 3 * GIB, JAN + 10 * DAY),
    synced(accountId, b, snapshots[2]!, GIB / 2, GIB, JAN + 14 * DAY),
    deleted(accountId, a, [snapshots[0]!], JAN + 20 * DAY),
    collected(accountId, GIB, JAN + 25 * DAY),
  ];
  // 1 GiB × 10 d + 2 GiB × 4 d + 2.5 GiB × 6 d + 2.5 GiB × 5 d + 1.5 GiB × 6 d (Jan 26 to Feb 1)
  const gibDays = 1 * 10 + 2 * 4 + 2.5 * 6 + 2.5 * 5 + 1.5 * 6;
  return { events, gbMonths: gibDays / 31, storedBytes: 1.5 * GIB, logicalBytes: 3 * GIB + GIB };
}

describe('storage metering', () => {
  let subgraph: TestSubgraph;
  // No dedup window: the same event id published twice reaches the consumer twice, as a redelivery would.
  const bus = new InProcessEventBus({ dedupWindowMs: 0 });
  let alice: Principal;
  const account = randomUUID();
  const other = randomUUID();
  const [sourceA, sourceB] = [randomUUID(), randomUUID()];
  const snapshots = [randomUUID(), randomUUID(), randomUUID()];
  const plan = month(account, sourceA, sourceB, snapshots);

  /** Publishes, then waits until billing has applied every metering event among them. */
  async function publishAndSettle(events: EventEnvelope[]): Promise<void> {
    for (const e of events) await bus.publish(e);
    const sentinelAccount = randomUUID();
    await bus.publish(collected(sentinelAccount, 0, JAN));
    await bus.publish(synced(sentinelAccount, randomUUID(), randomUUID(), 1, 1, JAN));
    await waitFor(async () => (await usageOf(sentinelAccount)).storedBytes === 1, 'the sentinel to be metered');
  }

  async function usageOf(accountId: string, principal: Principal = alice, from = JAN, to = Date.UTC(2026, 1, 1)) {
    subgraph.access.grant(principal, accountId, 'viewer');
    const result = await subgraph.query(principal, USAGE, { reps: [{ __typename: 'Account', id: accountId }], from: new Date(from).toISOString(), to: new Date(to).toISOString() });
    expect(result.errors).toBeUndefined();
    return result.data!._entities[0].storageUsage;
  }

  beforeAll(async () => {
    subgraph = await startTestSubgraph('billing', (runtime) => startBilling(runtime, { jobsUrl: 'http://127.0.0.1:9', reconciliation: false }), {
      bus,
      durablePrefix: uniqueName('test'),
    });
    alice = newUser();
  });
  afterAll(async () => {
    await subgraph?.close();
    await bus.close();
  });

  it('integrates stored bytes over the month exactly, and keeps stored and logical bytes per source', async () => {
    await publishAndSettle(plan.events);
    const usage = await usageOf(account);
    expect(usage.gbMonths).toBeCloseTo(plan.gbMonths, 12);
    expect(usage.storedBytes).toBe(plan.storedBytes);
    expect(usage.logicalBytes).toBe(plan.logicalBytes);
    expect(usage.dedupRatio).toBeCloseTo(plan.logicalBytes / plan.storedBytes, 12);
    // Source A keeps snapshot 2 (1 GiB written, 3 GiB logical); B its first. The rest is the account's.
    expect(usage.sources).toHaveLength(2);
    expect(usage.sources).toEqual(
      expect.arrayContaining([
        { sourceId: sourceA, storedBytes: GIB, logicalBytes: 3 * GIB },
        { sourceId: sourceB, storedBytes: GIB / 2, logicalBytes: GIB },
      ]),
    );
    // The end of each day of January: 1 GiB for the first 10 days, 1.5 GiB on the last.
    expect(usage.history).toHaveLength(31);
    expect(usage.history[0]).toEqual({ at: new Date(JAN + DAY).toISOString(), storedBytes: GIB, logicalBytes: 3 * GIB });
    expect(usage.history[30]).toEqual({ at: new Date(Date.UTC(2026, 1, 1)).toISOString(), storedBytes: 1.5 * GIB, logicalBytes: 4 * GIB });
  });

  describe('Source.storageUsage', () => {
    const SOURCE_USAGE = `query($reps: [_Any!]!, $from: DateTime!, $to: DateTime!) { _entities(representations: $reps) { ... on Source { id storageUsage {
      storedBytes logicalBytes dedupRatio history(from: $from, to: $to) { at storedBytes logicalBytes } } } } }`;
    const sourceUsage = (principal: Principal, sources: { id: string; accountId: string }[], from = JAN, to = Date.UTC(2026, 1, 1)) =>
      subgraph.query(principal, SOURCE_USAGE, {
        reps: sources.map((source) => ({ __typename: 'Source', id: source.id, account: { id: source.accountId } })),
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
      });

    it('keeps each source’s stored and logical bytes over time, several sources in one statement', async () => {
      subgraph.access.grant(alice, account, 'viewer');
      subgraph.resetQueries();
      const result = await sourceUsage(alice, [{ id: sourceA, accountId: account }, { id: sourceB, accountId: account }]);
      const queries = [...subgraph.queries];
      expect(result.errors).toBeUndefined();
      const [a, b] = result.data!._entities.map((entity: { storageUsage: unknown }) => entity.storageUsage);
      // A: 1 GiB (3 logical) from Jan 1, 2 GiB (6) from Jan 11, 1 GiB (3) once retention drops snapshot 1 on Jan 21.
      expect(a).toMatchObject({ storedBytes: GIB, logicalBytes: 3 * GIB, dedupRatio: 3 });
      expect(a.history).toHaveLength(31);
      expect(a.history[0]).toEqual({ at: new Date(JAN + DAY).toISOString(), storedBytes: GIB, logicalBytes: 3 * GIB });
      expect(a.history[10]).toEqual({ at: new Date(JAN + 11 * DAY).toISOString(), storedBytes: 2 * GIB, logicalBytes: 6 * GIB });
      expect(a.history[20]).toEqual({ at: new Date(JAN + 21 * DAY).toISOString(), storedBytes: GIB, logicalBytes: 3 * GIB });
      // B: nothing before Jan 15, then its snapshot.
      expect(b).toMatchObject({ storedBytes: GIB / 2, logicalBytes: GIB, dedupRatio: 2 });
      expect(b.history[13]).toEqual({ at: new Date(JAN + 14 * DAY).toISOString(), storedBytes: 0, logicalBytes: 0 });
      expect(b.history[14]).toEqual({ at: new Date(JAN + 15 * DAY).toISOString(), storedBytes: GIB / 2, logicalBytes: GIB });
      expect(queries.filter((q) => q.includes('storage_changes') && q.includes('unnest'))).toHaveLength(1);
    });

    it('shows a stranger nothing of another account’s source, whatever account the representation names (_entities)', async () => {
      const bob = newUser();
      subgraph.access.grant(bob, other, 'owner');
      const named = await sourceUsage(bob, [{ id: sourceA, accountId: account }]);
      expect(errorCodes(named)).toEqual(['NOT_FOUND']);
      expect(named.data?._entities?.[0]?.storageUsage ?? null).toBeNull();
      // Naming his own account: the source's bytes are not his.
      const forged = await sourceUsage(bob, [{ id: sourceA, accountId: other }]);
      expect(forged.errors).toBeUndefined();
      expect(forged.data!._entities[0].storageUsage).toMatchObject({ storedBytes: 0, logicalBytes: 0, dedupRatio: null });
      expect(forged.data!._entities[0].storageUsage.history.every((point: { storedBytes: number }) => point.storedBytes === 0)).toBe(true);
      const anonymous = await sourceUsage(ANONYMOUS, [{ id: sourceA, accountId: account }]);
      expect(anonymous.data?._entities?.[0]?.storageUsage ?? null).toBeNull();
      expect(errorCodes(anonymous)).toHaveLength(1);
    });
  });

  it('changes no total when every event is delivered twice more, in any order', async () => {
    const before = await usageOf(account);
    await publishAndSettle([...plan.events, ...[...plan.events].reverse()]);
    expect(await usageOf(account)).toEqual(before);
  });

  it('gives the same totals whatever order the events arrive in', async () => {
    const shuffled = randomUUID();
    const mirror = month(shuffled, sourceA, sourceB, [randomUUID(), randomUUID(), randomUUID()]);
    // Snapshots are created before they are deleted; everything else arrives out of order.
    const [s1, s2, s3, del, gc] = mirror.events;
    await publishAndSettle([gc!, s3!, s1!, s2!, del!]);
    const usage = await usageOf(shuffled);
    expect(usage.gbMonths).toBeCloseTo(mirror.gbMonths, 12);
    expect(usage.storedBytes).toBe(mirror.storedBytes);
  });

  it('counts a month by its own length: 1 GiB through February is 1 GB-month', async () => {
    const feb = randomUUID();
    await publishAndSettle([synced(feb, sourceA, randomUUID(), GIB, GIB, Date.UTC(2026, 1, 1))]);
    expect((await usageOf(feb, alice, Date.UTC(2026, 1, 1), Date.UTC(2026, 2, 1))).gbMonths).toBe(1);
    // Half of January (nothing stored) and half of February, each against its own month.
    expect((await usageOf(feb, alice, Date.UTC(2026, 0, 17), Date.UTC(2026, 1, 15))).gbMonths).toBeCloseTo(14 / 28, 12);
  });

  it('drops every balance to zero when the account is deleted, and meters nothing for it afterwards', async () => {
    const gone = randomUUID();
    const events = month(gone, sourceA, sourceB, [randomUUID(), randomUUID(), randomUUID()]).events;
    const deletedAt = JAN + 28 * DAY;
    await publishAndSettle([...events, event('account.purged', gone, { accountId: gone, accountIds: [gone] }, deletedAt), synced(gone, sourceA, randomUUID(), GIB, GIB, deletedAt + DAY)]);
    // account.purged comes through its own subscription: wait for it rather than for the sentinel.
    await waitFor(async () => (await usageOf(gone)).storedBytes === 0, 'the deletion to be metered');
    const usage = await usageOf(gone, alice, deletedAt, deletedAt + 2 * DAY);
    expect(usage).toMatchObject({ storedBytes: 0, logicalBytes: 0, sources: [], gbMonths: 0 });
  });

  it('ignores an event whose data names another tenant than its envelope, without blocking the ones after it', async () => {
    const victim = randomUUID();
    const forged = createEvent('data.synced', randomUUID(), randomUUID(), { accountId: victim, sourceId: sourceA, jobId: randomUUID(), snapshotId: randomUUID(), items: 1, logicalBytes: GIB, storedBytes: GIB, partial: false });
    await publishAndSettle([forged, { ...synced(victim, sourceA, randomUUID(), 5, 5, JAN), data: { bogus: true } }]);
    expect((await usageOf(victim)).storedBytes).toBe(0);
  });

  describe('Account.storageUsage', () => {
    it('gives NOT_FOUND and no data for another tenant’s account, through _entities', async () => {
      const bob = newUser();
      subgraph.access.grant(bob, other, 'owner');
      const result = await subgraph.query(bob, USAGE, { reps: [{ __typename: 'Account', id: account }], from: new Date(JAN).toISOString(), to: new Date(JAN + DAY).toISOString() });
      expect(errorCodes(result)).toEqual(['NOT_FOUND']);
      expect(result.data?._entities?.[0]?.storageUsage ?? null).toBeNull();
      const anonymous = await subgraph.query(ANONYMOUS, USAGE, { reps: [{ __typename: 'Account', id: account }], from: new Date(JAN).toISOString(), to: new Date(JAN + DAY).toISOString() });
      expect(anonymous.data?._entities?.[0]?.storageUsage ?? null).toBeNull();
      expect(errorCodes(anonymous)).toHaveLength(1);
    });

    it('refuses a reversed range or one longer than 400 days with BAD_USER_INPUT', async () => {
      subgraph.access.grant(alice, account, 'viewer');
      for (const [from, to] of [
        [JAN + DAY, JAN],
        [JAN, JAN + 401 * DAY],
      ]) {
        const result = await subgraph.query(alice, USAGE, { reps: [{ __typename: 'Account', id: account }], from: new Date(from!).toISOString(), to: new Date(to!).toISOString() });
        expect(errorCodes(result)).toContain('BAD_USER_INPUT');
      }
    });
  });

  describe('daily reconciliation against the engine', () => {
    const dir = mkdtempSync(join(tmpdir(), 'billing-reconcile-'));
    const reconciled = randomUUID();
    const dataKey = randomBytes(32);
    const repository = new Repository({ store: new LocalDirectoryStore(dir, { durable: false }), keys: new StaticKeyProvider({ [reconciled]: dataKey }) });
    const engine = { usage: (accountId: string) => engineStorageUsage(repository, accountId) };
    const log = createLogger('test', 'silent');
    afterAll(async () => {
      await repository.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('corrects a drift to the engine’s own figures, once', async () => {
      const items = Array.from({ length: 20 }, (_, i) => ({ id: `i${i}`, path: `stripe/customers/${i}.json`, content: () => [randomBytes(4096)] }));
      const { snapshot } = await runBackup(repository, { accountId: reconciled, sourceId: sourceA, items });
      // Billing heard of the snapshot with figures that are off (as after a crash between write and announce).
      await publishAndSettle([synced(reconciled, sourceA, randomUUID(), 100, 200, Date.now() - DAY)]);
      const truth = await engine.usage(reconciled);
      expect(truth.storedBytes).toBeGreaterThan(snapshot.totals.storedBytes);

      const first = await reconcileAccount(subgraph.service.orm, engine, log, reconciled);
      expect(first).toMatchObject({ status: 'reconciled' });
      const usage = await usageOf(reconciled);
      expect(usage.storedBytes).toBe(truth.storedBytes);
      expect(usage.sources).toEqual([{ sourceId: sourceA, storedBytes: snapshot.totals.storedBytes, logicalBytes: snapshot.totals.logicalBytes }]);

      expect(await reconcileAccount(subgraph.service.orm, engine, log, reconciled)).toEqual({ status: 'reconciled', driftBytes: 0, corrections: 0 });
      expect((await usageOf(reconciled)).storedBytes).toBe(truth.storedBytes);
    });

    it('waits while a snapshot’s data.synced is still on its way', async () => {
      await runBackup(repository, { accountId: reconciled, sourceId: sourceA, items: [{ id: 'late', path: 'stripe/late.json', content: () => [randomBytes(2048)] }] });
      const before = await usageOf(reconciled);
      expect(await reconcileAccount(subgraph.service.orm, engine, log, reconciled)).toMatchObject({ status: 'skipped' });
      expect(await usageOf(reconciled)).toEqual(before);
    });
  });
});
