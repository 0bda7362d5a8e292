import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@listbackup/lib/principal';
import { createEvent } from '@listbackup/lib/events/contract';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { NatsEventBus, type NatsEventBusOptions } from '@listbackup/lib/events/nats-bus';
import type { EventBus } from '@listbackup/lib/events/bus';
import { ProcessedEvent } from '@listbackup/lib/events/outbox';
import { startBilling } from '../src/index.ts';
import { PLAN_CATALOGUE } from '../src/catalogue.ts';
import { Plan } from '../src/entities/plan.ts';
import { PlanSubscription } from '../src/entities/plan-subscription.ts';
import { FREE_PLAN_CONSUMER } from '../src/events/account-created.ts';
import {
  ANONYMOUS,
  NATS_URL,
  accountRefs,
  errorCodes,
  invalidTokens,
  natsIsReachable,
  newUser,
  selectsFrom,
  startTestSubgraph,
  uniqueName,
  waitFor,
  type TestSubgraph,
} from '../../jobs/test/support/subgraph-harness.ts';

const GIB = 1024 ** 3;
const SUBSCRIPTION = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Account { id subscription { id status startedAt trialEndsAt plan { id code name includedStorageBytes monthlyPriceCents extraGbMonthPriceCents trialDays auditLogRetentionDays } } } } }`;

const accountCreated = (accountId: string) => createEvent('account.created', accountId, accountId, { name: 'Acme', parentId: null });

/** Billing's view of one account: its subscriptions and the events it applied for it. */
async function subscriptionsOf(subgraph: TestSubgraph, accountId: string) {
  return subgraph.service.orm.em.fork().find(PlanSubscription, { accountId });
}

/**
 * Publishes `sentinel` after the events under test and waits for its effect. The durable consumer
 * handles events in order, so once the sentinel's account has its subscription, every earlier
 * delivery has been handled too: what we then assert is final, not a race.
 */
async function publishThenSettle(subgraph: TestSubgraph, bus: EventBus, events: ReturnType<typeof accountCreated>[]): Promise<void> {
  for (const event of events) await bus.publish(event);
  const sentinel = randomUUID();
  await bus.publish(accountCreated(sentinel));
  await waitFor(async () => (await subscriptionsOf(subgraph, sentinel)).length === 1, 'the sentinel account to get its subscription');
}

describe('billing subgraph', () => {
  let subgraph: TestSubgraph;
  // No dedup window: the same event id published twice reaches the consumer twice, as a redelivery would.
  const bus = new InProcessEventBus({ dedupWindowMs: 0 });
  let alice: Principal;
  const accountA = randomUUID();
  const accountB = randomUUID();

  beforeAll(async () => {
    subgraph = await startTestSubgraph('billing', startBilling, { bus, durablePrefix: uniqueName('test') });
    alice = newUser();
    subgraph.access.grant(alice, accountA, 'viewer');
    await publishThenSettle(subgraph, bus, [accountCreated(accountA), accountCreated(accountB)]);
  });
  afterAll(async () => {
    await subgraph?.close();
    await bus.close();
  });

  it('has migrations that match the entities exactly (outbox tables included)', async () => {
    expect((await subgraph.service.orm.schema.getUpdateSchemaSQL()).trim()).toBe('');
  });

  it('lists the plans on offer, cheapest first, to anyone', async () => {
    const result = await subgraph.query(ANONYMOUS, '{ plans { code name includedStorageBytes monthlyPriceCents } }');
    expect(result.errors).toBeUndefined();
    expect(result.data!.plans).toEqual([
      { code: 'free', name: 'Free', includedStorageBytes: 5 * GIB, monthlyPriceCents: 0 },
      { code: 'team', name: 'Team', includedStorageBytes: 100 * GIB, monthlyPriceCents: 4900 },
      { code: 'business', name: 'Business', includedStorageBytes: 1024 * GIB, monthlyPriceCents: 19900 },
    ]);
    expect(await subgraph.service.orm.em.fork().count(Plan, {})).toBe(PLAN_CATALOGUE.length);
  });

  describe('Account.subscription', () => {
    it('shows the Free plan an account got from its account.created event', async () => {
      const result = await subgraph.query(alice, SUBSCRIPTION, { reps: accountRefs([accountA]) });
      expect(result.errors).toBeUndefined();
      const [account] = result.data!._entities;
      expect(account.subscription).toMatchObject({
        status: 'ACTIVE',
        plan: { code: 'free', name: 'Free', includedStorageBytes: 5 * GIB, monthlyPriceCents: 0 },
      });
      const [row] = await subscriptionsOf(subgraph, accountA);
      expect(account.subscription.id).toBe(row.id);
    });

    it('is null for an account the caller can see that has no subscription yet', async () => {
      const fresh = randomUUID();
      subgraph.access.grant(alice, fresh, 'owner');
      const result = await subgraph.query(alice, SUBSCRIPTION, { reps: accountRefs([fresh]) });
      expect(result.errors).toBeUndefined();
      expect(result.data!._entities).toEqual([{ id: fresh, subscription: null }]);
    });

    it('gives NOT_FOUND and no data for another tenant’s account', async () => {
      const result = await subgraph.query(alice, SUBSCRIPTION, { reps: accountRefs([accountB]) });
      // subscription is nullable, so the error nulls the field, not the entity.
      expect(result.data!._entities).toEqual([{ id: accountB, subscription: null }]);
      expect(errorCodes(result)).toEqual(['NOT_FOUND']);
      expect(result.errors![0].message).toBe('Account not found');
      const [bobsRow] = await subscriptionsOf(subgraph, accountB);
      expect(JSON.stringify(result)).not.toContain(bobsRow.id);
    });

    it('refuses an API key without the billing:read scope', async () => {
      const key: Principal = { kind: 'apiKey', apiKeyId: randomUUID(), accountId: accountA, scopes: ['jobs:read'] };
      subgraph.access.grant(key, accountA, 'owner');
      const result = await subgraph.query(key, SUBSCRIPTION, { reps: accountRefs([accountA]) });
      expect(result.data!._entities).toEqual([{ id: accountA, subscription: null }]);
      expect(errorCodes(result)).toEqual(['FORBIDDEN']);
    });

    it('resolves 50 accounts with one SQL query for subscriptions and one for plans', async () => {
      const user = newUser();
      const accounts = Array.from({ length: 50 }, () => randomUUID());
      for (const accountId of accounts) subgraph.access.grant(user, accountId, 'viewer');
      await publishThenSettle(subgraph, bus, accounts.filter((_, i) => i % 2 === 0).map(accountCreated));
      subgraph.resetQueries();

      const result = await subgraph.query(user, SUBSCRIPTION, { reps: accountRefs(accounts) });

      expect(result.errors).toBeUndefined();
      expect(result.data!._entities.map((a: { subscription: { plan: { code: string } } | null }) => a.subscription?.plan.code ?? null)).toEqual(
        accounts.map((_, i) => (i % 2 === 0 ? 'free' : null)),
      );
      expect(selectsFrom(subgraph.queries, 'billing', 'plan_subscriptions')).toHaveLength(1);
      expect(selectsFrom(subgraph.queries, 'billing', 'plans')).toHaveLength(1);
    });
  });

  describe('account.created consumer', () => {
    it('gives one Free subscription when the same event is delivered twice', async () => {
      const accountId = randomUUID();
      const event = accountCreated(accountId);
      await publishThenSettle(subgraph, bus, [event, event]);
      const rows = await subscriptionsOf(subgraph, accountId);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: 'ACTIVE', startedAt: new Date(event.time) });
      expect(await subgraph.service.orm.em.fork().count(ProcessedEvent, { consumer: FREE_PLAN_CONSUMER, eventId: event.id })).toBe(1);
    });

    it('gives one Free subscription when two different events announce the same account', async () => {
      const accountId = randomUUID();
      const first = accountCreated(accountId);
      const second = accountCreated(accountId);
      await publishThenSettle(subgraph, bus, [first, second]);
      expect(await subscriptionsOf(subgraph, accountId)).toHaveLength(1);
      // Both were applied (recorded), the second one without effect.
      expect(await subgraph.service.orm.em.fork().count(ProcessedEvent, { consumer: FREE_PLAN_CONSUMER, eventId: { $in: [first.id, second.id] } })).toBe(2);
    });

    it('leaves an account that already has a plan on that plan', async () => {
      const accountId = randomUUID();
      const em = subgraph.service.orm.em.fork();
      const team = await em.findOneOrFail(Plan, { code: 'team' });
      await em.persist(em.create(PlanSubscription, { accountId, planId: team.id, status: 'ACTIVE' })).flush();
      await publishThenSettle(subgraph, bus, [accountCreated(accountId)]);
      const rows = await subscriptionsOf(subgraph, accountId);
      expect(rows.map((row) => row.planId)).toEqual([team.id]);
    });

    it('skips an event whose subject is not an account id, without blocking the ones after it', async () => {
      const before = await subgraph.service.orm.em.fork().count(PlanSubscription, {});
      await publishThenSettle(subgraph, bus, [createEvent('account.created', randomUUID(), 'not-an-account-id', { name: 'Acme', parentId: null })]);
      // Only the sentinel's subscription was added.
      expect(await subgraph.service.orm.em.fork().count(PlanSubscription, {})).toBe(before + 1);
    });
  });

  describe('gateway proof', () => {
    const operations = {
      root: { query: '{ plans { code } }', variables: () => ({}) },
      _entities: { query: SUBSCRIPTION, variables: () => ({ reps: accountRefs([accountA]) }) },
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

const natsReachable = await natsIsReachable();

describe.skipIf(!natsReachable)('billing on a real NATS bus', () => {
  // A namespace and stream of this file's own, so parallel runs on one server never share events.
  const namespace = uniqueName('lbtest');
  const busOptions: NatsEventBusOptions = { stream: namespace.toUpperCase(), namespace, retryDelayMs: 100 };
  const durablePrefix = uniqueName('test');
  let serviceBus: NatsEventBus;
  let publisher: NatsEventBus;
  let subgraph: TestSubgraph;
  const earlyAccount = randomUUID();
  const earlyEvent = accountCreated(earlyAccount);

  beforeAll(async () => {
    publisher = await NatsEventBus.connect(NATS_URL, busOptions);
    // Published while billing is not running: its durable consumer must pick it up on start.
    await publisher.publish(earlyEvent);
    serviceBus = await NatsEventBus.connect(NATS_URL, busOptions);
    subgraph = await startTestSubgraph('billing', startBilling, { bus: serviceBus, durablePrefix });
  });
  afterAll(async () => {
    await subgraph?.close();
    await serviceBus?.close();
    if (publisher) {
      await (await publisher.connection.jetstreamManager()).streams.delete(publisher.stream).catch(() => undefined);
      await publisher.close();
    }
  });

  it('gives an account created while billing was down its Free plan once billing starts', async () => {
    await waitFor(async () => (await subscriptionsOf(subgraph, earlyAccount)).length === 1, 'the early account to get its subscription');
    const [row] = await subscriptionsOf(subgraph, earlyAccount);
    const plan = await subgraph.service.orm.em.fork().findOneOrFail(Plan, { id: row.planId });
    expect(plan.code).toBe('free');
  });

  it('gives one subscription for the same event published twice and for two events about one account', async () => {
    const accountId = randomUUID();
    const first = accountCreated(accountId);
    await publishThenSettle(subgraph, publisher, [first, first, accountCreated(accountId)]);
    expect(await subscriptionsOf(subgraph, accountId)).toHaveLength(1);
  });

  it('consumes through a durable consumer named after the runtime prefix', async () => {
    const jsm = await publisher.connection.jetstreamManager();
    const info = await jsm.consumers.info(publisher.stream, `${durablePrefix}-billing-account-created`);
    expect(info.config.filter_subject).toBe(`${namespace}.evt.*.account.created`);
    expect(info.num_pending).toBe(0);
  });
});
