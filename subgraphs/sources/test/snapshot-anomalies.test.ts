/**
 * Snapshots flagged as anomalies by the backup that made them: the flag and its reason on
 * `Snapshot.anomaly`, `snapshot.anomaly_detected` in the same transaction as the snapshot, kept by
 * retention until acknowledged (`acknowledgeSnapshotAnomaly`, authorized and tenant-isolated).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@listbackup/lib/principal';
import { OutboxEvent } from '@listbackup/lib/events/outbox';
import { startSources } from '../src/index.ts';
import type { Source } from '../src/entities/source.ts';
import { Snapshot } from '../src/entities/snapshot.ts';
import { createSourceRecord } from '../src/services/source-service.ts';
import { SourcesClient } from '../../jobs/src/clients/sources-client.ts';
import { errorCodes, newUser, startTestSubgraph, type TestSubgraph } from '../../jobs/test/support/subgraph-harness.ts';

const SNAPSHOT = `query($id: ID!) { snapshot(id: $id) { id changes { previousItems added changed deleted }
  anomaly { kind reason share typicalShare detectedAt acknowledgedAt acknowledgedBy } } }`;
const ENTITY = `query($id: ID!) { _entities(representations: [{ __typename: "Snapshot", id: $id }]) { ... on Snapshot { id anomaly { kind acknowledgedAt } } } }`;
const ACKNOWLEDGE = `mutation($id: ID!) { acknowledgeSnapshotAnomaly(snapshotId: $id) { id anomaly { acknowledgedAt acknowledgedBy } } }`;

const anomaly = { kind: 'MASS_DELETION' as const, reason: 'This backup found 20 of 50 items (40%) deleted since the previous one; its backups usually deleted up to 1.5%.', share: 0.4, typicalShare: 0.015 };
const changes = { previousItems: 50, added: 0, changed: 1, deleted: 20 };

describe('sources: snapshot anomalies', () => {
  let subgraph: TestSubgraph;
  let client: SourcesClient;
  let owner: Principal;
  let viewer: Principal;
  let stranger: Principal;
  const account = randomUUID();
  const strangerAccount = randomUUID();
  let source: Source;
  let flagged: string;
  let normal: string;
  let flaggedJob: string;

  beforeAll(async () => {
    subgraph = await startTestSubgraph('sources', (runtime) => startSources(runtime, { platformsUrl: 'http://127.0.0.1:9/graphql', jobsUrl: 'http://127.0.0.1:9', scheduler: false }));
    client = new SourcesClient(subgraph.url, subgraph.secret);
    owner = newUser();
    viewer = newUser();
    stranger = newUser();
    subgraph.access.grant(owner, account, 'operator').grant(viewer, account, 'viewer').grant(stranger, strangerAccount, 'owner');
    source = await createSourceRecord(subgraph.service.orm.em.fork(), { accountId: account, connectionId: randomUUID(), name: 'Stripe', resources: ['customers'] });
    const record = (jobId: string, extra: Record<string, unknown>) =>
      client.recordSnapshot({ jobId, sourceId: source.id, accountId: account, itemCount: 30, logicalBytes: 3000, storedBytes: 10, manifestKey: `manifests/${jobId}`, ...extra });
    normal = (await record(randomUUID(), { changes: { previousItems: 50, added: 1, changed: 1, deleted: 0 }, anomaly: null })).id;
    flaggedJob = randomUUID();
    flagged = (await record(flaggedJob, { changes, anomaly })).id;
  });

  afterAll(async () => {
    await subgraph?.close();
  });

  it('flags the snapshot, with its reason, and publishes snapshot.anomaly_detected with it', async () => {
    const shown = await subgraph.query(viewer, SNAPSHOT, { id: flagged });
    expect(shown.errors).toBeUndefined();
    expect(shown.data!.snapshot).toMatchObject({ changes, anomaly: { kind: 'MASS_DELETION', reason: anomaly.reason, share: 0.4, typicalShare: 0.015, acknowledgedAt: null, acknowledgedBy: null } });
    const plain = await subgraph.query(viewer, SNAPSHOT, { id: normal });
    expect(plain.data!.snapshot).toMatchObject({ anomaly: null, changes: { deleted: 0 } });

    const events = await subgraph.service.orm.em.fork().find(OutboxEvent, { type: 'snapshot.anomaly_detected' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ accountId: account, subject: flagged });
    expect(events[0].data).toMatchObject({ accountId: account, sourceId: source.id, snapshotId: flagged, jobId: flaggedJob, kind: 'MASS_DELETION', share: 0.4, reason: anomaly.reason, changes });

    // Recording the same job again (a retried worker) flags nothing twice.
    await client.recordSnapshot({ jobId: flaggedJob, sourceId: source.id, accountId: account, itemCount: 30, logicalBytes: 3000, storedBytes: 10, manifestKey: `manifests/${flaggedJob}`, changes, anomaly });
    expect(await subgraph.service.orm.em.fork().count(OutboxEvent, { type: 'snapshot.anomaly_detected' })).toBe(1);
  });

  it('keeps a flagged snapshot past its retention until someone acknowledges it', async () => {
    const listed = await client.listSnapshots(source.id);
    expect(new Map(listed.map((s) => [s.id, s.held]))).toEqual(
      new Map([
        [flagged, true],
        [normal, false],
      ]),
    );
    // Retention asks to drop both: only the unflagged one goes.
    expect(await client.deleteSnapshots(source.id, [flagged, normal])).toBe(1);
    expect(await subgraph.service.orm.em.fork().findOne(Snapshot, { id: flagged })).not.toBeNull();
    expect(await subgraph.service.orm.em.fork().findOne(Snapshot, { id: normal })).toBeNull();
  });

  it('acknowledges for members who manage sources only, once, and never across tenants', async () => {
    // Another tenant: "not found", as for a snapshot that does not exist; and nothing changes.
    for (const id of [flagged, randomUUID(), 'not-an-id']) expect(errorCodes(await subgraph.query(stranger, ACKNOWLEDGE, { id }))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await subgraph.query(stranger, ENTITY, { id: flagged }))).toEqual(['NOT_FOUND']);
    // A viewer may see it but not acknowledge it.
    expect(errorCodes(await subgraph.query(viewer, ACKNOWLEDGE, { id: flagged }))).toEqual(['FORBIDDEN']);
    const key: Principal = { kind: 'apiKey', apiKeyId: randomUUID(), accountId: account, scopes: ['sources:read'] };
    subgraph.access.grant(key, account, 'admin');
    expect(errorCodes(await subgraph.query(key, ACKNOWLEDGE, { id: flagged }))).toEqual(['FORBIDDEN']);
    expect((await subgraph.query(viewer, ENTITY, { id: flagged })).data!._entities[0].anomaly.acknowledgedAt).toBeNull();
    expect((await client.listSnapshots(source.id)).find((s) => s.id === flagged)?.held).toBe(true);

    const acknowledged = await subgraph.query(owner, ACKNOWLEDGE, { id: flagged });
    expect(acknowledged.errors).toBeUndefined();
    const { acknowledgedAt, acknowledgedBy } = acknowledged.data!.acknowledgeSnapshotAnomaly.anomaly;
    expect(acknowledgedAt).toEqual(expect.any(String));
    expect(acknowledgedBy).toBe((owner as { userId: string }).userId);
    const again = await subgraph.query(owner, ACKNOWLEDGE, { id: flagged });
    expect(again.data!.acknowledgeSnapshotAnomaly.anomaly.acknowledgedAt).toBe(acknowledgedAt);
    const events = await subgraph.service.orm.em.fork().find(OutboxEvent, { type: 'snapshot.anomaly_acknowledged' });
    expect(events).toHaveLength(1);
    expect(events[0].data).toMatchObject({ snapshotId: flagged, sourceId: source.id, acknowledgedBy });

    // Retention may drop it now.
    expect((await client.listSnapshots(source.id)).find((s) => s.id === flagged)?.held).toBe(false);
    expect(await client.deleteSnapshots(source.id, [flagged])).toBe(1);
  });

  it('refuses to acknowledge a snapshot that is not flagged, with a stable reason', async () => {
    const plainJob = randomUUID();
    const plain = (await client.recordSnapshot({ jobId: plainJob, sourceId: source.id, accountId: account, itemCount: 1, logicalBytes: 1, storedBytes: 1, manifestKey: `manifests/${plainJob}` })).id;
    const refused = await subgraph.query(owner, ACKNOWLEDGE, { id: plain });
    expect(errorCodes(refused)).toEqual(['BAD_USER_INPUT']);
    expect((refused.errors![0].extensions as { reason?: string }).reason).toBe('NO_ANOMALY');
    expect((await subgraph.query(owner, SNAPSHOT, { id: plain })).data!.snapshot.anomaly).toBeNull();
  });
});
