/**
 * Platform webhooks through the gateway, as the platforms send them: a verified delivery queues an
 * incremental backup of each source it concerns, a burst is one backup, a forged or replayed one
 * changes nothing, and one tenant's webhook never starts another tenant's backup.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { E2ERun } from '@listbackup/catalogue/testing/e2e';
import { e2ePlatform } from '@listbackup/catalogue/testing/fakes';
import { signGitHub } from '@listbackup/catalogue/testing/webhook-signers';
import { type PlatformStack, REDIRECT_URI, startPlatformStack } from '../support/platform-e2e.ts';
import { signUp, type SignedUp } from '../../gateway/test/support/stack.ts';
import { authorizeInBrowser } from '../../subgraphs/platforms/test/support/oauth-server.ts';

const GITHUB_SECRET = randomBytes(20).toString('hex');
const WAIT_MS = 120_000;

interface Connected {
  user: SignedUp;
  connectionId: string;
  sourceId: string;
}

interface SourceJob {
  id: string;
  status: string;
  triggeredBy: { kind: string };
}

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('platform webhooks through the gateway', () => {
  let stack: PlatformStack;
  let github: E2ERun;
  let db: pg.Client;
  let alice: Connected;
  let bob: Connected;

  const gql = async (user: SignedUp, query: string, variables: Record<string, unknown> = {}) => {
    const result = await stack.graphql(query, variables, user.accessToken);
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data as any;
  };
  /** The source's backups, newest first (a backup queues a PRUNE of its source after it, not counted here). */
  const jobsOf = async (owner: Connected): Promise<SourceJob[]> =>
    (await gql(owner.user, `query ($id: ID!) { source(id: $id) { jobs(first: 100, kind: [BACKUP]) { edges { node { id status triggeredBy { kind } } } } } }`, { id: owner.sourceId })).source.jobs.edges.map(
      (edge: { node: SourceJob }) => edge.node,
    );
  /** Every webhook event platforms published has been applied by sources (what it queues is queued). */
  const settled = async () =>
    until('sources to apply every webhook event', async () => {
      const { rows } = await db.query(
        `select count(*)::int as pending from platforms.outbox_events o
         where o.type = 'connection.webhook_received'
           and not exists (select 1 from sources.processed_events p where p.event_id = o.id and p.consumer = 'sources.webhook-backups')`,
      );
      return rows[0].pending === 0;
    });
  const published = async () => (await db.query(`select count(*)::int as n from platforms.outbox_events where type = 'connection.webhook_received'`)).rows[0].n as number;

  const connectGitHub = async (): Promise<Connected> => {
    const user = await signUp(stack);
    const started = (
      await gql(user, `mutation ($input: StartOAuthConnectionInput!) { startOAuthConnection(input: $input) { authorizationUrl connection { id } } }`, {
        input: { accountId: user.accountId, platformSlug: 'github' },
      })
    ).startOAuthConnection;
    const redirect = await authorizeInBrowser(started.authorizationUrl, REDIRECT_URI);
    const page = await fetch(`${stack.origin}/oauth/callback${redirect.search}`);
    expect(page.headers.get('x-listbackup-outcome')).toBe('AUTHORIZED');
    const connectionId = started.connection.id;
    const { connection } = await gql(user, `query ($id: ID!) { connection(id: $id) { resources { name } } }`, { id: connectionId });
    const source = (
      await gql(user, `mutation ($input: CreateSourceInput!) { createSource(input: $input) { id } }`, {
        input: { accountId: user.accountId, connectionId, name: 'GitHub', resources: connection.resources.map((resource: { name: string }) => resource.name), schedule: { kind: 'MANUAL' }, retention: { keepLast: 3 } },
      })
    ).createSource;
    return { user, connectionId, sourceId: source.id };
  };

  const issueEvent = (number: number) =>
    JSON.stringify({ action: 'edited', issue: { number, title: `Issue ${number}`, updated_at: new Date().toISOString() }, repository: { full_name: 'octocat/app' }, sender: { login: 'octocat', id: 1 } });
  const deliver = (path: string, body: string, headers: Record<string, string>) => fetch(`${stack.origin}${path}`, { method: 'POST', headers, body });
  const hookOf = (owner: Connected) => `/webhooks/platforms/github/${owner.connectionId}`;

  beforeAll(async () => {
    github = await e2ePlatform('github').start();
    stack = await startPlatformStack(new Map([['github', github]]), { webhookSecrets: { github: [GITHUB_SECRET] } });
    db = new pg.Client({ connectionString: stack.databaseUrl });
    await db.connect();
    alice = await connectGitHub();
    bob = await connectGitHub();
  }, 180_000);
  afterAll(async () => {
    await db?.end();
    await stack?.close();
    await github?.close();
  });

  it('answers a forged or unsigned delivery 401 with its code, and queues nothing', async () => {
    const body = issueEvent(1);
    const forged = await deliver(hookOf(alice), body, signGitHub(body, 'not-the-secret', { event: 'issues' }));
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    const { 'x-hub-signature-256': _, ...unsigned } = signGitHub(body, GITHUB_SECRET, { event: 'issues' });
    const missing = await deliver(hookOf(alice), body, unsigned);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ code: 'WEBHOOK_SIGNATURE_MISSING' });
    // Signed, but the body changed on the way.
    const tampered = await deliver(hookOf(alice), issueEvent(2), signGitHub(body, GITHUB_SECRET, { event: 'issues' }));
    expect(tampered.status).toBe(401);
    expect(await published()).toBe(0);
    expect(await jobsOf(alice)).toEqual([]);
  });

  it('answers GitHub’s ping and events that change no backed-up resource 200, queueing nothing', async () => {
    const ping = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1, hook: { type: 'Repository' } });
    const answer = await deliver(hookOf(alice), ping, signGitHub(ping, GITHUB_SECRET, { event: 'ping' }));
    expect(answer.status).toBe(200);
    expect(await published()).toBe(0);
    expect(await jobsOf(alice)).toEqual([]);
  });

  it('refuses routes that name no platform it reads, no connection, or another method', async () => {
    const body = issueEvent(3);
    const headers = signGitHub(body, GITHUB_SECRET, { event: 'issues' });
    expect((await deliver(`/webhooks/platforms/github/${randomUUID()}`, body, headers)).status).toBe(404);
    expect((await deliver(`/webhooks/platforms/no-such-platform/${alice.connectionId}`, body, headers)).status).toBe(404);
    expect((await deliver(`/webhooks/platforms/github/not-a-connection-id`, body, headers)).status).toBe(404);
    expect((await fetch(`${stack.origin}${hookOf(alice)}`, { method: 'PUT', body })).status).toBe(405);
    const huge = JSON.stringify({ action: 'edited', padding: 'x'.repeat(6 * 1024 * 1024) });
    const tooLarge = await deliver(hookOf(alice), huge, signGitHub(huge, GITHUB_SECRET, { event: 'issues' }));
    expect(tooLarge.status).toBe(413);
    expect(await published()).toBe(0);
    expect(await jobsOf(alice)).toEqual([]);
  });

  it('starts one incremental backup for 100 deliveries within a minute; it runs and snapshots, and a replayed delivery starts nothing', async () => {
    const deliveries = Array.from({ length: 100 }, (_, i) => ({ id: randomUUID(), body: issueEvent(i + 1) }));
    for (const delivery of deliveries) {
      const answer = await deliver(hookOf(alice), delivery.body, signGitHub(delivery.body, GITHUB_SECRET, { event: 'issues', delivery: delivery.id }));
      expect(answer.status).toBe(200);
      expect(await answer.json()).toEqual({ received: 1, replayed: 0 });
    }
    await settled();
    const queued = await jobsOf(alice);
    expect(queued).toHaveLength(1);
    expect(queued[0]!.triggeredBy.kind).toBe('WEBHOOK');

    const done = await until('the webhook backup to finish', async () => {
      const [job] = await jobsOf(alice);
      return job && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status) ? job : undefined;
    });
    expect(done.status).toBe('SUCCEEDED');
    const snapshot = await until('the backup’s snapshot', async () => (await gql(alice.user, `query ($id: ID!) { job(id: $id) { snapshot { id itemCount } } }`, { id: done.id })).job.snapshot);
    expect(snapshot.itemCount).toBe((await github.served()).size);

    const before = await published();
    const replay = deliveries[42]!;
    const again = await deliver(hookOf(alice), replay.body, signGitHub(replay.body, GITHUB_SECRET, { event: 'issues', delivery: replay.id }));
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ received: 1, replayed: 1 });
    expect(await published()).toBe(before);
    await settled();
    expect((await jobsOf(alice)).map((job) => job.id)).toEqual([done.id]);
  }, 300_000);

  it('never starts another tenant’s backup: a delivery to one connection’s route backs up only its source', async () => {
    // Both users connected the same GitHub user; the route decides whose connection it is.
    const aliceJobs = (await jobsOf(alice)).length;
    const body = issueEvent(7);
    const answer = await deliver(hookOf(bob), body, signGitHub(body, GITHUB_SECRET, { event: 'issues' }));
    expect(answer.status).toBe(200);
    await settled();
    const bobs = await jobsOf(bob);
    expect(bobs).toHaveLength(1);
    expect(bobs[0]!.triggeredBy.kind).toBe('WEBHOOK');
    expect(await jobsOf(alice)).toHaveLength(aliceJobs);
    // And Bob cannot see Alice's source or its jobs.
    const foreign = await stack.graphql(`query ($id: ID!) { source(id: $id) { id jobs { edges { node { id } } } } }`, { id: alice.sourceId }, bob.user.accessToken);
    expect(foreign.data?.source ?? null).toBeNull();
  });
});
