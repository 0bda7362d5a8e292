/**
 * Plans through the gateway: the catalogue, changing plan with its proration and `account.upgraded`
 * (which accounts applies to the audit log's retention, over NATS when NATS_URL is set), a
 * downgrade below the account's stored bytes refused naming the limit, bad input and other
 * tenants refused with nothing stored.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNatsBus, streamName } from '@listbackup/lib/events/connect';
import { createEvent } from '@listbackup/lib/events/contract';
import type { NatsEventBus } from '@listbackup/lib/events/nats-bus';
import { signUp, startStack, type SignedUp, type Stack } from '../gateway/test/support/stack.ts';

const natsUrl = process.env.NATS_URL;
if (!natsUrl && process.env.CI === 'true') throw new Error('NATS_URL must be set in CI');

const GIB = 1024 ** 3;
const DAY_MS = 86_400_000;
const CHANGE_PLAN = `mutation ($accountId: ID!, $plan: String!) { changePlan(accountId: $accountId, plan: $plan) {
  subscription { plan { code } trialEndsAt }
  change { id fromPlan { code } toPlan { code } changedAt prorationCents periodEnd } } }`;
const SUBSCRIPTION = `query ($id: ID!) { account(id: $id) { subscription { plan { code } trialEndsAt } storageUsage { storedBytes } } }`;

let stack: Stack;
let bus: NatsEventBus | undefined;
const namespace = `plans${randomBytes(4).toString('hex')}`;
let db: pg.Client;
let alice: SignedUp;
let bob: SignedUp;
let carol: SignedUp;

const sql = async <T = Record<string, unknown>>(text: string, values: unknown[] = []) => (await db.query(text, values)).rows as T[];

/** Billing's tables, row for row: what a refused change must leave as it was. */
async function billingState(): Promise<string> {
  const digests: string[] = [];
  // The outbox by id: the relay marks rows sent in the background.
  for (const table of ['billing.plan_subscriptions', 'billing.plan_changes', '(select id from billing.outbox_events)']) {
    const [row] = await sql<{ digest: string }>(`select md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as digest from ${table} t`);
    digests.push(row.digest);
  }
  return digests.join(',');
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A plan's price for the rest of the month of `at`, minus trial days, computed here independently of billing. */
function restOfMonth(monthlyCents: number, at: Date, trialEndsAt: Date | null): number {
  const start = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1);
  const end = Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1);
  const from = trialEndsAt && trialEndsAt > at ? trialEndsAt.getTime() : at.getTime();
  return (monthlyCents * Math.max(0, end - from)) / (end - start);
}

const change = (who: SignedUp, plan: string, accountId = alice.accountId) => stack.graphql(CHANGE_PLAN, { accountId, plan }, who.accessToken);

beforeAll(async () => {
  bus = natsUrl ? await connectNatsBus(natsUrl, namespace) : undefined;
  stack = await startStack({ bus });
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  [alice, bob, carol] = await Promise.all([signUp(stack, undefined, 'Alice'), signUp(stack, undefined, 'Bob'), signUp(stack, undefined, 'Carol')]);
  const added = await stack.graphql(
    'mutation ($input: AddMemberInput!) { addMember(input: $input) { id } }',
    { input: { accountId: alice.accountId, email: carol.email, role: 'VIEWER' } },
    alice.accessToken,
  );
  expect(added.errors).toBeUndefined();
  // Billing gives each account the Free plan from its account.created event.
  await waitFor(async () => (await sql('select 1 from billing.plan_subscriptions where account_id = any($1)', [[alice.accountId, bob.accountId]])).length === 2, 'the Free plans');
});
afterAll(async () => {
  await db?.end();
  await stack?.close();
  if (bus) {
    await (await bus.connection.jetstreamManager()).streams.delete(streamName(namespace)).catch(() => {});
    await bus.close();
  }
});

describe('plans through the gateway', () => {
  it('lists the catalogue with storage, overage, its price, trial and audit retention, to anyone', async () => {
    const result = await stack.graphql('{ plans { code includedStorageBytes storageOverage storageGraceDays storageGraceBytes monthlyPriceCents extraGbMonthPriceCents trialDays auditLogRetentionDays } }');
    expect(result.errors).toBeUndefined();
    expect(result.data.plans).toEqual([
      { code: 'free', includedStorageBytes: 5 * GIB, storageOverage: false, storageGraceDays: 7, storageGraceBytes: GIB, monthlyPriceCents: 0, extraGbMonthPriceCents: 25, trialDays: null, auditLogRetentionDays: 90 },
      { code: 'team', includedStorageBytes: 100 * GIB, storageOverage: true, storageGraceDays: null, storageGraceBytes: null, monthlyPriceCents: 4900, extraGbMonthPriceCents: 10, trialDays: 14, auditLogRetentionDays: 365 },
      { code: 'business', includedStorageBytes: 1024 * GIB, storageOverage: true, storageGraceDays: null, storageGraceBytes: null, monthlyPriceCents: 19900, extraGbMonthPriceCents: 5, trialDays: 14, auditLogRetentionDays: 730 },
    ]);
  });

  it('upgrades with a trial and a prorated charge, publishes account.upgraded, then refuses a downgrade below the stored bytes', async () => {
    const toTeam = await change(alice, 'team');
    expect(toTeam.errors).toBeUndefined();
    const first = toTeam.data.changePlan;
    const changedAt = new Date(first.change.changedAt);
    const trialEndsAt = new Date(first.subscription.trialEndsAt);
    expect(first.subscription.plan.code).toBe('team');
    expect(trialEndsAt.getTime() - changedAt.getTime()).toBe(14 * DAY_MS);
    expect(first.change).toMatchObject({ fromPlan: { code: 'free' }, toPlan: { code: 'team' } });
    expect(first.change.prorationCents).toBe(Math.round(restOfMonth(4900, changedAt, trialEndsAt)));
    expect(new Date(first.change.periodEnd).getTime()).toBe(Date.UTC(changedAt.getUTCFullYear(), changedAt.getUTCMonth() + 1, 1));
    // Accounts applies the event to the audit log's retention.
    await waitFor(async () => (await sql<{ days: number }>('select retention_days as days from accounts.audit_chains where account_id = $1', [alice.accountId]))[0]?.days === 365, 'the Team retention in accounts');

    // The second upgrade gets no second trial; the rest of Team's trial is not credited.
    const toBusiness = await change(alice, 'business');
    expect(toBusiness.errors).toBeUndefined();
    const second = toBusiness.data.changePlan;
    const secondAt = new Date(second.change.changedAt);
    expect(second.subscription).toEqual({ plan: { code: 'business' }, trialEndsAt: null });
    expect(second.change.prorationCents).toBe(Math.round(restOfMonth(19900, secondAt, null) - restOfMonth(4900, secondAt, trialEndsAt)));
    await waitFor(async () => (await sql<{ days: number }>('select retention_days as days from accounts.audit_chains where account_id = $1', [alice.accountId]))[0]?.days === 730, 'the Business retention in accounts');

    // 10 GiB stored, as the metering consumer learns it from a backup's data.synced.
    const sourceId = randomUUID();
    const snapshotId = randomUUID();
    await stack.bus.publish(
      createEvent('data.synced', alice.accountId, snapshotId, { accountId: alice.accountId, sourceId, jobId: randomUUID(), snapshotId, items: 3, logicalBytes: 12 * GIB, storedBytes: 10 * GIB, partial: false }),
    );
    await waitFor(async () => (await stack.graphql(SUBSCRIPTION, { id: alice.accountId }, alice.accessToken)).data?.account.storageUsage.storedBytes === 10 * GIB, 'the stored bytes');

    const before = await billingState();
    const toFree = await change(alice, 'free');
    expect(toFree.data).toBeNull();
    expect(toFree.errors).toHaveLength(1);
    expect(toFree.errors![0].extensions).toMatchObject({ code: 'PLAN_LIMIT', limit: 'STORAGE_BYTES', usage: 10 * GIB, allowed: 5 * GIB, plan: 'free' });
    expect(toFree.errors![0].message).toBe('The Free plan includes 5 GB of storage; the account stores 10 GB');
    expect(await billingState()).toBe(before);
    expect((await stack.graphql(SUBSCRIPTION, { id: alice.accountId }, alice.accessToken)).data.account.subscription.plan.code).toBe('business');

    // Down to Team, which includes the 10 GiB: the rest of the month is credited.
    const toTeamAgain = await change(alice, 'team');
    expect(toTeamAgain.errors).toBeUndefined();
    const third = toTeamAgain.data.changePlan;
    const thirdAt = new Date(third.change.changedAt);
    expect(third.subscription).toEqual({ plan: { code: 'team' }, trialEndsAt: null });
    expect(third.change.prorationCents).toBe(Math.round(restOfMonth(4900, thirdAt, null) - restOfMonth(19900, thirdAt, null)));
    expect(third.change.prorationCents).toBeLessThanOrEqual(0);
    const recorded = await sql<{ id: string; proration_cents: number }>('select id, proration_cents from billing.plan_changes where account_id = $1 order by changed_at', [alice.accountId]);
    expect(recorded).toEqual([first, second, third].map(({ change: c }) => ({ id: c.id, proration_cents: c.prorationCents })));
  });

  it('answers an unknown plan and the current plan with BAD_USER_INPUT, storing nothing', async () => {
    const before = await billingState();
    for (const [plan, reason] of [
      ['platinum', 'UNKNOWN_PLAN'],
      ['', 'UNKNOWN_PLAN'],
      ['team', 'SAME_PLAN'],
    ]) {
      const result = await change(alice, plan);
      expect(result.data).toBeNull();
      expect(result.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason, field: 'plan' });
    }
    expect(await billingState()).toBe(before);
  });

  it('lets only the account’s owner change its plan; another tenant gets NOT_FOUND and sees nothing', async () => {
    const before = await billingState();
    const byViewer = await change(carol, 'business');
    expect(byViewer.errors![0].extensions!.code).toBe('FORBIDDEN');
    for (const accountId of [alice.accountId, randomUUID(), 'not-an-id']) {
      const byBob = await change(bob, 'business', accountId);
      expect(byBob.data).toBeNull();
      expect(byBob.errors![0].extensions!.code).toBe('NOT_FOUND');
    }
    expect(await billingState()).toBe(before);
    const seen = await stack.graphql(SUBSCRIPTION, { id: alice.accountId }, bob.accessToken);
    expect(seen.data?.account ?? null).toBeNull();
    expect(seen.errors![0].extensions!.code).toBe('NOT_FOUND');
    expect(JSON.stringify(seen)).not.toContain('team');
    // Bob's own account is untouched by all of Alice's changes.
    expect((await stack.graphql(SUBSCRIPTION, { id: bob.accountId }, bob.accessToken)).data.account.subscription).toEqual({ plan: { code: 'free' }, trialEndsAt: null });
  });
});
