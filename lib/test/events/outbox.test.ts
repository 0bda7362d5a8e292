import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { defineEntity, p } from '@mikro-orm/core';
import { MikroORM } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { OutboxActorMigration, OutboxMigration, OutboxTraceMigration } from '../../src/events/outbox-migration.ts';
import type { EventBus } from '../../src/events/bus.ts';
import type { EventEnvelope } from '../../src/events/envelope.ts';
import { InProcessEventBus } from '../../src/events/memory-bus.ts';
import { NatsEventBus } from '../../src/events/nats-bus.ts';
import {
  OutboxEvent,
  OutboxRelay,
  ProcessedEvent,
  enqueueEvent,
  runIdempotent,
} from '../../src/events/outbox.ts';
import {
  DATABASE_URL,
  NATS_URL,
  QUIET_MS,
  natsIsReachable,
  openTestDatabase,
  sleep,
  testEvent,
  uniqueId,
  waitFor,
  type TestDatabase,
} from './support.ts';

/** Stands in for a subgraph's state: written in the same transaction as its event. */
const Widget = defineEntity({
  name: 'Widget',
  tableName: 'widgets',
  properties: { id: p.text().primary(), name: p.text() },
});

const natsReachable = await natsIsReachable();
const namespace = uniqueId('lbtest');
const natsOptions = { stream: namespace.toUpperCase(), namespace };

let db: TestDatabase;
beforeAll(async () => {
  db = await openTestDatabase([Widget], (schema) => [`create table "${schema}"."widgets" ("id" text primary key, "name" text not null)`]);
});
afterAll(async () => {
  await db?.drop();
  if (natsReachable) {
    const admin = await NatsEventBus.connect(NATS_URL, natsOptions);
    await (await admin.connection.jetstreamManager()).streams.delete(admin.stream);
    await admin.close();
  }
});

// `getUpdateSchemaSQL()` without `{ schema }` diffs every schema of the database: with other
// schemas present (other test files, other subgraphs) it proposes dropping their tables.
describe('outbox schema', () => {
  it('outboxMigrationSql(schema) creates exactly what the entities describe', async () => {
    const fresh = await openTestDatabase();
    onTestFinished(() => fresh.drop());
    expect(await fresh.orm.schema.getUpdateSchemaSQL({ schema: fresh.schema })).toBe('');
  });

  it('the migrations a subgraph lists (OutboxMigration, then OutboxActorMigration and OutboxTraceMigration) land in the ORM schema and match the entities', async () => {
    const schema = uniqueId('evt_test');
    const orm = await MikroORM.init({
      clientUrl: DATABASE_URL,
      schema,
      entities: [OutboxEvent, ProcessedEvent],
      extensions: [Migrator],
      migrations: { migrationsList: [
          { name: '0001-outbox', class: OutboxMigration },
          { name: '0002-outbox-actor', class: OutboxActorMigration },
          { name: '0003-outbox-trace', class: OutboxTraceMigration },
        ], schema, snapshot: false, silent: true },
    });
    onTestFinished(async () => {
      await orm.em.getConnection().execute(`drop schema if exists "${schema}" cascade`);
      await orm.close();
    });
    await orm.em.getConnection().execute(`create schema "${schema}"`);
    await orm.migrator.up();

    expect(await orm.schema.getUpdateSchemaSQL({ schema })).toBe('');
    const [{ count }] = await orm.em.getConnection().execute(
      `select count(*)::int as count from information_schema.tables where table_schema = ? and table_name in ('outbox_events', 'processed_events')`,
      [schema],
    );
    expect(count).toBe(2);
  });
});

describe('runIdempotent', () => {
  it('runs fn once per consumer and event id', async () => {
    const event = testEvent('user.created', uniqueId('acct'), 'u1');
    const calls: string[] = [];
    const consumers = [uniqueId('audit'), uniqueId('notify')];
    const results = [];
    for (const consumer of [consumers[0], consumers[0], consumers[1]]) {
      results.push(await runIdempotent(db.orm.em.fork(), consumer, event, () => void calls.push(consumer)));
    }
    expect(results).toEqual([true, false, true]);
    expect(calls).toEqual([consumers[0], consumers[1]]);
  });
});

describe('OutboxRelay.prune', () => {
  it('deletes sent rows and processed-event records past their retention, and keeps unsent rows and recent records', async () => {
    const account = uniqueId('acct');
    const consumer = uniqueId('consumer');
    const em = db.orm.em.fork();
    const now = new Date();
    const daysAgo = (days: number) => new Date(now.getTime() - days * 86_400_000);
    const rows = {
      oldSent: enqueueEvent(em, testEvent('widget.created', account, 'old-sent')),
      recentSent: enqueueEvent(em, testEvent('widget.created', account, 'recent-sent')),
      oldUnsent: enqueueEvent(em, testEvent('widget.created', account, 'old-unsent')),
    };
    rows.oldSent.sentAt = daysAgo(8);
    rows.recentSent.sentAt = daysAgo(6);
    rows.oldUnsent.createdAt = daysAgo(40);
    const oldProcessed = testEvent('account.created', account, 'a');
    const recentProcessed = testEvent('account.created', account, 'b');
    em.create(ProcessedEvent, { consumer, eventId: oldProcessed.id, processedAt: daysAgo(36) });
    em.create(ProcessedEvent, { consumer, eventId: recentProcessed.id, processedAt: daysAgo(34) });
    await em.flush();

    const relay = new OutboxRelay({ orm: db.orm, bus: new InProcessEventBus() });
    const pruned = await relay.prune(now);
    expect(pruned.sent).toBeGreaterThanOrEqual(1);
    expect(pruned.processed).toBeGreaterThanOrEqual(1);
    const check = db.orm.em.fork();
    expect((await check.find(OutboxEvent, { accountId: account }, { orderBy: { subject: 'asc' } })).map((row) => row.subject)).toEqual(['old-unsent', 'recent-sent']);
    expect((await check.find(ProcessedEvent, { consumer })).map((row) => row.eventId)).toEqual([recentProcessed.id]);
    // An event whose record was kept is still applied only once.
    expect(await runIdempotent(db.orm.em.fork(), consumer, recentProcessed, () => {})).toBe(false);
  });
});

interface Buses {
  /** Buses the relays publish through (one per relay process on NATS). */
  relayBuses: [EventBus, EventBus];
  /** The bus a consumer subscribes on. */
  consumerBus: EventBus;
}

const busKinds: { name: string; skip: boolean; open(): Promise<Buses> }[] = [
  {
    name: 'InProcessEventBus',
    skip: false,
    open: async () => {
      const bus = new InProcessEventBus();
      return { relayBuses: [bus, bus], consumerBus: bus };
    },
  },
  {
    name: 'NatsEventBus',
    skip: !natsReachable,
    open: async () => {
      const [a, b, consumer] = await Promise.all([1, 2, 3].map(() => NatsEventBus.connect(NATS_URL, natsOptions)));
      return { relayBuses: [a, b], consumerBus: consumer };
    },
  },
];

for (const kind of busKinds) {
  describe.skipIf(kind.skip)(`OutboxRelay with ${kind.name}`, () => {
    async function setup(account: string) {
      const buses = await kind.open();
      const received: EventEnvelope[] = [];
      await buses.consumerBus.subscribe(`lb.evt.${account}.>`, (event) => void received.push(event), { durable: uniqueId('consumer') });
      const relays: OutboxRelay[] = [];
      onTestFinished(async () => {
        await Promise.all(relays.map((relay) => relay.stop()));
        await Promise.all([...new Set([...buses.relayBuses, buses.consumerBus])].map((bus) => bus.close()));
      });
      const startRelay = (bus: EventBus, options: { batchSize?: number } = {}) => {
        const relay = new OutboxRelay({ orm: db.orm, bus, intervalMs: 20, ...options });
        relays.push(relay);
        relay.start();
        return relay;
      };
      return { buses, received, startRelay };
    }

    /** Writes a widget and its `widget.created` event in one transaction; `fail` rolls it back. */
    async function commitWidgetWithEvent(account: string, fail = false): Promise<EventEnvelope> {
      const widgetId = uniqueId('widget');
      const actor = { kind: 'user', id: 'u1', ip: '203.0.113.7', userAgent: 'curl/8.5.0' } as const;
      const event = testEvent('widget.created', account, widgetId, { name: 'Gizmo', tags: ['a', 'b'] }, actor);
      event.traceparent = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
      const write = db.orm.em.fork().transactional(async (tx) => {
        tx.create(Widget, { id: widgetId, name: 'Gizmo' });
        enqueueEvent(tx, event);
        await tx.flush();
        if (fail) throw new Error('business rule failed after the writes');
      });
      if (fail) await expect(write).rejects.toThrow(/business rule/);
      else await write;
      return event;
    }

    const unsentRows = (account: string) => db.orm.em.fork().find(OutboxEvent, { accountId: account, sentAt: null });

    it('publishes an event committed with its state change, its actor and trace context included, and marks it sent', async () => {
      const account = uniqueId('acct');
      const { received, startRelay, buses } = await setup(account);
      startRelay(buses.relayBuses[0]);

      const event = await commitWidgetWithEvent(account);
      await waitFor(() => received.length === 1, 5_000, 'the relayed event');
      expect(received).toEqual([event]);

      // The relay commits sent_at just after the bus acknowledged the event.
      await waitFor(async () => (await unsentRows(account)).length === 0, 5_000, 'sent_at');
      const row = await db.orm.em.fork().findOneOrFail(OutboxEvent, { id: event.id });
      expect(row.sentAt).toBeInstanceOf(Date);
      expect(row.attempts).toBe(0);
    });

    it('publishes nothing for a rolled-back transaction', async () => {
      const account = uniqueId('acct');
      const { received, buses } = await setup(account);

      const event = await commitWidgetWithEvent(account, true);
      const relay = new OutboxRelay({ orm: db.orm, bus: buses.relayBuses[0] });
      await relay.flush();
      await sleep(QUIET_MS);

      expect(received).toEqual([]);
      const em = db.orm.em.fork();
      expect(await em.count(OutboxEvent, { accountId: account })).toBe(0);
      expect(await em.count(Widget, { id: event.subject })).toBe(0);
    });

    it('leaves rows unsent while publishing fails, and a relay started later publishes them', async () => {
      const account = uniqueId('acct');
      const { received, startRelay, buses } = await setup(account);
      const brokenBus: EventBus = {
        publish: async () => {
          throw new Error('nats: connection refused');
        },
        publishEphemeral: async () => {},
        subscribe: async () => ({ unsubscribe: async () => {} }),
        ready: async () => {
          throw new Error('nats: connection refused');
        },
        close: async () => {},
      };

      const first = startRelay(brokenBus);
      const events = [];
      for (let i = 0; i < 3; i++) events.push(await commitWidgetWithEvent(account));
      await waitFor(async () => (await unsentRows(account)).every((row) => row.attempts > 0), 5_000, 'failed attempts');
      await first.stop();

      const rows = await unsentRows(account);
      expect(rows).toHaveLength(3);
      expect(rows[0].lastError).toBe('nats: connection refused');
      expect(received).toEqual([]);

      startRelay(buses.relayBuses[0]);
      await waitFor(() => received.length === 3, 5_000, 'the events left behind');
      await sleep(QUIET_MS);
      expect(received.map((event) => event.id)).toEqual(events.map((event) => event.id));
      await waitFor(async () => (await unsentRows(account)).length === 0, 5_000, 'every row marked sent');
    });

    it('with two relays running, publishes every row exactly once', async () => {
      const account = uniqueId('acct');
      const { received, startRelay, buses } = await setup(account);
      const publishedBy: string[][] = [[], []];
      for (const [index, bus] of buses.relayBuses.entries()) startRelay(recordingPublishes(bus, publishedBy[index]), { batchSize: 10 });

      const events: EventEnvelope[] = [];
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          for (let i = 0; i < 20; i++) events.push(await commitWidgetWithEvent(account));
        }),
      );
      await waitFor(() => received.length >= events.length, 15_000, 'all 200 events');
      await sleep(QUIET_MS);

      expect(publishedBy.map((ids) => ids.length > 0)).toEqual([true, true]); // both relays took part
      const published = [...publishedBy[0], ...publishedBy[1]];
      expect(new Set(published).size).toBe(published.length);
      expect(published.sort()).toEqual(events.map((event) => event.id).sort());
      expect(received.map((event) => event.id).sort()).toEqual(events.map((event) => event.id).sort());
      await waitFor(async () => (await unsentRows(account)).length === 0, 5_000, 'every row marked sent');
    });
  });
}

/** The same bus, noting the id of every event it published. */
function recordingPublishes(bus: EventBus, publishedIds: string[]): EventBus {
  return {
    publish: async (event) => {
      await bus.publish(event);
      publishedIds.push(event.id);
    },
    publishEphemeral: (event) => bus.publishEphemeral(event),
    subscribe: (pattern, handler, opts) => bus.subscribe(pattern, handler, opts),
    ready: () => bus.ready(),
    close: () => bus.close(),
  };
}
