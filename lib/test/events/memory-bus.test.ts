import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessEventBus } from '../../src/events/memory-bus.ts';
import type { EventEnvelope } from '../../src/events/envelope.ts';
import { describeEventBusContract } from './bus-contract.ts';
import { openTestDatabase, testEvent, waitFor, type TestDatabase } from './support.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describeEventBusContract('InProcessEventBus', {
  makeBus: async () => new InProcessEventBus({ retryDelayMs: 20 }),
  orm: () => db.orm,
});

describe('InProcessEventBus', () => {
  it('keeps a bounded log: a late durable consumer gets the retained events only', async () => {
    const bus = new InProcessEventBus({ maxLogEntries: 2 });
    const events = [1, 2, 3].map((n) => testEvent('user.created', 'acct1', `u${n}`, {}));
    for (const event of events) await bus.publish(event);
    const received: EventEnvelope[] = [];
    await bus.subscribe('lb.evt.acct1.>', (event) => void received.push(event), { durable: 'late' });
    await waitFor(() => received.length === 2);
    expect(received.map((event) => event.subject)).toEqual(['u2', 'u3']);
    await bus.close();
  });

  it('refuses a second subscriber on an active durable and a durable reused for another pattern', async () => {
    const bus = new InProcessEventBus();
    const subscription = await bus.subscribe('lb.evt.acct1.>', () => {}, { durable: 'audit' });
    await expect(bus.subscribe('lb.evt.acct1.>', () => {}, { durable: 'audit' })).rejects.toThrow(/already has a subscriber/);
    await subscription.unsubscribe();
    await expect(bus.subscribe('lb.evt.acct2.>', () => {}, { durable: 'audit' })).rejects.toThrow(/already exists/);
    await bus.close();
    await expect(bus.publish(testEvent('user.created', 'acct1', 'u1'))).rejects.toThrow(/closed/);
  });
});
