import { LockMode } from '@mikro-orm/core';
import { ROLE_ACTIONS, type Action } from '@listbackup/lib/access';
import type { Em, Orm } from '@listbackup/lib/db';
import { createEvent, readAnyEvent, systemActor, type ContractEvent } from '@listbackup/lib/events/contract';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import { uuidv7 } from '@listbackup/lib/events/envelope';
import { enqueueEvent, runIdempotent } from '@listbackup/lib/events/outbox';
import { isUuid } from '@listbackup/lib/ids';
import { Membership } from '../entities/membership.ts';
import { InboxItem, Notification, NotificationPreference, NotificationRule, SourceOutcome, type NotificationEvent } from '../entities/notification.ts';
import { NotificationEndpoint } from '../entities/notification-endpoint.ts';
import { Delivery } from '../entities/notification-delivery.ts';
import { User } from '../entities/user.ts';

export const NOTIFICATIONS_CONSUMER = 'accounts.notifications';

/** What every account gets until it sets a rule: people are told of failures by email and in the app, of good news in the app. */
export const DEFAULT_RULES: Record<NotificationEvent, { email: boolean; inApp: boolean }> = {
  JOB_FAILED: { email: true, inApp: true },
  JOB_RECOVERED: { email: false, inApp: true },
  JOB_PARTIALLY_SUCCEEDED: { email: false, inApp: true },
  CONNECTION_FAILED: { email: true, inApp: true },
  TOKEN_EXPIRING: { email: true, inApp: true },
  QUOTA_WARNING: { email: true, inApp: true },
  QUOTA_REACHED: { email: true, inApp: true },
  ANOMALY_DETECTED: { email: true, inApp: true },
  ENDPOINT_DISABLED: { email: true, inApp: true },
  PAYMENT_FAILED: { email: true, inApp: true },
};

/** The name webhooks and Slack messages give each notification (`type` of the Standard Webhooks payload). */
export const WEBHOOK_TYPES: Record<NotificationEvent, string> = {
  JOB_FAILED: 'job.failed',
  JOB_RECOVERED: 'job.recovered',
  JOB_PARTIALLY_SUCCEEDED: 'job.partially_succeeded',
  CONNECTION_FAILED: 'connection.failed',
  TOKEN_EXPIRING: 'connection.expiring',
  QUOTA_WARNING: 'quota.warning',
  QUOTA_REACHED: 'quota.reached',
  ANOMALY_DETECTED: 'snapshot.anomaly_detected',
  ENDPOINT_DISABLED: 'endpoint.disabled',
  PAYMENT_FAILED: 'payment.failed',
};

/** Notifications only some members get: those whose role may act on them. The others go to every member. */
const AUDIENCE: Partial<Record<NotificationEvent, Action>> = {
  ENDPOINT_DISABLED: 'notifications:manage',
  PAYMENT_FAILED: 'billing:manage',
};

interface Draft {
  event: NotificationEvent;
  title: string;
  body: string;
}

const KIND_NAMES: Record<string, string> = { BACKUP: 'backup', EXPORT: 'export', RESTORE: 'restore', VERIFY: 'verification', PRUNE: 'retention run', TIER: 'tiering run', GC: 'storage clean-up' };

/**
 * What to tell about an event, or null when it is not news. Job outcomes go through the source's
 * last outcome (kept here) to tell a recovery from an ordinary success.
 */
async function draftFor(tx: Em, event: ContractEvent): Promise<Draft | null> {
  switch (event.type) {
    case 'job.failed':
    case 'job.completed': {
      const { job, sourceId } = event.data;
      const what = KIND_NAMES[job.kind] ?? job.kind.toLowerCase();
      let failedBefore = false;
      if (job.kind === 'BACKUP' && sourceId) failedBefore = await recordOutcome(tx, event.accountId, sourceId, event.type === 'job.failed', new Date(event.time));
      if (event.type === 'job.failed') {
        return {
          event: 'JOB_FAILED',
          title: `A ${what} failed`,
          body: `Job ${job.id} failed after ${job.attempts} attempt${job.attempts === 1 ? '' : 's'}${job.failureType ? ` (${job.failureType.toLowerCase()})` : ''}: ${job.failureReason ?? 'no reason given'}.`,
        };
      }
      if (job.partialSuccess) return { event: 'JOB_PARTIALLY_SUCCEEDED', title: `A ${what} finished with items skipped`, body: `Job ${job.id} succeeded, but some items could not be backed up; its log lists them.` };
      if (failedBefore) return { event: 'JOB_RECOVERED', title: `A ${what} succeeded again`, body: `Job ${job.id} succeeded after the previous ${what} of this source had failed.` };
      return null;
    }
    case 'connection.failed':
      return {
        event: 'CONNECTION_FAILED',
        title: event.data.status === 'EXPIRED' ? `${event.data.name} needs to be authorized again` : `${event.data.name} needs attention`,
        body: `The ${event.data.platform} connection "${event.data.name}" stopped working (${event.data.code}): ${event.data.message} Backups that use it fail until it is reconnected.`,
      };
    case 'connection.expiring': {
      const { name, platform, expiresAt, reason, message } = event.data;
      const when = expiresAt ? ` on ${new Date(expiresAt).toUTCString()}` : ' soon';
      return {
        event: 'TOKEN_EXPIRING',
        title: `${name} must be authorized again${when}`,
        body: `${reason === 'REFRESH_FAILING' ? 'Refreshing the access of' : 'The authorization of'} the ${platform} connection "${name}" ${reason === 'REFRESH_FAILING' ? 'keeps failing' : `expires${when}`}: ${message} Authorize it again before then, or its backups fail.`,
      };
    }
    case 'billing.payment_failed':
      return {
        event: 'PAYMENT_FAILED',
        title: 'A payment failed',
        body: `Invoice ${event.data.invoiceId} could not be paid after ${event.data.attempts} attempt${event.data.attempts === 1 ? '' : 's'}: ${event.data.reason} Update the payment method before ${new Date(event.data.overdueAt).toUTCString()}, or the account is suspended.`,
      };
    case 'billing.quota_reached': {
      const reached = event.data.threshold === 100;
      const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
      return {
        event: reached ? 'QUOTA_REACHED' : 'QUOTA_WARNING',
        title: reached ? 'Storage quota reached' : 'Storage quota 80% used',
        body: `The account stores ${gib(event.data.usedBytes)} of the ${gib(event.data.quotaBytes)} its plan includes.${reached ? ' New backups may be refused until data is deleted or the plan is upgraded.' : ''}`,
      };
    }
    case 'snapshot.anomaly_detected': {
      const { kind, share, reason, snapshotId } = event.data;
      return {
        event: 'ANOMALY_DETECTED',
        title: `A backup found ${Math.round(share * 100)}% of items ${kind === 'MASS_CHANGE' ? 'changed' : 'deleted'}`,
        body: `${reason} The snapshot ${snapshotId} is flagged and kept past its retention until someone acknowledges it.`,
      };
    }
    case 'notification.endpoint_disabled':
      return {
        event: 'ENDPOINT_DISABLED',
        title: `Notifications to "${event.data.name}" were turned off`,
        body: `The ${event.data.kind === 'SLACK' ? 'Slack' : 'webhook'} endpoint "${event.data.name}" kept failing, so ListBackup stopped sending to it: ${event.data.reason} Fix it, then enable it again.`,
      };
    default:
      return null;
  }
}

/** Records a backup's outcome for its source; answers whether the one before had failed. */
async function recordOutcome(tx: Em, accountId: string, sourceId: string, failed: boolean, at: Date): Promise<boolean> {
  const previous = await tx.findOne(SourceOutcome, { sourceId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (previous) {
    const before = previous.failed;
    if (previous.at <= at) Object.assign(previous, { failed, at });
    return before;
  }
  tx.create(SourceOutcome, { sourceId, accountId, failed, at });
  return false;
}

/** The people of an account to tell, with their channels after the account's rule and their own preference. */
async function recipients(tx: Em, accountId: string, draft: Draft, rule: { email: boolean; inApp: boolean }) {
  const memberships = await tx.find(Membership, { accountId, userId: { $ne: null } });
  const action = AUDIENCE[draft.event];
  const relevant = action ? memberships.filter((m) => ROLE_ACTIONS[m.role].has(action)) : memberships;
  const userIds = [...new Set(relevant.map((m) => m.userId!))];
  if (userIds.length === 0) return [];
  const [users, preferences] = await Promise.all([tx.find(User, { id: { $in: userIds } }), tx.find(NotificationPreference, { userId: { $in: userIds }, event: draft.event })]);
  const preferenceOf = new Map(preferences.map((preference) => [preference.userId, preference]));
  return users.map((user) => {
    const preference = preferenceOf.get(user.id);
    return {
      user,
      // Email only to an address its owner proved.
      email: rule.email && (preference?.email ?? true) && user.emailVerifiedAt != null,
      inApp: rule.inApp && (preference?.inApp ?? true),
    };
  });
}

/**
 * Turns an event into a notification of its account, once: the in-app items (each announced by
 * `notification.created`, which feeds `notificationAdded`), and a delivery per email recipient
 * and per endpoint that subscribed to it, for the delivery worker. All in one transaction.
 */
export async function notifyOf(orm: Orm, envelope: EventEnvelope, now: () => Date = () => new Date()): Promise<Notification | null> {
  const event = readAnyEvent(envelope);
  if (!event || !isUuid(event.accountId)) return null;
  let made: Notification | null = null;
  await runIdempotent(orm.em.fork(), NOTIFICATIONS_CONSUMER, event, async (tx) => {
    const draft = await draftFor(tx, event);
    if (!draft) return;
    const accountId = event.accountId;
    const at = now();
    const rule = (await tx.findOne(NotificationRule, { accountId, event: draft.event })) ?? DEFAULT_RULES[draft.event];
    const notification = tx.create(Notification, {
      id: uuidv7(),
      accountId,
      eventId: event.id,
      event: draft.event,
      title: draft.title,
      body: draft.body,
      payload: { type: event.type, data: event.data as Record<string, unknown> },
      createdAt: at,
    });
    for (const { user, email, inApp } of await recipients(tx, accountId, draft, rule)) {
      if (inApp) {
        const item = tx.create(InboxItem, { id: uuidv7(), notificationId: notification.id, userId: user.id, accountId, createdAt: at, readAt: null });
        enqueueEvent(
          tx,
          createEvent(
            'notification.created',
            accountId,
            item.id,
            {
              userId: user.id,
              notification: { __typename: 'Notification', id: item.id, event: draft.event, title: draft.title, body: draft.body, createdAt: at.toISOString(), read: false, readAt: null },
            },
            { actor: systemActor('notifications') },
          ),
        );
      }
      if (email) tx.create(Delivery, newDelivery(notification, 'EMAIL', user.email, at, { userId: user.id }));
    }
    if (draft.event !== 'ENDPOINT_DISABLED') {
      const endpoints = await tx.find(NotificationEndpoint, { accountId, enabled: true, events: { $contains: [draft.event] } });
      for (const endpoint of endpoints) tx.create(Delivery, newDelivery(notification, endpoint.kind, endpoint.url, at, { endpointId: endpoint.id }));
    }
    made = notification;
  });
  return made;
}

function newDelivery(notification: Notification, channel: Delivery['channel'], recipient: string, at: Date, who: { userId?: string; endpointId?: string }) {
  return {
    id: uuidv7(),
    notificationId: notification.id,
    accountId: notification.accountId,
    channel,
    endpointId: who.endpointId ?? null,
    userId: who.userId ?? null,
    recipient,
    status: 'PENDING' as const,
    attempts: 0,
    nextAttemptAt: at,
    lockedUntil: null,
    lastResponseCode: null,
    lastError: null,
    deliveredAt: null,
    createdAt: at,
  };
}
