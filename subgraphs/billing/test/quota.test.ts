/**
 * Billing announces `billing.quota_reached` when a backup's stored bytes take the account past 80%
 * and 100% of its plan's included storage: once per crossing, redeliveries included, and never for
 * another account. On a plan without overage, going over starts the grace period, which
 * `billing.storage_standing` announces (jobs refuses backups from its `blockedFrom`), and
 * `Account.storageQuota` shows to whoever may read the account's billing.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent } from '@listbackup/lib/events/contract';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { startBilling } from '../src/index.ts';
import { PlanSubscription } from '../src/entities/plan-subscription.ts';
import { errorCodes, newUser, startTestSubgraph, uniqueName, waitFor, type TestSubgraph } from '../../jobs/test/support/subgraph-harness.ts';

const GIB = 1024 ** 3;
const DAY = 86_400_000;
// No dedup window: a republished event reaches the consumer again, as a redelivery would.
const bus = new InProcessEventBus({ dedupWindowMs: 0 });
let subgraph: TestSubgraph;
const announced: EventEnvelope[] = [];
const standings: EventEnvelope[] = [];
const owner = newUser();
const stranger = newUser();

const synced = (accountId: string, storedBytes: number, at = new Date()) =>
  createEvent('data.synced', accountId, randomUUID(), { accountId, sourceId: randomUUID(), jobId: randomUUID(), snapshotId: randomUUID(), items: 1, logicalBytes: storedBytes, storedBytes, partial: false }, { time: at });
const collected = (accountId: string, deletedBytes: number) => createEvent('data.garbage_collected', accountId, accountId, { accountId, jobId: randomUUID(), deletedBytes, deletedChunks: 1 });

async function freeAccount(): Promise<string> {
  const accountId = randomUUID();
  await bus.publish(createEvent('account.created', accountId, accountId, { name: 'Acme', parentId: null }));
  await waitFor(async () => (await subgraph.service.orm.em.fork().count(PlanSubscription, { accountId })) === 1, 'the Free plan');
  return accountId;
}

/** Meters the events, then waits until a sentinel backup after them is metered (the consumer keeps their order). */
async function meter(...events: EventEnvelope[]): Promise<void> {
  for (const event of events) await bus.publish(event);
  const sentinel = await freeAccount();
  await bus.publish(synced(sentinel, 1));
  await waitFor(async () => {
    const [row] = await subgraph.service.orm.em.fork().execute<{ n: string }[]>('select count(*) as n from billing.storage_changes where account_id = ?', [sentinel]);
    return Number(row.n) === 1;
  }, 'the sentinel to be metered');
  // And every announcement they caused is out on the bus.
  await waitFor(async () => (await subgraph.service.orm.em.fork().execute<{ n: string }[]>('select count(*) as n from billing.outbox_events where sent_at is null'))[0].n === '0', 'the outbox to be sent');
}

const quotaOf = (accountId: string) =>
  announced.filter((event) => event.accountId === accountId).map((event) => ({ threshold: event.data.threshold, usedBytes: event.data.usedBytes, quotaBytes: event.data.quotaBytes }));

beforeAll(async () => {
  subgraph = await startTestSubgraph('billing', startBilling, { bus, durablePrefix: uniqueName('quota') });
  await bus.subscribe('lb.evt.*.billing.quota_reached', async (event) => {
    announced.push(event);
  });
  await bus.subscribe('lb.evt.*.billing.storage_standing', async (event) => {
    standings.push(event);
  });
});
afterAll(async () => {
  await subgraph?.close();
  await bus.close();
});

it('announces 80% and then 100% of the Free plan’s 5 GiB, each once, as backups cross them', async () => {
  const account = await freeAccount();
  const other = await freeAccount();
  const first = synced(account, 3 * GIB);
  await meter(first, synced(other, 1 * GIB));
  expect(quotaOf(account)).toEqual([]);

  const second = synced(account, 1.5 * GIB);
  await meter(second, second, first);
  expect(quotaOf(account)).toEqual([{ threshold: 80, usedBytes: 4.5 * GIB, quotaBytes: 5 * GIB }]);

  await meter(synced(account, 0.25 * GIB));
  const third = synced(account, 1 * GIB);
  await meter(third);
  expect(quotaOf(account)[1]).toEqual({ threshold: 100, usedBytes: 5.75 * GIB, quotaBytes: 5 * GIB });
  expect(quotaOf(other)).toEqual([]);
  // Past 100%, more backups announce nothing new.
  await meter(synced(account, GIB));
  expect(quotaOf(account)).toHaveLength(2);
});

const standingOf = (accountId: string) => standings.filter((event) => event.accountId === accountId).map((event) => event.data);
const QUOTA = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Account { id storageQuota { state plan includedBytes storedBytes overSince backupsBlockedFrom } } } }`;
const quotaView = async (accountId: string, who = owner) => {
  const result = await subgraph.query(who, QUOTA, { reps: [{ __typename: 'Account', id: accountId }] });
  expect(result.errors).toBeUndefined();
  return result.data!._entities[0].storageQuota;
};
const iso = (ms: number) => new Date(ms).toISOString();

describe('the storage quota of a plan without overage', () => {
  it('starts a 7-day grace when the account goes over; past it, backups are blocked from its end', async () => {
    const account = await freeAccount();
    subgraph.access.grant(owner, account, 'owner');
    const tenDaysAgo = Date.now() - 10 * DAY;
    await meter(synced(account, 4 * GIB, new Date(tenDaysAgo - DAY)));
    expect(standingOf(account)).toEqual([]);
    expect(await quotaView(account)).toMatchObject({ state: 'WITHIN', plan: 'free', includedBytes: 5 * GIB, storedBytes: 4 * GIB, overSince: null, backupsBlockedFrom: null });

    await meter(synced(account, 1.5 * GIB, new Date(tenDaysAgo)));
    expect(standingOf(account)).toEqual([
      { accountId: account, version: 1, plan: 'free', planName: 'Free', usedBytes: 5.5 * GIB, quotaBytes: 5 * GIB, overSince: iso(tenDaysAgo), blockedFrom: iso(tenDaysAgo + 7 * DAY) },
    ]);
    expect(await quotaView(account)).toEqual({ state: 'BLOCKED', plan: 'free', includedBytes: 5 * GIB, storedBytes: 5.5 * GIB, overSince: iso(tenDaysAgo), backupsBlockedFrom: iso(tenDaysAgo + 7 * DAY) });

    // Garbage collection takes it back under the quota: lifted at once.
    await meter(collected(account, 1 * GIB));
    expect(standingOf(account)[1]).toMatchObject({ version: 2, usedBytes: 4.5 * GIB, overSince: null, blockedFrom: null });
    expect((await quotaView(account)).state).toBe('WITHIN');
  });

  it('lets backups run within the grace, and blocks at once past the 1 GiB grace margin', async () => {
    const account = await freeAccount();
    subgraph.access.grant(owner, account, 'owner');
    const now = Date.now() - 60_000;
    await meter(synced(account, 5.5 * GIB, new Date(now)));
    expect(standingOf(account)).toEqual([expect.objectContaining({ version: 1, overSince: iso(now), blockedFrom: iso(now + 7 * DAY) })]);
    expect((await quotaView(account)).state).toBe('GRACE');

    const later = now + 30_000;
    await meter(synced(account, 0.75 * GIB, new Date(later)));
    expect(standingOf(account)[1]).toEqual(expect.objectContaining({ version: 2, usedBytes: 6.25 * GIB, overSince: iso(now), blockedFrom: iso(later) }));
    expect(await quotaView(account)).toMatchObject({ state: 'BLOCKED', backupsBlockedFrom: iso(later) });
  });

  it('lifts the block when the account upgrades to a plan with overage', async () => {
    const account = await freeAccount();
    subgraph.access.grant(owner, account, 'owner');
    await meter(synced(account, 7 * GIB, new Date(Date.now() - 30 * DAY)));
    expect((await quotaView(account)).state).toBe('BLOCKED');
    const changed = await subgraph.query(owner, `mutation($id: ID!) { changePlan(accountId: $id, plan: "team") { subscription { plan { code } } } }`, { id: account });
    expect(changed.errors).toBeUndefined();
    await meter();
    expect(standingOf(account).at(-1)).toEqual(expect.objectContaining({ version: 2, plan: 'team', quotaBytes: 100 * GIB, overSince: null, blockedFrom: null }));
    expect(await quotaView(account)).toMatchObject({ state: 'WITHIN', plan: 'team', overSince: null, backupsBlockedFrom: null });
  });

  it('never blocks a plan with overage: over its included storage it is OVERAGE, and nothing is announced as a standing', async () => {
    const account = await freeAccount();
    subgraph.access.grant(owner, account, 'owner');
    const changed = await subgraph.query(owner, `mutation($id: ID!) { changePlan(accountId: $id, plan: "team") { subscription { plan { code } } } }`, { id: account });
    expect(changed.errors).toBeUndefined();
    await meter(synced(account, 150 * GIB, new Date(Date.now() - 60 * DAY)));
    expect(standingOf(account).every((standing) => standing.blockedFrom === null)).toBe(true);
    expect(await quotaView(account)).toMatchObject({ state: 'OVERAGE', plan: 'team', storedBytes: 150 * GIB, overSince: null, backupsBlockedFrom: null });
  });

  it('announces nothing more when the same events are delivered again', async () => {
    const account = await freeAccount();
    const events = [synced(account, 3 * GIB, new Date(Date.now() - 9 * DAY)), synced(account, 3 * GIB, new Date(Date.now() - 8 * DAY)), collected(account, GIB)];
    await meter(...events);
    const first = standingOf(account);
    expect(first.length).toBeGreaterThan(0);
    await meter(...events, ...events.reverse());
    expect(standingOf(account)).toEqual(first);
  });

  it('shows a stranger neither the standing nor that the account exists (_entities)', async () => {
    const account = await freeAccount();
    subgraph.access.grant(owner, account, 'owner');
    await meter(synced(account, 6 * GIB));
    const result = await subgraph.query(stranger, QUOTA, { reps: [{ __typename: 'Account', id: account }] });
    expect(errorCodes(result)).toEqual(['NOT_FOUND']);
    expect(JSON.stringify(result.data ?? null)).not.toContain('GRACE');
    expect(JSON.stringify(result.data ?? null)).not.toContain(String(6 * GIB));
  });
});
