import { authorize } from '@listbackup/lib/access';
import { ValidationError } from '@listbackup/lib/errors';
import type { BillingContext } from '../context.ts';
import { MeteredAccount } from '../entities/metered-account.ts';
import { currentUsage, dailyPoints, gbMonths, ledgerSteps, type SourceBalance, type StoragePoint } from './metering.ts';

/** An account's metered storage as the graph shows it; ranges are read on demand. */
export interface StorageUsageView {
  accountId: string;
  storedBytes: number;
  logicalBytes: number;
  dedupRatio: number | null;
  sources: SourceBalance[];
  reconciledAt: Date | null;
}

const MAX_RANGE_MS = 400 * 86_400_000;

export async function getStorageUsage(ctx: BillingContext, accountId: string): Promise<StorageUsageView> {
  await authorize(ctx, 'billing:read', accountId);
  const totals = await currentUsage(ctx.em, accountId);
  const account = await ctx.em.findOne(MeteredAccount, { accountId });
  return {
    accountId,
    storedBytes: totals.storedBytes,
    logicalBytes: totals.logicalBytes,
    dedupRatio: totals.storedBytes > 0 ? totals.logicalBytes / totals.storedBytes : null,
    sources: totals.sources,
    reconciledAt: account?.reconciledAt ?? null,
  };
}

function checkRange(from: Date, to: Date): void {
  if (!(from.getTime() < to.getTime())) throw new ValidationError('from must be before to', 'from');
  if (to.getTime() - from.getTime() > MAX_RANGE_MS) throw new ValidationError('A range is at most 400 days', 'to');
}

/** The view was authorized when it was built (getStorageUsage): these read the same account. */
export async function storageGbMonths(ctx: BillingContext, usage: StorageUsageView, from: Date, to: Date): Promise<number> {
  checkRange(from, to);
  return gbMonths(await ledgerSteps(ctx.em, usage.accountId, from, to), from, to);
}

export async function storageHistory(ctx: BillingContext, usage: StorageUsageView, from: Date, to: Date): Promise<StoragePoint[]> {
  checkRange(from, to);
  return dailyPoints(await ledgerSteps(ctx.em, usage.accountId, from, to), from, to);
}
