import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsEventBus, type NatsEventBusOptions } from '../../src/events/nats-bus.ts';
import type { EventEnvelope } from '../../src/events/envelope.ts';
import { describeEventBusContract } from './bus-contract.ts';
import { NATS_URL, QUIET_MS, natsIsReachable, openTestDatabase, sleep, testEvent, uniqueId, waitFor, type TestDatabase } from './support.ts';

const natsReachable = await natsIsReachable();

// One stream and subject namespace for this file, so parallel test files never share events.
const namespace = uniqueId('lbtest');
const busOptions: NatsEventBusOptions = { stream: namespace.toUpperCase(), namespace, retryDelayMs: 100 };

describe.skipIf(!natsReachable)('NatsEventBus', () => {
  let db: TestDatabase;
  const opened: NatsEventBus[] = [];
  async function connectBus(): Promise<NatsEventBus> {
    const bus = await NatsEventBus.connect(NATS_URL, busOptions);
    opened.push(bus);
    return bus;
  }

  beforeAll(async () => {
    db = await openTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(opened.map((bus) => bus.close()));
    const admin = await NatsEventBus.connect(NATS_URL, busOptions);
    await (await admin.connection.jetstreamManager()).streams.delete(admin.stream);
    await admin.close();
    await db?.drop();
  });

  describeEventBusContract('NatsEventBus', { makeBus: connectBus, orm: () => db.orm });

  it('creates the stream on lb.evt subjects (and the dead-letter and redrive subjects) with file storage, 30 days and a 2 minute dedup window', async () => {
    const bus = await connectBus();
    const info = await (await bus.connection.jetstreamManager()).streams.info(bus.stream);
    expect(info.config).toMatchObject({
      subjects: [`${namespace}.evt.>`, `${namespace}.dlq.>`, `${namespace}.redrive.>`],
      storage: 'file',
      max_age: 30 * 24 * 3600 * 1e9,
      duplicate_window: 120 * 1e9,
    });
  });

  it('stores durable events under their tenant subject with Nats-Msg-Id = event id, and ephemeral ones not at all', async () => {
    const bus = await connectBus();
    const jsm = await bus.connection.jetstreamManager();
    const account = uniqueId('acct');
    const event = testEvent('job.completed', account, 'job1', { items: 3 });
    await bus.publish(event);
    await bus.publishEphemeral(testEvent('job.progress', account, 'job1', { items: 2 }));

    const stored = await jsm.streams.getMessage(bus.stream, { last_by_subj: `${namespace}.evt.${account}.job.completed` });
    expect(stored.header.get('Nats-Msg-Id')).toBe(event.id);
    expect(stored.json<EventEnvelope>()).toEqual(event);
    const info = await jsm.streams.info(bus.stream, { subjects_filter: `${namespace}.evt.${account}.>` });
    expect(info.state.subjects).toEqual({ [`${namespace}.evt.${account}.job.completed`]: 1 });
  });

  it('keeps a durable consumer across connections: events published while its process was down arrive on restart', async () => {
    const account = uniqueId('acct');
    const durable = uniqueId('audit');
    const before = await connectBus();
    const first: string[] = [];
    await before.subscribe(`lb.evt.${account}.>`, (event) => void first.push(event.id), { durable });
    const seen = testEvent('user.login', account, 'u1', {});
    await before.publish(seen);
    await waitFor(() => first.length === 1);
    await before.close();

    const publisher = await connectBus();
    const missed = testEvent('user.updated', account, 'u1', {});
    await publisher.publish(missed);

    const after = await connectBus();
    const second: string[] = [];
    await after.subscribe(`lb.evt.${account}.>`, (event) => void second.push(event.id), { durable });
    await waitFor(() => second.length === 1);
    await sleep(QUIET_MS);
    expect(second).toEqual([missed.id]);
  });

  it('shares a durable consumer between replicas: each event is handled by one of them', async () => {
    const account = uniqueId('acct');
    const durable = uniqueId('metering');
    const handled: string[] = [];
    for (const replica of [await connectBus(), await connectBus()]) {
      await replica.subscribe(`lb.evt.${account}.>`, (event) => void handled.push(event.id), { durable });
    }
    const publisher = await connectBus();
    const events = Array.from({ length: 20 }, (_, n) => testEvent('data.synced', account, `s${n}`, {}));
    for (const event of events) await publisher.publish(event);
    await waitFor(() => handled.length === 20);
    await sleep(QUIET_MS);
    expect(handled.sort()).toEqual(events.map((event) => event.id).sort());
  });

  it('refuses to reuse a durable name for another subject', async () => {
    const bus = await connectBus();
    const durable = uniqueId('notify');
    await bus.subscribe('lb.evt.*.account.created', () => {}, { durable });
    await expect(bus.subscribe('lb.evt.*.account.upgraded', () => {}, { durable })).rejects.toThrow(/delete it to change its subject/);
  });
});
