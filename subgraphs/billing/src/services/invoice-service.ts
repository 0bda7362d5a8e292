import { authorize } from '@listbackup/lib/access';
import { AppError, NotFoundError, UnauthenticatedError } from '@listbackup/lib/errors';
import { pageSize, timeCursor, timeKey, toPage, type Page, type ParentList } from '@listbackup/lib/pagination';
import type { BillingContext } from '../context.ts';
import { BillingCustomer } from '../entities/billing-customer.ts';
import { CURRENCIES, Invoice, type Currency } from '../entities/invoice.ts';

export type InvoicePage = Page<Invoice>;

export const INVOICES_OF_ACCOUNT: ParentList = { table: '"billing"."invoices"', parent: 'account_id', order: ['created_at', 'id'], descending: true };

/** A page of the account's invoices, newest first. */
export async function listInvoices(ctx: BillingContext, accountId: string, first?: number | null, after?: string | null): Promise<InvoicePage> {
  const size = pageSize(first);
  const scope = { list: 'Account.invoices', owner: accountId };
  const cursor = timeKey(scope, after);
  await authorize(ctx, 'billing:read', accountId);
  const rows = await ctx.loaders.invoicePages.load({ parentId: accountId, limit: size + 1, after: cursor });
  return toPage(rows, size, timeCursor(scope));
}

/** An invoice by id (`_entities`), to a caller with billing:read on its account; otherwise not found. */
export async function getInvoice(ctx: BillingContext, id: string): Promise<Invoice> {
  if (ctx.principal.kind === 'anonymous') throw new UnauthenticatedError();
  const invoice = await ctx.loaders.invoice.load(id);
  if (!invoice) throw new NotFoundError('Invoice');
  await authorize(ctx, 'billing:read', invoice.accountId, 'Invoice');
  return invoice;
}

export interface BillingProfileView {
  currency: Currency;
  paymentsEnabled: boolean;
  hasPaymentMethod: boolean;
}

export async function getBillingProfile(ctx: BillingContext, accountId: string): Promise<BillingProfileView> {
  await authorize(ctx, 'billing:read', accountId);
  const customer = await ctx.em.findOne(BillingCustomer, { accountId });
  return { currency: customer?.currency ?? 'USD', paymentsEnabled: ctx.payments !== null, hasPaymentMethod: customer?.defaultPaymentMethod != null };
}

/** Sets the currency of the next invoices; refused while an unpaid invoice is in another currency (Stripe bills a customer in one). */
export async function updateBillingProfile(ctx: BillingContext, accountId: string, currency: string): Promise<BillingProfileView> {
  await authorize(ctx, 'billing:manage', accountId);
  if (!(CURRENCIES as readonly string[]).includes(currency)) throw new AppError('BAD_USER_INPUT', `Invoices can be in ${CURRENCIES.join(', ')}`, { reason: 'UNKNOWN_CURRENCY', field: 'currency' });
  await ctx.em.transactional(async (tx) => {
    const unpaid = await tx.count(Invoice, { accountId, status: 'OPEN', currency: { $ne: currency } });
    if (unpaid > 0) throw new AppError('BAD_USER_INPUT', 'An unpaid invoice is in another currency: the currency can change once it is paid', { reason: 'CURRENCY_LOCKED', field: 'currency' });
    await tx.createQueryBuilder(BillingCustomer).insert({ accountId, currency: currency as Currency }).onConflict('accountId').merge(['currency']).execute('run');
  });
  return getBillingProfile(ctx, accountId);
}
