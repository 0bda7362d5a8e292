import type { Em, Orm } from '@listbackup/lib/db';
import type { Logger } from '@listbackup/lib/logger';
import type { EventBus, EventSubscription } from '@listbackup/lib/events/bus';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import { readEvent } from '@listbackup/lib/events/contract';
import { runIdempotent } from '@listbackup/lib/events/outbox';
import { isUuid } from '@listbackup/lib/ids';
import { deleteAccountRows } from '@listbackup/lib/events/account-purge';

export const ACCOUNT_EVENTS_PATTERN = 'lb.evt.*.account.>';
/** The consumer name recorded with each applied event id (processed_events). */
export const ACCOUNT_HOLDS_CONSUMER = 'sources.account-holds';

type HoldReason = 'suspended' | 'deleted';

/**
 * What an account event does to the schedules of the accounts it names: a suspension or a
 * deletion holds them, a resumption or a restore lifts that hold. A lift older than the hold it
 * meets (events redelivered out of order) leaves the hold in place.
 */
function holdChange(event: EventEnvelope): { accountIds: string[]; reason: HoldReason; hold: boolean } | null {
  const suspended = readEvent(event, 'account.suspended');
  if (suspended) return { accountIds: suspended.data.accountIds, reason: 'suspended', hold: true };
  const resumed = readEvent(event, 'account.resumed');
  if (resumed) return { accountIds: resumed.data.accountIds, reason: 'suspended', hold: false };
  const deleted = readEvent(event, 'account.deleted');
  if (deleted) return { accountIds: deleted.data.accountIds, reason: 'deleted', hold: true };
  const restored = readEvent(event, 'account.restored');
  if (restored) return { accountIds: restored.data.accountIds, reason: 'deleted', hold: false };
  return null;
}

const HOLD_TYPES = new Set(['account.suspended', 'account.resumed', 'account.deleted', 'account.restored']);

/** What sources keeps of an account, all gone when it is purged (the store's objects are jobs' to delete). */
const PURGED_TABLES = ['snapshots', 'sources', 'account_holds', 'account_plans'] as const;

export async function handleAccountEvent(orm: Orm, log: Logger, event: EventEnvelope): Promise<boolean> {
  const purged = readEvent(event, 'account.purged');
  if (purged) {
    const ids = purged.data.accountIds.filter(isUuid);
    return runIdempotent(orm.em.fork(), ACCOUNT_HOLDS_CONSUMER, event, (tx) => deleteAccountRows(tx, PURGED_TABLES, ids));
  }
  if (!HOLD_TYPES.has(event.type)) return false;
  const change = holdChange(event);
  const at = new Date(event.time);
  if (!change || Number.isNaN(at.getTime()) || change.accountIds[0] !== event.accountId || !change.accountIds.every(isUuid)) {
    // Retrying cannot fix it; throwing would redeliver it for ever.
    log.error({ eventId: event.id, type: event.type }, 'account event off its contract; ignored');
    return false;
  }
  return runIdempotent(orm.em.fork(), ACCOUNT_HOLDS_CONSUMER, event, (tx) => applyHold(tx, change.accountIds, change.reason, change.hold, at));
}

async function applyHold(tx: Em, accountIds: string[], reason: HoldReason, hold: boolean, at: Date): Promise<void> {
  const connection = tx.getConnection();
  if (hold) {
    await connection.execute(
      `insert into "sources"."account_holds" ("account_id", "reason", "since") select value::uuid, ?, ? from jsonb_array_elements_text(?::jsonb)
       on conflict ("account_id", "reason") do update set "since" = greatest("account_holds"."since", excluded."since")`,
      [reason, at, JSON.stringify(accountIds)],
    );
  } else {
    await connection.execute(`delete from "sources"."account_holds" where "account_id" in (select value::uuid from jsonb_array_elements_text(?::jsonb)) and "reason" = ? and "since" <= ?`, [JSON.stringify(accountIds), reason, at]);
  }
}

/** Account ids among `accountIds` whose schedules are held. */
export async function heldAccounts(tx: Em, accountIds: string[]): Promise<Set<string>> {
  if (accountIds.length === 0) return new Set();
  const rows = await tx.getConnection().execute<{ account_id: string }[]>(
    `select distinct "account_id" from "sources"."account_holds" where "account_id" in (select value::uuid from jsonb_array_elements_text(?::jsonb))`,
    [JSON.stringify(accountIds)],
  );
  return new Set(rows.map((row) => row.account_id));
}

export function consumeAccountEvents(orm: Orm, bus: EventBus, log: Logger, durablePrefix?: string): Promise<EventSubscription> {
  return bus.subscribe(ACCOUNT_EVENTS_PATTERN, async (event) => {
    await handleAccountEvent(orm, log, event);
  }, { durable: `${durablePrefix ?? 'lb'}-sources-account-holds` });
}
