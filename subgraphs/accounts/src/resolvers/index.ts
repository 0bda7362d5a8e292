import { DateTime, JSONScalar } from '@listbackup/lib/scalars';
import type { Resolvers } from '../generated/resolvers.ts';
import { auditResolvers } from './audit.ts';
import { identityResolvers } from './identity.ts';
import { notificationResolvers } from './notifications.ts';
import { tenancyResolvers } from './tenancy.ts';

export const resolvers: Resolvers = {
  DateTime,
  JSON: JSONScalar,
  Query: { ...identityResolvers.Query, ...tenancyResolvers.Query },
  Mutation: { ...identityResolvers.Mutation, ...tenancyResolvers.Mutation, ...auditResolvers.Mutation, ...notificationResolvers.Mutation },
  Subscription: notificationResolvers.Subscription,
  User: { ...identityResolvers.User, ...tenancyResolvers.User, ...notificationResolvers.User },
  Account: { ...tenancyResolvers.Account, ...auditResolvers.Account, ...notificationResolvers.Account },
  Membership: tenancyResolvers.Membership,
  ApiKey: tenancyResolvers.ApiKey,
  AuditEntry: auditResolvers.AuditEntry,
  NotificationEndpoint: notificationResolvers.NotificationEndpoint,
  NotificationDelivery: notificationResolvers.NotificationDelivery,
  Notification: notificationResolvers.Notification,
};
