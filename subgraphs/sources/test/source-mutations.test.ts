import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@listbackup/lib/principal';
import { OutboxEvent } from '@listbackup/lib/events/outbox';
import { startSources } from '../src/index.ts';
import { Source } from '../src/entities/source.ts';
import { Snapshot } from '../src/entities/snapshot.ts';
import { recordSnapshot } from '../src/services/snapshot-service.ts';
import { startPlatforms } from '../../platforms/src/index.ts';
import { Connection, type ConnectionStatus } from '../../platforms/src/entities/connection.ts';
import { Platform } from '../../platforms/src/entities/platform.ts';
import { errorCodes, newSecret, newUser, startTestSubgraph, type GraphQLResponse, type TestSubgraph } from '../../jobs/test/support/subgraph-harness.ts';

const SOURCE_FIELDS = `id name resources paused nextRunAt account { id } connection { id } schedule { kind cron timeZone } retention { keepLast keepDaily keepWeekly keepMonthly }`;
const CREATE = `mutation($input: CreateSourceInput!) { createSource(input: $input) { ${SOURCE_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateSourceInput!) { updateSource(id: $id, input: $input) { ${SOURCE_FIELDS} } }`;
const PAUSE = `mutation($id: ID!) { pauseSource(id: $id) { id paused nextRunAt } }`;
const RESUME = `mutation($id: ID!) { resumeSource(id: $id) { id paused nextRunAt } }`;
const DELETE = `mutation($id: ID!, $withSnapshots: Boolean!) { deleteSource(id: $id, withSnapshots: $withSnapshots) }`;
const SOURCE = `query($id: ID!) { source(id: $id) { id deletedAt } }`;
const ACCOUNT_SOURCES = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Account { sources(first: 100) { edges { node { id } } } } } }`;
const SNAPSHOT = `query($id: ID!) { snapshot(id: $id) { id source { id name } } }`;

describe('sources: creating and changing sources', () => {
  let platforms: TestSubgraph;
  let sources: TestSubgraph;
  let owner: Principal;
  let viewer: Principal;
  let stranger: Principal;
  const account = randomUUID();
  const otherAccount = randomUUID();
  let stripe: Connection;
  let revoked: Connection;
  let pending: Connection;
  let othersStripe: Connection;

  async function connection(accountId: string, status: ConnectionStatus, slug = 'stripe'): Promise<Connection> {
    const em = platforms.service.orm.em.fork();
    const platform = await em.findOneOrFail(Platform, { slug });
    const row = em.create(Connection, { accountId, platformId: platform.id, name: `${slug} ${status}`, status, createdAt: new Date() } as never);
    await em.flush();
    return row as Connection;
  }

  const valid = (overrides: Record<string, unknown> = {}) => ({
    accountId: account,
    connectionId: stripe.id,
    name: 'Billing data',
    resources: ['customers', 'invoices'],
    schedule: { kind: 'CRON', cron: '0 3 * * *', timeZone: 'Europe/Paris' },
    retention: { keepLast: 7, keepDaily: 14, keepWeekly: 8, keepMonthly: 12 },
    ...overrides,
  });

  /** Sources and outbox rows: what a refused request must leave as it was. */
  async function stored(): Promise<{ sources: number; events: number }> {
    const em = sources.service.orm.em.fork();
    return { sources: await em.count(Source, {}), events: await em.count(OutboxEvent, {}) };
  }

  beforeAll(async () => {
    const secret = newSecret();
    platforms = await startTestSubgraph('platforms', (runtime) => startPlatforms(runtime), { secret });
    sources = await startTestSubgraph('sources', (runtime) => startSources(runtime, { platformsUrl: platforms.url, jobsUrl: 'http://127.0.0.1:9', scheduler: false }), { secret });
    owner = newUser();
    viewer = newUser();
    stranger = newUser();
    for (const subgraph of [platforms, sources]) {
      subgraph.access.grant(owner, account, 'owner').grant(viewer, account, 'viewer').grant(owner, otherAccount, 'owner').grant(stranger, otherAccount, 'owner');
    }
    stripe = await connection(account, 'AUTHORIZED');
    revoked = await connection(account, 'REVOKED');
    pending = await connection(account, 'PENDING');
    othersStripe = await connection(otherAccount, 'AUTHORIZED');
  });
  afterAll(async () => {
    await sources?.close();
    await platforms?.close();
  });

  it('has migrations that match the entities exactly', async () => {
    expect((await sources.service.orm.schema.getUpdateSchemaSQL()).trim()).toBe('');
  });

  describe('createSource', () => {
    it('creates a source on an authorized connection, scheduled in its time zone, with a source.created event', async () => {
      const result = await sources.query(owner, CREATE, { input: valid() });
      expect(result.errors).toBeUndefined();
      const source = result.data!.createSource;
      expect(source).toMatchObject({
        name: 'Billing data',
        resources: ['customers', 'invoices'],
        paused: false,
        account: { id: account },
        connection: { id: stripe.id },
        schedule: { kind: 'CRON', cron: '0 3 * * *', timeZone: 'Europe/Paris' },
        retention: { keepLast: 7, keepDaily: 14, keepWeekly: 8, keepMonthly: 12 },
      });
      // 03:00 in Paris is 01:00 or 02:00 UTC depending on daylight saving time.
      const next = new Date(source.nextRunAt);
      expect(next.getTime()).toBeGreaterThan(Date.now());
      expect(next.getTime() - Date.now()).toBeLessThanOrEqual(24 * 3600_000);
      expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' }).format(next)).toBe('03:00');
      const events = await sources.service.orm.em.fork().find(OutboxEvent, { subject: source.id });
      expect(events.map((e) => e.type)).toEqual(['source.created']);
      expect(events[0].data).toMatchObject({ accountId: account, sourceId: source.id });
    });

    it('creates a manual source with no next run', async () => {
      const result = await sources.query(owner, CREATE, { input: valid({ schedule: { kind: 'MANUAL' }, retention: { keepLast: 3 } }) });
      expect(result.data!.createSource).toMatchObject({ schedule: { kind: 'MANUAL', cron: null, timeZone: null }, nextRunAt: null, retention: { keepLast: 3, keepDaily: 0 } });
    });

    const refusals: [string, Record<string, unknown>, string, string][] = [
      ['a cron that does not parse', { schedule: { kind: 'CRON', cron: 'every day at 3' } }, 'INVALID_SCHEDULE', 'schedule.cron'],
      ['a cron with an impossible value', { schedule: { kind: 'CRON', cron: '61 * * * *' } }, 'INVALID_SCHEDULE', 'schedule.cron'],
      ['a cron schedule without an expression', { schedule: { kind: 'CRON' } }, 'INVALID_SCHEDULE', 'schedule.cron'],
      ['a cron that runs every minute', { schedule: { kind: 'CRON', cron: '* * * * *' } }, 'INVALID_SCHEDULE', 'schedule.cron'],
      ['an unknown time zone', { schedule: { kind: 'CRON', cron: '0 3 * * *', timeZone: 'Mars/Olympus' } }, 'INVALID_SCHEDULE', 'schedule.timeZone'],
      ['a retention that keeps nothing', { retention: { keepLast: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 } }, 'INVALID_RETENTION', 'retention'],
      ['a negative retention', { retention: { keepLast: -1, keepDaily: 7 } }, 'INVALID_RETENTION', 'retention.keepLast'],
      ['a resource the platform does not have', { resources: ['customers', 'spaceships'] }, 'UNKNOWN_RESOURCE', 'resources'],
      ['no resources', { resources: [] }, 'UNKNOWN_RESOURCE', 'resources'],
      ['an empty name', { name: '   ' }, 'INVALID_NAME', 'name'],
    ];
    for (const [what, overrides, reason, field] of refusals) {
      it(`refuses ${what} with ${reason}, storing nothing`, async () => {
        const before = await stored();
        const result = await sources.query(owner, CREATE, { input: valid(overrides) });
        expect(result.data).toBeNull();
        expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
        expect(result.errors![0].extensions).toMatchObject({ reason, field });
        expect(result.errors![0].message.length).toBeGreaterThan(10);
        expect(await stored()).toEqual(before);
      });
    }

    it("refuses a resource the connection's platform connector does not implement, storing nothing", async () => {
      // QuickBooks' connector backs up invoices, not reports.
      const quickbooks = await connection(account, 'AUTHORIZED', 'quickbooks');
      const before = await stored();
      const result = await sources.query(owner, CREATE, { input: valid({ connectionId: quickbooks.id, resources: ['invoices', 'reports'] }) });
      expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
      expect(result.errors![0].extensions).toMatchObject({ reason: 'UNKNOWN_RESOURCE', field: 'resources', unknown: ['reports'], available: expect.arrayContaining(['invoices', 'customers']) });
      expect(await stored()).toEqual(before);
    });

    it('names the unknown resources and those available', async () => {
      const result = await sources.query(owner, CREATE, { input: valid({ resources: ['spaceships'] }) });
      expect(result.errors![0].extensions).toMatchObject({ unknown: ['spaceships'] });
      expect((result.errors![0].extensions as { available?: string[] }).available).toContain('customers');
      expect(result.errors![0].message).toContain('spaceships');
    });

    it('refuses a revoked or pending connection with CONNECTION_NOT_AUTHORIZED, storing nothing', async () => {
      for (const [connection, status] of [
        [revoked, 'REVOKED'],
        [pending, 'PENDING'],
      ] as const) {
        const before = await stored();
        const result = await sources.query(owner, CREATE, { input: valid({ connectionId: connection.id }) });
        expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
        expect(result.errors![0].extensions).toMatchObject({ reason: 'CONNECTION_NOT_AUTHORIZED', status });
        expect(result.errors![0].message).toContain(status.toLowerCase());
        expect(await stored()).toEqual(before);
      }
    });

    it('answers NOT_FOUND for another account’s connection, even one the caller can see, and an unknown one', async () => {
      for (const connectionId of [othersStripe.id, randomUUID(), 'not-a-uuid']) {
        const before = await stored();
        const result = await sources.query(owner, CREATE, { input: valid({ connectionId }) });
        expect(errorCodes(result)).toEqual(['NOT_FOUND']);
        expect(result.errors![0].message).toBe('Connection not found');
        expect(await stored()).toEqual(before);
      }
    });

    it('refuses a viewer (FORBIDDEN) and a stranger (NOT_FOUND), storing nothing', async () => {
      const before = await stored();
      expect(errorCodes(await sources.query(viewer, CREATE, { input: valid() }))).toEqual(['FORBIDDEN']);
      expect(errorCodes(await sources.query(stranger, CREATE, { input: valid() }))).toEqual(['NOT_FOUND']);
      expect(await stored()).toEqual(before);
    });
  });

  describe('updateSource, pauseSource, resumeSource', () => {
    let id: string;
    beforeAll(async () => {
      id = (await sources.query(owner, CREATE, { input: valid({ name: 'To change' }) })).data!.createSource.id;
    });

    it('changes what is given and keeps the rest', async () => {
      const result = await sources.query(owner, UPDATE, { id, input: { name: 'Changed', resources: ['charges'], retention: { keepDaily: 30 } } });
      expect(result.errors).toBeUndefined();
      expect(result.data!.updateSource).toMatchObject({
        name: 'Changed',
        resources: ['charges'],
        retention: { keepLast: 0, keepDaily: 30, keepWeekly: 0, keepMonthly: 0 },
        schedule: { kind: 'CRON', cron: '0 3 * * *', timeZone: 'Europe/Paris' },
      });
    });

    it('checks changes as creation does, changing nothing on error', async () => {
      const before = await sources.service.orm.em.fork().findOneOrFail(Source, { id });
      for (const input of [{ schedule: { kind: 'CRON', cron: 'nope' } }, { retention: { keepLast: 0 } }, { resources: ['spaceships'] }]) {
        const result = await sources.query(owner, UPDATE, { id, input });
        expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
      }
      const after = await sources.service.orm.em.fork().findOneOrFail(Source, { id });
      expect(after).toEqual(before);
    });

    it('pauses (no next run) and resumes at the next occurrence; a manual schedule has none', async () => {
      expect((await sources.query(owner, PAUSE, { id })).data!.pauseSource).toEqual({ id, paused: true, nextRunAt: null });
      const changed = await sources.query(owner, UPDATE, { id, input: { schedule: { kind: 'CRON', cron: '30 */6 * * *', timeZone: 'UTC' } } });
      expect(changed.data!.updateSource.nextRunAt).toBeNull();
      const resumed = (await sources.query(owner, RESUME, { id })).data!.resumeSource;
      expect(resumed.paused).toBe(false);
      expect(new Date(resumed.nextRunAt).getUTCMinutes()).toBe(30);
      expect(new Date(resumed.nextRunAt).getUTCHours() % 6).toBe(0);
      const manual = await sources.query(owner, UPDATE, { id, input: { schedule: { kind: 'MANUAL' } } });
      expect(manual.data!.updateSource.nextRunAt).toBeNull();
    });

    it('lets only members who manage sources change them; another tenant sees NOT_FOUND', async () => {
      for (const mutation of [PAUSE, RESUME]) expect(errorCodes(await sources.query(viewer, mutation, { id }))).toEqual(['FORBIDDEN']);
      expect(errorCodes(await sources.query(viewer, UPDATE, { id, input: { name: 'x' } }))).toEqual(['FORBIDDEN']);
      for (const [mutation, variables] of [
        [PAUSE, { id }],
        [UPDATE, { id, input: { name: 'x' } }],
        [DELETE, { id, withSnapshots: true }],
      ] as const) {
        const result: GraphQLResponse = await sources.query(stranger, mutation, variables);
        expect(errorCodes(result)).toEqual(['NOT_FOUND']);
        expect(result.errors![0].message).toBe('Source not found');
      }
      expect((await sources.service.orm.em.fork().findOneOrFail(Source, { id })).deletedAt).toBeNull();
    });
  });

  describe('deleteSource', () => {
    async function sourceWithSnapshot(): Promise<{ id: string; snapshotId: string }> {
      const id = (await sources.query(owner, CREATE, { input: valid({ name: 'To delete' }) })).data!.createSource.id;
      const { snapshot } = await recordSnapshot(sources.service.orm.em, { jobId: randomUUID(), sourceId: id, accountId: account, itemCount: 1, logicalBytes: 10, storedBytes: 5, manifestKey: `m/${id}` });
      return { id, snapshotId: snapshot.id };
    }

    it('keeps the snapshots restorable by default', async () => {
      const { id, snapshotId } = await sourceWithSnapshot();
      expect((await sources.query(owner, DELETE, { id, withSnapshots: false })).data!.deleteSource).toBe(true);
      // Out of the lists, still known to what refers to it, and no longer changeable.
      const listed = await sources.query(owner, ACCOUNT_SOURCES, { reps: [{ __typename: 'Account', id: account }] });
      expect(listed.data!._entities[0].sources.edges.map((edge: { node: { id: string } }) => edge.node.id)).not.toContain(id);
      expect((await sources.query(owner, SOURCE, { id })).data!.source.deletedAt).not.toBeNull();
      expect(errorCodes(await sources.query(owner, PAUSE, { id }))).toEqual(['NOT_FOUND']);
      expect(errorCodes(await sources.query(owner, UPDATE, { id, input: { resources: ['charges'] } }))).toEqual(['NOT_FOUND']);
      const snapshot = await sources.query(owner, SNAPSHOT, { id: snapshotId });
      expect(snapshot.data!.snapshot).toEqual({ id: snapshotId, source: { id, name: 'To delete' } });
      const row = await sources.service.orm.em.fork().findOneOrFail(Source, { id });
      expect(row.nextRunAt).toBeNull();
    });

    it('deletes the snapshots too when asked, naming their manifests in data.deleted', async () => {
      const { id, snapshotId } = await sourceWithSnapshot();
      expect((await sources.query(owner, DELETE, { id, withSnapshots: true })).data!.deleteSource).toBe(true);
      expect(errorCodes(await sources.query(owner, SNAPSHOT, { id: snapshotId }))).toEqual(['NOT_FOUND']);
      expect(await sources.service.orm.em.fork().count(Snapshot, { sourceId: id })).toBe(0);
      const events = await sources.service.orm.em.fork().find(OutboxEvent, { subject: id });
      expect(events.map((e) => e.type).sort()).toEqual(['data.deleted', 'source.created', 'source.deleted']);
      expect(events.find((e) => e.type === 'data.deleted')!.data).toMatchObject({ sourceId: id, snapshots: [{ id: snapshotId, manifestKey: `m/${id}` }] });
      // Deleting again: the source is gone.
      expect(errorCodes(await sources.query(owner, DELETE, { id, withSnapshots: true }))).toEqual(['NOT_FOUND']);
    });
  });
});
