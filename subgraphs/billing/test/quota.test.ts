/**
 * Billing announces `billing.quota_reached` when a backup's stored bytes take the account past 80%
 * and 100% of its plan's included storage: once per crossing, redeliveries included, and never for
 * another account.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEvent } from '@listbackup/lib/events/contract';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { startBilling } from '../src/index.ts';
import { PlanSubscription } from '../src/entities/plan-subscription.ts';
import { startTestSubgraph, uniqueName, waitFor, type TestSubgraph } from '../../jobs/test/support/subgraph-harness.ts';

const GIB = 1024 ** 3;
// No dedup window: a republished event reaches the consumer again, as a redelivery would.
const bus = new InProcessEventBus({ dedupWindowMs: 0 });
let subgraph: TestSubgraph;
const announced: EventEnvelope[] = [];

const synced = (accountId: string, storedBytes: number) =>
  createEvent('data.synced', accountId, randomUUID(), { accountId, sourceId: randomUUID(), jobId: randomUUID(), snapshotId: randomUUID(), items: 1, logicalBytes: storedBytes, storedBytes, partial: false });

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
