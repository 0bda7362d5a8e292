import { defineEntity, LockMode, p, type InferEntity } from '@mikro-orm/core';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { EventBus, EventLogger } from './bus.ts';
import { silentLogger } from './bus.ts';
import { assertValidEvent, type Actor, type EventEnvelope } from './envelope.ts';
import { metrics, type Sample } from '../metrics.ts';

/** An event written in the same transaction as the state change it describes; the relay publishes it. */
export const OutboxEvent = defineEntity({
  name: 'OutboxEvent',
  tableName: 'outbox_events',
  properties: {
    id: p.uuid().primary(),
    type: p.text(),
    accountId: p.text(),
    subject: p.text(),
    data: p.json<Record<string, unknown>>(),
    actor: p.json<Actor>().nullable(),
    traceparent: p.text().nullable(),
    time: p.datetime(),
    createdAt: p.datetime().onCreate(() => new Date()),
    sentAt: p.datetime().nullable(),
    attempts: p.integer().default(0),
    lastError: p.text().nullable(),
  },
  indexes: [{ name: 'outbox_events_unsent_idx', properties: ['createdAt'], where: 'sent_at is null' }],
});
export type OutboxEvent = InferEntity<typeof OutboxEvent>;

/** The event ids a consumer has applied, so a redelivered event is applied once. */
export const ProcessedEvent = defineEntity({
  name: 'ProcessedEvent',
  tableName: 'processed_events',
  properties: {
    consumer: p.text().primary(),
    eventId: p.uuid().primary(),
    processedAt: p.datetime().onCreate(() => new Date()),
  },
  primaryKeys: ['consumer', 'eventId'],
});
export type ProcessedEvent = InferEntity<typeof ProcessedEvent>;

/**
 * DDL for the two tables, exactly as MikroORM generates it for the entities above, for a
 * subgraph's migrations: `OutboxMigration` first, `OutboxActorMigration` and `OutboxTraceMigration` later (see
 * outbox-migration.ts). Without `schema` the names are unqualified and land in the migration's
 * schema (the runner sets `search_path` when `migrations.schema` is configured); with it they are
 * qualified.
 */
export function outboxMigrationSql(schema?: string): string[] {
  return [...outboxTablesSql(schema), ...outboxActorSql(schema), ...outboxTraceSql(schema)];
}

const qualified = (schema: string | undefined, name: string) => (schema ? `"${schema}"."${name}"` : `"${name}"`);

/** The tables as first created. */
export function outboxTablesSql(schema?: string): string[] {
  const table = (name: string) => qualified(schema, name);
  return [
    `create table ${table('outbox_events')} ("id" uuid not null, "type" text not null, "account_id" text not null, "subject" text not null, "data" jsonb not null, "time" timestamptz not null, "created_at" timestamptz not null, "sent_at" timestamptz null, "attempts" int not null default 0, "last_error" text null, primary key ("id"));`,
    `create index "outbox_events_unsent_idx" on ${table('outbox_events')} ("created_at") where sent_at is null;`,
    `create table ${table('processed_events')} ("consumer" text not null, "event_id" uuid not null, "processed_at" timestamptz not null, primary key ("consumer", "event_id"));`,
  ];
}

/** The envelope's actor, added later. */
export function outboxActorSql(schema?: string): string[] {
  return [`alter table ${qualified(schema, 'outbox_events')} add column "actor" jsonb null;`];
}

/** The envelope's trace context (lib/src/tracing.ts), added later. */
export function outboxTraceSql(schema?: string): string[] {
  return [`alter table ${qualified(schema, 'outbox_events')} add column "traceparent" text null;`];
}

/** Adds the event to the caller's unit of work, so it commits (or rolls back) with the state change. */
export function enqueueEvent(em: EntityManager, event: EventEnvelope): OutboxEvent {
  assertValidEvent(event);
  const row = em.create(OutboxEvent, {
    id: event.id,
    type: event.type,
    accountId: event.accountId,
    subject: event.subject,
    data: event.data,
    actor: event.actor ?? null,
    traceparent: event.traceparent ?? null,
    time: new Date(event.time),
  });
  em.persist(row);
  return row;
}

/**
 * Applies `fn` once per (consumer, event): records the event id and runs `fn` in one transaction,
 * skipping `fn` when the id was already recorded. Returns whether `fn` ran.
 */
export async function runIdempotent(
  em: EntityManager,
  consumer: string,
  event: Pick<EventEnvelope, 'id'>,
  fn: (em: EntityManager) => Promise<void> | void,
): Promise<boolean> {
  return em.transactional(async (tx) => {
    const result = await tx
      .createQueryBuilder(ProcessedEvent)
      .insert({ consumer, eventId: event.id, processedAt: new Date() })
      .onConflict(['consumer', 'eventId'])
      .ignore()
      .execute('run');
    if (result.affectedRows === 0) return false;
    await fn(tx);
    return true;
  });
}

export interface OutboxRelayOptions {
  orm: MikroORM;
  bus: EventBus;
  logger?: EventLogger;
  /** Pause between polls when the outbox is empty. */
  intervalMs?: number;
  batchSize?: number;
  /** Sent rows older than this are deleted now and then (default 7 days). */
  retainSentMs?: number;
  /**
   * Consumers' records of applied event ids older than this are deleted now and then (default 35
   * days): longer than the bus keeps events (NATS stream max age, 30 days), so nothing that old can
   * be delivered again.
   */
  retainProcessedMs?: number;
}

/** Consecutive publish failures after which a batch gives up: the bus is probably down. */
const MAX_FAILURES_PER_BATCH = 3;
const PRUNE_EVERY_MS = 60 * 60_000;
const DAY_MS = 24 * 60 * 60_000;

/**
 * Publishes outbox rows through the bus. Rows are claimed with `FOR UPDATE SKIP LOCKED`, so
 * several relays (replicas) share the work; a row is marked sent only after the bus acknowledged
 * it, and a row published twice (crash before commit) is dropped by the bus's dedup on event id.
 */
export class OutboxRelay {
  readonly #orm: MikroORM;
  readonly #bus: EventBus;
  readonly #logger: EventLogger;
  readonly #intervalMs: number;
  readonly #batchSize: number;
  readonly #retainSentMs: number;
  readonly #retainProcessedMs: number;
  #running = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #lastPruneAt = 0;
  #unwatch: (() => void)[] = [];
  #backlog: Promise<{ unsent: Sample[]; lag: Sample[] }> | null = null;

  constructor(options: OutboxRelayOptions) {
    this.#orm = options.orm;
    this.#bus = options.bus;
    this.#logger = options.logger ?? silentLogger;
    this.#intervalMs = options.intervalMs ?? 200;
    this.#batchSize = options.batchSize ?? 100;
    this.#retainSentMs = options.retainSentMs ?? 7 * DAY_MS;
    this.#retainProcessedMs = options.retainProcessedMs ?? 35 * DAY_MS;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
    // Relays of one schema (the jobs subgraph and a worker in one process) report it once.
    const key = `outbox ${this.#schema()}`;
    this.#unwatch = [metrics.outboxUnsent.add(async () => (await this.#readBacklog()).unsent, key), metrics.outboxLag.add(async () => (await this.#readBacklog()).lag, key)];
  }

  /** Stops polling and waits for the batch in progress to commit. */
  async stop(): Promise<void> {
    for (const unwatch of this.#unwatch) unwatch();
    this.#unwatch = [];
    this.#running = false;
    this.#wake?.();
    await this.#loop;
    this.#loop = null;
  }

  /** Publishes what it can claim now, batch after batch, until nothing is left. Returns how many it sent. */
  async flush(): Promise<number> {
    let total = 0;
    for (;;) {
      const { claimed, sent } = await this.#relayBatch();
      total += sent;
      if (claimed < this.#batchSize || sent < claimed) return total;
    }
  }

  #schema(): string {
    return String(this.#orm.config.get('schema') ?? 'public');
  }

  /** The unsent events and the age of the oldest, read once per scrape for both gauges. */
  #readBacklog(): Promise<{ unsent: Sample[]; lag: Sample[] }> {
    const schema = this.#schema();
    this.#backlog ??= this.#orm.em
      .fork()
      .getConnection()
      .execute<{ unsent: number; lag: number }[]>(
        `select count(*)::int as unsent, coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as lag from "${schema}"."outbox_events" where sent_at is null`,
      )
      .then(([row]) => ({ unsent: [{ labels: { service: schema }, value: row.unsent }], lag: [{ labels: { service: schema }, value: row.lag }] }))
      .finally(() => setImmediate(() => (this.#backlog = null)));
    return this.#backlog;
  }

  async #run(): Promise<void> {
    let delayMs = this.#intervalMs;
    while (this.#running) {
      try {
        // Most polls find nothing: one indexed read answers that, without a transaction and a locking, hydrating find.
        const { claimed, sent } = (await this.#anyUnsent()) ? await this.#relayBatch() : { claimed: 0, sent: 0 };
        await this.#pruneNowAndThen();
        if (claimed === this.#batchSize && sent === claimed) continue; // more may be waiting
        // Back off while publishing fails, so an outage is not hammered.
        delayMs = sent < claimed ? Math.min(delayMs * 2, 10_000) : this.#intervalMs;
      } catch (error) {
        this.#logger.error({ err: error }, 'outbox relay batch failed');
        delayMs = Math.min(delayMs * 2, 10_000);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = null;
    }
  }

  async #anyUnsent(): Promise<boolean> {
    const schema = this.#orm.config.get('schema');
    const rows = await this.#orm.em.getConnection().execute<unknown[]>(`select 1 from ${schema ? `"${schema}".` : ''}"outbox_events" where sent_at is null limit 1`);
    return rows.length > 0;
  }

  async #relayBatch(): Promise<{ claimed: number; sent: number }> {
    const em = this.#orm.em.fork();
    return em.transactional(async (tx) => {
      const rows = await tx.find(
        OutboxEvent,
        { sentAt: null },
        { orderBy: { createdAt: 'asc', id: 'asc' }, limit: this.#batchSize, lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE },
      );
      let sent = 0;
      let failuresInARow = 0;
      for (const row of rows) {
        try {
          await this.#bus.publish(toEnvelope(row));
          row.sentAt = new Date();
          sent++;
          failuresInARow = 0;
        } catch (error) {
          row.attempts++;
          row.lastError = error instanceof Error ? error.message : String(error);
          this.#logger.warn({ err: error, eventId: row.id, type: row.type, attempts: row.attempts }, 'outbox publish failed');
          if (++failuresInARow >= MAX_FAILURES_PER_BATCH) break;
        }
      }
      return { claimed: rows.length, sent };
    });
  }

  async #pruneNowAndThen(): Promise<void> {
    if (Date.now() - this.#lastPruneAt < PRUNE_EVERY_MS) return;
    this.#lastPruneAt = Date.now();
    await this.prune();
  }

  /** Deletes sent outbox rows and processed-event records past their retention; returns how many of each. */
  async prune(now = new Date()): Promise<{ sent: number; processed: number }> {
    const em = this.#orm.em.fork();
    const sent = await em.nativeDelete(OutboxEvent, { sentAt: { $lt: new Date(now.getTime() - this.#retainSentMs) } });
    const processed = await em.nativeDelete(ProcessedEvent, { processedAt: { $lt: new Date(now.getTime() - this.#retainProcessedMs) } });
    return { sent, processed };
  }
}

function toEnvelope(row: OutboxEvent): EventEnvelope {
  return {
    id: row.id,
    type: row.type,
    accountId: row.accountId,
    subject: row.subject,
    time: row.time.toISOString(),
    data: row.data,
    ...(row.actor ? { actor: row.actor } : {}),
    ...(row.traceparent ? { traceparent: row.traceparent } : {}),
  };
}
