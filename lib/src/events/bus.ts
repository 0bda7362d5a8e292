import type { EventEnvelope } from './envelope.ts';
import { contextFrom, SpanKind, tracingEnabled, withSpan } from '../tracing.ts';

export type EventHandler = (event: EventEnvelope) => Promise<void> | void;

export interface SubscribeOptions {
  /**
   * Name of a persistent consumer. It keeps its position while nobody is subscribed, so it receives
   * the durable events published meanwhile; a handler that throws gets the event again later, and
   * an event counts as handled only once the handler resolved. Handlers must be idempotent
   * (see `runIdempotent`). Without a name the subscription is live only: it sees durable and
   * ephemeral events published from now on, at most once.
   */
  durable?: string;
}

export interface EventSubscription {
  /**
   * Stops delivery: no handler call starts once this resolved (one already running finishes on its
   * own, so a handler may unsubscribe itself). A durable consumer keeps its position.
   */
  unsubscribe(): Promise<void>;
}

export interface EventBus {
  /** Stores the event (resolves once it is acknowledged) and delivers it. Deduplicated by `event.id`. */
  publish(event: EventEnvelope): Promise<void>;
  /** Delivers the event to live subscribers only, not stored: for progress ticks. */
  publishEphemeral(event: EventEnvelope): Promise<void>;
  /** `pattern` is a NATS subject pattern inside `lb.evt.`, e.g. `lb.evt.<accountId>.job.>` or `lb.evt.*.account.created`. */
  subscribe(pattern: string, handler: EventHandler, opts?: SubscribeOptions): Promise<EventSubscription>;
  /** Resolves when the bus can store and deliver events now, else throws why not (readiness). */
  ready(): Promise<void>;
  /** Unsubscribes everything and releases the connection. */
  close(): Promise<void>;
}

/** The part of a pino logger the buses use. */
export interface EventLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLogger: EventLogger = { warn() {}, error() {} };

/** How long a failing durable handler waits before its event is delivered again: grows, capped. */
export function redeliveryDelayMs(failures: number, baseMs: number, maxMs: number = 30_000): number {
  return Math.min(baseMs * 2 ** Math.max(0, failures - 1), maxMs);
}

/**
 * A durable consumer's handler that handles each event in a span continuing the trace the event
 * carries (its `traceparent`: the code that created it, before the outbox); the handler itself
 * while tracing is off. Both buses wrap durable handlers in it.
 */
export function tracedHandler(consumer: string, handler: EventHandler): EventHandler {
  return (event) => {
    if (!tracingEnabled()) return handler(event);
    const attributes = { 'messaging.operation.type': 'process', 'messaging.consumer.group.name': consumer, 'messaging.message.id': event.id, 'listbackup.event.type': event.type };
    return withSpan(`process ${event.type}`, { kind: SpanKind.CONSUMER, attributes, parent: contextFrom(event.traceparent) }, async () => handler(event));
  };
}
