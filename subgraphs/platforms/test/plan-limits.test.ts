// The plan's connection limit: the last allowed connection is made and the next is refused with
// PLAN_LIMIT, storing nothing, by both flows that create one (API key and OAuth); creates racing for
// the last place get it once; a revoked connection frees its place; a plan change reaches the
// subgraph as billing publishes it (account.upgraded) and raises the limit.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@listbackup/lib/principal';
import { createEvent } from '@listbackup/lib/events/contract';
import { FREE_PLAN } from '@listbackup/lib/plan-limits';
import { OutboxEvent } from '@listbackup/lib/events/outbox';
import { Connection } from '../src/entities/connection.ts';
import { ConnectionSecret } from '../src/entities/connection-secret.ts';
import { errorCodes, newUser, waitFor } from '../../jobs/test/support/subgraph-harness.ts';
import { START, startPlatformsHarness, type PlatformsHarness } from './support/platforms-harness.ts';

const CREATE = `mutation($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id status } }`;
const REVOKE = `mutation($id: ID!) { revokeConnection(id: $id) { connection { id status } } }`;
const ALLOWED = FREE_PLAN.limits.connections;

describe('the plan limit on connections', () => {
  let h: PlatformsHarness;
  let alice: Principal;
  const account = randomUUID();
  const other = randomUUID();

  const em = () => h.service.orm.em.fork();
  const stored = async () => ({
    connections: await em().count(Connection, {}),
    secrets: await em().count(ConnectionSecret, {}),
    outbox: await em().count(OutboxEvent, {}),
  });
  const stripeKey = () => {
    const key = `sk_test_${randomBytes(18).toString('hex')}`;
    h.api.stripeKeys.set(key, { id: `acct_${randomBytes(6).toString('hex')}`, name: 'Acme Inc.' });
    return key;
  };
  const connect = (accountId = account) => h.subgraph.query(alice, CREATE, { input: { accountId, platformSlug: 'stripe', apiKey: stripeKey(), name: 'Stripe' } });

  beforeAll(async () => {
    h = await startPlatformsHarness();
    alice = newUser();
    h.subgraph.access.grant(alice, account, 'admin');
    h.subgraph.access.grant(alice, other, 'admin');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('makes the Free plan’s last connection, then refuses the next by either flow with PLAN_LIMIT, storing nothing', async () => {
    for (let i = 0; i < ALLOWED; i++) expect((await connect()).errors).toBeUndefined();
    const before = await stored();
    const refused = await connect();
    expect(refused.data).toBeNull();
    expect(refused.errors).toHaveLength(1);
    expect(refused.errors![0].extensions).toMatchObject({ code: 'PLAN_LIMIT', limit: 'CONNECTIONS', usage: ALLOWED, allowed: ALLOWED, plan: 'free' });
    expect(refused.errors![0].message).toBe(`The Free plan allows ${ALLOWED} connections; the account has ${ALLOWED}`);
    const oauth = await h.subgraph.query(alice, START, { input: { accountId: account, platformSlug: 'gitlab' } });
    expect(oauth.data).toBeNull();
    expect(oauth.errors![0].extensions).toMatchObject({ code: 'PLAN_LIMIT', limit: 'CONNECTIONS' });
    expect(await stored()).toEqual(before);
    // Another account's connections are its own.
    expect((await connect(other)).errors).toBeUndefined();
  });

  it('gives a place freed by a revocation to one of several creates racing for it', async () => {
    const [first] = await em().find(Connection, { accountId: account, status: { $ne: 'REVOKED' } }, { limit: 1 });
    expect((await h.subgraph.query(alice, REVOKE, { id: first.id })).errors).toBeUndefined();
    const results = await Promise.all(Array.from({ length: 4 }, () => connect()));
    expect(results.filter((result) => !result.errors)).toHaveLength(1);
    for (const result of results.filter((r) => r.errors)) expect(errorCodes(result)).toEqual(['PLAN_LIMIT']);
    expect(await em().count(Connection, { accountId: account, status: { $ne: 'REVOKED' } })).toBe(ALLOWED);
  });

  it('raises the limit once billing’s account.upgraded arrives; an older event replayed after it changes nothing', async () => {
    const limits = { ...FREE_PLAN.limits, connections: ALLOWED + 2 };
    const upgraded = createEvent('account.upgraded', account, account, { accountId: account, fromPlan: 'free', toPlan: 'team', auditLogRetentionDays: 365, planName: 'Team', limits });
    const stale = createEvent(
      'account.upgraded',
      account,
      account,
      { accountId: account, fromPlan: 'team', toPlan: 'free', auditLogRetentionDays: 90, planName: 'Free', limits: FREE_PLAN.limits },
      { time: new Date(Date.now() - 60_000) },
    );
    await h.bus.publish(upgraded);
    await waitFor(async () => (await em().execute(`select 1 from platforms.account_plans where account_id = ? and plan = 'team'`, [account])).length === 1, 'the Team plan in platforms');
    await h.bus.publish(stale);
    await h.bus.publish(upgraded);
    expect((await connect()).errors).toBeUndefined();
    expect((await connect()).errors).toBeUndefined();
    const refused = await connect();
    expect(refused.errors![0].extensions).toMatchObject({ code: 'PLAN_LIMIT', limit: 'CONNECTIONS', usage: ALLOWED + 2, allowed: ALLOWED + 2, plan: 'team' });
    expect(refused.errors![0].message).toBe(`The Team plan allows ${ALLOWED + 2} connections; the account has ${ALLOWED + 2}`);
  });
});
