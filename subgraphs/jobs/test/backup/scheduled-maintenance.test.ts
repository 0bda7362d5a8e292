/**
 * Maintenance that runs on a schedule, through the product's handlers against the Google Drive fake,
 * the store an S3-compatible server (s3rver, as the engine's S3 tests use): the schedule queues each
 * account's TIER (daily) and sampled VERIFY (weekly), each a job of the account without a source.
 * TIER moves packs to the warm and then the cold storage class as they age (read back with HEAD),
 * and the data still restores byte for byte. The weekly VERIFY reads a share of the packs, at least
 * one; with every pack corrupted, whichever it reads fails it as DAMAGED, its report naming the
 * chunks and their pack. Nobody outside the account sees these jobs.
 *
 * s3rver predates GLACIER_IR, so cold maps to GLACIER here (STORAGE_S3_STORAGE_CLASSES does the
 * same for a deployment), and it ignores If-None-Match (conditionalWrites: false).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import S3rver from '@20minutes/s3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDrive } from '@listbackup/catalogue/google-drive/fake';
import { generatedSha256 } from '@listbackup/catalogue/testing/fakes';
import { layout, listSnapshots, snapshotChunks, snapshotItems } from '@listbackup/engine';
import { S3Store } from '@listbackup/engine/s3';
import { Job } from '../../src/entities/job.ts';
import { scheduleMaintenance, WEEKLY_VERIFY_SAMPLE } from '../../src/services/maintenance.ts';
import { jobsService, waitForStatus } from '../support/jobs-support.ts';
import { errorCodes, newUser } from '../support/subgraph-harness.ts';
import { type BackupRig, startBackupRig } from './support.ts';

const DAY = 86_400_000;
const BUCKET = 'listbackup-maintenance';

const JOB_FIELDS = `id kind status source { id } triggeredBy { kind } failureType failureReason
  tiering { scannedPacks movedToWarm movedToCold }
  verification { ok share sampledBy referencedChunks checkedChunks referencedPacks checkedPacks problems { address problem packId } }`;

describe('scheduled TIER and weekly VERIFY on an S3 store', () => {
  let server: InstanceType<typeof S3rver>;
  let s3dir = '';
  let store: S3Store;
  let drive: FakeDrive;
  let rig: BackupRig;
  /** The handlers' clock: moved forward to age the packs. */
  let offsetMs = 0;
  const accountId = randomUUID();
  const owner = newUser();
  const stranger = newUser();
  const files: ReturnType<FakeDrive['add']>[] = [];
  /** When the schedule is asked: the last second of an ISO week (a Sunday), a week later each time, so every slot of the day and the week has come. */
  const today = Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`);
  let askedAt = today + ((7 - new Date(today).getUTCDay()) % 7) * DAY + DAY - 1000;

  beforeAll(async () => {
    s3dir = await mkdtemp(join(tmpdir(), 'lb-s3rver-'));
    server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3dir, allowMismatchedSignatures: true });
    const { port } = (await server.run()) as AddressInfo;
    store = S3Store.fromConfig(
      { endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', bucket: BUCKET, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', prefix: 'objects/' },
      { conditionalWrites: false, storageClasses: { cold: 'GLACIER' } },
    );
    await store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    drive = await new FakeDrive().start();
    rig = await startBackupRig(
      { baseUrls: { 'google-drive': `${drive.url}/drive/v3` } },
      { drive: { platform: 'google-drive', credentials: { accessToken: 'ya29.valid' } } },
      { store, gcGraceMs: 0, gcDelayMs: 0, now: () => new Date(Date.now() + offsetMs) },
    );
    rig.subgraph.access.grant(owner, accountId, 'owner');
    // Three sources backed up one after another, each with files of its own: three packs.
    for (let s = 0; s < 3; s++) {
      for (let i = 0; i < 2; i++) files.push(drive.add(`s${s}-file-${i}.bin`, 'application/octet-stream', { size: 200_000 + 1000 * s + i }));
      const source = rig.sources.add(accountId, 'drive', ['files']);
      await rig.run(accountId, 'BACKUP', source.id);
    }
  }, 240_000);

  afterAll(async () => {
    await rig?.close();
    await drive?.close();
    await server?.close();
    if (s3dir) await rm(s3dir, { recursive: true, force: true });
  });

  const packs = async () => {
    const tiers: string[] = [];
    for await (const object of store.list(layout.packs(accountId))) tiers.push((await store.head(object.key))!.tier);
    return tiers;
  };
  /** Asks the schedule as of a week later than last time (`again`: the same time again); returns the account's jobs it queued, by kind. */
  const schedule = async (again = false) => {
    if (!again) askedAt += 7 * DAY;
    const queued = await scheduleMaintenance(rig.subgraph.service.orm, jobsService(rig.subgraph).queue, new Date(askedAt));
    return new Map(queued.filter((job) => job.accountId === accountId).map((job) => [job.kind, job] as const));
  };
  const finished = async (job: Job) => {
    await waitForStatus(rig.subgraph, job.id, ['SUCCEEDED', 'FAILED', 'CANCELLED'], 120_000);
    const shown = await rig.subgraph.query(owner, `query ($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`, { id: job.id });
    expect(shown.errors).toBeUndefined();
    return (shown.data as any).job;
  };

  it('queues a daily TIER per account that stores backups, which moves packs to warm after 30 days and to cold after 90; the data restores byte for byte', { timeout: 240_000 }, async () => {
    expect(await packs()).toEqual(['hot', 'hot', 'hot']);
    const first = await schedule();
    // No GC: the account ran no job in the two days before.
    expect([...first.keys()].sort()).toEqual(['TIER', 'VERIFY']);
    const fresh = await finished(first.get('TIER')!);
    expect(fresh).toMatchObject({ kind: 'TIER', status: 'SUCCEEDED', source: null, triggeredBy: { kind: 'SCHEDULE' }, tiering: { scannedPacks: 3, movedToWarm: 0, movedToCold: 0 } });
    // Asked again the same day, the schedule queues nothing more.
    expect((await schedule(true)).size).toBe(0);
    await Promise.all([...first.values()].map((job) => finished(job)));

    offsetMs = 31 * DAY;
    const aged = await schedule();
    const warm = await finished(aged.get('TIER')!);
    expect(warm.tiering).toEqual({ scannedPacks: 3, movedToWarm: 3, movedToCold: 0 });
    expect(await packs()).toEqual(['warm', 'warm', 'warm']);

    await finished(aged.get('VERIFY')!);
    offsetMs = 91 * DAY;
    const older = await schedule();
    const cold = await finished(older.get('TIER')!);
    expect(cold.tiering).toEqual({ scannedPacks: 3, movedToWarm: 0, movedToCold: 3 });
    expect(await packs()).toEqual(['cold', 'cold', 'cold']);
    await finished(older.get('VERIFY')!);

    const account = await rig.repository.account(accountId);
    const restored = new Map<string, string>();
    for (const snapshot of await listSnapshots(account)) {
      for await (const item of snapshotItems(account, snapshot)) {
        const hash = createHash('sha256');
        for await (const piece of account.readItem(item.chunks, { expectedContentHash: item.contentHash })) hash.update(piece);
        restored.set(item.path.split('/').at(-1)!, hash.digest('hex'));
      }
    }
    expect(restored).toEqual(new Map(files.map((file) => [file.name, generatedSha256(file.seed!, Number(file.size))])));
  });

  it('queues a weekly VERIFY of a share of the packs, at least one; every pack corrupted, whichever it reads fails it as DAMAGED, naming the chunks and their pack', { timeout: 240_000 }, async () => {
    const week = await schedule();
    const intact = await finished(week.get('VERIFY')!);
    // Its TIER done too: nothing rewrites a pack behind the corruption below.
    await finished(week.get('TIER')!);
    expect(intact).toMatchObject({
      kind: 'VERIFY',
      status: 'SUCCEEDED',
      source: null,
      triggeredBy: { kind: 'SCHEDULE' },
      verification: { ok: true, share: WEEKLY_VERIFY_SAMPLE, sampledBy: 'PACKS', referencedPacks: 3, checkedPacks: 1, problems: [] },
    });
    expect(intact.verification.checkedChunks).toBeGreaterThan(0);
    expect(intact.verification.checkedChunks).toBeLessThan(intact.verification.referencedChunks);

    // The first chunk of every pack overwritten in place.
    const account = await rig.repository.account(accountId);
    const firstChunkOf = new Map<string, { address: string; offset: number }>();
    for (const snapshot of await listSnapshots(account)) {
      for await (const chunk of snapshotChunks(account, snapshot)) {
        const location = (await account.locate(chunk.address))!;
        const known = firstChunkOf.get(location.packId);
        if (!known || location.offset < known.offset) firstChunkOf.set(location.packId, { address: chunk.address, offset: location.offset });
      }
    }
    expect(firstChunkOf.size).toBe(3);
    for (const [packId, { offset }] of firstChunkOf) {
      const key = layout.pack(accountId, packId);
      const bytes = await store.getBytes(key);
      for (let i = 0; i < 16; i++) bytes[offset + i] ^= 0xff;
      await store.put(key, bytes);
    }

    const damaged = await finished((await schedule()).get('VERIFY')!);

    expect(damaged).toMatchObject({ kind: 'VERIFY', status: 'FAILED', failureType: 'DAMAGED', verification: { ok: false, sampledBy: 'PACKS', referencedPacks: 3, checkedPacks: 1 } });
    const [problem] = damaged.verification.problems;
    expect(damaged.verification.problems).toEqual([{ address: firstChunkOf.get(problem.packId)?.address, problem: 'CORRUPT', packId: problem.packId }]);
    expect(damaged.failureReason).toMatch(
      new RegExp(`^Stored data is damaged: of ${damaged.verification.checkedChunks} of ${damaged.verification.referencedChunks} chunks in 1 of 3 packs checked, 1 corrupt and 0 missing \\(pack ${problem.packId}\\); [1-3] snapshot\\(s\\) affected$`),
    );
  });

  it('shows the scheduled jobs only to the account: a stranger gets NOT_FOUND from job, _entities and retryJob, and no TIER or VERIFY in the account\'s jobs', async () => {
    const jobs = await rig.subgraph.service.orm.em.fork().find(Job, { accountId, kind: { $in: ['TIER', 'VERIFY'] } });
    expect(jobs.length).toBeGreaterThan(3);
    for (const job of jobs) {
      const entity = `query ($id: ID!) { _entities(representations: [{ __typename: "Job", id: $id }]) { ... on Job { id tiering { scannedPacks } verification { ok } } } }`;
      expect(((await rig.subgraph.query(owner, entity, { id: job.id })).data as any)._entities[0].id).toBe(job.id);
      expect(errorCodes(await rig.subgraph.query(stranger, entity, { id: job.id }))).toEqual(['NOT_FOUND']);
      expect(errorCodes(await rig.subgraph.query(stranger, `query ($id: ID!) { job(id: $id) { id } }`, { id: job.id }))).toEqual(['NOT_FOUND']);
      expect(errorCodes(await rig.subgraph.query(stranger, `mutation ($id: ID!) { retryJob(id: $id) { id } }`, { id: job.id }))).toEqual(['NOT_FOUND']);
    }
    const list = `query ($id: ID!) { _entities(representations: [{ __typename: "Account", id: $id }]) { ... on Account { jobs(kind: [TIER, VERIFY], first: 100) { edges { node { id } } } } } }`;
    const listed = await rig.subgraph.query(owner, list, { id: accountId });
    expect((listed.data as any)._entities[0].jobs.edges.map((edge: any) => edge.node.id).sort()).toEqual(jobs.map((job) => job.id).sort());
    const theirs = await rig.subgraph.query(stranger, list, { id: accountId });
    expect(errorCodes(theirs).length).toBeGreaterThan(0);
    for (const job of jobs) expect(JSON.stringify(theirs.data ?? {})).not.toContain(job.id);
  });
});
