import { authorize } from '@listbackup/lib/access';
import { NotFoundError, ValidationError } from '@listbackup/lib/errors';
import { isUuid } from '@listbackup/lib/ids';
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

/** The account's history, or one source's when the view is a source's. */
export async function storageHistory(ctx: BillingContext, usage: StorageUsageView | SourceStorageView, from: Date, to: Date): Promise<StoragePoint[]> {
  checkRange(from, to);
  return dailyPoints(await ledgerSteps(ctx.em, usage.accountId, from, to, 'sourceId' in usage ? usage.sourceId : undefined), from, to);
}

/** A Source as the gateway hands it to billing: with its account, which the sources subgraph answered (`@requires`). */
export interface SourceRef {
  id: string;
  account?: { id: string } | null;
}

export interface SourceStorageView {
  accountId: string;
  sourceId: string;
  storedBytes: number;
  logicalBytes: number;
  dedupRatio: number | null;
}

/**
 * A source's metered storage, read within the account the representation names and the caller may
 * read: a source of another account, whatever account is named, reads as storing nothing there.
 */
export async function getSourceStorageUsage(ctx: BillingContext, source: SourceRef): Promise<SourceStorageView> {
  const accountId = source.account?.id;
  if (!accountId || !isUuid(accountId) || !isUuid(source.id)) throw new NotFoundError('Source');
  await authorize(ctx, 'billing:read', accountId, 'Source');
  const { storedBytes, logicalBytes } = await ctx.loaders.sourceBalance.load(`${accountId}|${source.id}`);
  return { accountId, sourceId: source.id, storedBytes, logicalBytes, dedupRatio: storedBytes > 0 ? logicalBytes / storedBytes : null };
}
