/**
 * GC jobs through the product's handlers against the Google Drive fake: deleted snapshots (a
 * `data.deleted` event, as sources publishes) are forgotten and their data freed while a backup of
 * another source of the account runs and reuses that data (the GC waits for it: nothing is lost),
 * deletions close together make one GC, a purged account's data goes entirely, a daily GC is
 * queued once per active account and day, and nobody outside the account sees or touches a GC job.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDrive } from '@listbackup/catalogue/google-drive/fake';
import { generatedSha256, type RecordedRequest } from '@listbackup/catalogue/testing/fakes';
import { createEvent } from '@listbackup/lib/events/contract';
import { layout, listSnapshots, snapshotItems, verify } from '@listbackup/engine';
import { manifestKeyOf } from '../../src/backup/engine-runtime.ts';
import { Job } from '../../src/entities/job.ts';
import { dailySlotMs, requestGc, scheduleMaintenance } from '../../src/services/maintenance.ts';
import { enqueue, jobRow, jobsService, logLines, waitForStatus } from '../support/jobs-support.ts';
import { errorCodes, newUser, waitFor } from '../support/subgraph-harness.ts';
import { type BackupRig, startBackupRig } from './support.ts';

/** Drive whose file downloads can be held: a backup stops half-way until the test lets it go on. */
class HeldDrive extends FakeDrive {
  #hold: { after: number; seen: number; reached: () => void; released: Promise<void> } | null = null;

  /** Holds the download after the next `after` ones; resolves once a download is held, with the function that lets it go. */
  holdAfter(after: number): Promise<() => void> {
    return new Promise((resolve) => {
      let release!: () => void;
      const released = new Promise<void>((done) => (release = done));
      this.#hold = { after, seen: 0, released, reached: () => resolve(release) };
    });
  }

  protected override async route(request: RecordedRequest, res: ServerResponse): Promise<void> {
    const hold = this.#hold;
    if (hold && request.query.get('alt') === 'media' && hold.seen++ === hold.after) {
      this.#hold = null;
      hold.reached();
      await hold.released;
    }
    return super.route(request, res);
  }
}

const GC_FIELDS = `id kind status source { id } log { edges { node { message } } }
  garbageCollection { forgottenSnapshots snapshots deletedBytes deletedChunks deletedPacks repackedPacks purged }`;

async function storedBytes(rig: BackupRig, accountId: string): Promise<number> {
  let bytes = 0;
  for await (const object of rig.repository.store.list(layout.packs(accountId))) bytes += object.size;
  return bytes;
}

describe('GC jobs (Google Drive fake)', () => {
  let drive: HeldDrive;
  let rig: BackupRig;
  const accountId = randomUUID();
  const owner = newUser();
  const stranger = newUser();
  let gcJobId = '';

  beforeAll(async () => {
    drive = await new HeldDrive().start();
    rig = await startBackupRig({ baseUrls: { 'google-drive': `${drive.url}/drive/v3` } }, { drive: { platform: 'google-drive', credentials: { accessToken: 'ya29.valid' } } }, { gcGraceMs: 0, gcDelayMs: 0 });
    rig.subgraph.access.grant(owner, accountId, 'owner');
  });

  afterAll(async () => {
    await rig?.close();
    await drive?.close();
  });

  it('a GC of deleted snapshots waits for a backup that reuses their data, then frees only what nothing uses: the backup restores byte for byte', { timeout: 240_000 }, async () => {
    const files = [0, 1, 2, 3, 4].map((i) => drive.add(`file-${i}.bin`, 'application/octet-stream', { size: 400_000 + i }));
    const first = rig.sources.add(accountId, 'drive', ['files']);
    const firstBackup = await rig.run(accountId, 'BACKUP', first.id);
    // Gone at the platform before the second source's backup: only the first source's snapshot has it.
    files[0].trashed = true;
    const before = await storedBytes(rig, accountId);

    // The second source's backup reads the four files the first one stored, and stops before the last.
    const second = rig.sources.add(accountId, 'drive', ['files']);
    const held = drive.holdAfter(3);
    const backup = await enqueue(rig.subgraph, accountId, 'BACKUP', {}, { sourceId: second.id });
    const release = await held;

    // The first source is deleted with its snapshots: sources says so with data.deleted.
    first.deleted = true;
    await rig.bus.publish(
      createEvent('data.deleted', accountId, first.id, { accountId, sourceId: first.id, snapshots: [{ id: `snap-${firstBackup.id}`, manifestKey: manifestKeyOf(accountId, firstBackup.id) }] }),
    );
    let gc: Job | null = null;
    await waitFor(async () => (gc = await rig.subgraph.service.orm.em.fork().findOne(Job, { accountId, kind: 'GC' })) !== null, 'the GC job');
    gcJobId = gc!.id;
    await waitFor(async () => (await logLines(rig.subgraph, gcJobId)).some((line) => line.message.includes('Waiting for the jobs using')), 'the GC to wait for the backup', 60_000);
    expect((await waitForStatus(rig.subgraph, backup.id, ['RUNNING'])).status).toBe('RUNNING');

    release();
    expect((await waitForStatus(rig.subgraph, backup.id, ['SUCCEEDED', 'FAILED'], 120_000)).status).toBe('SUCCEEDED');
    const done = await waitForStatus(rig.subgraph, gcJobId, ['SUCCEEDED', 'FAILED'], 120_000);
    expect(done.status, done.failureReason ?? '').toBe('SUCCEEDED');

    const shown = await rig.subgraph.query(owner, `query ($id: ID!) { job(id: $id) { ${GC_FIELDS} } }`, { id: gcJobId });
    const report = (shown.data as any).job;
    expect(report).toMatchObject({ kind: 'GC', status: 'SUCCEEDED', source: null, garbageCollection: { forgottenSnapshots: 1, snapshots: 1, purged: false } });
    expect(report.garbageCollection.deletedBytes).toBeGreaterThan(400_000);
    expect(report.log.edges.map((edge: any) => edge.node.message).join('\n')).toMatch(/Forgot 1 deleted snapshot/);
    const after = await storedBytes(rig, accountId);
    expect(after).toBeLessThan(before);
    expect(before - after).toBeGreaterThan(400_000);

    // What is left is whole, and the second source's snapshot holds the four files byte for byte.
    const account = await rig.repository.account(accountId);
    await account.refreshIndex();
    expect((await verify(account)).ok).toBe(true);
    const [snapshot] = await listSnapshots(account);
    expect(snapshot.sourceId).toBe(second.id);
    const restored = new Map<string, string>();
    for await (const item of snapshotItems(account, snapshot)) {
      const hash = createHash('sha256');
      for await (const piece of account.readItem(item.chunks, { expectedContentHash: item.contentHash })) hash.update(piece);
      restored.set(item.path.split('/').at(-1)!, hash.digest('hex'));
    }
    expect(restored).toEqual(new Map(files.slice(1).map((file) => [file.name, generatedSha256(file.seed!, Number(file.size))])));
  });

  it('shows a GC job only to the account: a stranger gets NOT_FOUND from job, _entities, retryJob and cancelJob', async () => {
    const entity = `query ($id: ID!) { _entities(representations: [{ __typename: "Job", id: $id }]) { ... on Job { id kind } } }`;
    expect(((await rig.subgraph.query(owner, entity, { id: gcJobId })).data as any)._entities).toEqual([{ id: gcJobId, kind: 'GC' }]);
    expect(errorCodes(await rig.subgraph.query(stranger, entity, { id: gcJobId }))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await rig.subgraph.query(stranger, `query ($id: ID!) { job(id: $id) { id } }`, { id: gcJobId }))).toEqual(['NOT_FOUND']);
    for (const mutation of ['retryJob', 'cancelJob']) {
      expect(errorCodes(await rig.subgraph.query(stranger, `mutation ($id: ID!) { ${mutation}(id: $id) { id } }`, { id: gcJobId })), mutation).toEqual(['NOT_FOUND']);
    }
    const listed = await rig.subgraph.query(owner, `query ($id: ID!) { _entities(representations: [{ __typename: "Account", id: $id }]) { ... on Account { jobs(kind: [GC]) { edges { node { id } } } } } }`, { id: accountId });
    expect((listed.data as any)._entities[0].jobs.edges.map((edge: any) => edge.node.id)).toEqual([gcJobId]);
    const theirs = await rig.subgraph.query(stranger, `query ($id: ID!) { _entities(representations: [{ __typename: "Account", id: $id }]) { ... on Account { jobs(kind: [GC]) { edges { node { id } } } } } }`, { id: accountId });
    expect(errorCodes(theirs).length).toBeGreaterThan(0);
    expect(JSON.stringify(theirs.data ?? {})).not.toContain(gcJobId);
  });

  it('makes one GC of deletions close together: a later request joins the run still waiting', async () => {
    const other = randomUUID();
    const { queue } = jobsService(rig.subgraph);
    const em = rig.subgraph.service.orm.em;
    const first = await requestGc(em, queue, { accountId: other, forget: ['snap-a'], trigger: { kind: 'SYSTEM' }, delayMs: 3_600_000 });
    const second = await requestGc(em, queue, { accountId: other, forget: ['snap-b', 'snap-a'], trigger: { kind: 'SYSTEM' }, delayMs: 3_600_000 });
    expect(first.created).toBe(true);
    expect(second).toMatchObject({ created: false, job: { id: first.job.id } });
    expect((await jobRow(rig.subgraph, first.job.id)).params).toEqual({ forget: ['snap-a', 'snap-b'] });
    expect(await rig.subgraph.service.orm.em.fork().count(Job, { accountId: other, kind: 'GC' })).toBe(1);
  });

  it('deletes everything a purged account stored, and nothing of another account', { timeout: 240_000 }, async () => {
    const purged = randomUUID();
    const source = rig.sources.add(purged, 'drive', ['files']);
    await rig.run(purged, 'BACKUP', source.id);
    const store = rig.repository.store;
    const keysOf = async (id: string) => {
      const keys: string[] = [];
      for await (const object of store.list(layout.account(id))) keys.push(object.key);
      return keys;
    };
    expect((await keysOf(purged)).length).toBeGreaterThan(3);
    const neighbour = await keysOf(accountId);
    await rig.bus.publish(createEvent('account.purged', purged, purged, { accountId: purged, accountIds: [purged] }));
    let gc: Job | null = null;
    await waitFor(async () => (gc = await rig.subgraph.service.orm.em.fork().findOne(Job, { accountId: purged, kind: 'GC' })) !== null, 'the purge GC job');
    const done = await waitForStatus(rig.subgraph, gc!.id, ['SUCCEEDED', 'FAILED'], 120_000);
    expect(done.status, done.failureReason ?? '').toBe('SUCCEEDED');
    expect(done.result).toMatchObject({ garbageCollection: { purged: true } });
    expect(await keysOf(purged)).toEqual([]);
    expect(await keysOf(accountId)).toEqual(neighbour);
  });

  it('queues one daily GC per account that ran jobs lately, once its slot of the day has come, and never twice a day', async () => {
    const day = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const slot = Date.parse(`${day}T00:00:00Z`) + dailySlotMs(accountId);
    const { queue } = jobsService(rig.subgraph);
    const orm = rig.subgraph.service.orm;
    const ofAccount = (jobs: Job[]) => jobs.filter((job) => job.accountId === accountId && job.kind === 'GC');
    expect(ofAccount(await scheduleMaintenance(orm, queue, new Date(slot - 1000)))).toEqual([]);
    const queued = ofAccount(await scheduleMaintenance(orm, queue, new Date(slot + 1000)));
    expect(queued.map((job) => [job.kind, job.triggerKind, job.sourceId])).toEqual([['GC', 'SCHEDULE', null]]);
    expect(ofAccount(await scheduleMaintenance(orm, queue, new Date(slot + 60_000)))).toEqual([]);
    const done = await waitForStatus(rig.subgraph, queued[0].id, ['SUCCEEDED', 'FAILED'], 120_000);
    expect(done.status, done.failureReason ?? '').toBe('SUCCEEDED');
    // An account without jobs has nothing to collect and gets none.
    const idle = randomUUID();
    expect((await scheduleMaintenance(orm, queue, new Date(Date.parse(`${day}T23:59:59Z`)))).some((job) => job.accountId === idle)).toBe(false);
  });
});
