/**
 * The platforms subgraph over real HTTP on a fresh database, wired to a real local OAuth 2 server
 * and a local platform API, with its log lines, SQL and events captured for assertions.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import { InProcessEventBus } from '@listbackup/lib/events/memory-bus';
import { createEvent } from '@listbackup/lib/events/contract';
import { PLAN_CATALOGUE } from '../../../billing/src/catalogue.ts';
import { INTERNAL_TOKEN_HEADER, signInternalToken } from '@listbackup/lib/internal-token';
import type { Principal } from '@listbackup/lib/principal';
import { Keyring, generateKek } from '@listbackup/lib/vault';
import { startPlatforms, type PlatformsOptions, type RunningPlatforms } from '../../src/index.ts';
import { ANONYMOUS, startTestSubgraph, waitFor, type TestSubgraph } from '../../../jobs/test/support/subgraph-harness.ts';
import { authorizeInBrowser, startOAuthServer, type OAuthServer } from './oauth-server.ts';
import { startPlatformApi, type PlatformApi } from './platform-api.ts';

export const REDIRECT_URI = 'http://localhost:4000/oauth/callback';

export interface PlatformsHarness {
  subgraph: TestSubgraph;
  service: RunningPlatforms;
  /** The test database the service runs on. */
  databaseUrl: string;
  oauth: OAuthServer;
  api: PlatformApi;
  keyring: Keyring;
  /** Every log line the service wrote, as JSON text. */
  logs: string[];
  /** Events published through the outbox. */
  events: EventEnvelope[];
  /** The service's event bus, to hand it other subgraphs' events. */
  bus: InProcessEventBus;
  /** Moves the service's clock. */
  clock: { offsetMs: number };
  /** What the gateway does with `GET /oauth/callback?…`: forwards it to the subgraph with an internal token. */
  callback(redirect: URL | string, principal?: Principal): Promise<{ status: number; html: string; outcome: string | null; headers: Headers }>;
  /** Starts an OAuth connection and plays the user approving it; returns the redirect back to us. */
  approve(principal: Principal, input: Record<string, unknown>): Promise<{ connectionId: string; redirect: URL; authorizationUrl: string }>;
  waitForEvent(type: string, subject: string): Promise<EventEnvelope>;
  /** Puts accounts on a plan of billing's catalogue as billing does (account.upgraded), once the subgraph has applied it. */
  putOnPlan(plan: string, ...accountIds: string[]): Promise<void>;
  close(): Promise<void>;
}

export const START = `mutation($input: StartOAuthConnectionInput!) {
  startOAuthConnection(input: $input) { authorizationUrl expiresAt connection { id name status authType } }
}`;

/** `extra` replaces options; as a function it is given the authorization server and platform fake (their client secrets). */
export async function startPlatformsHarness(
  extraOptions: Partial<PlatformsOptions> | ((servers: { oauth: OAuthServer; api: PlatformApi }) => Partial<PlatformsOptions>) = {},
): Promise<PlatformsHarness> {
  const oauth = await startOAuthServer(REDIRECT_URI);
  const api = await startPlatformApi(oauth);
  const extra = typeof extraOptions === 'function' ? extraOptions({ oauth, api }) : extraOptions;
  const logs: string[] = [];
  const logger = pino({ level: 'trace', base: { service: 'test' } }, { write: (line: string) => void logs.push(line) });
  const bus = new InProcessEventBus();
  const events: EventEnvelope[] = [];
  await bus.subscribe('lb.evt.*.connection.>', (event) => void events.push(event));
  const clock = { offsetMs: 0 };
  const keyring = extra.vault instanceof Keyring ? extra.vault : new Keyring([generateKek('test-1')]);
  const options: PlatformsOptions = {
    vault: keyring,
    oauthRedirectUrl: REDIRECT_URI,
    oauthClients: {
      gitlab: { clientId: oauth.clients.post.clientId, clientSecret: oauth.clients.post.clientSecret },
      xero: { clientId: oauth.clients.basic.clientId, clientSecret: oauth.clients.basic.clientSecret },
      quickbooks: { clientId: oauth.clients.basic.clientId, clientSecret: oauth.clients.basic.clientSecret },
      slack: { clientId: oauth.clients.basic.clientId, clientSecret: oauth.clients.basic.clientSecret },
      shopify: api.shopifyApp,
    },
    endpointOverrides: {
      // Only GitLab's override names the server's issuer (RFC 9207): for the others the definition's is dropped and `iss` not compared.
      gitlab: { authorizeUrl: oauth.authorizeUrl, tokenUrl: oauth.tokenUrl, revokeUrl: oauth.revokeUrl, identityUrl: `${api.url}/api/v4/user`, issuer: oauth.issuer },
      xero: { authorizeUrl: oauth.authorizeUrl, tokenUrl: oauth.tokenUrl, revokeUrl: oauth.revokeUrl, identityUrl: `${api.url}/connections` },
      quickbooks: {
        authorizeUrl: oauth.authorizeUrl,
        tokenUrl: oauth.tokenUrl,
        revokeUrl: `${api.url}/revoke/intuit`,
        identityUrl: `${api.url}/v3/company/{realmId}/companyinfo/{realmId}`,
      },
      slack: { authorizeUrl: oauth.authorizeUrl, tokenUrl: oauth.tokenUrl, revokeUrl: `${api.url}/revoke/slack`, identityUrl: `${api.url}/api/auth.test` },
      shopify: {
        authorizeUrl: `${api.url}/{shop}/admin/oauth/authorize`,
        tokenUrl: `${api.url}/{shop}/admin/oauth/access_token`,
        identityUrl: `${api.url}/{shop}/admin/api/2025-07/shop.json`,
      },
      stripe: { identityUrl: `${api.url}/v1/account` },
      mailchimp: { identityUrl: `${api.url}/3.0/` },
    },
    appUrl: 'http://localhost:5173/connections',
    now: () => Date.now() + clock.offsetMs,
    outboxIntervalMs: 20,
    httpTimeoutMs: 5_000,
    ...extra,
  };
  let service: RunningPlatforms | undefined;
  let databaseUrl = '';
  const subgraph = await startTestSubgraph(
    'platforms',
    async (runtime) => {
      databaseUrl = runtime.databaseUrl;
      service = await startPlatforms({ ...runtime, log: logger }, options);
      return service;
    },
    { bus },
  );
  const origin = new URL(subgraph.url).origin;

  const harness: PlatformsHarness = {
    subgraph,
    service: service!,
    databaseUrl,
    oauth,
    api,
    keyring,
    logs,
    events,
    bus,
    clock,
    async callback(redirect, principal = ANONYMOUS) {
      const url = new URL(redirect);
      const response = await fetch(`${origin}/oauth/callback${url.search}`, {
        headers: { [INTERNAL_TOKEN_HEADER]: await signInternalToken(subgraph.secret, 'platforms', { principal, requestId: randomUUID() }) },
      });
      return { status: response.status, html: await response.text(), outcome: response.headers.get('x-listbackup-outcome'), headers: response.headers };
    },
    async approve(principal, input) {
      const started = await subgraph.query(principal, START, { input });
      if (started.errors) throw new Error(`startOAuthConnection failed: ${JSON.stringify(started.errors)}`);
      const { authorizationUrl, connection } = started.data!.startOAuthConnection;
      return { connectionId: connection.id, authorizationUrl, redirect: await authorizeInBrowser(authorizationUrl, REDIRECT_URI) };
    },
    async waitForEvent(type, subject) {
      let found: EventEnvelope | undefined;
      await waitFor(() => Boolean((found = events.find((event) => event.type === type && event.subject === subject))), `${type} for ${subject}`);
      return found!;
    },
    async putOnPlan(code, ...accountIds) {
      const plan = PLAN_CATALOGUE.find((candidate) => candidate.code === code)!;
      for (const accountId of accountIds) {
        const data = { accountId, fromPlan: null, toPlan: plan.code, auditLogRetentionDays: plan.auditLogRetentionDays, planName: plan.name, limits: plan.limits };
        await bus.publish(createEvent('account.upgraded', accountId, accountId, data));
        const applied = async () => (await service!.orm.em.fork().execute('select 1 from platforms.account_plans where account_id = ? and plan = ?', [accountId, code])).length === 1;
        await waitFor(applied, `the ${code} plan of ${accountId}`);
      }
    },
    async close() {
      await subgraph.close();
      await bus.close();
      await api.close();
      await oauth.close();
    },
  };
  return harness;
}
