import { DateTime } from '@listbackup/lib/scalars';
import type { Resolvers } from '../generated/resolvers.ts';
import { getPlan, listPlans } from '../services/plan-service.ts';
import { getSubscription } from '../services/subscription-service.ts';
import { getStorageUsage, storageGbMonths, storageHistory } from '../services/storage-usage-service.ts';

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    plans: (_, __, ctx) => listPlans(ctx),
  },
  PlanSubscription: {
    plan: (subscription, _, ctx) => getPlan(ctx, subscription.planId),
  },
  Account: {
    subscription: ({ id }, _, ctx) => getSubscription(ctx, id),
    storageUsage: ({ id }, _, ctx) => getStorageUsage(ctx, id),
  },
  StorageUsage: {
    gbMonths: (usage, { from, to }, ctx) => storageGbMonths(ctx, usage, new Date(from), new Date(to)),
    history: (usage, { from, to }, ctx) => storageHistory(ctx, usage, new Date(from), new Date(to)),
  },
};
