// A purged account's connections are revoked at their platform (RFC 7009 against a real OAuth 2
// server) and deleted with their sealed credentials and the account's plan; another account's stay.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent } from '@listbackup/lib/events/contract';
import type { Principal } from '@listbackup/lib/principal';
import { newUser, waitFor } from '../../jobs/test/support/subgraph-harness.ts';
import { startPlatformsHarness, type PlatformsHarness } from './support/platforms-harness.ts';

describe('account.purged', () => {
  let h: PlatformsHarness;
  let alice: Principal;
  let bob: Principal;
  const purged = randomUUID();
  const kept = randomUUID();

  beforeAll(async () => {
    h = await startPlatformsHarness();
    alice = newUser();
    bob = newUser();
    h.subgraph.access.grant(alice, purged, 'admin').grant(bob, kept, 'admin');
    await h.putOnPlan('business', purged, kept);
  });
  afterAll(async () => {
    await h?.close();
  });

  const connect = async (principal: Principal, accountId: string) => {
    const { connectionId, redirect } = await h.approve(principal, { accountId, platformSlug: 'gitlab' });
    expect((await h.callback(redirect)).outcome).toBe('AUTHORIZED');
    return connectionId;
  };
  const rowsOf = async (accountId: string) => {
    const em = h.service.orm.em.fork();
    const count = async (table: string) => (await em.execute(`select count(*)::int as n from platforms.${table} where account_id = ?`, [accountId]))[0].n as number;
    return { connections: await count('connections'), secrets: await count('connection_secrets'), plans: await count('account_plans') };
  };

  it('revokes the account’s connections at the platform, then deletes them, their credentials and the plan; once', async () => {
    const [first, second] = [await connect(alice, purged), await connect(alice, purged)];
    const other = await connect(bob, kept);
    expect(await rowsOf(purged)).toEqual({ connections: 2, secrets: 2, plans: 1 });
    const tokens = [(await h.service.getAccessToken(purged, first)).token, (await h.service.getAccessToken(purged, second)).token];
    for (const token of tokens) expect(await h.oauth.provider.AccessToken.find(token)).toBeDefined();

    const event = createEvent('account.purged', purged, purged, { accountId: purged, accountIds: [purged] });
    await h.bus.publish(event);
    await waitFor(async () => (await rowsOf(purged)).connections === 0, 'the purged account’s connections to go');
    expect(await rowsOf(purged)).toEqual({ connections: 0, secrets: 0, plans: 0 });
    // Revoked at the authorization server: the tokens no longer exist there.
    for (const token of tokens) expect(await h.oauth.provider.AccessToken.find(token)).toBeUndefined();
    for (const id of [first, second]) expect((await h.waitForEvent('connection.revoked', id)).data).toMatchObject({ revokedAtPlatform: true });

    // The other account is untouched, and its token still works.
    expect(await rowsOf(kept)).toEqual({ connections: 1, secrets: 1, plans: 1 });
    expect((await h.service.getAccessToken(kept, other)).token).toBeTruthy();

    // A redelivery changes nothing.
    await h.bus.publish(event);
    expect(await rowsOf(kept)).toEqual({ connections: 1, secrets: 1, plans: 1 });
  });
});
