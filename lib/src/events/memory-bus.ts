import { setTimeout as sleep } from 'node:timers/promises';
import { subjectFor, type EventEnvelope } from './envelope.ts';
import {
  redeliveryDelayMs,
  silentLogger,
  tracedHandler,
  type EventBus,
  type EventHandler,
  type EventLogger,
  type EventSubscription,
  type SubscribeOptions,
} from './bus.ts';
import { DEDUP_WINDOW_MS, LiveDispatcher, RecentIds } from './dispatch.ts';
import { assertEventPattern, subjectMatches } from './subjects.ts';
import { metrics } from '../metrics.ts';

export interface InProcessEventBusOptions {
  logger?: EventLogger;
  /** Same id published again within this window is dropped. Default 2 minutes, as the NATS stream. */
  dedupWindowMs?: number;
  /** Durable events kept for durable consumers; the oldest are dropped beyond this. */
  maxLogEntries?: number;
  /** First redelivery delay after a durable handler threw; doubles per failure up to 30 s. */
  retryDelayMs?: number;
}

interface LogEntry {
  seq: number;
  subject: string;
  event: EventEnvelope;
}

interface DurableConsumer {
  name: string;
  pattern: string;
  /** Sequence number of the next log entry to look at. */
  nextSeq: number;
  active: boolean;
  /** The running delivery loop, so a new subscriber starts only after the previous one ended. */
  loop: Promise<void>;
  stop: AbortController;
}

/**
 * The event bus inside one process, for the single-process default. Same semantics as
 * `NatsEventBus`: durable events are kept in an in-memory log (since process start, bounded), so
 * a durable consumer catches up on what it missed and gets an event again when its handler throws.
 */
export class InProcessEventBus implements EventBus {
  readonly #logger: EventLogger;
  readonly #recentIds: RecentIds;
  readonly #maxLogEntries: number;
  readonly #retryDelayMs: number;
  readonly #log: LogEntry[] = [];
  #nextSeq = 1;
  readonly #live = new Set<{ pattern: string; dispatcher: LiveDispatcher }>();
  readonly #durables = new Map<string, DurableConsumer>();
  /** Durable loops waiting for a new log entry. */
  readonly #waiting = new Set<() => void>();
  #closed = false;

  constructor(options: InProcessEventBusOptions = {}) {
    this.#logger = options.logger ?? silentLogger;
    this.#recentIds = new RecentIds(options.dedupWindowMs ?? DEDUP_WINDOW_MS);
    this.#maxLogEntries = options.maxLogEntries ?? 100_000;
    this.#retryDelayMs = options.retryDelayMs ?? 50;
  }

  async publish(event: EventEnvelope): Promise<void> {
    this.#assertOpen();
    const subject = subjectFor(event);
    if (!this.#recentIds.add(event.id)) return;
    const entry = { seq: this.#nextSeq++, subject, event: structuredClone(event) };
    this.#log.push(entry);
    if (this.#log.length > this.#maxLogEntries) this.#log.shift();
    this.#deliverLive(subject, entry.event);
    this.#wakeDurables();
  }

  async publishEphemeral(event: EventEnvelope): Promise<void> {
    this.#assertOpen();
    this.#deliverLive(subjectFor(event), structuredClone(event));
  }

  async subscribe(pattern: string, handler: EventHandler, opts: SubscribeOptions = {}): Promise<EventSubscription> {
    this.#assertOpen();
    assertEventPattern(pattern);
    if (opts.durable !== undefined) return this.#subscribeDurable(opts.durable, pattern, tracedHandler(opts.durable, handler));

    const live = { pattern, dispatcher: new LiveDispatcher(pattern, handler, this.#logger) };
    this.#live.add(live);
    return {
      unsubscribe: async () => {
        live.dispatcher.stop();
        this.#live.delete(live);
      },
    };
  }

  async ready(): Promise<void> {
    this.#assertOpen();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const live of this.#live) live.dispatcher.stop();
    this.#live.clear();
    for (const consumer of this.#durables.values()) this.#stopDurable(consumer);
    this.#wakeDurables();
  }

  #deliverLive(subject: string, event: EventEnvelope): void {
    for (const live of this.#live) {
      if (subjectMatches(live.pattern, subject)) live.dispatcher.push(event);
    }
  }

  #subscribeDurable(name: string, pattern: string, handler: EventHandler): EventSubscription {
    let consumer = this.#durables.get(name);
    if (consumer && consumer.pattern !== pattern) {
      throw new Error(`Durable consumer "${name}" already exists for "${consumer.pattern}", not "${pattern}"`);
    }
    if (consumer?.active) throw new Error(`Durable consumer "${name}" already has a subscriber in this process`);
    if (!consumer) {
      consumer = { name, pattern, nextSeq: this.#log[0]?.seq ?? this.#nextSeq, active: false, loop: Promise.resolve(), stop: new AbortController() };
      this.#durables.set(name, consumer);
    }
    const previousLoop = consumer.loop;
    const started = consumer;
    started.active = true;
    started.stop = new AbortController();
    const { signal } = started.stop;
    started.loop = previousLoop.then(() => this.#runDurable(started, handler, signal));
    const unwatch = metrics.consumerPending.add(() => {
      if (signal.aborted) {
        unwatch();
        return [];
      }
      return [{ labels: { consumer: name }, value: this.#log.filter((entry) => entry.seq >= started.nextSeq && subjectMatches(pattern, entry.subject)).length }];
    });
    return {
      unsubscribe: async () => {
        unwatch();
        if (started.stop.signal.aborted) return;
        this.#stopDurable(started);
      },
    };
  }

  #stopDurable(consumer: DurableConsumer): void {
    consumer.active = false;
    consumer.stop.abort();
    this.#wakeDurables();
  }

  #wakeDurables(): void {
    for (const wake of this.#waiting) wake();
    this.#waiting.clear();
  }

  async #runDurable(consumer: DurableConsumer, handler: EventHandler, signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      const firstSeq = this.#log[0]?.seq ?? this.#nextSeq;
      if (consumer.nextSeq < firstSeq) consumer.nextSeq = firstSeq; // entries it missed were trimmed
      const entry = this.#log[consumer.nextSeq - firstSeq];
      if (!entry) {
        await new Promise<void>((resolve) => this.#waiting.add(resolve));
        continue;
      }
      if (!subjectMatches(consumer.pattern, entry.subject)) {
        consumer.nextSeq++;
        continue;
      }
      try {
        await handler(structuredClone(entry.event));
        metrics.consumerEvents.inc({ consumer: consumer.name, outcome: 'ok' });
        consumer.nextSeq = entry.seq + 1;
        failures = 0;
      } catch (error) {
        metrics.consumerEvents.inc({ consumer: consumer.name, outcome: 'failed' });
        failures++;
        const delayMs = redeliveryDelayMs(failures, this.#retryDelayMs);
        this.#logger.warn({ err: error, consumer: consumer.name, eventId: entry.event.id, failures, delayMs }, 'durable event handler failed; will redeliver');
        await sleep(delayMs, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('Event bus is closed');
  }
}
