/**
 * Plan limits through the gateway, with billing's real `account.upgraded` reaching sources,
 * platforms and accounts over NATS (when NATS_URL is set): on the Free plan the last allowed
 * source, member (pending invitations included) and API key are made and the next is refused with
 * PLAN_LIMIT naming the limit, storing nothing; creates racing for the last place get it once; a
 * schedule or retention beyond the plan is refused on create and update; an upgrade lifts the
 * limits; a downgrade below the account's usage is refused naming the limit, and goes through once
 * the usage fits. Another tenant sees none of it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNatsBus, streamName } from '@listbackup/lib/events/connect';
import type { NatsEventBus } from '@listbackup/lib/events/nats-bus';
import { FREE_PLAN } from '@listbackup/lib/plan-limits';
import { signUp, startStack, type SignedUp, type Stack } from '../gateway/test/support/stack.ts';

const natsUrl = process.env.NATS_URL;
if (!natsUrl && process.env.CI === 'true') throw new Error('NATS_URL must be set in CI');

const FREE = FREE_PLAN.limits;
const CREATE_SOURCE = 'mutation ($input: CreateSourceInput!) { createSource(input: $input) { id } }';
const UPDATE_SOURCE = 'mutation ($id: ID!, $input: UpdateSourceInput!) { updateSource(id: $id, input: $input) { id schedule { cron } retention { keepMonthly } } }';
const DELETE_SOURCE = 'mutation ($id: ID!) { deleteSource(id: $id) }';
const ADD_MEMBER = 'mutation ($input: AddMemberInput!) { addMember(input: $input) { id } }';
const CREATE_KEY = 'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } } }';
const REVOKE_KEY = 'mutation ($id: ID!) { revokeApiKey(id: $id) { id } }';
const CHANGE_PLAN = 'mutation ($accountId: ID!, $plan: String!) { changePlan(accountId: $accountId, plan: $plan) { subscription { plan { code } } } }';
const MY_PLAN = 'query ($id: ID!) { account(id: $id) { subscription { plan { code limits { sources connections members apiKeys minBackupIntervalMinutes maxRetentionDays } } } } }';

let stack: Stack;
let bus: NatsEventBus | undefined;
const namespace = `limits${randomBytes(4).toString('hex')}`;
let db: pg.Client;
let alice: SignedUp;
let bob: SignedUp;
const connectionOf: Record<string, string> = {};

const sql = async <T = Record<string, unknown>>(text: string, values: unknown[] = []) => (await db.query(text, values)).rows as T[];

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The rows a refused create must leave as they were. */
async function stored(): Promise<string> {
  const digests: string[] = [];
  for (const table of ['sources.sources', 'accounts.memberships', '(select id, account_id, revoked_at from accounts.api_keys)', '(select id from sources.outbox_events)', '(select id from accounts.outbox_events)']) {
    const [row] = await sql<{ digest: string }>(`select md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as digest from ${table} t`);
    digests.push(row.digest);
  }
  return digests.join(',');
}

const sourceInput = (who: SignedUp, overrides: Record<string, unknown> = {}) => ({
  accountId: who.accountId,
  connectionId: connectionOf[who.accountId],
  name: `Payments ${randomBytes(3).toString('hex')}`,
  resources: ['customers'],
  schedule: { kind: 'CRON', cron: '0 3 * * *' },
  retention: { keepLast: 7 },
  ...overrides,
});
const createSource = (who: SignedUp, overrides: Record<string, unknown> = {}) => stack.graphql(CREATE_SOURCE, { input: sourceInput(who, overrides) }, who.accessToken);
const invite = (who: SignedUp) => stack.graphql(ADD_MEMBER, { input: { accountId: who.accountId, email: `invitee-${randomUUID()}@example.com`, role: 'VIEWER' } }, who.accessToken);
const createKey = (who: SignedUp) => stack.graphql(CREATE_KEY, { input: { accountId: who.accountId, name: 'ci', scopes: ['ACCOUNT_READ'] } }, who.accessToken);
const changePlan = (who: SignedUp, plan: string) => stack.graphql(CHANGE_PLAN, { accountId: who.accountId, plan }, who.accessToken);

function expectPlanLimit(result: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] }, extensions: Record<string, unknown>, message?: string) {
  expect(result.data ?? null).toBeNull();
  expect(result.errors).toHaveLength(1);
  expect(result.errors![0].extensions).toMatchObject({ code: 'PLAN_LIMIT', ...extensions });
  if (message) expect(result.errors![0].message).toBe(message);
}

/** Every subgraph that enforces limits has applied the account's plan change. */
const planApplied = (accountId: string, plan: string) =>
  waitFor(async () => {
    const rows = await sql<{ n: number }>(
      `select (select count(*) from sources.account_plans where account_id = $1 and plan = $2)
            + (select count(*) from platforms.account_plans where account_id = $1 and plan = $2)
            + (select count(*) from accounts.account_plans where account_id = $1 and plan = $2) as n`,
      [accountId, plan],
    );
    return Number(rows[0].n) === 3;
  }, `the ${plan} plan in sources, platforms and accounts`);

/** Billing has heard of every live source of the account (its downgrade check counts them from events). */
const billingCounted = (accountId: string) =>
  waitFor(async () => {
    const [row] = await sql<{ live: string; known: string }>(
      `select (select count(*) from sources.sources where account_id = $1 and deleted_at is null) as live,
              (select count(*) from billing.plan_usage_items where account_id = $1 and kind = 'SOURCE' and live) as known`,
      [accountId],
    );
    return row.live === row.known;
  }, 'billing to count the sources');

beforeAll(async () => {
  bus = natsUrl ? await connectNatsBus(natsUrl, namespace) : undefined;
  stack = await startStack({ bus });
  db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  [alice, bob] = await Promise.all([signUp(stack, undefined, 'Alice'), signUp(stack, undefined, 'Bob')]);
  for (const who of [alice, bob]) {
    connectionOf[who.accountId] = randomUUID();
    await sql(
      `insert into platforms.connections (id, account_id, platform_id, name, status, created_at)
       select $1, $2, id, 'Stripe live', 'AUTHORIZED', now() from platforms.platforms where slug = 'stripe'`,
      [connectionOf[who.accountId], who.accountId],
    );
  }
  await waitFor(async () => (await sql('select 1 from billing.plan_subscriptions where account_id = $1', [alice.accountId])).length === 1, 'the Free plan');
});
afterAll(async () => {
  await db?.end();
  await stack?.close();
  if (bus) {
    await (await bus.connection.jetstreamManager()).streams.delete(streamName(namespace)).catch(() => {});
    await bus.close();
  }
});

describe('plan limits through the gateway', () => {
  it('shows each plan’s limits in the catalogue and on the account’s subscription', async () => {
    const plans = await stack.graphql('{ plans { code storageOverage limits { sources connections members apiKeys minBackupIntervalMinutes maxRetentionDays } } }');
    expect(plans.errors).toBeUndefined();
    expect(plans.data.plans.map((plan: { code: string }) => plan.code)).toEqual(['free', 'team', 'business']);
    expect(plans.data.plans[0]).toEqual({ code: 'free', storageOverage: false, limits: FREE });
    const mine = await stack.graphql(MY_PLAN, { id: alice.accountId }, alice.accessToken);
    expect(mine.data.account.subscription.plan).toEqual({ code: 'free', limits: FREE });
  });

  it('makes the last source the Free plan allows, gives the last place to one of several racing creates, and refuses the next, storing nothing', async () => {
    for (let i = 0; i < FREE.sources - 1; i++) expect((await createSource(alice)).errors).toBeUndefined();
    const racing = await Promise.all(Array.from({ length: 4 }, () => createSource(alice)));
    expect(racing.filter((result) => !result.errors)).toHaveLength(1);
    for (const result of racing.filter((r) => r.errors)) expectPlanLimit(result, { limit: 'SOURCES', usage: FREE.sources, allowed: FREE.sources, plan: 'free' });
    const [{ count }] = await sql<{ count: string }>('select count(*) from sources.sources where account_id = $1 and deleted_at is null', [alice.accountId]);
    expect(Number(count)).toBe(FREE.sources);

    const before = await stored();
    expectPlanLimit(await createSource(alice), { limit: 'SOURCES', usage: FREE.sources, allowed: FREE.sources, plan: 'free' }, `The Free plan allows ${FREE.sources} sources; the account has ${FREE.sources}`);
    expect(await stored()).toBe(before);
  });

  it('refuses a schedule more frequent and a retention longer than the plan allows, on create and update, storing nothing', async () => {
    const before = await stored();
    expectPlanLimit(
      await createSource(bob, { schedule: { kind: 'CRON', cron: '*/30 * * * *' } }),
      { limit: 'BACKUP_INTERVAL_MINUTES', usage: 30, allowed: FREE.minBackupIntervalMinutes, plan: 'free' },
      `The Free plan runs a source's backups at most every ${FREE.minBackupIntervalMinutes} minutes; this schedule runs them 30 minutes apart`,
    );
    // Twice a day, but 20 minutes apart once a day.
    expectPlanLimit(await createSource(bob, { schedule: { kind: 'CRON', cron: '0,20 3 * * *' } }), { limit: 'BACKUP_INTERVAL_MINUTES', usage: 20 });
    expectPlanLimit(
      await createSource(bob, { retention: { keepLast: 7, keepMonthly: 13 } }),
      { limit: 'RETENTION_DAYS', usage: 396, allowed: FREE.maxRetentionDays, plan: 'free' },
      `The Free plan keeps snapshots at most ${FREE.maxRetentionDays} days; this retention keeps them 396 days`,
    );
    expectPlanLimit(await createSource(bob, { retention: { keepWeekly: 53 } }), { limit: 'RETENTION_DAYS', usage: 371 });
    expect(await stored()).toBe(before);

    // At the limits exactly: hourly, 12 months.
    const made = await createSource(bob, { schedule: { kind: 'CRON', cron: '0 * * * *' }, retention: { keepLast: 3, keepMonthly: 12 } });
    expect(made.errors).toBeUndefined();
    const id = made.data.createSource.id;
    const unchanged = await stored();
    expectPlanLimit(await stack.graphql(UPDATE_SOURCE, { id, input: { schedule: { kind: 'CRON', cron: '*/15 * * * *' } } }, bob.accessToken), { limit: 'BACKUP_INTERVAL_MINUTES', usage: 15 });
    expectPlanLimit(await stack.graphql(UPDATE_SOURCE, { id, input: { retention: { keepDaily: 400 } } }, bob.accessToken), { limit: 'RETENTION_DAYS', usage: 400 });
    expect(await stored()).toBe(unchanged);
    const renamed = await stack.graphql(UPDATE_SOURCE, { id, input: { name: 'Renamed', retention: { keepDaily: 365 } } }, bob.accessToken);
    expect(renamed.errors).toBeUndefined();
  });

  it('counts pending invitations as members and revoked keys not at all', async () => {
    // The owner is the first member.
    for (let i = 1; i < FREE.members; i++) expect((await invite(alice)).errors).toBeUndefined();
    let before = await stored();
    expectPlanLimit(
      await invite(alice),
      { limit: 'MEMBERS', usage: FREE.members, allowed: FREE.members, plan: 'free' },
      `The Free plan allows ${FREE.members} members (pending invitations included); the account has ${FREE.members}`,
    );
    expect(await stored()).toBe(before);

    const keys: string[] = [];
    for (let i = 0; i < FREE.apiKeys; i++) {
      const made = await createKey(alice);
      expect(made.errors).toBeUndefined();
      keys.push(made.data.createApiKey.apiKey.id);
    }
    before = await stored();
    expectPlanLimit(await createKey(alice), { limit: 'API_KEYS', usage: FREE.apiKeys, allowed: FREE.apiKeys, plan: 'free' }, `The Free plan allows ${FREE.apiKeys} API keys; the account has ${FREE.apiKeys}`);
    expect(await stored()).toBe(before);
    expect((await stack.graphql(REVOKE_KEY, { id: keys[0] }, alice.accessToken)).errors).toBeUndefined();
    expect((await createKey(alice)).errors).toBeUndefined();
  });

  it('lifts the limits on an upgrade; refuses a downgrade below the usage naming the limit, then allows it once the usage fits', async () => {
    expect((await changePlan(alice, 'team')).errors).toBeUndefined();
    await planApplied(alice.accountId, 'team');
    const team = (await stack.graphql(MY_PLAN, { id: alice.accountId }, alice.accessToken)).data.account.subscription.plan;
    expect(team.code).toBe('team');
    const extra = await createSource(alice, { schedule: { kind: 'CRON', cron: '*/30 * * * *' } });
    expect(extra.errors).toBeUndefined();
    expect((await invite(alice)).errors).toBeUndefined();
    expect((await createKey(alice)).errors).toBeUndefined();

    await billingCounted(alice.accountId);
    const before = await sql('select plan_id from billing.plan_subscriptions where account_id = $1', [alice.accountId]);
    expectPlanLimit(
      await changePlan(alice, 'free'),
      { limit: 'SOURCES', usage: FREE.sources + 1, allowed: FREE.sources, plan: 'free' },
      `The Free plan allows ${FREE.sources} sources; the account has ${FREE.sources + 1}`,
    );
    expect(await sql('select plan_id from billing.plan_subscriptions where account_id = $1', [alice.accountId])).toEqual(before);

    // One source fewer: the members are the next limit in the way.
    const [{ id: other }] = await sql<{ id: string }>("select id from sources.sources where account_id = $1 and deleted_at is null and id <> $2 limit 1", [alice.accountId, extra.data.createSource.id]);
    expect((await stack.graphql(DELETE_SOURCE, { id: other }, alice.accessToken)).errors).toBeUndefined();
    await billingCounted(alice.accountId);
    expectPlanLimit(await changePlan(alice, 'free'), { limit: 'MEMBERS', usage: FREE.members + 1, allowed: FREE.members });
  });

  it('keeps another tenant’s plan, limits and usage out of reach', async () => {
    const seen = await stack.graphql(MY_PLAN, { id: alice.accountId }, bob.accessToken);
    expect(seen.data?.account ?? null).toBeNull();
    expect(seen.errors![0].extensions!.code).toBe('NOT_FOUND');
    expect(JSON.stringify(seen)).not.toContain('team');
    expect((await stack.graphql(MY_PLAN, { id: bob.accountId }, bob.accessToken)).data.account.subscription.plan).toEqual({ code: 'free', limits: FREE });
    // Bob cannot create in Alice's account, whatever her room.
    const before = await stored();
    for (const result of [await createSource(bob, { accountId: alice.accountId }), await stack.graphql(CREATE_KEY, { input: { accountId: alice.accountId, name: 'x', scopes: ['ACCOUNT_READ'] } }, bob.accessToken)]) {
      expect(result.errors![0].extensions!.code).toBe('NOT_FOUND');
    }
    expect(await stored()).toBe(before);
  });
});
