import type { Orm } from '@listbackup/lib/db';
import type { Logger } from '@listbackup/lib/logger';
import type { EventBus, EventSubscription } from '@listbackup/lib/events/bus';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import { readEvent } from '@listbackup/lib/events/contract';
import { isUuid } from '@listbackup/lib/ids';

export const STORAGE_STANDING_PATTERN = 'lb.evt.*.billing.storage_standing';

/** Keeps the account's row at the highest version billing announced: replayed or reordered events change nothing. */
export async function handleStorageStanding(orm: Orm, log: Logger, event: EventEnvelope): Promise<boolean> {
  const standing = readEvent(event, 'billing.storage_standing');
  if (!standing) return false;
  const { accountId, version, planName, usedBytes, quotaBytes, overSince, blockedFrom } = standing.data;
  if (!isUuid(accountId) || accountId !== event.accountId) {
    // Retrying cannot fix it; throwing would redeliver it for ever.
    log.error({ eventId: event.id }, 'billing.storage_standing for another tenant than its subject says, or without an account id; ignored');
    return false;
  }
  const rows = await orm.em.fork().execute<unknown[]>(
    `insert into "jobs"."account_quotas" ("account_id", "version", "plan_name", "used_bytes", "quota_bytes", "over_since", "blocked_from") values (?, ?, ?, ?, ?, ?, ?)
     on conflict ("account_id") do update set "version" = excluded."version", "plan_name" = excluded."plan_name", "used_bytes" = excluded."used_bytes",
       "quota_bytes" = excluded."quota_bytes", "over_since" = excluded."over_since", "blocked_from" = excluded."blocked_from"
     where "account_quotas"."version" < excluded."version" returning 1`,
    [accountId, version, planName, usedBytes, quotaBytes, overSince, blockedFrom],
  );
  return rows.length > 0;
}

/** One durable subscription, shared by every jobs replica. */
export function consumeStorageStanding(orm: Orm, bus: EventBus, log: Logger, durablePrefix = 'lb'): Promise<EventSubscription> {
  return bus.subscribe(STORAGE_STANDING_PATTERN, (event) => handleStorageStanding(orm, log, event).then(() => undefined), { durable: `${durablePrefix}-jobs-storage-standing` });
}
