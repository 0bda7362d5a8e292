import { AppError } from '@listbackup/lib/errors';
import type { Resolvers } from '../generated/resolvers.ts';
import { getAccount } from '../services/account-service.ts';
import {
  attemptsOf,
  createEndpoint,
  deadLetters,
  deleteEndpoint,
  endpointDeliveries,
  getInboxItem,
  inboxNotification,
  listEndpoints,
  listInbox,
  listPreferences,
  listRules,
  markRead,
  deliveryContent,
  redeliver,
  rotateEndpointSecret,
  setPreference,
  setRule,
  unreadCount,
  updateEndpoint,
} from '../services/notification-service.ts';

/** Served by the gateway from `notification.created` events (like `jobUpdated`); declared here so it composes. */
const servedByGateway = () => {
  throw new AppError('BAD_REQUEST', 'Subscriptions are served by the gateway over its websocket at /graphql');
};

/** Notifications: rules, preferences, endpoints and their delivery log, the in-app list. */
export const notificationResolvers = {
  Account: {
    notificationRules: (account, _, ctx) => listRules(ctx, account.id),
    notificationEndpoints: (account, _, ctx) => listEndpoints(ctx, account.id),
    notificationDeadLetters: (account, args, ctx) => deadLetters(ctx, account.id, args),
  },
  User: {
    notifications: (_, args, ctx) => listInbox(ctx, args),
    unreadNotificationCount: (_, __, ctx) => unreadCount(ctx),
    notificationPreferences: (_, __, ctx) => listPreferences(ctx),
  },
  Mutation: {
    setNotificationRule: (_, { accountId, rule }, ctx) => setRule(ctx, accountId, rule),
    setNotificationPreference: (_, { preference }, ctx) => setPreference(ctx, preference),
    createNotificationEndpoint: (_, { input }, ctx) => createEndpoint(ctx, input),
    updateNotificationEndpoint: (_, { id, input }, ctx) => updateEndpoint(ctx, id, input),
    rotateNotificationEndpointSecret: (_, { id }, ctx) => rotateEndpointSecret(ctx, id),
    deleteNotificationEndpoint: (_, { id }, ctx) => deleteEndpoint(ctx, id),
    redeliverNotification: (_, { deliveryId }, ctx) => redeliver(ctx, deliveryId),
    markNotificationsRead: (_, args, ctx) => markRead(ctx, args),
  },
  Subscription: {
    notificationAdded: { subscribe: servedByGateway },
  },
  NotificationEndpoint: {
    account: (endpoint, _, ctx) => getAccount(ctx, endpoint.accountId),
    deliveries: (endpoint, args, ctx) => endpointDeliveries(ctx, endpoint, args),
  },
  NotificationDelivery: {
    event: async (delivery, _, ctx) => (await deliveryContent(ctx, delivery)).event,
    title: async (delivery, _, ctx) => (await deliveryContent(ctx, delivery)).title,
    attemptLog: async (delivery, _, ctx) => (await attemptsOf(ctx, delivery)).map((attempt) => ({ ...attempt, at: attempt.attemptedAt })),
  },
  Notification: {
    __resolveReference: ({ id }, ctx) => getInboxItem(ctx, id),
    account: (item, _, ctx) => getAccount(ctx, item.accountId),
    event: async (item, _, ctx) => (await inboxNotification(ctx, item)).event,
    title: async (item, _, ctx) => (await inboxNotification(ctx, item)).title,
    body: async (item, _, ctx) => (await inboxNotification(ctx, item)).body,
    read: (item) => item.readAt != null,
  },
} satisfies Resolvers;
