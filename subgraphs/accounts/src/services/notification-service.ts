import { authorize } from '@listbackup/lib/access';
import { AppError, NotFoundError, UnauthenticatedError, ValidationError } from '@listbackup/lib/errors';
import { normalizeName } from '@listbackup/lib/text';
import { uuidv7 } from '@listbackup/lib/events/envelope';
import { isUuid } from '@listbackup/lib/ids';
import { decodeTimeCursor, pageSize, timeCursor, toPage, type CursorScope, type Page } from '@listbackup/lib/pagination';
import type { AccountsContext } from '../context.ts';
import { InboxItem, Notification, NotificationPreference, NotificationRule, NOTIFICATION_EVENTS, type NotificationEvent } from '../entities/notification.ts';
import { NotificationEndpoint, type EndpointKind } from '../entities/notification-endpoint.ts';
import { Delivery, DeliveryAttempt, type DeliveryStatus } from '../entities/notification-delivery.ts';
import { newWebhookSecret, sendSlack, sendWebhook } from '../delivery/senders.ts';
import { recordEvent } from './account-events.ts';
import { requireUserPrincipal } from './auth-service.ts';
import { DEFAULT_RULES } from './notification-fanout.ts';

const MAX_NAME = 200;
const MAX_URL = 2_048;
const ROTATION_OVERLAP_MS = 24 * 60 * 60_000;

// -------------------------------------------------------------------------------------------------
// Rules and preferences

export interface RuleView {
  event: NotificationEvent;
  email: boolean;
  inApp: boolean;
}

/** Every event with the channels the account uses for it (its rule, or the default). */
export async function listRules(ctx: AccountsContext, accountId: string): Promise<RuleView[]> {
  await authorize(ctx, 'account:read', accountId);
  const rules = new Map((await ctx.em.find(NotificationRule, { accountId })).map((rule) => [rule.event, rule]));
  return NOTIFICATION_EVENTS.map((event) => ({ event, email: rules.get(event)?.email ?? DEFAULT_RULES[event].email, inApp: rules.get(event)?.inApp ?? DEFAULT_RULES[event].inApp }));
}

export async function setRule(ctx: AccountsContext, accountId: string, rule: RuleView): Promise<RuleView> {
  await authorize(ctx, 'notifications:manage', accountId);
  await ctx.em.upsert(NotificationRule, { accountId, event: rule.event, email: rule.email, inApp: rule.inApp });
  recordEvent(ctx.em, ctx, 'notification.rule_changed', accountId, accountId, { accountId, event: rule.event, email: rule.email, inApp: rule.inApp });
  await ctx.em.flush();
  return rule;
}

/** The caller's own choice per event (what the accounts' rules send, unless they opted out). */
export async function listPreferences(ctx: AccountsContext): Promise<RuleView[]> {
  const { userId } = requireUserPrincipal(ctx);
  const mine = new Map((await ctx.em.find(NotificationPreference, { userId })).map((preference) => [preference.event, preference]));
  return NOTIFICATION_EVENTS.map((event) => ({ event, email: mine.get(event)?.email ?? true, inApp: mine.get(event)?.inApp ?? true }));
}

export async function setPreference(ctx: AccountsContext, preference: RuleView): Promise<RuleView> {
  const { userId } = requireUserPrincipal(ctx);
  await ctx.em.upsert(NotificationPreference, { userId, ...preference });
  return preference;
}

// -------------------------------------------------------------------------------------------------
// Endpoints

export interface NewEndpoint {
  accountId: string;
  kind: EndpointKind;
  name: string;
  url: string;
  events: NotificationEvent[];
}

function validName(value: string): string {
  const name = normalizeName(value);
  if (!name || name.length > MAX_NAME) throw new ValidationError(`Name the endpoint (1 to ${MAX_NAME} characters)`, 'name');
  return name;
}

function validEvents(events: NotificationEvent[]): NotificationEvent[] {
  const unique = [...new Set(events)];
  if (unique.length === 0) throw new ValidationError('Choose at least one event to send', 'events');
  return unique;
}

/** An http(s) URL without credentials; https only in production. Where it points is checked when it is called. */
function validUrl(ctx: AccountsContext, value: string): string {
  const text = String(value ?? '').trim();
  if (text.length > MAX_URL) throw new AppError('INPUT_TOO_LARGE', `The URL is longer than ${MAX_URL} characters`, { field: 'url', max: MAX_URL });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AppError('INVALID_URL', 'Enter a full URL, like https://example.com/hooks/listbackup', { field: 'url' });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AppError('INVALID_URL', 'The URL must start with https://', { field: 'url' });
  if (url.username || url.password) throw new AppError('INVALID_URL', 'Put no user name or password in the URL', { field: 'url' });
  if (ctx.notifications.requireHttps && url.protocol !== 'https:') throw new AppError('HTTPS_REQUIRED', 'Notifications are sent over HTTPS only: use an https:// URL', { field: 'url' });
  return url.toString();
}

/** The notification a new endpoint is tested with. */
function testNotification(accountId: string): Notification {
  const notification = new Notification();
  Object.assign(notification, {
    id: uuidv7(),
    accountId,
    eventId: uuidv7(),
    event: 'JOB_RECOVERED',
    title: 'ListBackup is connected',
    body: 'This endpoint will receive the notifications you chose.',
    payload: { type: 'endpoint.test', data: {} },
    createdAt: new Date(),
  });
  return notification;
}

/**
 * Sends a test message; an endpoint that cannot be reached is not stored, nor a Slack URL that
 * refuses a message. A webhook may refuse it (its receiver cannot know the new secret yet): any
 * HTTP answer shows the URL is right.
 */
async function tryEndpoint(ctx: AccountsContext, kind: EndpointKind, url: string, secret: string | null, accountId: string): Promise<void> {
  const probe = testNotification(accountId);
  const outcome = kind === 'SLACK' ? await sendSlack(ctx.notifications.fetch, url, probe) : await sendWebhook(ctx.notifications.fetch, url, probe.id, probe, [secret!], new Date());
  if (outcome.ok || (kind === 'WEBHOOK' && outcome.responseCode !== null)) return;
  const refused = /not one ListBackup may connect to/.test(outcome.error ?? '');
  if (refused) throw new AppError('TARGET_NOT_ALLOWED', 'The URL points at an address ListBackup may not connect to (internal, private or reserved addresses are refused)', { field: 'url' });
  if (outcome.responseCode === null) throw new AppError('ENDPOINT_UNREACHABLE', `The endpoint could not be reached (${outcome.error}); nothing was saved`, { field: 'url' });
  throw new AppError('ENDPOINT_REJECTED', `Slack answered the test message with HTTP ${outcome.responseCode}: check the incoming webhook URL. Nothing was saved`, { field: 'url', responseCode: outcome.responseCode });
}

/** Creates an endpoint after a test message reached it; a webhook's secret is in the answer, this once. */
export async function createEndpoint(ctx: AccountsContext, input: NewEndpoint): Promise<{ endpoint: NotificationEndpoint; secret: string | null }> {
  const name = validName(input.name);
  const url = validUrl(ctx, input.url);
  const events = validEvents(input.events);
  await authorize(ctx, 'notifications:manage', input.accountId);
  const secret = input.kind === 'WEBHOOK' ? newWebhookSecret() : null;
  await tryEndpoint(ctx, input.kind, url, secret, input.accountId);
  const now = new Date();
  const endpoint = ctx.em.create(NotificationEndpoint, {
    id: uuidv7(),
    accountId: input.accountId,
    kind: input.kind,
    name,
    url,
    events,
    secret,
    previousSecret: null,
    previousSecretUntil: null,
    enabled: true,
    disabledAt: null,
    disabledReason: null,
    consecutiveFailures: 0,
    createdAt: now,
    updatedAt: now,
  });
  recordEvent(ctx.em, ctx, 'notification.endpoint_created', endpoint.accountId, endpoint.id, { endpointId: endpoint.id, kind: endpoint.kind, name, url, events });
  await ctx.em.flush();
  return { endpoint, secret };
}

async function endpointFor(ctx: AccountsContext, id: string): Promise<NotificationEndpoint> {
  if (ctx.principal.kind === 'anonymous') throw new UnauthenticatedError();
  const endpoint = isUuid(id) ? await ctx.em.findOne(NotificationEndpoint, { id }) : null;
  if (!endpoint) throw new NotFoundError('Notification endpoint');
  await authorize(ctx, 'notifications:manage', endpoint.accountId, 'Notification endpoint');
  return endpoint;
}

export async function listEndpoints(ctx: AccountsContext, accountId: string): Promise<NotificationEndpoint[]> {
  await authorize(ctx, 'notifications:manage', accountId);
  return ctx.em.find(NotificationEndpoint, { accountId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
}

export interface EndpointChanges {
  name?: string | null;
  events?: NotificationEvent[] | null;
  /** True turns a disabled endpoint on again (its failure count starts over). */
  enabled?: boolean | null;
}

export async function updateEndpoint(ctx: AccountsContext, id: string, changes: EndpointChanges): Promise<NotificationEndpoint> {
  const name = changes.name != null ? validName(changes.name) : undefined;
  const events = changes.events != null ? validEvents(changes.events) : undefined;
  const endpoint = await endpointFor(ctx, id);
  const before = { name: endpoint.name, events: endpoint.events, enabled: endpoint.enabled };
  if (name !== undefined) endpoint.name = name;
  if (events) endpoint.events = events;
  if (changes.enabled != null && changes.enabled !== endpoint.enabled) {
    endpoint.enabled = changes.enabled;
    endpoint.disabledAt = changes.enabled ? null : new Date();
    endpoint.disabledReason = changes.enabled ? null : 'turned off by a member';
    endpoint.consecutiveFailures = 0;
  }
  endpoint.updatedAt = new Date();
  recordEvent(ctx.em, ctx, 'notification.endpoint_updated', endpoint.accountId, endpoint.id, {
    endpointId: endpoint.id,
    before,
    after: { name: endpoint.name, events: endpoint.events, enabled: endpoint.enabled },
  });
  await ctx.em.flush();
  return endpoint;
}

/** A new secret, shown this once; the old one keeps signing beside it for a day. */
export async function rotateEndpointSecret(ctx: AccountsContext, id: string): Promise<{ endpoint: NotificationEndpoint; secret: string }> {
  const endpoint = await endpointFor(ctx, id);
  if (endpoint.kind !== 'WEBHOOK') throw new AppError('BAD_USER_INPUT', 'Only webhook endpoints have a signing secret', { reason: 'NO_SECRET' });
  await ctx.em.populate(endpoint, ['secret']);
  const secret = newWebhookSecret();
  endpoint.previousSecret = endpoint.secret;
  endpoint.previousSecretUntil = new Date(Date.now() + ROTATION_OVERLAP_MS);
  endpoint.secret = secret;
  endpoint.updatedAt = new Date();
  recordEvent(ctx.em, ctx, 'notification.endpoint_secret_rotated', endpoint.accountId, endpoint.id, { endpointId: endpoint.id });
  await ctx.em.flush();
  return { endpoint, secret };
}

export async function deleteEndpoint(ctx: AccountsContext, id: string): Promise<boolean> {
  const endpoint = await endpointFor(ctx, id);
  await ctx.em.transactional(async (tx) => {
    await tx.nativeUpdate(Delivery, { endpointId: endpoint.id, status: { $in: ['PENDING', 'RETRYING'] } }, { status: 'DEAD', nextAttemptAt: null, lastError: 'the endpoint was deleted' });
    recordEvent(tx, ctx, 'notification.endpoint_deleted', endpoint.accountId, endpoint.id, { endpointId: endpoint.id, name: endpoint.name });
    tx.remove(endpoint);
  });
  return true;
}

// -------------------------------------------------------------------------------------------------
// Deliveries

function pageWhere(scope: CursorScope, after: string | null | undefined): Record<string, unknown> {
  const cursor = decodeTimeCursor(scope, after);
  if (!cursor) return {};
  return { $or: [{ createdAt: { $lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { $lt: cursor.id } }] };
}

/** The delivery log of an endpoint, newest first. */
export async function endpointDeliveries(ctx: AccountsContext, endpoint: NotificationEndpoint, args: { first?: number | null; after?: string | null; status?: DeliveryStatus[] | null }): Promise<Page<Delivery>> {
  await authorize(ctx, 'notifications:manage', endpoint.accountId);
  const size = pageSize(args.first);
  const scope = { list: 'NotificationEndpoint.deliveries', owner: endpoint.id };
  const rows = await ctx.em.find(
    Delivery,
    { endpointId: endpoint.id, accountId: endpoint.accountId, ...(args.status?.length ? { status: { $in: args.status } } : {}), ...pageWhere(scope, args.after) },
    { orderBy: { createdAt: 'desc', id: 'desc' }, limit: size + 1 },
  );
  return toPage(rows, size, timeCursor(scope));
}

/** What could not be delivered, every channel: the account's dead letters, newest first. */
export async function deadLetters(ctx: AccountsContext, accountId: string, args: { first?: number | null; after?: string | null }): Promise<Page<Delivery>> {
  await authorize(ctx, 'notifications:manage', accountId);
  const size = pageSize(args.first);
  const scope = { list: 'Account.notificationDeadLetters', owner: accountId };
  const rows = await ctx.em.find(Delivery, { accountId, status: 'DEAD', ...pageWhere(scope, args.after) }, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: size + 1 });
  return toPage(rows, size, timeCursor(scope));
}

export async function attemptsOf(ctx: AccountsContext, delivery: Delivery): Promise<DeliveryAttempt[]> {
  await authorize(ctx, 'notifications:manage', delivery.accountId);
  return ctx.em.find(DeliveryAttempt, { deliveryId: delivery.id, accountId: delivery.accountId }, { orderBy: { attemptedAt: 'asc', id: 'asc' } });
}

/** What a delivery carries, as the delivery log shows it. */
export async function deliveryContent(ctx: AccountsContext, delivery: Delivery): Promise<{ event: NotificationEvent | null; title: string }> {
  if (!delivery.notificationId) return { event: null, title: delivery.subject ?? '' };
  const notification = await ctx.em.findOneOrFail(Notification, { id: delivery.notificationId, accountId: delivery.accountId });
  return { event: notification.event, title: notification.title };
}

/** Sends a delivery again now, with the same id (receivers that already have it drop it). */
export async function redeliver(ctx: AccountsContext, deliveryId: string): Promise<Delivery> {
  if (ctx.principal.kind === 'anonymous') throw new UnauthenticatedError();
  const delivery = isUuid(deliveryId) ? await ctx.em.findOne(Delivery, { id: deliveryId }) : null;
  if (!delivery) throw new NotFoundError('Delivery');
  await authorize(ctx, 'notifications:manage', delivery.accountId, 'Delivery');
  if (delivery.endpointId) {
    const endpoint = await ctx.em.findOne(NotificationEndpoint, { id: delivery.endpointId });
    if (!endpoint?.enabled) throw new AppError('ENDPOINT_DISABLED', 'The endpoint is disabled or was deleted: enable it first', { reason: 'ENDPOINT_DISABLED' });
  }
  delivery.status = 'PENDING';
  delivery.attempts = 0;
  delivery.nextAttemptAt = new Date();
  delivery.lockedUntil = null;
  await ctx.em.flush();
  return delivery;
}

// -------------------------------------------------------------------------------------------------
// In-app

export interface InboxArgs {
  accountId?: string | null;
  unreadOnly?: boolean | null;
  first?: number | null;
  after?: string | null;
}

/** The caller's in-app notifications, newest first; of one account when named (and visible). */
export async function listInbox(ctx: AccountsContext, args: InboxArgs): Promise<Page<InboxItem>> {
  const { userId } = requireUserPrincipal(ctx);
  if (args.accountId) await authorize(ctx, 'account:read', args.accountId);
  const size = pageSize(args.first);
  const scope = { list: 'User.notifications', owner: userId };
  const rows = await ctx.em.find(
    InboxItem,
    { userId, ...(args.accountId ? { accountId: args.accountId } : {}), ...(args.unreadOnly ? { readAt: null } : {}), ...pageWhere(scope, args.after) },
    { orderBy: { createdAt: 'desc', id: 'desc' }, limit: size + 1 },
  );
  return toPage(rows, size, timeCursor(scope));
}

export async function unreadCount(ctx: AccountsContext): Promise<number> {
  const { userId } = requireUserPrincipal(ctx);
  return ctx.em.count(InboxItem, { userId, readAt: null });
}

/** The in-app notification behind an item of the caller's (for `_entities` and subscriptions too). */
export async function getInboxItem(ctx: AccountsContext, id: string): Promise<InboxItem> {
  const { userId } = requireUserPrincipal(ctx);
  const item = isUuid(id) ? await ctx.em.findOne(InboxItem, { id, userId }) : null;
  if (!item) throw new NotFoundError('Notification');
  return item;
}

const MAX_MARKED = 100;

/** Marks the caller's notifications read: those named (NOT_FOUND unless every one is theirs), or all of them (of one account when named). */
export async function markRead(ctx: AccountsContext, args: { ids?: string[] | null; accountId?: string | null; read?: boolean | null }): Promise<number> {
  const { userId } = requireUserPrincipal(ctx);
  const read = args.read ?? true;
  if (args.ids) {
    if (args.ids.length > MAX_MARKED) throw new ValidationError(`Mark at most ${MAX_MARKED} notifications at a time`, 'ids');
    const ids = [...new Set(args.ids)];
    if (ids.length === 0) return 0;
    // All or none: an id that is not one of the caller's notifications (another person's, unknown, malformed) changes nothing.
    const owned = ids.every(isUuid) ? await ctx.em.count(InboxItem, { userId, id: { $in: ids } }) : 0;
    if (owned !== ids.length) throw new NotFoundError('Notification');
    return ctx.em.nativeUpdate(InboxItem, { userId, id: { $in: ids }, readAt: read ? null : { $ne: null } }, { readAt: read ? new Date() : null });
  }
  if (args.accountId) await authorize(ctx, 'account:read', args.accountId);
  return ctx.em.nativeUpdate(InboxItem, { userId, readAt: read ? null : { $ne: null }, ...(args.accountId ? { accountId: args.accountId } : {}) }, { readAt: read ? new Date() : null });
}

export async function inboxNotification(ctx: AccountsContext, item: InboxItem): Promise<Notification> {
  return ctx.em.findOneOrFail(Notification, { id: item.notificationId, accountId: item.accountId });
}
