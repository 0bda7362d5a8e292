import {
  AckPolicy,
  connect,
  DeliverPolicy,
  headers as natsHeaders,
  nanos,
  NatsError,
  StorageType,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
  type Subscription,
} from 'nats';
import { parseEvent, subjectFor, type EventEnvelope } from './envelope.ts';
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
import { DEDUP_WINDOW_MS, LiveDispatcher } from './dispatch.ts';
import { assertEventPattern, withPrefix } from './subjects.ts';
import { metrics } from '../metrics.ts';
import { clientTlsOptions, processTls } from '../tls.ts';

export interface NatsEventBusOptions {
  /** JetStream stream that keeps the durable events. */
  stream?: string;
  /**
   * First subject token(s) on the wire. Durable events travel on `<namespace>.evt.<accountId>.<type>`
   * (captured by the stream), ephemeral ones on `<namespace>.live.…` (not captured). The API always
   * speaks logical `lb.evt.…` subjects; a different namespace isolates test runs on a shared server.
   */
  namespace?: string;
  maxAgeMs?: number;
  duplicateWindowMs?: number;
  /** First redelivery delay after a durable handler threw; doubles per failure up to 30 s. */
  retryDelayMs?: number;
  /** How long a delivered durable event may stay unacknowledged before the server redelivers it. */
  ackWaitMs?: number;
  /** Deliveries of an event to a durable consumer whose handler keeps throwing before it is set aside as a dead letter. */
  maxDeliveries?: number;
  logger?: EventLogger;
  /** Connection name shown by the NATS server. */
  name?: string;
}

const DAY_MS = 24 * 60 * 60_000;
const MAX_ERROR_LENGTH = 500;

/** An event a durable consumer's handler kept failing on, set aside in the dead-letter stream. */
export interface DeadLetter {
  /** Its sequence in the dead-letter stream: what `redrive` takes. */
  seq: number;
  consumer: string;
  event: EventEnvelope;
  /** The handler's last error message. */
  error: string;
  deliveries: number;
  deadLetteredAt: Date;
}
const encoder = new TextEncoder();

/** The event bus on NATS: durable events in a JetStream stream, durable consumers as pull consumers. */
export class NatsEventBus implements EventBus {
  readonly stream: string;
  readonly connection: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #storedPrefix: string;
  readonly #livePrefix: string;
  readonly #retryDelayMs: number;
  readonly #ackWaitMs: number;
  readonly #maxDeliveries: number;
  readonly #deadPrefix: string;
  readonly #redrivePrefix: string;
  readonly #logger: EventLogger;
  readonly #subscriptions = new Set<EventSubscription>();
  /** Durable delivery loops; close() lets a running handler finish and ack before draining. */
  readonly #durableLoops = new Set<Promise<void>>();
  #closed = false;
  /** False between a lost connection and the reconnect (the client keeps trying for ever). */
  #connected = true;

  private constructor(connection: NatsConnection, jsm: JetStreamManager, options: NatsEventBusOptions & { stream: string; namespace: string }) {
    this.connection = connection;
    this.#js = connection.jetstream();
    this.#jsm = jsm;
    this.stream = options.stream;
    this.#storedPrefix = `${options.namespace}.evt`;
    this.#livePrefix = `${options.namespace}.live`;
    this.#retryDelayMs = options.retryDelayMs ?? 1_000;
    this.#ackWaitMs = options.ackWaitMs ?? 60_000;
    this.#maxDeliveries = options.maxDeliveries ?? 10;
    this.#deadPrefix = `${options.namespace}.dlq`;
    this.#redrivePrefix = `${options.namespace}.redrive`;
    this.#logger = options.logger ?? silentLogger;
    void this.#watchConnection();
  }

  async #watchConnection(): Promise<void> {
    for await (const status of this.connection.status()) {
      if (status.type === 'disconnect') this.#connected = false;
      else if (status.type === 'reconnect') this.#connected = true;
    }
  }

  /** Connects and makes sure the stream exists (an existing stream's settings are left as they are). */
  static async connect(url: string | string[], options: NatsEventBusOptions = {}): Promise<NatsEventBus> {
    const settings = { ...options, stream: options.stream ?? 'LB_EVENTS', namespace: options.namespace ?? 'lb' };
    // tls://host:port: the connection must be TLS, trusting the services' CA and showing this service's certificate.
    const tls = [url].flat().some((server) => server.startsWith('tls://')) ? clientTlsOptions(processTls() ?? {}) : undefined;
    const connection = await connect({ servers: url, name: options.name, maxReconnectAttempts: -1, ...(tls ? { tls } : {}) });
    try {
      const jsm = await connection.jetstreamManager();
      // Dead letters (`<ns>.dlq.<consumer>`) and redriven events (`<ns>.redrive.<consumer>`) are kept in the same stream.
      const subjects = ['evt', 'dlq', 'redrive'].map((kind) => `${settings.namespace}.${kind}.>`);
      await ensureStream(jsm, settings.stream, subjects, {
        maxAgeMs: options.maxAgeMs ?? 30 * DAY_MS,
        duplicateWindowMs: options.duplicateWindowMs ?? DEDUP_WINDOW_MS,
      });
      return new NatsEventBus(connection, jsm, settings);
    } catch (error) {
      await connection.close();
      throw error;
    }
  }

  async publish(event: EventEnvelope): Promise<void> {
    this.#assertOpen();
    const subject = withPrefix(subjectFor(event), this.#storedPrefix);
    await this.#js.publish(subject, encoder.encode(JSON.stringify(event)), { msgID: event.id });
  }

  async publishEphemeral(event: EventEnvelope): Promise<void> {
    this.#assertOpen();
    const subject = withPrefix(subjectFor(event), this.#livePrefix);
    this.connection.publish(subject, encoder.encode(JSON.stringify(event)));
  }

  async subscribe(pattern: string, handler: EventHandler, opts: SubscribeOptions = {}): Promise<EventSubscription> {
    this.#assertOpen();
    assertEventPattern(pattern);
    let subscription: EventSubscription;
    if (opts.durable === undefined) {
      subscription = this.#subscribeLive(pattern, handler);
      // Resolve only once the server knows the subscription, so a publish from any connection after this reaches it.
      await this.connection.flush();
    } else {
      subscription = await this.#subscribeDurable(opts.durable, pattern, tracedHandler(opts.durable, handler));
    }
    this.#subscriptions.add(subscription);
    return {
      unsubscribe: async () => {
        this.#subscriptions.delete(subscription);
        await subscription.unsubscribe();
      },
    };
  }

  async ready(): Promise<void> {
    if (this.#closed || this.connection.isClosed()) throw new Error('the connection to NATS is closed');
    if (!this.#connected) throw new Error(`disconnected from NATS (${this.connection.getServer()}); reconnecting`);
    try {
      await this.#jsm.streams.info(this.stream);
    } catch (error) {
      throw new Error(`JetStream stream ${this.stream} does not answer (${error instanceof Error ? error.message : String(error)})`);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.unsubscribe()));
    this.#subscriptions.clear();
    await Promise.all(this.#durableLoops);
    if (!this.connection.isClosed()) await this.connection.drain();
  }

  /** Core NATS subscriptions on both the stored and the ephemeral subjects. */
  #subscribeLive(pattern: string, handler: EventHandler): EventSubscription {
    const dispatcher = new LiveDispatcher(pattern, handler, this.#logger);
    // A duplicate js.publish is dropped by the stream but still reaches core subscribers;
    // the dispatcher drops it by id.
    const subs: Subscription[] = [this.#storedPrefix, this.#livePrefix].map((prefix) =>
      this.connection.subscribe(withPrefix(pattern, prefix), {
        callback: (error, msg) => {
          if (error) {
            this.#logger.error({ err: error, pattern }, 'live subscription failed');
            return;
          }
          try {
            dispatcher.push(parseEvent(msg.string()));
          } catch (parseError) {
            this.#logger.error({ err: parseError, subject: msg.subject }, 'dropping malformed event');
          }
        },
      }),
    );
    return {
      unsubscribe: async () => {
        dispatcher.stop();
        for (const sub of subs) sub.unsubscribe();
      },
    };
  }

  async #subscribeDurable(name: string, pattern: string, handler: EventHandler): Promise<EventSubscription> {
    if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new TypeError(`Invalid durable name "${name}": use letters, digits, - and _`);
    await this.#ensureConsumer(this.stream, name, withPrefix(pattern, this.#storedPrefix));
    // Its redriven dead letters come on a consumer of their own (NATS 2.9: one filter per consumer).
    const redriveName = `${name}__redrive`;
    await this.#ensureConsumer(this.stream, redriveName, `${this.#redrivePrefix}.${name}`);
    const feeds: ConsumerMessages[] = [];
    for (const [stream, consumerName] of [
      [this.stream, name],
      [this.stream, redriveName],
    ]) {
      const consumer = await this.#js.consumers.get(stream, consumerName);
      // A small batch: messages waiting in the client buffer count against ack_wait.
      const messages = await consumer.consume({ max_messages: 10 });
      feeds.push(messages);
      const loop = this.#runDurable(name, messages, handler);
      this.#durableLoops.add(loop);
      void loop.finally(() => this.#durableLoops.delete(loop));
    }
    // Read from the server at scrape time; replicas of a consumer report the same figures once.
    let info: Promise<{ num_pending: number; num_ack_pending: number }> | null = null;
    const read = () => {
      info ??= this.#jsm.consumers.info(this.stream, name).finally(() => setImmediate(() => (info = null)));
      return info;
    };
    const key = `consumer ${this.stream} ${name}`;
    const unwatch = [
      metrics.consumerPending.add(async () => [{ labels: { consumer: name }, value: (await read()).num_pending }], key),
      metrics.consumerAckPending.add(async () => [{ labels: { consumer: name }, value: (await read()).num_ack_pending }], key),
    ];
    return {
      unsubscribe: async () => {
        for (const stop of unwatch) stop();
        for (const messages of feeds) messages.stop();
      },
    };
  }

  async #runDurable(name: string, messages: ConsumerMessages, handler: EventHandler): Promise<void> {
    try {
      for await (const msg of messages) {
        let event: EventEnvelope;
        try {
          event = parseEvent(msg.string());
        } catch (error) {
          this.#logger.error({ err: error, consumer: name, subject: msg.subject, seq: msg.seq }, 'dropping malformed event');
          msg.term();
          continue;
        }
        await this.#handleDurable(name, msg, event, handler);
      }
    } catch (error) {
      this.#logger.error({ err: error, consumer: name }, 'durable consumer stopped');
    }
  }

  async #handleDurable(name: string, msg: JsMsg, event: EventEnvelope, handler: EventHandler): Promise<void> {
    try {
      await handler(event);
      metrics.consumerEvents.inc({ consumer: name, outcome: 'ok' });
    } catch (error) {
      const failures = msg.info.redeliveryCount;
      if (failures >= this.#maxDeliveries && (await this.#deadLetter(name, msg, event, error))) {
        metrics.consumerEvents.inc({ consumer: name, outcome: 'dead' });
        this.#logger.error({ err: error, consumer: name, eventId: event.id, failures }, 'durable event handler kept failing; event set aside as a dead letter');
        msg.term();
        return;
      }
      metrics.consumerEvents.inc({ consumer: name, outcome: 'failed' });
      const delayMs = redeliveryDelayMs(failures, this.#retryDelayMs);
      this.#logger.warn({ err: error, consumer: name, eventId: event.id, failures, delayMs }, 'durable event handler failed; will redeliver');
      msg.nak(delayMs);
      return;
    }
    try {
      await msg.ackAck();
    } catch (error) {
      // The server redelivers after ack_wait; the idempotent consumer skips it then.
      this.#logger.warn({ err: error, consumer: name, eventId: event.id }, 'ack failed');
    }
  }

  /** Stores the event in the dead-letter stream; false (the event is redelivered instead) when that failed. */
  async #deadLetter(consumer: string, msg: JsMsg, event: EventEnvelope, error: unknown): Promise<boolean> {
    const h = natsHeaders();
    h.set('Lb-Consumer', consumer);
    h.set('Lb-Deliveries', String(msg.info.redeliveryCount));
    h.set('Lb-Error', (error instanceof Error ? error.message : String(error)).replace(/[\r\n]+/g, ' ').slice(0, MAX_ERROR_LENGTH) || 'unknown error');
    try {
      // The id makes a retry of this step (the term below lost, the event delivered again) a no-op.
      await this.#js.publish(`${this.#deadPrefix}.${consumer}`, encoder.encode(JSON.stringify(event)), { msgID: `${consumer}:${msg.info.stream}:${msg.seq}`, headers: h });
      return true;
    } catch (publishError) {
      this.#logger.error({ err: publishError, consumer, eventId: event.id }, 'could not store a dead letter; will redeliver');
      return false;
    }
  }

  /** Dead letters waiting, oldest first (at most `limit`). */
  async deadLetters(limit = 1000): Promise<DeadLetter[]> {
    const filter = `${this.#deadPrefix}.>`;
    const info = await this.#jsm.streams.info(this.stream, { subjects_filter: filter });
    const waiting = Object.values(info.state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
    const letters: DeadLetter[] = [];
    if (waiting === 0) return letters;
    const reader = await this.#js.consumers.get(this.stream, { filterSubjects: filter });
    try {
      while (letters.length < Math.min(limit, waiting)) {
        const msg = await reader.next({ expires: 5_000 });
        if (!msg) break;
        letters.push({
          seq: msg.seq,
          consumer: msg.headers?.get('Lb-Consumer') ?? '',
          event: parseEvent(msg.string()),
          error: msg.headers?.get('Lb-Error') ?? '',
          deliveries: Number(msg.headers?.get('Lb-Deliveries') ?? 0),
          deadLetteredAt: new Date(Math.floor(msg.info.timestampNanos / 1e6)),
        });
        if (msg.info.pending === 0) break;
      }
    } finally {
      await reader.delete().catch(() => {});
    }
    return letters;
  }

  /**
   * Hands dead letters back to their consumer (only to it), which handles them like any event,
   * and removes them from the dead letters. Answers the ones redriven.
   */
  async redrive(seqs?: number[]): Promise<DeadLetter[]> {
    const wanted = seqs ? new Set(seqs) : null;
    const letters = (await this.deadLetters(Number.MAX_SAFE_INTEGER)).filter((letter) => !wanted || wanted.has(letter.seq));
    for (const letter of letters) {
      await this.#js.publish(`${this.#redrivePrefix}.${letter.consumer}`, encoder.encode(JSON.stringify(letter.event)), { msgID: `redrive:${letter.seq}` });
      await this.#jsm.streams.deleteMessage(this.stream, letter.seq);
    }
    return letters;
  }

  async #ensureConsumer(stream: string, name: string, filterSubject: string): Promise<void> {
    const existing = await this.#jsm.consumers.info(stream, name).catch((error: unknown) => {
      if (isNotFound(error)) return null;
      throw error;
    });
    if (existing) {
      // NATS 2.9 cannot change a consumer's filter; a silent mismatch would lose or misroute events.
      if (existing.config.filter_subject !== filterSubject) {
        throw new Error(
          `Durable consumer "${name}" on stream ${stream} filters "${existing.config.filter_subject}", not "${filterSubject}"; delete it to change its subject`,
        );
      }
      return;
    }
    const config: Partial<ConsumerConfig> = {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: filterSubject,
      ack_wait: nanos(this.#ackWaitMs),
      max_ack_pending: 1_000,
    };
    await this.#jsm.consumers.add(stream, config);
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('Event bus is closed');
  }
}

async function ensureStream(
  jsm: JetStreamManager,
  name: string,
  subjects: string | string[],
  limits: { maxAgeMs: number; duplicateWindowMs: number },
): Promise<void> {
  const wanted = [subjects].flat();
  try {
    const { config } = await jsm.streams.info(name);
    // Streams made before dead letters existed gain their subjects; other settings stay as they are.
    const missing = wanted.filter((subject) => !config.subjects?.includes(subject));
    if (missing.length) await jsm.streams.update(name, { subjects: [...(config.subjects ?? []), ...missing] });
    return;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  await jsm.streams.add({
    name,
    subjects: wanted,
    storage: StorageType.File,
    max_age: nanos(limits.maxAgeMs),
    duplicate_window: nanos(limits.duplicateWindowMs),
  });
}

function isNotFound(error: unknown): boolean {
  return error instanceof NatsError && error.api_error?.code === 404;
}
