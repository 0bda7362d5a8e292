import type { Orm } from '@listbackup/lib/db';
import type { EventBus, EventSubscription } from '@listbackup/lib/events/bus';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import { readEvent } from '@listbackup/lib/events/contract';
import type { Logger } from '@listbackup/lib/logger';
import { recordAuditEntry, setAuditRetention } from '../services/audit-log.ts';

/** Every durable event of every account. */
export const AUDIT_PATTERN = 'lb.evt.*.>';

export const auditDurableName = (prefix: string | undefined) => `${prefix ?? 'lb'}-accounts-audit`;

/** Records the event in its account's log (once), and keeps the retention billing gives the plan. */
export async function handleAuditEvent(orm: Orm, log: Logger, event: EventEnvelope): Promise<void> {
  const upgraded = readEvent(event, 'account.upgraded');
  if (upgraded) await setAuditRetention(orm, upgraded.data.accountId, upgraded.data.auditLogRetentionDays);
  const recorded = await recordAuditEntry(orm, event);
  log.debug({ eventId: event.id, type: event.type, recorded }, recorded ? 'audit entry recorded' : 'audit entry already there or not kept');
}

export function consumeAuditEvents(orm: Orm, bus: EventBus, log: Logger, durablePrefix?: string): Promise<EventSubscription> {
  return bus.subscribe(AUDIT_PATTERN, (event) => handleAuditEvent(orm, log, event), { durable: auditDurableName(durablePrefix) });
}
