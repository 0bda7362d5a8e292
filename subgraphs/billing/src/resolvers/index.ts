import { DateTime } from '@listbackup/lib/scalars';
import type { Resolvers } from '../generated/resolvers.ts';
import { getPlan, listPlans, planPrices } from '../services/plan-service.ts';
import { getSubscription } from '../services/subscription-service.ts';
import { changePlan } from '../services/plan-change-service.ts';
import { getSourceStorageUsage, getStorageUsage, storageGbMonths, storageHistory } from '../services/storage-usage-service.ts';
import { getBillingProfile, getInvoice, listInvoices, updateBillingProfile } from '../services/invoice-service.ts';
import { invoiceLink } from '../services/invoice-documents.ts';
import { setupPaymentMethod } from '../services/payment-method-service.ts';
import { getStorageQuota } from '../services/storage-quota.ts';

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    plans: (_, __, ctx) => listPlans(ctx),
  },
  Mutation: {
    changePlan: (_, { accountId, plan }, ctx) => changePlan(ctx, accountId, plan),
    updateBillingProfile: (_, { accountId, currency }, ctx) => updateBillingProfile(ctx, accountId, currency),
    setupPaymentMethod: (_, { accountId }, ctx) => setupPaymentMethod(ctx, accountId),
  },
  Plan: {
    prices: (plan) => planPrices(plan),
  },
  PlanChange: {
    fromPlan: (change, _, ctx) => getPlan(ctx, change.fromPlanId),
    toPlan: (change, _, ctx) => getPlan(ctx, change.toPlanId),
  },
  PlanSubscription: {
    plan: (subscription, _, ctx) => getPlan(ctx, subscription.planId),
  },
  Account: {
    subscription: ({ id }, _, ctx) => getSubscription(ctx, id),
    storageUsage: ({ id }, _, ctx) => getStorageUsage(ctx, id),
    invoices: ({ id }, { first, after }, ctx) => listInvoices(ctx, id, first, after),
    billingProfile: ({ id }, _, ctx) => getBillingProfile(ctx, id),
    storageQuota: ({ id }, _, ctx) => getStorageQuota(ctx, id),
  },
  Source: {
    storageUsage: (source, _, ctx) => getSourceStorageUsage(ctx, source),
  },
  SourceStorageUsage: {
    history: (usage, { from, to }, ctx) => storageHistory(ctx, usage, new Date(from), new Date(to)),
  },
  StorageUsage: {
    gbMonths: (usage, { from, to }, ctx) => storageGbMonths(ctx, usage, new Date(from), new Date(to)),
    history: (usage, { from, to }, ctx) => storageHistory(ctx, usage, new Date(from), new Date(to)),
  },
  Invoice: {
    __resolveReference: ({ id }, ctx) => getInvoice(ctx, id),
    period: (invoice) => ({ start: invoice.periodStart, end: invoice.periodEnd }),
    issuedAt: (invoice) => invoice.createdAt,
    htmlUrl: (invoice, _, ctx) => invoiceLink(ctx.invoiceLinks, invoice, 'html'),
    pdfUrl: (invoice, _, ctx) => invoiceLink(ctx.invoiceLinks, invoice, 'pdf'),
  },
};
