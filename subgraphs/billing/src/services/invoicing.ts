import { randomUUID } from 'node:crypto';
import type { Em, Orm } from '@listbackup/lib/db';
import type { Logger } from '@listbackup/lib/logger';
import { BillingCustomer } from '../entities/billing-customer.ts';
import { Invoice, type Currency, type InvoiceLine } from '../entities/invoice.ts';
import { InvoiceCollection } from '../entities/invoice-collection.ts';
import { Plan } from '../entities/plan.ts';
import { PlanChange } from '../entities/plan-change.ts';
import { PlanSubscription } from '../entities/plan-subscription.ts';
import { GB, gbMonths, ledgerSteps, monthStart, nextMonth } from './metering.ts';
import { priceIn } from '../catalogue.ts';

/** One stretch of a month on one plan. */
export interface PlanPeriod {
  plan: Plan;
  start: Date;
  end: Date;
  /** The trial that covers the start of the period, if any. */
  trialEndsAt: Date | null;
}

/**
 * The plans the account was on during [month.start, month.end), from its subscription and its
 * plan changes: before the first change it was on that change's `from` plan, after each change on
 * its `to` plan (with the trial the change started).
 */
export async function planPeriods(em: Em, accountId: string, start: Date, end: Date): Promise<PlanPeriod[]> {
  const subscription = await em.findOne(PlanSubscription, { accountId });
  if (!subscription || subscription.startedAt >= end) return [];
  const changes = await em.find(PlanChange, { accountId, changedAt: { $lt: end } }, { orderBy: { changedAt: 'asc', id: 'asc' } });
  const plans = new Map((await em.find(Plan, { id: { $in: [subscription.planId, ...changes.flatMap((c) => [c.fromPlanId, c.toPlanId])] } })).map((plan) => [plan.id, plan]));
  const from = new Date(Math.max(start.getTime(), subscription.startedAt.getTime()));
  let current = { planId: changes[0]?.fromPlanId ?? subscription.planId, trialEndsAt: null as Date | null };
  const cuts: { at: Date; planId: string; trialEndsAt: Date | null }[] = [];
  for (const change of changes) {
    if (change.changedAt <= from) current = { planId: change.toPlanId, trialEndsAt: change.trialEndsAt ?? null };
    else cuts.push({ at: change.changedAt, planId: change.toPlanId, trialEndsAt: change.trialEndsAt ?? null });
  }
  const periods: PlanPeriod[] = [];
  let since = from;
  for (const cut of [...cuts, { at: end, planId: '', trialEndsAt: null }]) {
    if (cut.at > since) periods.push({ plan: plans.get(current.planId)!, start: since, end: cut.at, trialEndsAt: current.trialEndsAt });
    current = { planId: cut.planId, trialEndsAt: cut.trialEndsAt };
    since = cut.at;
  }
  return periods;
}

const DAY_FORMAT = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
const dayOf = (date: Date) => DAY_FORMAT.format(date);
/** The last day a period covers, for people: [1 Jan, 1 Feb) reads "1 Jan – 31 Jan". */
const span = (start: Date, end: Date) => `${dayOf(start)} – ${dayOf(new Date(end.getTime() - 1))}`;
const round6 = (value: number) => Math.round(value * 1e6) / 1e6;

/**
 * The lines of an account's invoice for the month that starts at `start`: per plan period, the
 * plan's price in the account's currency for the share of the month spent on it (trial days free), and the GB-months stored
 * during it, integrated exactly from the metering ledger, with those above the plan's included
 * storage (prorated the same way) charged at the plan's price. The plan changes' prorations are
 * these shares: a month on plan A then B costs A's price plus the change's `prorationCents`.
 */
export async function invoiceLines(em: Em, accountId: string, start: Date, currency: Currency): Promise<InvoiceLine[]> {
  const end = nextMonth(start);
  const monthMs = end.getTime() - start.getTime();
  const periods = await planPeriods(em, accountId, start, end);
  if (periods.length === 0) return [];
  const ledger = await ledgerSteps(em, accountId, start, end);
  const lines: InvoiceLine[] = [];
  for (const { plan, start: from, end: to, trialEndsAt } of periods) {
    const paidFrom = Math.min(to.getTime(), Math.max(from.getTime(), trialEndsAt?.getTime() ?? 0));
    const months = (to.getTime() - paidFrom) / monthMs;
    const trial = paidFrom > from.getTime() ? ` (trial until ${dayOf(new Date(paidFrom))})` : '';
    const price = priceIn(plan, currency);
    lines.push({
      kind: 'BASE',
      description: `${plan.name} plan, ${span(from, to)}${trial}`,
      plan: plan.code,
      periodStart: from.toISOString(),
      periodEnd: to.toISOString(),
      quantity: round6(months),
      includedQuantity: null,
      unitPriceCents: price.monthlyCents,
      amountCents: Math.round(price.monthlyCents * months),
    });
    const stored = gbMonths(ledger, from, to);
    const included = (plan.includedStorageBytes / GB) * ((to.getTime() - from.getTime()) / monthMs);
    lines.push({
      kind: 'STORAGE',
      description: `Storage, ${span(from, to)}: GB-months above the ${(plan.includedStorageBytes / GB).toLocaleString('en-US')} GB the plan includes`,
      plan: plan.code,
      periodStart: from.toISOString(),
      periodEnd: to.toISOString(),
      quantity: stored,
      includedQuantity: included,
      unitPriceCents: price.extraGbMonthCents,
      amountCents: Math.round(Math.max(0, stored - included) * price.extraGbMonthCents),
    });
  }
  return lines;
}

/**
 * The next number of an issuer's year. The counter row stays locked until the caller's transaction
 * ends, and goes back if it rolls back: numbers are gapless and never given twice.
 */
export async function nextInvoiceNumber(tx: Em, issuer: string, year: number): Promise<string> {
  const [row] = await tx.execute<{ last: number }[]>(
    `insert into billing.invoice_numbers (issuer, year, last) values (?, ?, 1) on conflict (issuer, year) do update set last = invoice_numbers.last + 1 returning last`,
    [issuer, year],
  );
  return `${issuer}-${year}-${String(row!.last).padStart(6, '0')}`;
}

export async function currencyOf(em: Em, accountId: string): Promise<Currency> {
  return (await em.findOne(BillingCustomer, { accountId }))?.currency ?? 'USD';
}

export interface FinalizeOptions {
  issuer: string;
  /** Whether payments are on: an open invoice is then queued for collection. */
  collect: boolean;
}

/**
 * Finalizes the account's invoice for the month that starts at `start`, once: numbered, written
 * whole and never changed again. A zero total is paid as it is. Answers the invoice (the existing
 * one when it was finalized before), or null when the account had no plan that month.
 */
export async function finalizeInvoice(orm: Orm, accountId: string, start: Date, now: Date, options: FinalizeOptions): Promise<Invoice | null> {
  return orm.em.fork().transactional(async (tx) => {
    await tx.execute(`select pg_advisory_xact_lock(hashtext('billing.invoice:' || ?))`, [accountId]);
    const existing = await tx.findOne(Invoice, { accountId, periodStart: start });
    if (existing) return existing;
    const currency = await currencyOf(tx, accountId);
    const lines = await invoiceLines(tx, accountId, start, currency);
    if (lines.length === 0) return null;
    const totalCents = lines.reduce((sum, line) => sum + line.amountCents, 0);
    const invoice = tx.create(Invoice, {
      id: randomUUID(),
      accountId,
      number: await nextInvoiceNumber(tx, options.issuer, now.getUTCFullYear()),
      periodStart: start,
      periodEnd: nextMonth(start),
      currency,
      lines,
      totalCents,
      status: totalCents === 0 ? 'PAID' : 'OPEN',
      createdAt: now,
      paidAt: totalCents === 0 ? now : null,
      stripeInvoiceId: null,
    });
    if (totalCents > 0) tx.create(InvoiceCollection, { invoiceId: invoice.id, accountId, attempts: 0, nextAttemptAt: options.collect ? now : null });
    await tx.flush();
    return invoice;
  });
}

/**
 * Finalizes last month's invoice of every account that had a plan in it and has none yet (so a
 * missed run catches up on the next), a bounded batch at a time. Answers how many it finalized.
 */
export async function finalizeLastMonth(orm: Orm, log: Logger, now: Date, options: FinalizeOptions, batch = 500): Promise<number> {
  const start = monthStart(new Date(monthStart(now).getTime() - 1));
  const end = nextMonth(start);
  let finalized = 0;
  for (;;) {
    const due = await orm.em.fork().execute<{ account_id: string }[]>(
      `select s.account_id from billing.plan_subscriptions s
       where s.started_at < ? and not exists (select 1 from billing.invoices i where i.account_id = s.account_id and i.period_start = ?)
       order by s.account_id limit ?`,
      [end, start, batch],
    );
    for (const { account_id: accountId } of due) {
      try {
        if (await finalizeInvoice(orm, accountId, start, now, options)) finalized++;
      } catch (error) {
        log.error({ err: error, accountId, month: start.toISOString() }, 'invoice could not be finalized; retried on the next run');
        return finalized;
      }
    }
    if (due.length < batch) break;
  }
  if (finalized > 0) log.info({ month: start.toISOString(), invoices: finalized }, 'invoices finalized');
  return finalized;
}
