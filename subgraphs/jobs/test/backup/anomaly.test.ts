/**
 * Anomaly detection on every backup, through the product's BACKUP and PRUNE handlers against the
 * Stripe fake: each snapshot is compared with its parent, the source's history of changes is kept
 * by the analytics consumer, a backup that deletes 40% of the items where backups move by about 2%
 * is flagged (and a normal one is not), and retention keeps the flagged snapshot until acknowledged.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fakes, startFakes } from '@listbackup/catalogue/testing/fakes';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import { listSnapshots } from '@listbackup/engine';
import { Job } from '../../src/entities/job.ts';
import { SourceStats } from '../../src/entities/source-stats.ts';
import { detectAnomaly } from '../../src/services/anomaly.ts';
import { logLines, recordEvents, waitForStatus } from '../support/jobs-support.ts';
import { waitFor } from '../support/subgraph-harness.ts';
import { type BackupRig, startBackupRig } from './support.ts';

describe('anomaly detection (BACKUP and PRUNE handlers, Stripe fake)', () => {
  let fakes: Fakes;
  let rig: BackupRig;
  let completed: Awaited<ReturnType<typeof recordEvents>>;
  const accountId = randomUUID();

  beforeAll(async () => {
    fakes = await startFakes();
    for (let i = 0; i < 50; i++) fakes.stripe.add('customers');
    rig = await startBackupRig({ baseUrls: fakes.baseUrls }, { stripe: { platform: 'stripe', credentials: { apiKey: 'sk_test_valid' } } });
    completed = await recordEvents(rig.bus, 'lb.evt.*.job.completed');
  });

  afterAll(async () => {
    await completed?.stop();
    await rig?.close();
    await fakes?.close();
  });

  const stats = () => rig.subgraph.service.orm.em.fork().findOne(SourceStats, { accountId });
  const observations = async () => (await stats())?.changeObservations ?? 0;
  const engineSnapshots = async (sourceId: string) => (await listSnapshots(await rig.repository.account(accountId), { sourceId })).map((s) => s.id);
  /** The retention job that runs after a backup, once it has finished. */
  const pruneAfter = async (backup: Job) => {
    let prune: Job | null = null;
    await waitFor(async () => (prune = await rig.subgraph.service.orm.em.fork().findOne(Job, { idempotencyKey: `prune-after:${backup.id}` })) !== null, 'the prune job');
    return waitForStatus(rig.subgraph, prune!.id, ['SUCCEEDED', 'FAILED']);
  };
  const backup = async (sourceId: string, full = false) => {
    const seen = await observations();
    const job = await rig.run(accountId, 'BACKUP', sourceId, full ? { full: true } : {});
    // The analytics consumer folds the backup's changes into the source's history (or leaves a flagged one out).
    await waitFor(() => completed.ofJob(job.id).length > 0, 'the job.completed event');
    await waitFor(async () => (await observations()) >= seen + (job.result?.changes && !job.result.anomaly ? 1 : 0), 'the change history');
    await pruneAfter(job);
    return job;
  };

  it('flags a backup that deletes 40% of the items, not the normal ones, and keeps it past retention until acknowledged', { timeout: 240_000 }, async () => {
    const source = rig.sources.add(accountId, 'stripe', ['customers']);
    source.retention = { keepLast: 1, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 };

    const first = await backup(source.id);
    expect(first.result).toMatchObject({ changes: null, anomaly: null });
    // Normal days: one customer in fifty changes (2%).
    const normal: Job[] = [];
    for (let day = 0; day < 4; day++) {
      fakes.stripe.advance(60_000);
      fakes.stripe.update('customers', fakes.stripe.objects.customers[day].id, { email: `day${day}@example.com` });
      normal.push(await backup(source.id, true));
    }
    for (const job of normal) expect(job.result).toMatchObject({ changes: { previousItems: 50, added: 0, changed: 1, deleted: 0 }, anomaly: null });
    expect(rig.sources.recorded.every((r) => !r.anomaly)).toBe(true);
    expect(await observations()).toBe(4);

    // 20 of the 50 customers disappear at the platform.
    fakes.stripe.objects.customers.splice(10, 20);
    const wiped = await backup(source.id, true);
    expect(wiped.result).toMatchObject({ changes: { previousItems: 50, added: 0, changed: 0, deleted: 20 }, anomaly: { kind: 'MASS_DELETION' } });
    const recorded = rig.sources.recorded.find((r) => r.jobId === wiped.id)!;
    expect(recorded.anomaly).toMatchObject({ kind: 'MASS_DELETION', share: 0.4 });
    expect(recorded.anomaly!.typicalShare).toBeLessThan(0.02);
    expect(recorded.anomaly!.reason).toContain('20 of 50 items (40%) deleted');
    expect((await logLines(rig.subgraph, wiped.id)).some((line) => line.level === 'WARN' && line.message.includes('flagged'))).toBe(true);
    // What notifications consume: the finished backup's event says so too.
    const [event] = completed.ofJob(wiped.id) as EventEnvelope[];
    expect(event.data).toMatchObject({ backup: { anomaly: true, changes: { deleted: 20 } } });
    // A flagged backup stays out of the history of what is normal.
    expect(await observations()).toBe(4);

    // Retention keeps one snapshot; the flagged one stays beside it while nobody acknowledged it.
    fakes.stripe.update('customers', fakes.stripe.objects.customers[0].id, { email: 'after@example.com' });
    const next = await backup(source.id, true);
    expect(next.result).toMatchObject({ anomaly: null, changes: { previousItems: 30, changed: 1, deleted: 0 } });
    expect(await engineSnapshots(source.id)).toEqual(expect.arrayContaining([wiped.id, next.id]));
    expect(await engineSnapshots(source.id)).toHaveLength(2);

    rig.sources.acknowledged.add(wiped.id);
    const last = await backup(source.id, true);
    expect(await engineSnapshots(source.id)).toEqual([last.id]);
  });
});

describe('the anomaly policy', () => {
  const history = (deletedShareMean: number, deletedShareVariance: number) => ({ changeObservations: 10, deletedShareMean, deletedShareVariance, changedShareMean: 0.01, changedShareVariance: 0.0001 });
  const changes = (deleted: number, changed = 0, previousItems = 100) => ({ previousItems, added: 0, changed, deleted });

  it('measures a move against the source’s own history', () => {
    expect(detectAnomaly(changes(40), history(0.01, 0.00002))).toMatchObject({ kind: 'MASS_DELETION', share: 0.4 });
    expect(detectAnomaly(changes(31), history(0.01, 0.00002))).toMatchObject({ kind: 'MASS_DELETION' });
    // A source whose backups routinely delete a third of its items is not alarming at 40%.
    expect(detectAnomaly(changes(40), history(0.33, 0.0025))).toBeNull();
    // Content changed in place (ransomware encrypting) counts too.
    expect(detectAnomaly(changes(0, 60), history(0.01, 0.00002))).toMatchObject({ kind: 'MASS_CHANGE', share: 0.6 });
  });

  it('leaves small moves and small sources alone, and judges a source without history by the share alone', () => {
    expect(detectAnomaly(changes(20), history(0.01, 0.00002))).toBeNull();
    expect(detectAnomaly(changes(4, 0, 10), history(0.01, 0.00002))).toBeNull();
    expect(detectAnomaly(changes(40), null)).toMatchObject({ kind: 'MASS_DELETION', typicalShare: 0 });
    expect(detectAnomaly(null, null)).toBeNull();
    expect(detectAnomaly(changes(0, 0, 0), null)).toBeNull();
  });
});
