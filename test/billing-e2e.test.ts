/**
 * Billing end to end through the gateway, with the clock moved forward a month: backups of a fake
 * Stripe source are metered, the month's invoice bills exactly the integral of what was stored, a
 * card set up through a SetupIntent is declined at the Stripe fake, the retries run on their
 * schedule, the account is suspended once the grace period is over, and a payment resumes it.
 * Stripe's webhooks reach billing through the gateway's public route, signed as Stripe signs them.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeStripe } from '@listbackup/catalogue/testing/fakes';
import { DECLINING_PAYMENT_METHOD, FakeStripeBilling, PAYING_PAYMENT_METHOD } from '@listbackup/catalogue/stripe/billing-fake';
import { signUp, type SignedUp } from '../gateway/test/support/stack.ts';
import type { BillingService } from '../subgraphs/billing/src/index.ts';
import { type BackupStack, STRIPE_KEY, startBackupStack, startIdentity } from './support/backup-stack.ts';

const GIB = 1024 ** 3;
const DAY = 86_400_000;
const HOUR = 3_600_000;

const INVOICES = `query ($id: ID!) { account(id: $id) { status suspensionReason billingProfile { currency paymentsEnabled hasPaymentMethod }
  invoices(first: 5) { edges { node { id number status totalCents currency paidAt pdfUrl period { start end }
    lines { kind plan periodStart periodEnd quantity includedQuantity unitPriceCents amountCents } } } } } }`;

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('billing end to end', () => {
  let stack: BackupStack;
  let stripe: FakeStripe;
  let payments: FakeStripeBilling;
  let identity: { url: string; close(): Promise<void> };
  let alice: SignedUp;
  let bob: SignedUp;
  let billing: BillingService;
  let monthEnd: number;
  let invoice: any;

  const gql = async <T = any>(query: string, variables: Record<string, unknown>, who: SignedUp): Promise<T> => {
    const result = await stack.graphql<T>(query, variables, who.accessToken);
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data as T;
  };
  const accountOf = async (who: SignedUp = alice) => (await gql(INVOICES, { id: alice.accountId }, who)).account;
  const postWebhook = (body: string, headers: Record<string, string>) => fetch(`${stack.origin}/webhooks/stripe`, { method: 'POST', body, headers });

  beforeAll(async () => {
    stripe = await new FakeStripe().start();
    stripe.keys.add(STRIPE_KEY);
    for (let i = 0; i < 20; i++) stripe.add('customers', { description: `customer ${i} ${randomBytes(300).toString('hex')}` });
    payments = await new FakeStripeBilling().start();
    identity = await startIdentity();
    stack = await startBackupStack(`${stripe.url}/v1`, identity.url, {
      billing: { stripe: { secretKey: 'sk_test_valid', webhookSecret: payments.webhookSecret, apiUrl: payments.url }, schedules: false, reconciliation: false },
    });
    billing = stack.services.billing as BillingService;
    payments.sender = async (body, headers) => (await postWebhook(body, headers)).status;
    [alice, bob] = await Promise.all([signUp(stack), signUp(stack)]);
  });

  afterAll(async () => {
    await stack?.close();
    await stripe?.close();
    await payments?.close();
    await identity?.close();
  });

  it('bills the month after it ends: the GB-month lines add up to the integral of the stored bytes, computed here from the snapshots', async () => {
    const connection = (
      await gql(
        `mutation ($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id } }`,
        { input: { accountId: alice.accountId, platformSlug: 'stripe', name: 'Stripe', apiKey: STRIPE_KEY } },
        alice,
      )
    ).createApiKeyConnection;
    const source = (
      await gql(
        `mutation ($input: CreateSourceInput!) { createSource(input: $input) { id } }`,
        { input: { accountId: alice.accountId, connectionId: connection.id, name: 'Payments', resources: ['customers'], schedule: { kind: 'MANUAL' }, retention: { keepLast: 5 } } },
        alice,
      )
    ).createSource;
    const backUp = async () => {
      const { id } = (await gql(`mutation ($id: ID!) { triggerSync(sourceId: $id) { id } }`, { id: source.id }, alice)).triggerSync;
      const job = await eventually(async () => (await gql(`query ($id: ID!) { job(id: $id) { status failureReason } }`, { id }, alice)).job, (j) => ['SUCCEEDED', 'FAILED'].includes(j.status), 'the backup');
      expect(job.status, job.failureReason).toBe('SUCCEEDED');
    };
    await backUp();
    for (let i = 0; i < 20; i++) stripe.add('customers', { description: `later ${i} ${randomBytes(300).toString('hex')}` });
    await backUp();

    // Upgrade (Team starts its trial), then upgrade again (one trial per account: Business is paid from now).
    await gql(`mutation ($id: ID!) { changePlan(accountId: $id, plan: "team") { change { id } } }`, { id: alice.accountId }, alice);
    await gql(`mutation ($id: ID!) { changePlan(accountId: $id, plan: "business") { change { id } } }`, { id: alice.accountId }, alice);

    const snapshots = (
      await gql(`query ($id: ID!) { source(id: $id) { snapshots(first: 10) { edges { node { createdAt storedBytes } } } } }`, { id: source.id }, alice)
    ).source.snapshots.edges.map((e: { node: { createdAt: string; storedBytes: number } }) => e.node);
    expect(snapshots).toHaveLength(2);
    const now = new Date();
    const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    monthEnd = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
    // Each snapshot's bytes are stored from its creation to the end of the month (retention keeps both).
    const integral = snapshots.reduce((sum: number, s: { createdAt: string; storedBytes: number }) => sum + (s.storedBytes * (monthEnd - Date.parse(s.createdAt))) / (monthEnd - monthStart), 0) / GIB;
    expect(integral).toBeGreaterThan(0);
    await eventually(async () => (await gql(`query ($id: ID!) { account(id: $id) { storageUsage { storedBytes } } }`, { id: alice.accountId }, alice)).account.storageUsage.storedBytes, (stored) => stored > 0, 'the backups to be metered');

    // The source's own storage over time, through the gateway (billing answers it with the account sources gives): for alice only.
    const sourceStorage = `query ($id: ID!, $from: DateTime!, $to: DateTime!) { source(id: $id) { storageUsage { storedBytes history(from: $from, to: $to) { storedBytes } } } }`;
    const range = { id: source.id, from: new Date(monthStart).toISOString(), to: new Date(monthEnd).toISOString() };
    const ofSource = (await gql(sourceStorage, range, alice)).source.storageUsage;
    const stored = snapshots.reduce((sum: number, s: { storedBytes: number }) => sum + s.storedBytes, 0);
    expect(ofSource.storedBytes).toBe(stored);
    expect(ofSource.history.at(-1).storedBytes).toBe(stored);
    const hidden = await stack.graphql(sourceStorage, range, bob.accessToken);
    expect(hidden.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(hidden.data?.source ?? null).toBeNull();

    // The card set up before the month ends: the browser confirms the SetupIntent, Stripe's webhook tells billing.
    const setup = (await gql(`mutation ($id: ID!) { setupPaymentMethod(accountId: $id) { clientSecret setupIntentId } }`, { id: alice.accountId }, alice)).setupPaymentMethod;
    expect(setup.clientSecret).toMatch(new RegExp(`^${setup.setupIntentId}_secret_`));
    payments.confirmSetupIntent(setup.setupIntentId, DECLINING_PAYMENT_METHOD);
    await eventually(accountOf, (a) => a.billingProfile.hasPaymentMethod, 'the payment method');

    expect(await billing.finalizeInvoices(new Date(monthEnd + HOUR))).toBe(2);
    const account = await accountOf();
    [invoice] = account.invoices.edges.map((e: { node: unknown }) => e.node);
    expect(invoice).toMatchObject({ status: 'OPEN', currency: 'USD', period: { start: new Date(monthStart).toISOString(), end: new Date(monthEnd).toISOString() } });
    const storage = invoice.lines.filter((l: { kind: string }) => l.kind === 'STORAGE');
    expect(storage.map((l: { plan: string }) => l.plan)).toEqual(['free', 'team', 'business']);
    const billed = storage.reduce((sum: number, l: { quantity: number }) => sum + l.quantity, 0);
    expect(Math.abs(billed - integral) / integral).toBeLessThan(1e-6);
    // Business from the second change to the month's end, at its price; nothing over the included storage.
    const business = invoice.lines.find((l: { kind: string; plan: string }) => l.kind === 'BASE' && l.plan === 'business');
    expect(business.amountCents).toBe(Math.round((19900 * (monthEnd - Date.parse(business.periodStart))) / (monthEnd - monthStart)));
    expect(invoice.totalCents).toBe(invoice.lines.reduce((sum: number, l: { amountCents: number }) => sum + l.amountCents, 0));
    expect(invoice.totalCents).toBeGreaterThan(0);

    // Its PDF through the gateway, for alice only.
    const path = new URL(invoice.pdfUrl).pathname + new URL(invoice.pdfUrl).search;
    const pdf = await fetch(`${stack.origin}${path}`, { headers: { authorization: `Bearer ${alice.accessToken}` } });
    expect(pdf.status).toBe(200);
    expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString()).toBe('%PDF-');
    expect((await fetch(`${stack.origin}${path}`, { headers: { authorization: `Bearer ${bob.accessToken}` } })).status).toBe(404);
    const refused = await stack.graphql(INVOICES, { id: alice.accountId }, bob.accessToken);
    expect(refused.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('retries a declined card on its schedule, suspends the account after the grace period, and resumes it once paid', async () => {
    // Stripe's clock moves with ours: its events say when a payment failed or succeeded.
    const at = (time: Date) => {
      payments.clockOffsetMs = time.getTime() - Date.now();
      return time;
    };
    const first = new Date(monthEnd + HOUR);
    expect(await billing.collectPayments!(at(first))).toMatchObject({ declined: 1, paid: 0 });
    await payments.settled();
    const stripeInvoice = [...payments.invoices.values()][0]!;
    expect(stripeInvoice).toMatchObject({ status: 'open', amount_due: invoice.totalCents, currency: 'usd', attempt_count: 1, metadata: { invoiceId: invoice.id } });
    // Stripe's invoice.payment_failed for the same attempt came through the gateway and counted nothing more.
    expect(payments.deliveries.filter((d) => d.type === 'invoice.payment_failed').map((d) => d.status)).toEqual([200]);
    expect(await billing.collectPayments!(at(new Date(first.getTime() + HOUR)))).toMatchObject({ declined: 0, paid: 0 });

    for (const days of [1, 3, 7]) {
      expect(await billing.collectPayments!(at(new Date(first.getTime() + days * DAY + HOUR)))).toMatchObject({ declined: 1 });
      await payments.settled();
    }
    await payments.settled();
    expect(stripeInvoice.attempt_count).toBe(4);
    expect((await accountOf()).status).toBe('ACTIVE');
    // 13 days after the first failure the account still works; after 14 it is suspended.
    expect(await billing.collectPayments!(at(new Date(first.getTime() + 13 * DAY + 2 * HOUR)))).toMatchObject({ declined: 0, overdue: 0 });
    expect(await billing.collectPayments!(at(new Date(first.getTime() + 14 * DAY + HOUR)))).toMatchObject({ declined: 1, overdue: 1 });
    await payments.settled();
    const suspended = await eventually(accountOf, (a) => a.status === 'SUSPENDED', 'the suspension');
    expect(suspended.suspensionReason).toContain(first.toISOString());
    expect(suspended.invoices.edges[0].node.status).toBe('OPEN');

    // A forged webhook (signed with another secret) is refused and pays nothing.
    const forged = JSON.stringify({ id: 'evt_forged', object: 'event', type: 'invoice.paid', data: { object: { ...stripeInvoice, status: 'paid' } } });
    const answer = await postWebhook(forged, { 'content-type': 'application/json', 'stripe-signature': payments.signature(forged, undefined, 'whsec_not_the_secret') });
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({ code: 'BAD_SIGNATURE' });
    expect((await postWebhook(forged, { 'content-type': 'application/json' })).status).toBe(400);
    expect((await accountOf()).status).toBe('SUSPENDED');

    // The owner pays on Stripe's hosted page: invoice.paid through the gateway, and the account resumes.
    at(new Date(first.getTime() + 15 * DAY));
    payments.payOnHostedPage(stripeInvoice.id, PAYING_PAYMENT_METHOD);
    await payments.settled();
    const resumed = await eventually(accountOf, (a) => a.status === 'ACTIVE', 'the resumption');
    expect(resumed.invoices.edges[0].node).toMatchObject({ id: invoice.id, status: 'PAID', totalCents: invoice.totalCents, paidAt: new Date(Math.floor((first.getTime() + 15 * DAY) / 1000) * 1000).toISOString() });

    // Stripe delivering the same event again changes nothing.
    const paid = payments.events.find((e) => e.type === 'invoice.paid')!;
    expect(await payments.redeliver(paid.id)).toBe(200);
    const again = await postWebhook(JSON.stringify(paid), { 'content-type': 'application/json', 'stripe-signature': payments.signature(JSON.stringify(paid)) });
    expect(await again.json()).toEqual({ received: true, outcome: 'duplicate' });
    expect(await billing.collectPayments!(new Date(first.getTime() + 30 * DAY))).toEqual({ paid: 0, declined: 0, unavailable: 0, overdue: 0 });
    expect(payments.requestsTo('/v1/invoices/', 'POST').filter((r) => r.path.endsWith('/pay'))).toHaveLength(5);
  });

  it('refuses a payment method set up by a stranger for another account: NOT_FOUND, and nothing asked of Stripe', async () => {
    const intents = payments.setupIntents.size;
    const customers = payments.customers.size;
    const refused = await stack.graphql(`mutation ($id: ID!) { setupPaymentMethod(accountId: $id) { clientSecret setupIntentId } }`, { id: alice.accountId }, bob.accessToken);
    expect(refused.data).toBeNull();
    expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(payments.setupIntents.size).toBe(intents);
    expect(payments.customers.size).toBe(customers);
    // The same call for bob's own account works (the refusal above is about the account, not the caller).
    const own = await gql(`mutation ($id: ID!) { setupPaymentMethod(accountId: $id) { setupIntentId } }`, { id: bob.accountId }, bob);
    expect(payments.setupIntents.get(own.setupPaymentMethod.setupIntentId)).toMatchObject({ metadata: { accountId: bob.accountId } });
  });

  it('takes the status of a subscription changed at Stripe for its customer only', async () => {
    const subscriptionOf = async () => (await gql(`query ($id: ID!) { account(id: $id) { subscription { status } } }`, { id: alice.accountId }, alice)).account.subscription.status;
    const [customer] = [...payments.customers.keys()];
    const changed = payments.subscriptionUpdated(customer!, 'past_due');
    await payments.settled();
    expect(payments.deliveries.find((d) => d.eventId === changed.id)?.status).toBe(200);
    expect(await subscriptionOf()).toBe('PAST_DUE');
    // A customer that is nobody's here changes nothing.
    const stranger = { ...changed, id: 'evt_for_nobody', data: { object: { ...changed.data.object, customer: 'cus_unknown', status: 'canceled' } } };
    const body = JSON.stringify(stranger);
    const answer = await postWebhook(body, { 'content-type': 'application/json', 'stripe-signature': payments.signature(body) });
    expect(await answer.json()).toEqual({ received: true, outcome: 'ignored' });
    payments.subscriptionUpdated(customer!, 'active');
    await payments.settled();
    expect(await subscriptionOf()).toBe('ACTIVE');
  });
});
