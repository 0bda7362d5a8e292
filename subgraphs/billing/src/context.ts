import DataLoader from 'dataloader';
import type { SubgraphContext } from '@listbackup/lib/subgraph';
import type { Em } from '@listbackup/lib/db';
import { byId } from '@listbackup/lib/loaders';
import { parentPageLoader, rowsByKey } from '@listbackup/lib/pagination';
import { Plan } from './entities/plan.ts';
import { PlanSubscription } from './entities/plan-subscription.ts';
import { Invoice } from './entities/invoice.ts';
import { isUuid } from '@listbackup/lib/ids';
import { INVOICES_OF_ACCOUNT } from './services/invoice-service.ts';
import type { InvoiceLinks } from './services/invoice-documents.ts';
import type { StripePayments } from './services/payments.ts';

export interface BillingContext extends SubgraphContext {
  loaders: ReturnType<typeof createLoaders>;
  invoiceLinks: InvoiceLinks;
  /** Null when payments are off (no Stripe configured). */
  payments: StripePayments | null;
}

// Ids come from clients and other subgraphs; a malformed one is simply not found (Postgres would reject it).
const uuids = (ids: readonly string[]) => ids.filter((id) => isUuid(id));

export function createLoaders(em: Em) {
  const subscriptions = rowsByKey(em, PlanSubscription, '"billing"."plan_subscriptions"', 'account_id');
  return {
    /** Read-only rows, as every use of these two only reads them. */
    plan: new DataLoader<string, Plan | undefined>(rowsByKey(em, Plan, '"billing"."plans"')),
    subscriptionByAccount: new DataLoader<string, PlanSubscription | null>(async (accountIds) => (await subscriptions(accountIds)).map((row) => row ?? null)),
    invoice: new DataLoader<string, Invoice | undefined>(async (ids) => byId(ids, await em.find(Invoice, { id: { $in: uuids(ids) } }))),
    invoicePages: parentPageLoader(em, INVOICES_OF_ACCOUNT, Invoice),
    /** Sources' balances by `accountId|sourceId` (both checked uuids), one statement per batch. */
    sourceBalance: new DataLoader<string, { storedBytes: number; logicalBytes: number }>(async (keys) => {
      const pairs = keys.map((key) => key.split('|') as [string, string]);
      const rows = await em.execute<{ account_id: string; source_id: string; stored: string; logical: string }[]>(
        `select account_id, source_id, sum(stored_delta)::text as stored, sum(logical_delta)::text as logical from billing.storage_changes
          where (account_id, source_id) in (select * from unnest(?::uuid[], ?::uuid[])) group by account_id, source_id`,
        [`{${pairs.map((p) => p[0]).join(',')}}`, `{${pairs.map((p) => p[1]).join(',')}}`],
      );
      const found = new Map(rows.map((r) => [`${r.account_id}|${r.source_id}`, { storedBytes: Number(r.stored), logicalBytes: Number(r.logical) }]));
      return keys.map((key) => found.get(key) ?? { storedBytes: 0, logicalBytes: 0 });
    }),
  };
}

export const contextExtender =
  (deps: { invoiceLinks: InvoiceLinks; payments: StripePayments | null }) =>
  (base: SubgraphContext): BillingContext => ({ ...base, ...deps, loaders: createLoaders(base.em) });
