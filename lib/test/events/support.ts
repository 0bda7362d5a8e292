import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { MikroORM } from '@mikro-orm/postgresql';
import type { EntitySchema } from '@mikro-orm/core';
import { connect } from 'nats';
import { OutboxEvent, ProcessedEvent, outboxMigrationSql } from '../../src/events/outbox.ts';
import { assertValidEvent, uuidv7, type Actor, type EventEnvelope } from '../../src/events/envelope.ts';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

export function uniqueId(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/**
 * An envelope of any type and data: the buses and the outbox carry envelopes whatever the product's
 * contract says (services build theirs with `createEvent` of contract.ts).
 */
export function testEvent(type: string, accountId: string, subject: string, data: Record<string, unknown> = {}, actor?: Actor): EventEnvelope {
  const event: EventEnvelope = { id: uuidv7(), type, accountId, subject, time: new Date().toISOString(), data, ...(actor ? { actor } : {}) };
  assertValidEvent(event);
  return event;
}

export interface TestDatabase {
  orm: MikroORM;
  schema: string;
  drop(): Promise<void>;
}

/**
 * A fresh Postgres schema holding the outbox tables (created with `outboxMigrationSql`, as a
 * subgraph migration would) plus `extraSql`, and an ORM bound to it.
 */
export async function openTestDatabase(
  extraEntities: EntitySchema<any, any>[] = [],
  extraSql: (schema: string) => string[] = () => [],
): Promise<TestDatabase> {
  const schema = uniqueId('evt_test');
  const orm = await MikroORM.init({
    entities: [OutboxEvent, ProcessedEvent, ...extraEntities],
    clientUrl: DATABASE_URL,
    schema,
    allowGlobalContext: false,
  });
  const connection = orm.em.getConnection();
  await connection.execute(`create schema "${schema}"`);
  for (const sql of [...outboxMigrationSql(schema), ...extraSql(schema)]) await connection.execute(sql);
  return {
    orm,
    schema,
    drop: async () => {
      await connection.execute(`drop schema if exists "${schema}" cascade`);
      await orm.close();
    },
  };
}

/**
 * Whether NATS answers at NATS_URL. Outside CI a missing server skips the NATS tests with a
 * message; in CI (`CI=true`) it is an error.
 */
export async function natsIsReachable(): Promise<boolean> {
  try {
    const connection = await connect({ servers: NATS_URL, timeout: 2_000, reconnect: false });
    const jsm = await connection.jetstreamManager();
    await jsm.getAccountInfo();
    await connection.close();
    return true;
  } catch (error) {
    const reason = `NATS with JetStream is not reachable at ${NATS_URL} (${(error as Error).message})`;
    if (process.env.CI === 'true') throw new Error(`${reason}; CI requires it`);
    console.warn(`Skipping NATS event bus tests: ${reason}. Set NATS_URL or start nats-server -js.`);
    return false;
  }
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Time given to a bus to deliver something that must not arrive. */
export const QUIET_MS = 300;

export { sleep };
