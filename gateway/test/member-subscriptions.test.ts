/**
 * A member removed from an account loses its live data within seconds: their open subscriptions
 * on that account end with NOT_FOUND, on a gateway that hears of the removal only through NATS,
 * while their other subscriptions and the socket go on. A role lowered to one that still reads
 * keeps them. Every service and both gateways are real, and events travel through real NATS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import type { GraphQLFormattedError } from 'graphql';
import { NatsEventBus } from '@listbackup/lib/events/nats-bus';
import { createLogger } from '@listbackup/lib/logger';
import { readSupergraph } from '@listbackup/lib/supergraph';
import { startGateway, type RunningGateway } from '../src/index.ts';
import { jobEventOf } from './support/job-events.ts';
import { signUp, startStack, type SignedUp, type Stack } from './support/stack.ts';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

let buses: NatsEventBus[] = [];
let stack: Stack | undefined;
/** A second gateway on its own NATS connection, with facts kept for an hour: only the bus tells it of a removal. */
let other: RunningGateway | undefined;

beforeAll(async () => {
  const namespace = `lbt${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  try {
    buses = await Promise.all([0, 1, 2].map(() => NatsEventBus.connect(NATS_URL, { namespace, stream: `${namespace.toUpperCase()}_EVENTS` })));
  } catch (error) {
    if (process.env.CI) throw error;
    console.warn(`NATS not reachable at ${NATS_URL}: skipping (${(error as Error).message})`);
    return;
  }
  const [stackBus, otherBus] = buses;
  stack = await startStack({ bus: stackBus });
  other = await startGateway({
    port: 0,
    supergraphSdl: readSupergraph(),
    subgraphUrls: Object.fromEntries(Object.values(stack.services).map((service) => [service.name, service.url])),
    accountsUrl: stack.services.accounts.url,
    internalTokenSecret: stack.internalTokenSecret,
    log: createLogger('gateway', 'silent'),
    accessEvents: otherBus,
    subscriptions: { bus: otherBus },
    auth: { accessFactsTtlMs: 3_600_000 },
  });
});
afterAll(async () => {
  await other?.close();
  await stack?.close();
  if (buses.length) {
    const manager = await buses[0].connection.jetstreamManager();
    await manager.streams.delete(buses[0].stream).catch(() => undefined);
  }
  await Promise.all(buses.map((bus) => bus.close()));
});

async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function wsClient(url: string, token: string): Client & { closes: number[] } {
  const closes: number[] = [];
  const client = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    lazy: true,
    retryAttempts: 0,
    connectionParams: { Authorization: `Bearer ${token}` },
    on: { closed: (event) => closes.push((event as CloseEvent).code) },
  });
  return Object.assign(client, { closes });
}

interface Live {
  jobIds: string[];
  errors?: readonly GraphQLFormattedError[];
  completed: boolean;
}

const JOB_EVENTS = 'subscription ($accountId: ID!) { jobEvents(accountId: $accountId) { id status } }';

function watchJobs(client: Client, accountId: string): Live {
  const live: Live = { jobIds: [], completed: false };
  client.subscribe<{ jobEvents: { id: string } }>(
    { query: JOB_EVENTS, variables: { accountId } },
    {
      next: (result) => {
        if (result.data) live.jobIds.push(result.data.jobEvents.id);
      },
      error: (errors) => {
        live.errors = errors as readonly GraphQLFormattedError[];
      },
      complete: () => {
        live.completed = true;
      },
    },
  );
  return live;
}

/** A job of the account starts, as the jobs worker publishes it; resolves with the job's id. */
async function jobStarts(accountId: string): Promise<string> {
  const jobId = randomUUID();
  await buses[2].publish(jobEventOf('job.started', { accountId, sourceId: null, jobId }, { status: 'RUNNING' }));
  return jobId;
}

async function addMember(owner: SignedUp, member: SignedUp, role: string): Promise<string> {
  const added = await stack!.graphql('mutation ($input: AddMemberInput!) { addMember(input: $input) { id } }', { input: { accountId: owner.accountId, email: member.email, role } }, owner.accessToken);
  expect(added.errors).toBeUndefined();
  return added.data.addMember.id;
}

describe('a member’s open subscriptions when their membership changes', () => {
  it('removal ends the subscriptions on that account with NOT_FOUND, through NATS; the others and the socket go on', async () => {
    if (!stack || !other) return;
    const owner = await signUp(stack);
    const member = await signUp(stack);
    const membershipId = await addMember(owner, member, 'OPERATOR');

    const client = wsClient(other.url, member.accessToken);
    const shared = watchJobs(client, owner.accountId);
    const own = watchJobs(client, member.accountId);
    await eventually(() => other!.subscriptions.stats().subscribers === 2, 'both subscriptions to start');
    const before = await jobStarts(owner.accountId);
    await eventually(() => shared.jobIds.includes(before), 'the shared account’s job to reach the member');

    // Lowered to viewer, who still reads jobs: both subscriptions are checked again and go on.
    const reauthorized = other.subscriptions.stats().reauthorized;
    const lowered = await stack.graphql('mutation ($id: ID!) { changeMemberRole(membershipId: $id, role: VIEWER) { role } }', { id: membershipId }, owner.accessToken);
    expect(lowered.data.changeMemberRole.role).toBe('VIEWER');
    await eventually(() => other!.subscriptions.stats().reauthorized >= reauthorized + 2, 'the role change to be checked');
    const afterLowering = await jobStarts(owner.accountId);
    await eventually(() => shared.jobIds.includes(afterLowering), 'the viewer to go on receiving');
    expect(shared.errors).toBeUndefined();

    const removed = await stack.graphql('mutation ($id: ID!) { removeMember(membershipId: $id) }', { id: membershipId }, owner.accessToken);
    expect(removed.data.removeMember).toBe(true);
    await eventually(() => shared.errors !== undefined, 'the subscription on the account to end');
    expect(shared.errors?.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(other.subscriptions.stats()).toMatchObject({ groups: 1, subscribers: 1 });

    // Nothing more of the account reaches them; their own account's jobs still do, on the same socket.
    const afterRemoval = await jobStarts(owner.accountId);
    const ownJob = await jobStarts(member.accountId);
    await eventually(() => own.jobIds.includes(ownJob), 'the member’s own account’s job');
    expect(shared.jobIds).not.toContain(afterRemoval);
    expect(own.errors).toBeUndefined();
    expect(own.completed).toBe(false);
    expect(client.closes).toEqual([]);

    // A new subscription on the account is refused too.
    const again = watchJobs(client, owner.accountId);
    await eventually(() => again.errors !== undefined, 'the new subscription to be refused');
    expect(again.errors?.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
    await client.dispose();
  });

  it('another person’s removal leaves a member’s subscriptions alone', async () => {
    if (!stack || !other) return;
    const owner = await signUp(stack);
    const [staying, leaving] = [await signUp(stack), await signUp(stack)];
    await addMember(owner, staying, 'VIEWER');
    const leavingId = await addMember(owner, leaving, 'VIEWER');

    const client = wsClient(other.url, staying.accessToken);
    const leaver = wsClient(other.url, leaving.accessToken);
    const staysOpen = watchJobs(client, owner.accountId);
    const endsWithRemoval = watchJobs(leaver, owner.accountId);
    await eventually(() => other!.subscriptions.stats().subscribers === 2, 'both subscriptions to start');

    expect((await stack.graphql('mutation ($id: ID!) { removeMember(membershipId: $id) }', { id: leavingId }, owner.accessToken)).data.removeMember).toBe(true);
    await eventually(() => endsWithRemoval.errors !== undefined, 'the removed member’s subscription to end');
    const next = await jobStarts(owner.accountId);
    await eventually(() => staysOpen.jobIds.includes(next), 'the staying member to receive the next job');
    expect(staysOpen.errors).toBeUndefined();
    expect(endsWithRemoval.jobIds).not.toContain(next);
    await Promise.all([client.dispose(), leaver.dispose()]);
  });
});
