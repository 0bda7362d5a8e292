import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { internalClient, readJsonBody, systemCaller } from '@listbackup/lib/internal-client';
import { OutboxEvent } from '@listbackup/lib/events/outbox';
import { signGitHub } from '@listbackup/catalogue/testing/webhook-signers';
import { findDefinition, type PlatformDefinition } from '@listbackup/catalogue';
import { startPlatforms, type RunningPlatforms } from '../src/index.ts';
import { receiveWebhook } from '../src/services/webhook-service.ts';
import { Connection } from '../src/entities/connection.ts';
import { WebhookDelivery } from '../src/entities/webhook-delivery.ts';
import { createConnectionRecord } from '../src/services/connection-service.ts';
import { startTestSubgraph, type TestSubgraph } from '../../jobs/test/support/subgraph-harness.ts';

const NEW_SECRET = 'whsec-new-0123456789';
const OLD_SECRET = 'whsec-old-0123456789';

describe('the platforms webhook route', () => {
  let subgraph: TestSubgraph;
  let github: Connection;

  const connection = async (platformSlug: string, status: Connection['status'], accountId = randomUUID()) => {
    const em = subgraph.service.orm.em.fork();
    const row = await createConnectionRecord(em, { accountId, platformSlug, name: `${platformSlug} ${status}`, status, authType: 'OAUTH2' });
    return row;
  };
  /** What the gateway sends for a delivery at /webhooks/platforms/<platform>[/<connection>]. */
  const forward = async (route: { platform: string; connectionId?: string }, body: string, headers: Record<string, string>) => {
    const response = await internalClient(subgraph.secret)
      .service('platforms', subgraph.url)
      .request({
        path: '/internal/webhooks/platforms',
        caller: systemCaller(randomUUID()),
        json: { ...route, method: 'POST', url: `https://api.listbackup.example/webhooks/platforms/${route.platform}`, headers, body: Buffer.from(body).toString('base64') },
      });
    return { status: response.status, body: (await readJsonBody(response)) as Record<string, unknown> };
  };
  const published = (connectionId: string) => subgraph.service.orm.em.fork().find(OutboxEvent, { type: 'connection.webhook_received', subject: connectionId }, { orderBy: { createdAt: 'asc' } });
  const issue = (number: number) => JSON.stringify({ action: 'opened', issue: { number }, repository: { full_name: 'octocat/app' } });

  beforeAll(async () => {
    subgraph = await startTestSubgraph('platforms', (runtime) => startPlatforms(runtime, { webhookSecrets: { github: [NEW_SECRET, OLD_SECRET] } }));
    github = await connection('github', 'AUTHORIZED');
  });
  afterAll(async () => {
    await subgraph?.close();
  });

  it('publishes a verified delivery for the connection the route names, with the resources its event changes, signed with either secret of a rollover', async () => {
    for (const secret of [NEW_SECRET, OLD_SECRET]) {
      const delivery = randomUUID();
      const answer = await forward({ platform: 'github', connectionId: github.id }, issue(1), signGitHub(issue(1), secret, { event: 'issues', delivery }));
      expect(answer).toEqual({ status: 200, body: { received: 1, replayed: 0 } });
      const events = await published(github.id);
      expect(events.at(-1)).toMatchObject({ accountId: github.accountId, data: { connectionId: github.id, platform: 'github', deliveryId: delivery, eventType: 'issues', resources: ['issues'] } });
    }
  });

  it('answers a replayed delivery id 200 and publishes nothing more', async () => {
    const delivery = randomUUID();
    const headers = signGitHub(issue(2), NEW_SECRET, { event: 'issues', delivery });
    await forward({ platform: 'github', connectionId: github.id }, issue(2), headers);
    const before = (await published(github.id)).length;
    expect(await forward({ platform: 'github', connectionId: github.id }, issue(2), headers)).toEqual({ status: 200, body: { received: 1, replayed: 1 } });
    expect(await published(github.id)).toHaveLength(before);
  });

  it('refuses a forged delivery with 401 and records nothing of it, so the genuine delivery of that id still counts', async () => {
    const delivery = randomUUID();
    const before = (await published(github.id)).length;
    const forged = await forward({ platform: 'github', connectionId: github.id }, issue(3), signGitHub(issue(3), 'not-our-secret', { event: 'issues', delivery }));
    expect(forged).toMatchObject({ status: 401, body: { code: 'WEBHOOK_SIGNATURE_INVALID' } });
    expect(await subgraph.service.orm.em.fork().count(WebhookDelivery, { platform: 'github', deliveryId: delivery })).toBe(0);
    expect(await published(github.id)).toHaveLength(before);
    const genuine = await forward({ platform: 'github', connectionId: github.id }, issue(3), signGitHub(issue(3), NEW_SECRET, { event: 'issues', delivery }));
    expect(genuine).toEqual({ status: 200, body: { received: 1, replayed: 0 } });
  });

  it('publishes nothing for a connection that is not authorized, nor for an event that changes no resource', async () => {
    for (const status of ['PENDING', 'FAILED', 'EXPIRED', 'REVOKED'] as const) {
      const row = await connection('github', status);
      const answer = await forward({ platform: 'github', connectionId: row.id }, issue(4), signGitHub(issue(4), NEW_SECRET, { event: 'issues' }));
      expect(answer.status).toBe(200);
      expect(await published(row.id)).toEqual([]);
    }
    const ping = JSON.stringify({ zen: 'Design for failure.', hook_id: 1 });
    const before = (await published(github.id)).length;
    expect((await forward({ platform: 'github', connectionId: github.id }, ping, signGitHub(ping, NEW_SECRET, { event: 'ping' }))).status).toBe(200);
    expect(await published(github.id)).toHaveLength(before);
  });

  it('refuses a route naming no connection of the platform, or a platform it reads no webhooks of', async () => {
    const stripe = await connection('stripe', 'AUTHORIZED');
    const headers = signGitHub(issue(5), NEW_SECRET, { event: 'issues' });
    expect(await forward({ platform: 'github', connectionId: stripe.id }, issue(5), headers)).toMatchObject({ status: 404, body: { code: 'WEBHOOK_CONNECTION_NOT_FOUND' } });
    expect(await forward({ platform: 'github', connectionId: randomUUID() }, issue(5), headers)).toMatchObject({ status: 404, body: { code: 'WEBHOOK_CONNECTION_NOT_FOUND' } });
    expect(await forward({ platform: 'no-such-platform' }, issue(5), headers)).toMatchObject({ status: 404, body: { code: 'WEBHOOK_UNKNOWN_PLATFORM' } });
    expect(await published(stripe.id)).toEqual([]);
  });

  describe('for a platform whose deliveries name the platform account', () => {
    // A Slack-like definition that names the workspace as team_id and signs the body alone, as GitHub's signer does.
    const SECRET = 'team-secret-0123456789';
    const definition: PlatformDefinition = {
      ...findDefinition('slack')!,
      webhooks: {
        signature: { scheme: 'hmac', algorithm: 'sha256', headers: ['X-Hub-Signature-256'], prefix: 'sha256=', encoding: 'hex' },
        deliveryId: { path: 'event_id' },
        eventType: { path: 'event.type' },
        accountId: { path: 'team_id' },
        events: [{ type: 'message', resources: ['messages'] }],
        docsUrl: 'https://api.slack.com/apis/events-api',
      },
    };
    const team = () => `T${randomUUID().slice(0, 8).toUpperCase()}`;
    const deliver = async (teamId: string, connectionId?: string) => {
      const body = JSON.stringify({ team_id: teamId, event_id: randomUUID(), event: { type: 'message' } });
      const runtime = { ...(subgraph.service as RunningPlatforms).runtime, webhookSecrets: { slack: [SECRET] } };
      const request = { method: 'POST', url: 'https://api.listbackup.example/webhooks/platforms/slack', headers: signGitHub(body, SECRET, { event: 'message' }), body: Buffer.from(body) };
      return receiveWebhook(runtime, subgraph.service.orm.em.fork(), { platform: 'slack', connectionId, request }, (slug) => (slug === 'slack' ? definition : undefined));
    };
    const ofTeam = async (teamId: string, status: Connection['status'] = 'AUTHORIZED') => {
      const row = await connection('slack', status);
      await subgraph.service.orm.em.fork().nativeUpdate(Connection, { id: row.id }, { externalAccountId: teamId });
      return row;
    };

    it('reaches every authorized connection of that account, in each tenant that connected it, and no other account’s', async () => {
      const shared = team();
      const inA = await ofTeam(shared);
      const inB = await ofTeam(shared);
      const revoked = await ofTeam(shared, 'REVOKED');
      const other = await ofTeam(team());
      expect((await deliver(shared)).status).toBe(200);
      for (const row of [inA, inB]) expect((await published(row.id)).map((event) => [event.accountId, event.data.resources])).toEqual([[row.accountId, ['messages']]]);
      expect(await published(revoked.id)).toEqual([]);
      expect(await published(other.id)).toEqual([]);
    });

    it('reaches a connection the route names only when the delivery names its account', async () => {
      const own = team();
      const named = await ofTeam(own);
      expect((await deliver(team(), named.id)).status).toBe(200);
      expect(await published(named.id)).toEqual([]);
      expect((await deliver(own, named.id)).status).toBe(200);
      expect(await published(named.id)).toHaveLength(1);
    });
  });

  describe('for a platform that names its account by a connection parameter', () => {
    // A Shopify-like definition: deliveries name the shop domain, which a connection keeps as its `shop` parameter.
    const SECRET = 'shop-secret-0123456789';
    const definition: PlatformDefinition = {
      ...findDefinition('slack')!,
      webhooks: {
        signature: { scheme: 'hmac', algorithm: 'sha256', headers: ['X-Hub-Signature-256'], prefix: 'sha256=', encoding: 'hex' },
        deliveryId: { path: 'event_id' },
        eventType: { path: 'event.type' },
        accountId: { path: 'shop' },
        accountParam: 'shop',
        events: [{ type: 'message', resources: ['messages'] }],
        docsUrl: 'https://api.slack.com/apis/events-api',
      },
    };
    const shopName = () => `s${randomUUID().slice(0, 8)}.myshopify.com`;
    const deliver = async (shop: string, connectionId?: string) => {
      const body = JSON.stringify({ shop, event_id: randomUUID(), event: { type: 'message' } });
      const runtime = { ...(subgraph.service as RunningPlatforms).runtime, webhookSecrets: { slack: [SECRET] } };
      const request = { method: 'POST', url: 'https://api.listbackup.example/webhooks/platforms/slack', headers: signGitHub(body, SECRET, { event: 'message' }), body: Buffer.from(body) };
      return receiveWebhook(runtime, subgraph.service.orm.em.fork(), { platform: 'slack', connectionId, request }, (slug) => (slug === 'slack' ? definition : undefined));
    };
    const ofShop = async (shop: string) => {
      const row = await connection('slack', 'AUTHORIZED');
      await subgraph.service.orm.em.fork().nativeUpdate(Connection, { id: row.id }, { params: { shop }, externalAccountId: randomUUID() });
      return row;
    };

    it('reaches the connections of that shop, by the route or by the account, and no other shop’s', async () => {
      const shop = shopName();
      const own = await ofShop(shop);
      const other = await ofShop(shopName());
      expect((await deliver(shop)).status).toBe(200);
      expect(await published(own.id)).toHaveLength(1);
      expect((await deliver(shop, own.id)).status).toBe(200);
      expect(await published(own.id)).toHaveLength(2);
      expect((await deliver(shop, other.id)).status).toBe(200);
      expect(await published(other.id)).toEqual([]);
    });
  });

  it('answers a forwarded delivery of the wrong shape 400', async () => {
    const response = await internalClient(subgraph.secret)
      .service('platforms', subgraph.url)
      .request({ path: '/internal/webhooks/platforms', caller: systemCaller(randomUUID()), json: { platform: 'github', body: 'not base64 !!' } });
    expect(response.status).toBe(400);
    expect(await readJsonBody(response)).toMatchObject({ code: 'WEBHOOK_MALFORMED' });
  });
});
