import type { Orm } from '@listbackup/lib/db';
import type { Logger } from '@listbackup/lib/logger';
import type { EventBus, EventSubscription } from '@listbackup/lib/events/bus';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import { readEvent } from '@listbackup/lib/events/contract';
import { runIdempotent } from '@listbackup/lib/events/outbox';
import { isUuid } from '@listbackup/lib/ids';
import { Source } from '../entities/source.ts';
import type { JobsClient } from '../clients/jobs-client.ts';
import { heldAccounts } from './account-holds.ts';

export const WEBHOOK_EVENTS_PATTERN = 'lb.evt.*.connection.webhook_received';
/** The consumer name recorded with each applied event id (processed_events). */
export const WEBHOOK_BACKUPS_CONSUMER = 'sources.webhook-backups';
/** How long a backup a webhook asks for waits before it starts; every webhook of its source meanwhile joins it. */
export const DEFAULT_WEBHOOK_COALESCE_MS = 60_000;

export interface WebhookBackupsOptions {
  orm: Orm;
  bus: EventBus;
  jobs: JobsClient;
  log: Logger;
  /** The coalescing window: default 60 s. */
  coalesceMs?: number;
  durablePrefix?: string;
}

/**
 * A verified platform webhook (`connection.webhook_received`, published by platforms for the
 * connection it matched) queues an incremental backup of each live source of that connection, in
 * the event's own account, that includes one of the changed resources. The backup starts after the
 * coalescing window, and jobs answers every later request for the source's queued backup with that
 * same job: a burst of webhooks is one backup. A held (suspended or deleted) account queues nothing.
 * Returns the number of sources asked for; null when the event was not for this consumer or was
 * applied before.
 */
export async function handleWebhookEvent(options: Omit<WebhookBackupsOptions, 'bus' | 'durablePrefix'>, event: EventEnvelope): Promise<number | null> {
  if (event.type !== 'connection.webhook_received') return null;
  const { log, jobs } = options;
  const received = readEvent(event, 'connection.webhook_received');
  if (!received || !isUuid(event.accountId) || !isUuid(received.data.connectionId)) {
    // Retrying cannot fix it; throwing would redeliver it for ever.
    log.error({ eventId: event.id, type: event.type }, 'webhook event off its contract; ignored');
    return null;
  }
  const { connectionId, resources, deliveryId, platform } = received.data;
  let asked = 0;
  const applied = await runIdempotent(options.orm.em.fork(), WEBHOOK_BACKUPS_CONSUMER, event, async (tx) => {
    if (resources.length === 0) return;
    if ((await heldAccounts(tx, [event.accountId])).size > 0) {
      log.info({ accountId: event.accountId, connectionId, deliveryId }, 'webhook for a held account: no backup');
      return;
    }
    const sources = await tx.find(Source, { accountId: event.accountId, connectionId, deletedAt: null, paused: false, resources: { $overlap: resources } }, { orderBy: { id: 'asc' } });
    for (const source of sources) {
      const { jobId, created } = await jobs.enqueueWebhookBackup({ accountId: source.accountId, sourceId: source.id, delayMs: options.coalesceMs ?? DEFAULT_WEBHOOK_COALESCE_MS, requestId: `webhook:${platform}:${deliveryId}` });
      log.info({ accountId: source.accountId, sourceId: source.id, jobId, created, deliveryId, platform }, created ? 'webhook backup queued' : 'webhook joined the queued backup');
      asked++;
    }
  });
  return applied ? asked : null;
}

export function consumeWebhookEvents(options: WebhookBackupsOptions): Promise<EventSubscription> {
  return options.bus.subscribe(WEBHOOK_EVENTS_PATTERN, async (event) => {
    await handleWebhookEvent(options, event);
  }, { durable: `${options.durablePrefix ?? 'lb'}-sources-webhook-backups` });
}
