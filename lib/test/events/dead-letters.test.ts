import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { streamName } from '../../src/events/connect.ts';
import { NatsEventBus, type NatsEventBusOptions } from '../../src/events/nats-bus.ts';
import { metrics } from '../../src/metrics.ts';
import { NATS_URL, QUIET_MS, natsIsReachable, sleep, testEvent, uniqueId, waitFor } from './support.ts';

const natsReachable = await natsIsReachable();

const namespace = uniqueId('lbdead');
const busOptions: NatsEventBusOptions = { stream: streamName(namespace), namespace, retryDelayMs: 50, maxDeliveries: 3 };

/** `npm run events:redrive` on this file's namespace. */
async function redriveCommand(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('npm', ['run', '-s', 'events:redrive', '--', ...args], {
    env: { ...process.env, NATS_URL, EVENTS_NAMESPACE: namespace },
  });
  return stdout;
}

async function deadCount(consumer: string): Promise<number> {
  const { values } = await metrics.consumerEvents.get();
  return values.find((v) => v.labels.consumer === consumer && v.labels.outcome === 'dead')?.value ?? 0;
}

describe.skipIf(!natsReachable)('NatsEventBus dead letters', () => {
  const opened: NatsEventBus[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((bus) => bus.close()));
    const admin = await NatsEventBus.connect(NATS_URL, busOptions);
    await (await admin.connection.jetstreamManager()).streams.delete(admin.stream);
    await admin.close();
  });

  it('gives a stream made before dead letters existed their subjects, keeping its events', async () => {
    const older = uniqueId('lbolder');
    const options: NatsEventBusOptions = { stream: streamName(older), namespace: older };
    const nc = await NatsEventBus.connect(NATS_URL, busOptions);
    opened.push(nc);
    const jsm = await nc.connection.jetstreamManager();
    await jsm.streams.add({ name: streamName(older), subjects: [`${older}.evt.>`] });
    try {
      await nc.connection.jetstream().publish(`${older}.evt.acct.user.login`, new TextEncoder().encode('{}'));
      const bus = await NatsEventBus.connect(NATS_URL, options);
      opened.push(bus);
      const info = await jsm.streams.info(streamName(older));
      expect(info.config.subjects).toEqual([`${older}.evt.>`, `${older}.dlq.>`, `${older}.redrive.>`]);
      expect(info.state.messages).toBe(1);
    } finally {
      await jsm.streams.delete(streamName(older));
    }
  });

  it('sets a poison event aside after 3 deliveries, lists it, and `npm run events:redrive` hands it back to its consumer only', async () => {
    const bus = await NatsEventBus.connect(NATS_URL, busOptions);
    opened.push(bus);
    const account = uniqueId('acct');
    const durable = uniqueId('audit');
    const other = uniqueId('analytics');
    const poison = testEvent('user.updated', account, 'u1', { poison: true });
    const fine = testEvent('user.login', account, 'u1', {});
    let fixed = false;
    const attempts = new Map<string, number>();
    const handled: string[] = [];
    const otherHandled: string[] = [];
    await bus.subscribe(
      `lb.evt.${account}.>`,
      (event) => {
        attempts.set(event.id, (attempts.get(event.id) ?? 0) + 1);
        if (event.data.poison && !fixed) throw new Error('cannot handle\nthis event');
        handled.push(event.id);
      },
      { durable },
    );
    await bus.subscribe(`lb.evt.${account}.>`, (event) => void otherHandled.push(event.id), { durable: other });
    await bus.publish(poison);
    await bus.publish(fine);

    await waitFor(async () => (await bus.deadLetters()).length === 1, 20_000);
    const [letter] = await bus.deadLetters();
    expect(letter).toMatchObject({ consumer: durable, event: poison, error: 'cannot handle this event', deliveries: 3 });
    expect(attempts.get(poison.id)).toBe(3);
    expect(handled).toEqual([fine.id]);
    expect(await deadCount(durable)).toBe(1);
    // Set aside, it is not delivered again.
    await sleep(QUIET_MS);
    expect(attempts.get(poison.id)).toBe(3);

    const listed = await redriveCommand();
    expect(listed).toContain(`${letter.seq}  `);
    expect(listed).toContain(`${durable}  user.updated  ${poison.id}  after 3 deliveries: cannot handle this event`);

    fixed = true;
    expect(await redriveCommand('--all')).toContain(`${letter.seq}  redriven to ${durable}`);
    await waitFor(() => handled.includes(poison.id), 20_000);
    expect(await bus.deadLetters()).toEqual([]);
    // Only the consumer that failed gets it again; the other saw each event once.
    await sleep(QUIET_MS);
    expect(otherHandled.sort()).toEqual([poison.id, fine.id].sort());
    expect(handled.filter((id) => id === poison.id)).toHaveLength(1);
  }, 120_000);
});
