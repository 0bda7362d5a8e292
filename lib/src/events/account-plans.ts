import { defineEntity, p } from '@mikro-orm/core';
import { Migration } from '@mikro-orm/migrations';
import type { Em, Orm } from '../db.ts';
import { FREE_PLAN, type AccountPlan, type PlanLimits } from '../plan-limits.ts';
import type { Logger } from '../logger.ts';
import { isUuid } from '../ids.ts';
import type { EventBus, EventSubscription } from './bus.ts';
import type { EventEnvelope } from './envelope.ts';
import { readEvent } from './contract.ts';

/*
 * The account's plan as a subgraph that enforces plan limits keeps it: `<schema>.account_plans`,
 * one row per account that changed plan, fed by `account.upgraded`; no row is the Free plan.
 */

export const AccountPlanRecord = defineEntity({
  name: 'AccountPlanRecord',
  tableName: 'account_plans',
  properties: {
    accountId: p.uuid().primary(),
    /** The plan's code. */
    plan: p.text(),
    name: p.text(),
    limits: p.json<PlanLimits>(),
    /** The time of the event that set the row: an older event changes nothing. */
    changedAt: p.datetime(),
  },
});

/** Creates `account_plans` in the schema of the subgraph that lists it, as MikroORM makes it for the entity. */
export class AccountPlansMigration extends Migration {
  override up(): void {
    this.addSql(
      `create table "account_plans" ("account_id" uuid not null, "plan" text not null, "name" text not null, "limits" jsonb not null, "changed_at" timestamptz not null, primary key ("account_id"));`,
    );
  }
}

/**
 * The account's plan, read inside `tx` after taking the account's plan lock (held to the end of
 * the transaction): two creates of the same account count one after the other, so they cannot
 * both take the last place.
 */
export async function lockAccountPlan(tx: Em, schema: string, accountId: string): Promise<AccountPlan> {
  await tx.execute(`select pg_advisory_xact_lock(hashtextextended(?, 0))`, [`${schema}.account_plans:${accountId}`]);
  const rows = await tx.execute<{ plan: string; name: string; limits: PlanLimits }[]>(`select "plan", "name", "limits" from "${schema}"."account_plans" where "account_id" = ?`, [accountId]);
  const row = rows[0];
  return row ? { code: row.plan, name: row.name, limits: row.limits } : FREE_PLAN;
}

/**
 * Applies an `account.upgraded` that carries limits; an older event than the one applied
 * (redelivered out of order) changes nothing, so applying is idempotent.
 */
export async function applyAccountUpgraded(em: Em, schema: string, log: Logger, event: EventEnvelope): Promise<boolean> {
  const upgraded = readEvent(event, 'account.upgraded');
  if (!upgraded) return false;
  const { accountId, toPlan, planName, limits } = upgraded.data;
  const at = new Date(event.time);
  if (!limits || !planName || !isUuid(accountId) || Number.isNaN(at.getTime())) {
    log.warn({ eventId: event.id, accountId }, 'account.upgraded without limits or a valid account; the limits stay as they were');
    return false;
  }
  await em.execute(
    `insert into "${schema}"."account_plans" ("account_id", "plan", "name", "limits", "changed_at") values (?, ?, ?, ?::jsonb, ?)
     on conflict ("account_id") do update set "plan" = excluded."plan", "name" = excluded."name", "limits" = excluded."limits", "changed_at" = excluded."changed_at"
     where "account_plans"."changed_at" <= excluded."changed_at"`,
    [accountId, toPlan, planName, JSON.stringify(limits), at],
  );
  return true;
}

/** Keeps `<schema>.account_plans` from `account.upgraded`, on a durable consumer of the subgraph's own. */
export function consumeAccountPlans(orm: Orm, bus: EventBus, log: Logger, schema: string, durablePrefix?: string): Promise<EventSubscription> {
  return bus.subscribe(
    'lb.evt.*.account.upgraded',
    async (event) => {
      await applyAccountUpgraded(orm.em.fork(), schema, log, event);
    },
    { durable: `${durablePrefix ?? 'lb'}-${schema}-account-plans` },
  );
}
