/**
 * The snapshot-items route the sources subgraph browses through: the jobs subgraph reads the
 * manifest from the backup store it alone holds, only for the account the manifest key names.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTERNAL_TOKEN_HEADER, signInternalToken } from '@listbackup/lib/internal-token';
import { manifestKeyOf } from '../../src/backup/engine-runtime.ts';
import { SNAPSHOT_ITEMS_PATH } from '../../src/backup/items-reader.ts';
import { type Fakes, startFakes } from '@listbackup/catalogue/testing/fakes';
import { type BackupRig, startBackupRig } from './support.ts';

describe('snapshot items route', () => {
  let fakes: Fakes;
  let rig: BackupRig;
  const accountId = randomUUID();
  let manifestKey: string;

  beforeAll(async () => {
    fakes = await startFakes();
    for (let i = 0; i < 12; i++) fakes.stripe.add('customers');
    rig = await startBackupRig({ baseUrls: fakes.baseUrls }, { stripe: { platform: 'stripe', credentials: { apiKey: 'sk_test_valid' } } });
    const source = rig.sources.add(accountId, 'stripe', ['customers']);
    const job = await rig.run(accountId, 'BACKUP', source.id);
    manifestKey = manifestKeyOf(accountId, String(job.result!.engineSnapshotId));
  });
  afterAll(async () => {
    await rig?.close();
    await fakes?.close();
  });

  const post = async (body: unknown, token?: string | null) => {
    const header = token === undefined ? await signInternalToken(rig.subgraph.secret, 'jobs', { principal: { kind: 'anonymous' }, requestId: 'test' }) : token;
    const response = await fetch(new URL(SNAPSHOT_ITEMS_PATH, rig.subgraph.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(header ? { [INTERNAL_TOKEN_HEADER]: header } : {}) },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json().catch(() => null)) as any };
  };

  it('pages through the items of a snapshot in path order, searchable', async () => {
    const first = await post({ accountId, manifestKey, first: 5 });
    expect(first.status).toBe(200);
    expect(first.body.edges).toHaveLength(5);
    expect(first.body.pageInfo.hasNextPage).toBe(true);
    const paths = first.body.edges.map((edge: any) => edge.node.path);
    expect(paths).toEqual([...paths].sort());
    const next = await post({ accountId, manifestKey, first: 50, after: first.body.pageInfo.endCursor });
    expect(next.body.edges).toHaveLength(7);
    const wanted = fakes.stripe.objects.customers[4].id;
    const found = await post({ accountId, manifestKey, search: wanted.toUpperCase() });
    expect(found.body.edges.map((edge: any) => edge.node)).toEqual([expect.objectContaining({ path: `customers/${wanted}.json`, resource: 'customers' })]);
  });

  it('reads nothing for another account, an unknown snapshot or bad input, and nothing without the internal token', async () => {
    expect((await post({ accountId: randomUUID(), manifestKey })).status).toBe(404);
    expect((await post({ accountId, manifestKey: manifestKeyOf(accountId, randomUUID()) })).status).toBe(404);
    expect((await post({ accountId, manifestKey: `../${manifestKey}` })).status).toBe(404);
    expect((await post({ accountId: 'nope', manifestKey })).status).toBe(400);
    expect((await post({ accountId, manifestKey, first: 10_000 })).status).toBe(400);
    expect((await post({ accountId, manifestKey }, null)).status).toBe(401);
  });
});
