import { defineEntity, p } from '@mikro-orm/core';

/** What a notification is about: the event types rules and preferences choose from. */
export const NOTIFICATION_EVENTS = [
  'JOB_FAILED',
  'JOB_RECOVERED',
  'JOB_PARTIALLY_SUCCEEDED',
  'CONNECTION_FAILED',
  'TOKEN_EXPIRING',
  'QUOTA_WARNING',
  'QUOTA_REACHED',
  'ANOMALY_DETECTED',
  'ENDPOINT_DISABLED',
  'PAYMENT_FAILED',
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/** One notification of an account, made from one event (once: `eventId` is unique). */
export const NotificationSchema = defineEntity({
  name: 'Notification',
  tableName: 'notifications',
  properties: {
    id: p.uuid().primary(),
    accountId: p.uuid().index(),
    eventId: p.uuid().unique(),
    event: p.enum(NOTIFICATION_EVENTS),
    title: p.text(),
    body: p.text(),
    /** The event type and data it was made from, as webhooks carry them. */
    payload: p.json<{ type: string; data: Record<string, unknown> }>(),
    createdAt: p.datetime(),
  },
});
export class Notification extends NotificationSchema.class {}
NotificationSchema.setClass(Notification);

/** A notification in one person's in-app list, read or not. */
export const InboxItemSchema = defineEntity({
  name: 'InboxItem',
  tableName: 'notification_inbox',
  properties: {
    id: p.uuid().primary(),
    notificationId: p.uuid(),
    userId: p.uuid(),
    accountId: p.uuid(),
    createdAt: p.datetime(),
    readAt: p.datetime().nullable(),
  },
  uniques: [{ name: 'notification_inbox_notification_user_unique', properties: ['notificationId', 'userId'] }],
  indexes: [{ name: 'notification_inbox_user_created_index', properties: ['userId', 'createdAt'] }],
});
export class InboxItem extends InboxItemSchema.class {}
InboxItemSchema.setClass(InboxItem);

/** Which channels an account uses for an event; no row means the default (see notification-rules.ts). */
export const NotificationRuleSchema = defineEntity({
  name: 'NotificationRule',
  tableName: 'notification_rules',
  properties: {
    accountId: p.uuid().primary(),
    event: p.enum(NOTIFICATION_EVENTS).primary(),
    email: p.boolean(),
    inApp: p.boolean(),
  },
  primaryKeys: ['accountId', 'event'],
});
export class NotificationRule extends NotificationRuleSchema.class {}
NotificationRuleSchema.setClass(NotificationRule);

/** A person's choice for an event, in every account; no row means they get what the account's rule sends. */
export const NotificationPreferenceSchema = defineEntity({
  name: 'NotificationPreference',
  tableName: 'notification_preferences',
  properties: {
    userId: p.uuid().primary(),
    event: p.enum(NOTIFICATION_EVENTS).primary(),
    email: p.boolean(),
    inApp: p.boolean(),
  },
  primaryKeys: ['userId', 'event'],
});
export class NotificationPreference extends NotificationPreferenceSchema.class {}
NotificationPreferenceSchema.setClass(NotificationPreference);

/** The last backup outcome of each source, so a success after a failure is told as a recovery. */
export const SourceOutcomeSchema = defineEntity({
  name: 'SourceOutcome',
  tableName: 'notification_source_outcomes',
  properties: {
    sourceId: p.uuid().primary(),
    accountId: p.uuid(),
    failed: p.boolean(),
    at: p.datetime(),
  },
});
export class SourceOutcome extends SourceOutcomeSchema.class {}
SourceOutcomeSchema.setClass(SourceOutcome);
