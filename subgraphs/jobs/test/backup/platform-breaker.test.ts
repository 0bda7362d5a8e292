/**
 * The platform-wide circuit breaker and the bound on deferral, through the product's BACKUP handler
 * against the Stripe fake failing every call. Each connection's own breaker is set too high to
 * open, so what opens is the platform's, on its own: transient failures in a row through the
 * connections of two jobs open it, and a job of a third connection, which never failed, is deferred
 * without a request to the platform beyond the breaker's probes. A job deferred deferral after deferral for longer than the retry policy's
 * maxDeferralMs fails with failureType UNAVAILABLE and a reason that says why.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metrics } from '@listbackup/lib/metrics';
import { type Fakes, startFakes } from '@listbackup/catalogue/testing/fakes';
import type { Job } from '../../src/entities/job.ts';
import { enqueue, jobRow, logLines, waitForStatus } from '../support/jobs-support.ts';
import { newUser, waitFor } from '../support/subgraph-harness.ts';
import { type BackupRig, startBackupRig } from './support.ts';

const PLATFORM_THRESHOLD = 4;
const MAX_DEFERRAL_MS = 5_000;

/** How many times the platform-wide Stripe breaker entered `state`. */
async function platformTransitions(state: 'open' | 'half_open' | 'closed'): Promise<number> {
  const { values } = await metrics.circuitTransitions.get();
  return values.filter((v) => v.labels.platform === 'Stripe' && v.labels.scope === 'platform' && v.labels.state === state).reduce((sum, v) => sum + v.value, 0);
}

describe('platform-wide circuit breaker and the bound on deferral (BACKUP handler, Stripe fake)', () => {
  let fakes: Fakes;
  let rig: BackupRig;
  const accountId = randomUUID();
  const viewer = newUser();
  const keys = { a: 'sk_test_conn_a', b: 'sk_test_conn_b', c: 'sk_test_conn_c' };

  beforeAll(async () => {
    fakes = await startFakes();
    for (const key of Object.values(keys)) fakes.stripe.keys.add(key);
    for (let i = 0; i < 3; i++) fakes.stripe.add('customers');
    rig = await startBackupRig(
      { baseUrls: fakes.baseUrls },
      Object.fromEntries(Object.entries(keys).map(([name, apiKey]) => [`stripe-${name}`, { platform: 'stripe', credentials: { apiKey } }])),
      { connectorRetry: { breakerThreshold: 1000, platformBreakerThreshold: PLATFORM_THRESHOLD, breakerCoolDownMs: 2_000 }, retryPolicy: { maxDeferralMs: MAX_DEFERRAL_MS } },
    );
    rig.subgraph.access.grant(viewer, accountId, 'viewer');
  });

  afterAll(async () => {
    await rig?.close();
    await fakes?.close();
  });

  const callsWith = (key: string) => fakes.stripe.requestsTo('/v1/').filter((request) => request.headers.authorization === `Bearer ${key}`);
  const deferrals = async (job: Job) => (await logLines(rig.subgraph, job.id)).filter((line) => / deferred: /.test(line.message)).length;

  it('opens on the failures of other connections, defers a job of a connection that never failed, and fails a job deferred too long as UNAVAILABLE', async () => {
    fakes.stripe.failNext({ status: 503, times: 1_000_000 });
    const [a, b, c] = (['a', 'b', 'c'] as const).map((name) => rig.sources.add(accountId, `stripe-${name}`, ['customers']));
    const jobA = await enqueue(rig.subgraph, accountId, 'BACKUP', {}, { sourceId: a.id });
    const jobB = await enqueue(rig.subgraph, accountId, 'BACKUP', {}, { sourceId: b.id });
    await waitFor(async () => (await platformTransitions('open')) >= 1, 'the platform breaker to open', 60_000);
    // The connections' calls count toward the platform's breaker; none reaches its own threshold.
    expect(callsWith(keys.a).length + callsWith(keys.b).length).toBeGreaterThanOrEqual(PLATFORM_THRESHOLD);
    expect(callsWith(keys.a).length).toBeLessThan(1000);

    const jobC = await enqueue(rig.subgraph, accountId, 'BACKUP', {}, { sourceId: c.id });
    await waitFor(async () => (await deferrals(jobC)) > 0, 'the third connection’s job to be deferred', 60_000);
    const waiting = await jobRow(rig.subgraph, jobC.id);
    expect(waiting.failures).toBe(0);
    expect((await logLines(rig.subgraph, jobC.id)).find((line) => / deferred: /.test(line.message))!.message).toMatch(
      new RegExp(`deferred: Stripe is unavailable: ${PLATFORM_THRESHOLD} requests in a row failed \\(last: HTTP 503\\); retrying at \\d{4}-`),
    );

    // Deferred again and again while the platform stays down, until the bound: then it fails, clearly.
    const done = await Promise.all([jobA, jobB, jobC].map((job) => waitForStatus(rig.subgraph, job.id, ['SUCCEEDED', 'FAILED', 'CANCELLED'], 120_000)));
    for (const job of done) {
      expect(job).toMatchObject({ status: 'FAILED', failureType: 'UNAVAILABLE', failures: 0, deferredSince: null });
      expect(job.failureReason).toMatch(/^The platform stayed unavailable for \d+ s \(a job waits at most 5 s\): Stripe is unavailable: 4 requests in a row failed \(last: HTTP 503\)$/);
      expect(await deferrals(job)).toBeGreaterThanOrEqual(1);
    }
    const seen = await rig.subgraph.query(viewer, `query ($id: ID!) { job(id: $id) { status failureType failureReason nextAttemptAt } }`, { id: jobC.id });
    expect(seen.errors).toBeUndefined();
    expect(seen.data!.job).toMatchObject({ status: 'FAILED', failureType: 'UNAVAILABLE', nextAttemptAt: null });
    expect((await logLines(rig.subgraph, jobC.id)).at(-1)!.message).toMatch(/^Giving up: The platform stayed unavailable for/);
    // The third connection reached the platform only as the breaker's half-open probes, never more than once per cool-down.
    expect(callsWith(keys.c).length).toBeLessThanOrEqual(await platformTransitions('half_open'));
  }, 300_000);
});
