/**
 * A job's progress as a user reads it through the gateway, when the connector knows the size of
 * what it reads: a REST API whose answers say `total_pages`. The backup shows a total, a percent
 * and an ETA while it runs, and neither moves backwards, across a retry included.
 */
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeRest, type RecordedRequest } from '@listbackup/catalogue/testing/fakes';
import { signUp, type SignedUp } from '../gateway/test/support/stack.ts';
import { type BackupStack, startBackupStack, startIdentity } from './support/backup-stack.ts';

const ORDERS = 45;
const PAGE = 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Orders a little slow to answer, and the pages from `holdFrom` on held until released. */
class HeldRest extends FakeRest {
  holdFrom = Number.POSITIVE_INFINITY;
  held = 0;
  readonly #waiting: (() => void)[] = [];

  protected override async route(request: RecordedRequest, res: ServerResponse): Promise<void> {
    if (request.path === '/api/orders') {
      await sleep(300);
      if (Number(request.query.get('page')) >= this.holdFrom) {
        this.held++;
        await new Promise<void>((resolve) => this.#waiting.push(resolve));
      }
    }
    if (!res.destroyed) super.route(request, res);
  }

  release(): void {
    this.holdFrom = Number.POSITIVE_INFINITY;
    for (const resolve of this.#waiting.splice(0)) resolve();
  }
}

interface Seen {
  status: string;
  attempts: number;
  progress: { itemsDone: number; itemsTotal: number | null; percent: number | null; etaSeconds: number | null; totalsEstimated: boolean };
}

describe('progress with the totals a connector gives', () => {
  let stack: BackupStack;
  let rest: HeldRest;
  let identity: Awaited<ReturnType<typeof startIdentity>>;
  let alice: SignedUp;

  const gql = async <T = any>(query: string, variables: Record<string, unknown>): Promise<T> => {
    const result = await stack.graphql<T>(query, variables, alice.accessToken);
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data as T;
  };

  beforeAll(async () => {
    rest = await new HeldRest().start();
    for (let i = 0; i < ORDERS; i++) rest.add('orders', { total: i });
    identity = await startIdentity();
    stack = await startBackupStack('http://127.0.0.1:9/v1', identity.url);
    alice = await signUp(stack);
  }, 180_000);

  afterAll(async () => {
    rest?.release();
    await stack?.close();
    await rest?.close();
    await identity?.close();
  });

  it('shows a total, percent and ETA from total_pages that never go backwards, across a retry, and ends at the exact count', { timeout: 240_000 }, async () => {
    const definition = {
      name: 'Shop',
      baseUrl: `${rest.url}/api`,
      auth: { type: 'header', name: 'X-API-Key' },
      resources: [{ name: 'orders', path: 'orders', items: '/results', pagination: { style: 'page', size: PAGE, totalPages: '/total_pages' } }],
    };
    const { createApiKeyConnection: connection } = await gql(
      `mutation ($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id status } }`,
      { input: { accountId: alice.accountId, platformSlug: 'rest', apiKey: 'k_valid', params: [{ name: 'definition', value: JSON.stringify(definition) }] } },
    );
    expect(connection.status).toBe('AUTHORIZED');
    const { createSource: source } = await gql(`mutation ($input: CreateSourceInput!) { createSource(input: $input) { id } }`, {
      input: { accountId: alice.accountId, connectionId: connection.id, name: 'Orders', resources: ['orders'], schedule: { kind: 'MANUAL' }, retention: { keepLast: 5 } },
    });

    rest.holdFrom = 3;
    const { triggerSync: job } = await gql(`mutation ($id: ID!) { triggerSync(sourceId: $id) { id } }`, { id: source.id });
    const seen: Seen[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const { job: current } = await gql<{ job: Seen }>(`query ($id: ID!) { job(id: $id) { status attempts progress { itemsDone itemsTotal percent etaSeconds totalsEstimated } } }`, { id: job.id });
        seen.push(current);
        if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(current.status)) return;
        await sleep(50);
      }
    })();
    const waitFor = async (what: string, check: () => boolean) => {
      const deadline = Date.now() + 120_000;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; seen ${JSON.stringify(seen.slice(-5))}`);
        await sleep(100);
      }
    };
    try {
      // Two pages read, the third held: the total is pages × page size, an estimate, and the items read count towards it.
      await waitFor('the first attempt to show its estimate', () => rest.held > 0 && seen.some((s) => s.status === 'RUNNING' && s.attempts === 1 && s.progress.itemsDone > 0 && s.progress.itemsTotal !== null));
      const midway = seen.findLast((s) => s.status === 'RUNNING' && s.progress.itemsTotal !== null)!;
      expect(midway.progress).toMatchObject({ itemsTotal: 5 * PAGE, totalsEstimated: true });
      expect(midway.progress.percent).toBeGreaterThan(0);
      expect(midway.progress.percent).toBeLessThan(100);
      await waitFor('an ETA', () => seen.some((s) => s.status === 'RUNNING' && s.progress.etaSeconds !== null));

      // More 503s on page 4 than one request's own retries absorb: the attempt fails, the job retries and resumes.
      rest.failNext({ status: 503, times: 8, match: (request) => request.path === '/api/orders' && request.query.get('page') === '4' });
      rest.release();
      await watcher;
    } finally {
      watching = false;
      rest.release();
    }

    const last = seen.at(-1)!;
    expect(last.status).toBe('SUCCEEDED');
    expect(last.attempts).toBe(2);
    // At the last page the connector knows the count: exact, and the job is done.
    expect(last.progress).toMatchObject({ itemsDone: ORDERS, itemsTotal: ORDERS, percent: 100, totalsEstimated: false });
    expect(seen.some((s) => s.status === 'RUNNING' && s.attempts === 2 && s.progress.itemsTotal !== null)).toBe(true);
    // From the first total on, the total stays known and the percent and the items done only rise, whichever attempt runs.
    const known = seen.slice(seen.findIndex((s) => s.progress.itemsTotal !== null));
    for (let i = 1; i < known.length; i++) {
      const [before, after] = [known[i - 1].progress, known[i].progress];
      expect(after.itemsTotal, JSON.stringify(known.slice(i - 1, i + 1))).not.toBeNull();
      expect(after.percent!, JSON.stringify(known.slice(i - 1, i + 1))).toBeGreaterThanOrEqual(before.percent!);
      expect(after.itemsDone, JSON.stringify(known.slice(i - 1, i + 1))).toBeGreaterThanOrEqual(before.itemsDone);
      expect(after.itemsTotal!).toBeGreaterThanOrEqual(after.itemsDone);
    }
    const snapshot = (await gql(`query ($id: ID!) { job(id: $id) { snapshot { itemCount } } }`, { id: job.id })).job.snapshot;
    expect(snapshot.itemCount).toBe(ORDERS);
  });
});
