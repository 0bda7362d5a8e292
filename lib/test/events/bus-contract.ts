import { describe, expect, it, onTestFinished } from 'vitest';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { EventBus } from '../../src/events/bus.ts';
import type { EventEnvelope } from '../../src/events/envelope.ts';
import { ProcessedEvent, runIdempotent } from '../../src/events/outbox.ts';
import { QUIET_MS, sleep, testEvent, uniqueId, waitFor } from './support.ts';

export interface BusContractContext {
  /** A connected bus; the contract closes it after each test. */
  makeBus(): Promise<EventBus>;
  /** ORM on a schema with the outbox tables. */
  orm(): MikroORM;
}

function collect() {
  const events: EventEnvelope[] = [];
  return {
    events,
    handler: (event: EventEnvelope) => {
      events.push(event);
    },
    ids: () => events.map((event) => event.id),
  };
}

/** The behaviour every EventBus implementation must have. */
export function describeEventBusContract(name: string, context: BusContractContext): void {
  describe(`EventBus contract: ${name}`, () => {
    async function openBus(): Promise<EventBus> {
      const bus = await context.makeBus();
      onTestFinished(() => bus.close());
      return bus;
    }

    it('fans an event out to every live subscriber and every durable consumer', async () => {
      const bus = await openBus();
      const account = uniqueId('acct');
      const live = [collect(), collect(), collect()];
      const durable = [collect(), collect()];
      for (const c of live) await bus.subscribe(`lb.evt.${account}.>`, c.handler);
      for (const c of durable) await bus.subscribe(`lb.evt.${account}.>`, c.handler, { durable: uniqueId('fanout') });

      const event = testEvent('account.created', account, account, { name: 'Acme' });
      await bus.publish(event);

      const all = [...live, ...durable];
      await waitFor(() => all.every((c) => c.events.length === 1), 5_000, 'every subscriber');
      await sleep(QUIET_MS);
      for (const c of all) expect(c.events).toEqual([event]);
    });

    it('matches subjects with NATS wildcards', async () => {
      const bus = await openBus();
      const account = uniqueId('acct');
      const other = uniqueId('acct');
      const everythingOfAccount = collect();
      const accountCreatedAnywhere = collect();
      const jobsOfAccount = collect();
      await bus.subscribe(`lb.evt.${account}.>`, everythingOfAccount.handler);
      await bus.subscribe('lb.evt.*.account.created', accountCreatedAnywhere.handler);
      await bus.subscribe(`lb.evt.${account}.job.*`, jobsOfAccount.handler);

      const created = testEvent('account.created', account, account, {});
      const jobStarted = testEvent('job.started', account, 'job1', {});
      const otherCreated = testEvent('account.created', other, other, {});
      const otherUpgraded = testEvent('account.upgraded', other, other, {});
      for (const event of [created, jobStarted, otherCreated, otherUpgraded]) await bus.publish(event);

      const ours = new Set([created.id, jobStarted.id, otherCreated.id, otherUpgraded.id]);
      // `lb.evt.*.…` sees every tenant; keep only this test's events.
      const accountCreatedIds = () => accountCreatedAnywhere.ids().filter((id) => ours.has(id));
      await waitFor(
        () => everythingOfAccount.events.length === 2 && accountCreatedIds().length === 2 && jobsOfAccount.events.length === 1,
        5_000,
        'wildcard deliveries',
      );
      await sleep(QUIET_MS);
      expect(everythingOfAccount.ids()).toEqual([created.id, jobStarted.id]);
      expect(accountCreatedIds()).toEqual([created.id, otherCreated.id]);
      expect(jobsOfAccount.ids()).toEqual([jobStarted.id]);
    });

    it('keeps tenants apart by subject', async () => {
      const bus = await openBus();
      const [a, b] = [uniqueId('acct'), uniqueId('acct')];
      const liveA = collect();
      const durableB = collect();
      await bus.subscribe(`lb.evt.${a}.>`, liveA.handler);
      await bus.subscribe(`lb.evt.${b}.>`, durableB.handler, { durable: uniqueId('tenant') });

      const forA = testEvent('job.completed', a, 'j1', {});
      const forB = testEvent('job.completed', b, 'j2', {});
      const tickA = testEvent('job.progress', a, 'j1', { done: 1 });
      await bus.publish(forA);
      await bus.publish(forB);
      await bus.publishEphemeral(tickA);

      await waitFor(() => liveA.events.length === 2 && durableB.events.length === 1, 5_000, 'tenant deliveries');
      await sleep(QUIET_MS);
      expect(liveA.ids()).toEqual([forA.id, tickA.id]);
      expect(durableB.ids()).toEqual([forB.id]);
    });

    it('delivers an event published twice with the same id once', async () => {
      const bus = await openBus();
      const account = uniqueId('acct');
      const live = collect();
      const durable = collect();
      await bus.subscribe(`lb.evt.${account}.>`, live.handler);
      await bus.subscribe(`lb.evt.${account}.>`, durable.handler, { durable: uniqueId('dedup') });

      const event = testEvent('connection.created', account, 'c1', {});
      const marker = testEvent('connection.authorized', account, 'c1', {});
      await bus.publish(event);
      await bus.publish({ ...event });
      await bus.publish(marker);
      await bus.publish(event);

      await waitFor(() => live.ids().includes(marker.id) && durable.ids().includes(marker.id), 5_000, 'marker');
      await sleep(QUIET_MS);
      expect(live.ids()).toEqual([event.id, marker.id]);
      expect(durable.ids()).toEqual([event.id, marker.id]);
    });

    it('gives a durable consumer the events published before it subscribed and while it was unsubscribed', async () => {
      const bus = await openBus();
      const account = uniqueId('acct');
      const durable = uniqueId('catchup');
      const before = testEvent('user.created', account, 'u0', {});
      await bus.publish(before);

      const first = collect();
      const subscription = await bus.subscribe(`lb.evt.${account}.user.*`, first.handler, { durable });
      await waitFor(() => first.events.length === 1, 5_000, 'the event published before subscribing');
      await sleep(QUIET_MS); // lets the acknowledgement land before unsubscribing
      await subscription.unsubscribe();

      const missed = [testEvent('user.updated', account, 'u0', {}), testEvent('user.deleted', account, 'u0', {})];
      for (const event of missed) await bus.publish(event);
      await sleep(QUIET_MS);
      expect(first.ids()).toEqual([before.id]);

      const second = collect();
      await bus.subscribe(`lb.evt.${account}.user.*`, second.handler, { durable });
      await waitFor(() => second.events.length === 2, 5_000, 'the missed events');
      await sleep(QUIET_MS);
      expect(second.ids()).toEqual(missed.map((event) => event.id));
    });

    it('redelivers after a handler throws, and runIdempotent applies the event exactly once', async () => {
      const bus = await openBus();
      const orm = context.orm();
      const account = uniqueId('acct');
      const consumer = uniqueId('usage');
      const effect = `${consumer}:effect`;
      const outcomes: string[] = [];

      await bus.subscribe(
        `lb.evt.${account}.data.synced`,
        async (event) => {
          const attempt = outcomes.length + 1;
          try {
            const applied = await runIdempotent(orm.em.fork(), consumer, event, (tx) => {
              // The effect: a row written in the same transaction as the processed marker.
              tx.create(ProcessedEvent, { consumer: effect, eventId: event.id });
              if (attempt === 1) throw new Error('fails while applying');
            });
            outcomes.push(applied ? 'applied' : 'skipped');
          } catch (error) {
            outcomes.push('rolled back');
            throw error;
          }
          if (attempt === 2) throw new Error('crashes after applying, before the ack');
        },
        { durable: consumer },
      );

      const event = testEvent('data.synced', account, 'src1', { bytes: 42 });
      await bus.publish(event);

      await waitFor(() => outcomes.length === 3, 10_000, 'three deliveries');
      await sleep(QUIET_MS);
      expect(outcomes).toEqual(['rolled back', 'applied', 'skipped']);
      const em = orm.em.fork();
      expect(await em.count(ProcessedEvent, { consumer: effect, eventId: event.id })).toBe(1);
      expect(await em.count(ProcessedEvent, { consumer, eventId: event.id })).toBe(1);
    });

    it('delivers ephemeral events to live subscribers only', async () => {
      const bus = await openBus();
      const account = uniqueId('acct');
      const live = collect();
      const durable = collect();
      await bus.subscribe(`lb.evt.${account}.job.>`, live.handler);
      await bus.subscribe(`lb.evt.${account}.job.>`, durable.handler, { durable: uniqueId('ephemeral') });

      const ticks = [1, 2, 3].map((done) => testEvent('job.progress', account, 'job1', { done }));
      for (const tick of ticks) await bus.publishEphemeral(tick);
      const completed = testEvent('job.completed', account, 'job1', {});
      await bus.publish(completed);

      await waitFor(() => live.events.length === 4 && durable.events.length === 1, 5_000, 'ticks and completion');
      await sleep(QUIET_MS);
      expect(live.events.map((event) => event.data)).toEqual([{ done: 1 }, { done: 2 }, { done: 3 }, {}]);
      expect(durable.ids()).toEqual([completed.id]);
    });

    it('stops delivery on unsubscribe', async () => {
      const bus = await openBus();
      const account = uniqueId('acct');
      const live = collect();
      const durable = collect();
      const liveSubscription = await bus.subscribe(`lb.evt.${account}.>`, live.handler);
      const durableSubscription = await bus.subscribe(`lb.evt.${account}.>`, durable.handler, { durable: uniqueId('stop') });

      const first = testEvent('account.created', account, account, {});
      await bus.publish(first);
      await waitFor(() => live.events.length === 1 && durable.events.length === 1, 5_000, 'first event');

      await liveSubscription.unsubscribe();
      await durableSubscription.unsubscribe();
      await bus.publish(testEvent('account.suspended', account, account, {}));
      await bus.publishEphemeral(testEvent('job.progress', account, 'j', {}));
      await sleep(QUIET_MS);
      expect(live.ids()).toEqual([first.id]);
      expect(durable.ids()).toEqual([first.id]);
    });

    it('rejects patterns outside lb.evt or with a misplaced >', async () => {
      const bus = await openBus();
      for (const pattern of ['foo.>', 'lb.evt', 'lb.evt.>.x', 'lb.evt..x', 'lb.evt.a b.>']) {
        await expect(bus.subscribe(pattern, () => {}), pattern).rejects.toThrow(/Invalid event pattern/);
      }
    });
  });
}
