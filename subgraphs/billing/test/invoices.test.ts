import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@listbackup/lib/principal';
import { createEvent } from '@listbackup/lib/events/contract';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { INTERNAL_TOKEN_HEADER, signInternalToken } from '@listbackup/lib/internal-token';
import { startBilling, type BillingService } from '../src/index.ts';
import { Plan } from '../src/entities/plan.ts';
import { PlanChange } from '../src/entities/plan-change.ts';
import { PlanSubscription } from '../src/entities/plan-subscription.ts';
import { Invoice } from '../src/entities/invoice.ts';
import { ANONYMOUS, errorCodes, newUser, startTestSubgraph, uniqueName, waitFor, type TestSubgraph } from '../../jobs/test/support/subgraph-harness.ts';

const GIB = 1024 ** 3;
const DAY = 86_400_000;
const DEC = Date.UTC(2025, 11, 1);
const JAN = Date.UTC(2026, 0, 1);
const FEB = Date.UTC(2026, 1, 1);
const MAR = Date.UTC(2026, 2, 1);
const APR = Date.UTC(2026, 3, 1);

const INVOICES = `query($reps: [_Any!]!, $first: Int, $after: String) { _entities(representations: $reps) { ... on Account { id
  invoices(first: $first, after: $after) { edges { cursor node { id number period { start end } currency totalCents status issuedAt paidAt htmlUrl pdfUrl
    lines { kind description plan periodStart periodEnd quantity includedQuantity unitPriceCents amountCents } } } pageInfo { hasNextPage endCursor } }
  billingProfile { currency paymentsEnabled hasPaymentMethod } } } }`;
const INVOICE_ENTITY = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Invoice { id number totalCents } } }`;

const accountCreated = (accountId: string, at: number) => createEvent('account.created', accountId, accountId, { name: 'Acme', parentId: null }, { time: new Date(at) });
const synced = (accountId: string, storedBytes: number, at: number) =>
  createEvent('data.synced', accountId, randomUUID(), { accountId, sourceId: randomUUID(), jobId: randomUUID(), snapshotId: randomUUID(), items: 10, logicalBytes: storedBytes, storedBytes, partial: false }, { time: new Date(at) });

describe('invoices', () => {
  let subgraph: TestSubgraph;
  let billing: BillingService;
  const bus = new InProcessEventBus({ dedupWindowMs: 0 });
  const owner = newUser();
  const stranger = newUser();
  const [accountA, accountB, accountC, accountD] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const strangersAccount = randomUUID();

  async function invoicesOf(accountId: string, principal: Principal = owner, first?: number, after?: string) {
    const result = await subgraph.query(principal, INVOICES, { reps: [{ __typename: 'Account', id: accountId }], first, after });
    return result;
  }

  async function download(url: string, principal: Principal, method = 'GET') {
    const token = new URL(url).searchParams.get('token')!;
    expect(new URL(url).origin).toBe('https://listbackup.example');
    expect(new URL(url).pathname).toBe('/downloads/invoice');
    return fetch(`${new URL(subgraph.url).origin}/internal/invoices/download?token=${encodeURIComponent(token)}`, {
      method,
      headers: { [INTERNAL_TOKEN_HEADER]: signInternalToken(subgraph.secret, 'billing', { principal, requestId: randomUUID() }) },
    });
  }

  beforeAll(async () => {
    subgraph = await startTestSubgraph(
      'billing',
      (runtime) => startBilling(runtime, { jobsUrl: 'http://127.0.0.1:9', reconciliation: false, schedules: false, publicUrl: 'https://listbackup.example' }),
      { bus, durablePrefix: uniqueName('test') },
    );
    billing = subgraph.service as BillingService;
    subgraph.access.grant(owner, accountA, 'owner');
    subgraph.access.grant(owner, accountB, 'owner');
    subgraph.access.grant(owner, accountC, 'owner');
    subgraph.access.grant(owner, accountD, 'owner');
    subgraph.access.grant(stranger, strangersAccount, 'owner');
    // A and B exist since December, C since February.
    for (const event of [accountCreated(accountA, DEC), accountCreated(accountB, DEC), accountCreated(accountC, FEB + 4 * DAY)]) await bus.publish(event);
    // A stores 10 GiB from Jan 1, 30 GiB from Jan 21.
    for (const event of [synced(accountA, 10 * GIB, JAN), synced(accountA, 20 * GIB, JAN + 20 * DAY)]) await bus.publish(event);
    const em = billing.orm.em.fork();
    await waitFor(async () => (await em.fork().count(PlanSubscription, { accountId: { $in: [accountA, accountB, accountC] } })) === 3, 'the three subscriptions');
    await waitFor(async () => {
      const [row] = await em.fork().execute<{ sum: string | null }[]>('select sum(stored_delta)::text as sum from billing.storage_changes where account_id = ?', [accountA]);
      return Number(row?.sum) === 30 * GIB;
    }, 'the storage of A to be metered');
    // A moved from Free to Team on Jan 11 (its trial long used up).
    const [free, team] = [await em.findOneOrFail(Plan, { code: 'free' }), await em.findOneOrFail(Plan, { code: 'team' })];
    em.create(PlanChange, { accountId: accountA, fromPlanId: free.id, toPlanId: team.id, changedAt: new Date(JAN + 10 * DAY), periodEnd: new Date(FEB), prorationCents: 3319, trialEndsAt: null });
    await em.flush();
    await em.nativeUpdate(PlanSubscription, { accountId: accountA }, { planId: team.id });
  });
  afterAll(async () => {
    await subgraph?.close();
    await bus.close();
  });

  it('bills January per plan period: the base price prorated, and storage by GB-month integrated exactly', async () => {
    expect(await billing.finalizeInvoices(new Date(FEB + 3_600_000))).toBeGreaterThanOrEqual(2);
    const result = await invoicesOf(accountA);
    expect(result.errors).toBeUndefined();
    const [edge] = result.data!._entities[0].invoices.edges;
    const invoice = edge.node;

    // Written down independently: Free Jan 1–11 with 10 GiB, Team Jan 11–31 with 10 GiB to Jan 21 and 30 GiB after.
    const freeGbMonths = (10 * 10) / 31;
    const teamGbMonths = (10 * 10 + 30 * 11) / 31;
    const freeOverCents = Math.round((freeGbMonths - (5 * 10) / 31) * 25);
    const teamBaseCents = Math.round((4900 * 21) / 31);
    expect(invoice.number).toMatch(/^LB-2026-00000[12]$/);
    expect(invoice).toMatchObject({
      period: { start: new Date(JAN).toISOString(), end: new Date(FEB).toISOString() },
      currency: 'USD',
      status: 'OPEN',
      issuedAt: new Date(FEB + 3_600_000).toISOString(),
      paidAt: null,
      totalCents: freeOverCents + teamBaseCents,
    });
    expect(invoice.lines.map((l: { kind: string; plan: string; amountCents: number }) => [l.kind, l.plan, l.amountCents])).toEqual([
      ['BASE', 'free', 0],
      ['STORAGE', 'free', freeOverCents],
      ['BASE', 'team', teamBaseCents],
      ['STORAGE', 'team', 0],
    ]);
    const [, freeStorage, teamBase, teamStorage] = invoice.lines;
    expect(freeStorage.quantity).toBeCloseTo(freeGbMonths, 9);
    expect(freeStorage.includedQuantity).toBeCloseTo((5 * 10) / 31, 9);
    expect(teamStorage.quantity).toBeCloseTo(teamGbMonths, 9);
    expect(teamStorage.includedQuantity).toBeCloseTo((100 * 21) / 31, 9);
    expect(teamBase).toMatchObject({ periodStart: new Date(JAN + 10 * DAY).toISOString(), periodEnd: new Date(FEB).toISOString(), unitPriceCents: 4900 });
    expect(teamBase.quantity).toBeCloseTo(21 / 31, 6);
    // The base lines add up to January on Free plus the plan change's proration.
    expect(invoice.lines[0].amountCents + teamBase.amountCents).toBe(0 + 3319);
  });

  it('gives an account with nothing to pay a paid zero invoice, numbers invoices without gaps, and none for a month before the account', async () => {
    const b = (await invoicesOf(accountB)).data!._entities[0].invoices.edges.map((e: { node: unknown }) => e.node);
    expect(b).toHaveLength(1);
    expect(b[0].number).toMatch(/^LB-2026-00000[12]$/);
    expect(b[0]).toMatchObject({ totalCents: 0, status: 'PAID', paidAt: new Date(FEB + 3_600_000).toISOString() });
    expect((await invoicesOf(accountC)).data!._entities[0].invoices.edges).toEqual([]);
  });

  it('finalizes each month once: running again, or concurrently, adds no invoice and skips no number', async () => {
    const results = await Promise.all([billing.finalizeInvoices(new Date(FEB + 7_200_000)), billing.finalizeInvoices(new Date(FEB + 7_200_000))]);
    const em = billing.orm.em.fork();
    const numbers = (await em.find(Invoice, {}, { orderBy: { number: 'asc' } })).map((i) => i.number);
    expect(results.reduce((a, b) => a + b, 0)).toBe(0);
    expect(numbers).toEqual(numbers.map((_, i) => `LB-2026-${String(i + 1).padStart(6, '0')}`));
  });

  it('keeps a finalized invoice as it is: the database refuses to change, delete or truncate it', async () => {
    const em = billing.orm.em.fork();
    const invoice = await em.findOneOrFail(Invoice, { accountId: accountA });
    await expect(em.execute('update billing.invoices set total_cents = 1 where id = ?', [invoice.id])).rejects.toThrow(/finalized/);
    await expect(em.execute(`update billing.invoices set lines = '[]' where id = ?`, [invoice.id])).rejects.toThrow(/finalized/);
    await expect(em.execute('delete from billing.invoices where id = ?', [invoice.id])).rejects.toThrow(/finalized/);
    await expect(em.execute('truncate billing.invoices')).rejects.toThrow(/truncated/);
    const paid = await em.findOneOrFail(Invoice, { accountId: accountB });
    await expect(em.execute(`update billing.invoices set status = 'OPEN', paid_at = null where id = ?`, [paid.id])).rejects.toThrow(/finalized/);
    expect(await em.fork().findOneOrFail(Invoice, { id: invoice.id })).toMatchObject({ totalCents: invoice.totalCents, lines: invoice.lines, status: 'OPEN' });
  });

  it('serves the invoice as HTML and PDF through its signed link, to whoever may read the account’s billing', async () => {
    const [edge] = (await invoicesOf(accountA)).data!._entities[0].invoices.edges;
    const { htmlUrl, pdfUrl, number } = edge.node;
    const html = await download(htmlUrl, owner);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const page = await html.text();
    expect(page).toContain(`Invoice ${number}`);
    expect(page).toContain('$33.59');
    const pdf = await download(pdfUrl, owner);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(pdf.headers.get('content-disposition')).toBe(`attachment; filename="${number}.pdf"`);
    const bytes = Buffer.from(await pdf.arrayBuffer());
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    expect(bytes.subarray(-6).toString()).toContain('%%EOF');

    // The link alone is not enough, and a changed link is no link.
    expect((await download(htmlUrl, stranger)).status).toBe(404);
    expect((await download(htmlUrl, ANONYMOUS)).status).toBe(404);
    const token = new URL(htmlUrl).searchParams.get('token')!;
    const [payload, mac] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forged = `${Buffer.from(JSON.stringify({ ...claims, f: 'pdf', e: claims.e + 3600 })).toString('base64url')}.${mac}`;
    expect((await download(`https://listbackup.example/downloads/invoice?token=${forged}`, owner)).status).toBe(404);
  });

  it('pages the invoices newest first with the shared cursors, and refuses a bad page size or cursor', async () => {
    await billing.finalizeInvoices(new Date(MAR + 3_600_000));
    const first = (await invoicesOf(accountA, owner, 1)).data!._entities[0].invoices;
    expect(first.edges.map((e: { node: { period: { start: string } } }) => e.node.period.start)).toEqual([new Date(FEB).toISOString()]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = (await invoicesOf(accountA, owner, 1, first.pageInfo.endCursor)).data!._entities[0].invoices;
    expect(second.edges.map((e: { node: { period: { start: string } } }) => e.node.period.start)).toEqual([new Date(JAN).toISOString()]);
    expect(second.pageInfo.hasNextPage).toBe(false);
    expect(errorCodes(await invoicesOf(accountA, owner, 0))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await invoicesOf(accountA, owner, 1, 'not-a-cursor'))).toEqual(['BAD_USER_INPUT']);
  });

  it('bills in the account’s currency, which cannot change while an invoice in another is unpaid', async () => {
    const update = `mutation($accountId: ID!, $currency: Currency!) { updateBillingProfile(accountId: $accountId, currency: $currency) { currency } }`;
    const locked = await subgraph.query(owner, update, { accountId: accountA, currency: 'EUR' });
    expect(errorCodes(locked)).toEqual(['BAD_USER_INPUT']);
    expect((locked.errors![0].extensions as { reason?: string }).reason).toBe('CURRENCY_LOCKED');
    expect(errorCodes(await subgraph.query(owner, update, { accountId: accountB, currency: 'XYZ' }))).toEqual(['BAD_USER_INPUT']);

    await bus.publish(accountCreated(accountD, MAR));
    await waitFor(async () => (await billing.orm.em.fork().count(PlanSubscription, { accountId: accountD })) === 1, 'the subscription of D');
    const changed = await subgraph.query(owner, update, { accountId: accountD, currency: 'EUR' });
    expect(changed.data).toEqual({ updateBillingProfile: { currency: 'EUR' } });
    await billing.finalizeInvoices(new Date(APR + 3_600_000));
    const [edge] = (await invoicesOf(accountD)).data!._entities[0].invoices.edges;
    expect(edge.node).toMatchObject({ currency: 'EUR', period: { start: new Date(MAR).toISOString() } });
    expect((await invoicesOf(accountD)).data!._entities[0].billingProfile).toEqual({ currency: 'EUR', paymentsEnabled: false, hasPaymentMethod: false });
    // Only owners set it.
    const viewer = newUser();
    subgraph.access.grant(viewer, accountD, 'viewer');
    expect(errorCodes(await subgraph.query(viewer, update, { accountId: accountD, currency: 'GBP' }))).toEqual(['FORBIDDEN']);
  });

  it('prices each plan per currency, and bills an account in its currency at that currency’s prices', async () => {
    const plans = await subgraph.query(ANONYMOUS, '{ plans { code monthlyPriceCents prices { currency monthlyPriceCents extraGbMonthPriceCents } } }');
    const team = plans.data!.plans.find((plan: { code: string }) => plan.code === 'team');
    expect(team).toEqual({
      code: 'team',
      monthlyPriceCents: 4900,
      prices: [
        { currency: 'USD', monthlyPriceCents: 4900, extraGbMonthPriceCents: 10 },
        { currency: 'EUR', monthlyPriceCents: 4500, extraGbMonthPriceCents: 9 },
        { currency: 'GBP', monthlyPriceCents: 3900, extraGbMonthPriceCents: 8 },
      ],
    });
    const free = plans.data!.plans.find((plan: { code: string }) => plan.code === 'free');
    expect(free.prices.map((price: { extraGbMonthPriceCents: number }) => price.extraGbMonthPriceCents)).toEqual([25, 23, 20]);

    // E as A in January (Free with 10 GiB, Team from the 11th), but billed in pounds.
    const accountE = randomUUID();
    subgraph.access.grant(owner, accountE, 'owner');
    await bus.publish(accountCreated(accountE, DEC));
    await bus.publish(synced(accountE, 10 * GIB, JAN));
    const em = billing.orm.em.fork();
    await waitFor(async () => (await em.fork().count(PlanSubscription, { accountId: accountE })) === 1, 'the subscription of E');
    await waitFor(async () => {
      const [row] = await em.fork().execute<{ sum: string | null }[]>('select sum(stored_delta)::text as sum from billing.storage_changes where account_id = ?', [accountE]);
      return Number(row?.sum) === 10 * GIB;
    }, 'the storage of E to be metered');
    const [freePlan, teamPlan] = [await em.findOneOrFail(Plan, { code: 'free' }), await em.findOneOrFail(Plan, { code: 'team' })];
    em.create(PlanChange, { accountId: accountE, fromPlanId: freePlan.id, toPlanId: teamPlan.id, changedAt: new Date(JAN + 10 * DAY), periodEnd: new Date(FEB), prorationCents: 0, trialEndsAt: null });
    await em.flush();
    await em.nativeUpdate(PlanSubscription, { accountId: accountE }, { planId: teamPlan.id });
    const changed = await subgraph.query(owner, `mutation($id: ID!) { updateBillingProfile(accountId: $id, currency: GBP) { currency } }`, { id: accountE });
    expect(changed.errors).toBeUndefined();

    expect(await billing.finalizeInvoices(new Date(FEB + 3_600_000))).toBeGreaterThanOrEqual(1);
    const invoice = (await invoicesOf(accountE)).data!._entities[0].invoices.edges[0].node;
    const freeOverPence = Math.round(((10 * 10) / 31 - (5 * 10) / 31) * 20);
    const teamBasePence = Math.round((3900 * 21) / 31);
    expect(invoice.currency).toBe('GBP');
    expect(invoice.lines.map((l: { kind: string; plan: string; unitPriceCents: number; amountCents: number }) => [l.kind, l.plan, l.unitPriceCents, l.amountCents])).toEqual([
      ['BASE', 'free', 0, 0],
      ['STORAGE', 'free', 20, freeOverPence],
      ['BASE', 'team', 3900, teamBasePence],
      ['STORAGE', 'team', 8, 0],
    ]);
    expect(invoice.totalCents).toBe(freeOverPence + teamBasePence);
  });

  it('answers PAYMENTS_DISABLED for a payment method when Stripe is not configured', async () => {
    const result = await subgraph.query(owner, `mutation($id: ID!) { setupPaymentMethod(accountId: $id) { clientSecret } }`, { id: accountA });
    expect(errorCodes(result)).toEqual(['PAYMENTS_DISABLED']);
  });

  describe('tenant isolation', () => {
    it('shows another tenant neither the invoices of an account nor an invoice by id (_entities)', async () => {
      const byAccount = await invoicesOf(accountA, stranger);
      expect(new Set(errorCodes(byAccount))).toEqual(new Set(['NOT_FOUND']));
      expect(byAccount.data?._entities?.[0] ?? null).toBeNull();

      const invoice = await billing.orm.em.fork().findOneOrFail(Invoice, { accountId: accountA, periodStart: new Date(JAN) });
      const byId = await subgraph.query(stranger, INVOICE_ENTITY, { reps: [{ __typename: 'Invoice', id: invoice.id }] });
      expect(errorCodes(byId)).toEqual(['NOT_FOUND']);
      expect(byId.data?._entities?.[0] ?? null).toBeNull();
      expect(JSON.stringify(byId)).not.toContain(invoice.number);

      const anonymous = await subgraph.query(ANONYMOUS, INVOICE_ENTITY, { reps: [{ __typename: 'Invoice', id: invoice.id }] });
      expect(errorCodes(anonymous)).toEqual(['UNAUTHENTICATED']);
      const mine = await subgraph.query(owner, INVOICE_ENTITY, { reps: [{ __typename: 'Invoice', id: invoice.id }, { __typename: 'Invoice', id: 'nope' }] });
      expect(mine.data!._entities[0]).toEqual({ id: invoice.id, number: invoice.number, totalCents: invoice.totalCents });
      expect(errorCodes(mine)).toEqual(['NOT_FOUND']);
    });

    it('refuses an API key without the billing:read scope', async () => {
      const key: Principal = { kind: 'apiKey', apiKeyId: randomUUID(), accountId: accountA, scopes: ['jobs:read'] };
      subgraph.access.grant(key, accountA, 'owner');
      expect(errorCodes(await invoicesOf(accountA, key))).toContain('FORBIDDEN');
    });
  });
});

describe('billing schedules', () => {
  it('keeps the monthly finalization (and, with payments off, no collection) as pg-boss schedules', async () => {
    const subgraph = await startTestSubgraph('billing', (runtime) => startBilling(runtime, { jobsUrl: 'http://127.0.0.1:9', reconciliation: false }));
    try {
      const rows = await subgraph.service.orm.em.fork().execute<{ name: string; cron: string; timezone: string }[]>('select name, cron, timezone from pgboss_billing.schedule order by name');
      expect(rows).toEqual([{ name: 'billing-finalize-invoices', cron: '0 1 1 * *', timezone: 'UTC' }]);
    } finally {
      await subgraph.close();
    }
  });
});
