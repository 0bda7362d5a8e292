// A connection whose credential will stop working is announced (`connection.expiring`, through the
// outbox) days ahead, once per expiry: a refresh token whose lifetime the platform states, and a
// refresh that has kept failing for a day. Against a real OAuth 2 server and PostgreSQL.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxEvent } from '@listbackup/lib/events/outbox';
import type { Principal } from '@listbackup/lib/principal';
import { Connection } from '../src/entities/connection.ts';
import { announceExpiringConnections, DEFAULT_EXPIRY_POLICY } from '../src/services/connection-expiry.ts';
import { newUser } from '../../jobs/test/support/subgraph-harness.ts';
import { REFRESH_TOKEN_TTL_S } from './support/oauth-server.ts';
import { startPlatformsHarness, type PlatformsHarness } from './support/platforms-harness.ts';

const DAY_MS = 86_400_000;

describe('connections about to expire', () => {
  let h: PlatformsHarness;
  let alice: Principal;
  const account = randomUUID();

  beforeAll(async () => {
    h = await startPlatformsHarness();
    alice = newUser();
    h.subgraph.access.grant(alice, account, 'admin');
    await h.putOnPlan('business', account);
  });
  afterAll(async () => {
    await h?.close();
  });

  const em = () => h.service.orm.em.fork();
  const row = (id: string) => em().findOneOrFail(Connection, { id });
  const announcements = (id: string) => em().find(OutboxEvent, { type: 'connection.expiring', subject: id }, { orderBy: { time: 'asc' } });
  const now = () => new Date(h.service.runtime.now());
  const connect = async () => {
    const { connectionId, redirect } = await h.approve(alice, { accountId: account, platformSlug: 'gitlab' });
    expect((await h.callback(redirect)).outcome).toBe('AUTHORIZED');
    return connectionId;
  };

  it('keeps the refresh token’s stated lifetime, and announces it once when it is within a week', async () => {
    h.oauth.announceRefreshTokenLifetime = true;
    try {
      const before = Date.now();
      const id = await connect();
      const connection = await row(id);
      expect(connection.credentialExpiresAt!.getTime()).toBeGreaterThanOrEqual(before + REFRESH_TOKEN_TTL_S * 1000);
      expect(connection.credentialExpiresAt!.getTime()).toBeLessThanOrEqual(Date.now() + REFRESH_TOKEN_TTL_S * 1000);

      // A week out is outside the window; a day out is inside it.
      expect(await announceExpiringConnections(h.service.orm, now(), { ...DEFAULT_EXPIRY_POLICY, warnBeforeMs: REFRESH_TOKEN_TTL_S * 1000 - 60_000 })).toBe(0);
      expect(await announcements(id)).toEqual([]);
      expect(await announceExpiringConnections(h.service.orm, now())).toBeGreaterThanOrEqual(1);
      const [event] = await announcements(id);
      expect(event).toMatchObject({ accountId: account, subject: id });
      expect(event.data).toMatchObject({ connectionId: id, platform: 'gitlab', status: 'AUTHORIZED', reason: 'CREDENTIAL_EXPIRES', expiresAt: connection.credentialExpiresAt!.toISOString() });

      // Once: the next passes find it announced.
      await announceExpiringConnections(h.service.orm, now());
      await announceExpiringConnections(h.service.orm, now());
      expect(await announcements(id)).toHaveLength(1);

      // A refresh rotates the refresh token with a lifetime of its own: that expiry is announced in its turn.
      await new Promise((resolve) => setTimeout(resolve, 1_100)); // the new lifetime must end in another second
      await h.service.getAccessToken(account, id, { forceRefresh: true });
      const refreshed = await row(id);
      expect(refreshed.credentialExpiresAt!.getTime()).toBeGreaterThan(connection.credentialExpiresAt!.getTime());
      await announceExpiringConnections(h.service.orm, now());
      expect((await announcements(id)).map((e) => (e.data as { expiresAt: string }).expiresAt)).toEqual([connection.credentialExpiresAt!.toISOString(), refreshed.credentialExpiresAt!.toISOString()]);
    } finally {
      h.oauth.announceRefreshTokenLifetime = false;
    }
  });

  it('announces a refresh that has failed for a day, and forgets it after a refresh succeeds', async () => {
    const id = await connect();
    expect((await row(id)).credentialExpiresAt).toBeNull();
    h.oauth.tokenEndpointStatus = 503;
    try {
      await expect(h.service.getAccessToken(account, id, { forceRefresh: true })).rejects.toMatchObject({ code: 'TOKEN_REFRESH_UNAVAILABLE', transient: true });
      const since = (await row(id)).refreshFailingSince!;
      expect(since).toBeInstanceOf(Date);
      // A second failure keeps the first one's time; the connection stays usable (transient).
      await expect(h.service.getAccessToken(account, id, { forceRefresh: true })).rejects.toMatchObject({ code: 'TOKEN_REFRESH_UNAVAILABLE' });
      expect(await row(id)).toMatchObject({ status: 'AUTHORIZED', refreshFailingSince: since });

      await announceExpiringConnections(h.service.orm, now());
      expect(await announcements(id)).toEqual([]);
      await announceExpiringConnections(h.service.orm, new Date(since.getTime() + DAY_MS + 1_000));
      await announceExpiringConnections(h.service.orm, new Date(since.getTime() + 2 * DAY_MS));
      const events = await announcements(id);
      expect(events).toHaveLength(1);
      expect(events[0].data).toMatchObject({ reason: 'REFRESH_FAILING', expiresAt: null, status: 'AUTHORIZED' });
    } finally {
      h.oauth.tokenEndpointStatus = null;
    }
    await h.service.getAccessToken(account, id, { forceRefresh: true });
    expect((await row(id)).refreshFailingSince).toBeNull();
    await announceExpiringConnections(h.service.orm, new Date(Date.now() + 3 * DAY_MS));
    expect(await announcements(id)).toHaveLength(1);
  });

  it('says nothing of connections that are not authorized, or whose credential has already expired', async () => {
    const id = await connect();
    await em().nativeUpdate(Connection, { id }, { credentialExpiresAt: new Date(Date.now() + DAY_MS), status: 'REVOKED' });
    await announceExpiringConnections(h.service.orm, now());
    await em().nativeUpdate(Connection, { id }, { credentialExpiresAt: new Date(Date.now() - 60_000), status: 'AUTHORIZED' });
    await announceExpiringConnections(h.service.orm, now());
    expect(await announcements(id)).toEqual([]);
  });
});
