import type { Orm } from '@listbackup/lib/db';
import type { Logger } from '@listbackup/lib/logger';
import type { EventBus, EventSubscription } from '@listbackup/lib/events/bus';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import { readEvent } from '@listbackup/lib/events/contract';
import { isUuid } from '@listbackup/lib/ids';
import type { UsageKind } from '../entities/plan-usage-item.ts';

interface UsageChange {
  kind: UsageKind;
  itemId: string;
  live: boolean;
  /** A source's interval and retention, when the event carries its state. */
  source?: { backupIntervalMinutes: number | null; retentionDays: number | null };
}

const SOURCE_TYPES = ['source.created', 'source.updated', 'source.paused', 'source.resumed', 'source.deleted'] as const;
const CONNECTION_TYPES = ['connection.created', 'connection.authorized', 'connection.failed', 'connection.revoked'] as const;
const MEMBER_TYPES = ['member.invited', 'member.added', 'member.role_changed', 'member.removed'] as const;

/** What a sources, platforms or accounts event says about one thing a plan limits; null for any other event. */
function usageChange(event: EventEnvelope): UsageChange | null {
  for (const type of SOURCE_TYPES) {
    const source = readEvent(event, type);
    if (!source) continue;
    const state = source.data.source;
    const known = state?.backupIntervalMinutes !== undefined && state.retentionDays !== undefined;
    return {
      kind: 'SOURCE',
      itemId: source.data.sourceId,
      live: type !== 'source.deleted',
      source: known ? { backupIntervalMinutes: state.backupIntervalMinutes ?? null, retentionDays: state.retentionDays ?? null } : undefined,
    };
  }
  for (const type of CONNECTION_TYPES) {
    const connection = readEvent(event, type);
    if (connection) return { kind: 'CONNECTION', itemId: connection.data.connectionId, live: type !== 'connection.revoked' };
  }
  for (const type of MEMBER_TYPES) {
    const member = readEvent(event, type);
    if (member) return { kind: 'MEMBER', itemId: member.data.membershipId, live: type !== 'member.removed' };
  }
  // A root account is made with its founding owner's membership, which has no member event of its own.
  const account = readEvent(event, 'account.created');
  if (account) return account.data.parentId === null ? { kind: 'MEMBER', itemId: event.subject, live: true } : null;
  const created = readEvent(event, 'apikey.created');
  if (created) return { kind: 'API_KEY', itemId: created.data.apiKeyId, live: true };
  const revoked = readEvent(event, 'apikey.revoked');
  if (revoked) return { kind: 'API_KEY', itemId: revoked.data.apiKeyId, live: false };
  return null;
}

/**
 * Keeps `plan_usage_items` from the events of the things plans limit. Applying is idempotent and
 * tolerates redelivery out of order: an event older than the row's last change changes nothing.
 */
export async function handleUsageEvent(orm: Orm, log: Logger, event: EventEnvelope): Promise<boolean> {
  const change = usageChange(event);
  if (!change) return false;
  const at = new Date(event.time);
  if (!isUuid(event.accountId) || !isUuid(change.itemId) || Number.isNaN(at.getTime())) {
    log.error({ eventId: event.id, type: event.type }, 'usage event without a valid account, item or time; ignored');
    return false;
  }
  await orm.em.fork().execute(
    `insert into "billing"."plan_usage_items" ("kind", "item_id", "account_id", "live", "backup_interval_minutes", "retention_days", "changed_at") values (?, ?, ?, ?, ?, ?, ?)
     on conflict ("kind", "item_id") do update set "live" = excluded."live", "changed_at" = excluded."changed_at",
       "backup_interval_minutes" = case when ? then excluded."backup_interval_minutes" else "plan_usage_items"."backup_interval_minutes" end,
       "retention_days" = case when ? then excluded."retention_days" else "plan_usage_items"."retention_days" end
     where "plan_usage_items"."changed_at" <= excluded."changed_at"`,
    [
      change.kind,
      change.itemId,
      event.accountId,
      change.live,
      change.source?.backupIntervalMinutes ?? null,
      change.source?.retentionDays ?? null,
      at,
      change.source !== undefined,
      change.source !== undefined,
    ],
  );
  return true;
}

/** One durable subscription per subject (NATS 2.9 filters one subject per consumer), shared by every billing replica. */
export async function consumeUsageEvents(orm: Orm, bus: EventBus, log: Logger, durablePrefix = 'lb'): Promise<EventSubscription[]> {
  const handler = (event: EventEnvelope) => handleUsageEvent(orm, log, event).then(() => undefined);
  const subscriptions: EventSubscription[] = [];
  try {
    for (const subject of ['source.>', 'connection.>', 'member.>', 'apikey.>', 'account.created']) {
      subscriptions.push(await bus.subscribe(`lb.evt.*.${subject}`, handler, { durable: `${durablePrefix}-billing-usage-${subject.split('.')[0]}` }));
    }
    return subscriptions;
  } catch (error) {
    for (const subscription of subscriptions) await subscription.unsubscribe();
    throw error;
  }
}
