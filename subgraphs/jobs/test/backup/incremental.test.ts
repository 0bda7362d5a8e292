/**
 * Incremental backups through the product's BACKUP handler against the Stripe fake: the first run
 * reads everything, the next ones only what changed (the connector's cursor from the parent
 * snapshot's header) and keep the rest from the parent; the periodic full run drops what was
 * deleted at the platform. Every snapshot holds the whole source as the platform served it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemMetadata } from '../../src/backup/engine-runtime.ts';
import { publishedState, planResource, readBackupState, recordResource } from '../../src/backup/incremental.ts';
import { readAll, readSnapshot, type SnapshotHeader, snapshotItems } from '@listbackup/engine';
import type { Job } from '../../src/entities/job.ts';
import { type Fakes, startFakes } from '@listbackup/catalogue/testing/fakes';
import type { StripeListName } from '@listbackup/catalogue/stripe/fake';
import { logLines, recordEvents } from '../support/jobs-support.ts';
import { type BackupRig, startBackupRig } from './support.ts';

const DAY_MS = 86_400_000;

describe('incremental backups (BACKUP handler, Stripe fake)', () => {
  let fakes: Fakes;
  let rig: BackupRig;
  const accountId = randomUUID();
  /** The handler's clock: the test moves it forward a week instead of waiting. */
  let clockOffsetMs = 0;

  beforeAll(async () => {
    fakes = await startFakes();
    for (let i = 0; i < 30; i++) fakes.stripe.add('customers');
    for (let i = 0; i < 4; i++) fakes.stripe.add('products');
    rig = await startBackupRig({ baseUrls: fakes.baseUrls }, { stripe: { platform: 'stripe', credentials: { apiKey: 'sk_test_valid' } } }, { now: () => new Date(Date.now() + clockOffsetMs) });
  });

  afterAll(async () => {
    await rig?.close();
    await fakes?.close();
  });

  const log = async (job: Job) => (await logLines(rig.subgraph, job.id)).map((line) => line.message);

  /** The snapshot's items as `resource:id` → parsed JSON, read back through the engine (chunks verified). */
  async function snapshotContent(job: Job): Promise<{ header: SnapshotHeader; items: Map<string, unknown> }> {
    const account = await rig.repository.account(accountId);
    const header = await readSnapshot(account, String(job.result!.engineSnapshotId));
    const items = new Map<string, unknown>();
    for await (const item of snapshotItems(account, header)) {
      const meta = itemMetadata(item.metadata)!;
      const bytes = await readAll(account.readChunks(item.chunks, { expectedContentHash: item.contentHash }));
      items.set(`${meta.resource}:${meta.id}`, JSON.parse(bytes.toString('utf8')));
    }
    return { header, items };
  }

  /** What the platform serves now, in the same shape. */
  function platformContent(lists: StripeListName[]): Map<string, unknown> {
    const out = new Map<string, unknown>();
    for (const list of lists) for (const object of fakes.stripe.objects[list]) out.set(`${list}:${object.id}`, structuredClone(object));
    return out;
  }

  it('reads only what changed since the last backup, keeps the rest from it, and each snapshot holds the whole source', async () => {
    const source = rig.sources.add(accountId, 'stripe', ['customers', 'products']);
    const first = await rig.run(accountId, 'BACKUP', source.id);
    expect(await log(first)).toEqual(expect.arrayContaining(['Backing up customers in full: the first backup of this source', 'customers: 30 items read']));
    expect((await snapshotContent(first)).items).toEqual(platformContent(['customers', 'products']));

    fakes.stripe.advance(10_000);
    const changed = fakes.stripe.update('customers', fakes.stripe.objects.customers[3].id, { email: 'changed@example.com' });
    const added = fakes.stripe.add('customers');
    fakes.stripe.requests.length = 0;
    const progress = await recordEvents(rig.bus, `lb.evt.${accountId}.job.progress`);
    const second = await rig.run(accountId, 'BACKUP', source.id);
    await progress.stop();

    // Progress has a total from the start: the last snapshot's 34 items as the estimate, then the exact 35.
    const shown = progress.ofJob(second.id).map((event) => (event.data as { job: { progress: { itemsTotal: number | null; totalsEstimated: boolean } } }).job.progress);
    expect(shown[0]).toMatchObject({ itemsTotal: 34, totalsEstimated: true });
    expect(second.progress).toMatchObject({ itemsDone: 35, itemsTotal: 35, totalsEstimated: false });

    // Only changes were asked for: new objects by creation time, changed ones through the Events API.
    const [listing] = fakes.stripe.requestsTo('/v1/customers');
    expect(listing.query.get('created[gte]')).not.toBeNull();
    expect(fakes.stripe.requestsTo('/v1/events').length).toBeGreaterThan(0);
    expect(await log(second)).toEqual(
      expect.arrayContaining([
        'Backing up customers: what changed since the last backup',
        'customers: 2 new or changed items read, 29 unchanged items kept from the last backup',
        'products: 0 new or changed items read, 4 unchanged items kept from the last backup',
      ]),
    );
    const { header, items } = await snapshotContent(second);
    expect(items).toEqual(platformContent(['customers', 'products']));
    expect(items.get(`customers:${changed.id}`)).toMatchObject({ email: 'changed@example.com' });
    expect(items.has(`customers:${added.id}`)).toBe(true);
    expect(header.totals.items).toBe(31 + 4);
    expect(second.result).toMatchObject({ items: 35, rejected: 0 });
    expect(header.parentId).toBe(String(first.result!.engineSnapshotId));
    expect(readBackupState(header).resources).toHaveProperty('customers');
  });

  it('reads every resource in full when the backup was started with full: true', async () => {
    const source = rig.sources.add(accountId, 'stripe', ['customers']);
    await rig.run(accountId, 'BACKUP', source.id);
    const [gone] = fakes.stripe.objects.customers.splice(2, 1);
    fakes.stripe.requests.length = 0;
    const full = await rig.run(accountId, 'BACKUP', source.id, { full: true });
    expect(await log(full)).toContain('Backing up customers in full: a full backup was asked for');
    expect(fakes.stripe.requestsTo('/v1/customers')[0].query.get('created[gte]')).toBeNull();
    const { items } = await snapshotContent(full);
    expect(items.has(`customers:${gone.id}`)).toBe(false);
    expect(items).toEqual(platformContent(['customers']));
  });

  it('keeps an item deleted at the platform until the periodic full run, which drops it', async () => {
    const source = rig.sources.add(accountId, 'stripe', ['customers']);
    const first = await rig.run(accountId, 'BACKUP', source.id);
    const [gone] = fakes.stripe.objects.customers.splice(5, 1);

    const incremental = await rig.run(accountId, 'BACKUP', source.id);
    expect(await log(incremental)).toContain('Backing up customers: what changed since the last backup');
    // A backup keeps what it saw: the deletion is not visible to an incremental read.
    expect((await snapshotContent(incremental)).items.has(`customers:${gone.id}`)).toBe(true);

    // Six days on: still incremental. A week after the full read: the periodic full run.
    clockOffsetMs = 6 * DAY_MS;
    expect(await log(await rig.run(accountId, 'BACKUP', source.id))).toContain('Backing up customers: what changed since the last backup');
    const firstState = readBackupState((await snapshotContent(first)).header);
    clockOffsetMs = Date.parse(firstState.resources.customers.fullRunAt) + 7 * DAY_MS - Date.now();
    const full = await rig.run(accountId, 'BACKUP', source.id);
    expect(await log(full)).toContain('Backing up customers in full: the periodic full run, which reads every item again and drops what was deleted at the platform');
    const { items } = await snapshotContent(full);
    expect(items.has(`customers:${gone.id}`)).toBe(false);
    expect(items).toEqual(platformContent(['customers']));
  });
});

describe('incremental state', () => {
  const now = new Date('2026-11-25T12:00:00Z');
  const header = (state: unknown) => ({ state }) as unknown as SnapshotHeader;

  it('ignores a missing or malformed state: every resource is read in full', () => {
    for (const state of [undefined, null, 'x', { version: 2, resources: {} }, { version: 1, resources: { a: { cursor: 1, fullRunAt: 'not a date' } } }]) {
      expect(planResource(readBackupState(header(state)), 'a', true, now, 1000)).toMatchObject({ full: true });
    }
    expect(planResource(readBackupState(null), 'a', true, now, 1000)).toMatchObject({ full: true });
  });

  it('reads from the cursor within the full-run period, in full after it; without incremental lists, lists everything and keeps unchanged contents', () => {
    const state = readBackupState(header({ version: 1, resources: { a: { cursor: { at: 5 }, fullRunAt: '2026-11-25T11:59:59.500Z' }, files: { fullRunAt: '2026-11-25T11:59:59.500Z' } } }));
    expect(planResource(state, 'a', true, now, 1000)).toEqual({ full: false, cursor: { at: 5 }, fullRunAt: '2026-11-25T11:59:59.500Z' });
    expect(planResource(state, 'a', true, now, 500)).toMatchObject({ full: true });
    expect(planResource(state, 'a', false, now, 1000)).toEqual({ full: false, fullRunAt: '2026-11-25T11:59:59.500Z' });
    expect(planResource(state, 'files', false, now, 1000)).toEqual({ full: false, fullRunAt: '2026-11-25T11:59:59.500Z' });
    // The periodic full run reads every content again, so a change marker that failed to change hides a change for one period at most.
    expect(planResource(state, 'files', false, now, 500)).toMatchObject({ full: true, reason: expect.stringContaining('reads every item again') });
    expect(planResource(state, 'b', true, now, 1000)).toMatchObject({ full: true });
  });

  it('records when a resource was last read in full, with or without a cursor', () => {
    const next = { version: 1 as const, resources: {} };
    recordResource(next, 'files', { full: true, reason: 'first' }, undefined, now);
    recordResource(next, 'a', { full: false, cursor: 1, fullRunAt: '2026-11-20T00:00:00.000Z' }, 2, now);
    expect(next.resources).toEqual({ files: { fullRunAt: now.toISOString() }, a: { cursor: 2, fullRunAt: '2026-11-20T00:00:00.000Z' } });
    expect(readBackupState(header(next)).resources).toEqual(next.resources);
  });

  it('drops the cursor of a resource with a rejected item, so its next run is a full one', () => {
    const next = { version: 1 as const, resources: { customers: { cursor: 1, fullRunAt: now.toISOString() }, products: { cursor: 2, fullRunAt: now.toISOString() } } };
    const published = publishedState(next, [{ id: 'customers:cus_1', path: 'customers/cus_1.json', reason: 'too large' }]);
    expect(Object.keys(published.resources)).toEqual(['products']);
    expect(Object.keys(next.resources)).toEqual(['customers', 'products']);
  });
});
