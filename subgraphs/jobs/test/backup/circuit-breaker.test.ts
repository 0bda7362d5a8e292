/**
 * The circuit breaker around connector HTTP, through the product's BACKUP handler against the
 * Stripe fake: a platform that fails every call opens the connection's breaker after three calls;
 * jobs that meet it wait in the queue (QUEUED, a reason and a time, no retry budget spent, their
 * progress kept) instead of calling it again, and once the platform recovers one call closes the
 * breaker and the waiting jobs complete.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metrics } from '@listbackup/lib/metrics';
import { type Fakes, startFakes } from '@listbackup/catalogue/testing/fakes';
import type { Job } from '../../src/entities/job.ts';
import { enqueue, jobRow, logLines, waitForStatus } from '../support/jobs-support.ts';
import { newUser, waitFor } from '../support/subgraph-harness.ts';
import { type BackupRig, startBackupRig } from './support.ts';

const THRESHOLD = 3;

/** How many times the Stripe connection's breaker entered `state`. */
async function transitions(state: 'open' | 'half_open' | 'closed'): Promise<number> {
  const { values } = await metrics.circuitTransitions.get();
  return values.filter((v) => v.labels.platform === 'Stripe' && v.labels.scope === 'connection' && v.labels.state === state).reduce((sum, v) => sum + v.value, 0);
}

describe('circuit breaker around connector HTTP (BACKUP handler, Stripe fake)', () => {
  let fakes: Fakes;
  let rig: BackupRig;
  const accountId = randomUUID();
  const viewer = newUser();

  beforeAll(async () => {
    fakes = await startFakes();
    for (let i = 0; i < 20; i++) fakes.stripe.add('customers');
    for (let i = 0; i < 3; i++) fakes.stripe.add('products');
    rig = await startBackupRig(
      { baseUrls: fakes.baseUrls },
      { stripe: { platform: 'stripe', credentials: { apiKey: 'sk_test_valid' } } },
      { connectorRetry: { breakerThreshold: THRESHOLD, platformBreakerThreshold: 1000, breakerCoolDownMs: 3_000 } },
    );
    rig.subgraph.access.grant(viewer, accountId, 'viewer');
  });

  afterAll(async () => {
    await rig?.close();
    await fakes?.close();
  });

  const productCalls = () => fakes.stripe.requestsTo('/v1/products');
  const stripeCalls = () => fakes.stripe.requestsTo('/v1/');
  const deferrals = async (job: Job) => (await logLines(rig.subgraph, job.id)).filter((line) => / deferred: /.test(line.message)).length;

  it('opens after repeated failures, defers jobs instead of calling the platform, and closes once it recovers', async () => {
    // Customers answer; every products call fails with Stripe's 503.
    fakes.stripe.failNext({ status: 503, times: 1_000_000, match: (request) => request.path.startsWith('/v1/products') });
    const both = rig.sources.add(accountId, 'stripe', ['customers', 'products']);
    const productsOnly = rig.sources.add(accountId, 'stripe', ['products']);

    const first = await enqueue(rig.subgraph, accountId, 'BACKUP', {}, { sourceId: both.id });
    await waitFor(async () => (await deferrals(first)) > 0, 'the first job to be deferred', 60_000);
    expect(await transitions('open')).toBeGreaterThanOrEqual(1);
    // From here every call fails, customers too: the resumed first job lists customers again, and a
    // customers call that answered as a half-open probe would rightly close the breaker.
    fakes.stripe.failNext({ status: 503, times: 1_000_000 });
    const callsBefore = stripeCalls().length;
    const probesBefore = await transitions('half_open');

    const later = await enqueue(rig.subgraph, accountId, 'BACKUP', {}, { sourceId: productsOnly.id });
    await waitFor(async () => (await deferrals(later)) > 0, 'the later job to be deferred', 60_000);

    // Deferred, not failed: queued with a time and a reason, no failure counted, progress kept.
    for (const job of [first, later]) {
      const row = await jobRow(rig.subgraph, job.id);
      expect(['QUEUED', 'RUNNING']).toContain(row.status);
      expect(row.failures).toBe(0);
    }
    const waiting = await waitForStatus(rig.subgraph, first.id, ['QUEUED'], 60_000);
    expect(waiting.failureReason).toMatch(/^Stripe \(for this connection\) is unavailable: 3 requests in a row failed \(last: HTTP 503\); retrying at \d{4}-/);
    expect(waiting.progress.itemsDone).toBe(20);
    const seen = await rig.subgraph.query(viewer, `query ($id: ID!) { job(id: $id) { status failureReason nextAttemptAt attempts progress { itemsDone } } }`, { id: first.id });
    expect(seen.errors).toBeUndefined();
    expect(seen.data!.job).toMatchObject({ failureReason: expect.stringContaining('unavailable'), progress: { itemsDone: 20 } });

    // After the cool-down one call goes through (half-open); it fails, and the breaker opens again.
    await waitFor(async () => (await transitions('half_open')) >= 1 && (await transitions('open')) >= 2, 'a failed probe to open the breaker again', 60_000);
    // Once open, the platform only sees the breaker's probes: one call each time it half-opens
    // (a probe may still be in flight when counted, hence the wait). Without the breaker each
    // attempt of each job would make six calls.
    await waitFor(async () => stripeCalls().length - callsBefore === (await transitions('half_open')) - probesBefore, 'only the probes to reach the platform', 10_000);
    expect(productCalls().every((request) => request.status === 503)).toBe(true);
    expect((await deferrals(first)) + (await deferrals(later))).toBeGreaterThan(await transitions('half_open'));

    fakes.stripe.clearFailures();
    const [doneFirst, doneLater] = await Promise.all([first, later].map((job) => waitForStatus(rig.subgraph, job.id, ['SUCCEEDED', 'FAILED', 'CANCELLED'], 120_000)));
    expect(doneFirst).toMatchObject({ status: 'SUCCEEDED', failures: 0, failureType: null });
    expect(doneLater).toMatchObject({ status: 'SUCCEEDED', failures: 0 });
    expect(doneFirst.progress.itemsDone).toBe(23);
    expect(doneLater.progress.itemsDone).toBe(3);
    expect(await transitions('closed')).toBeGreaterThanOrEqual(1);
    expect(productCalls().at(-1)!.status).toBe(200);
  }, 300_000);
});
