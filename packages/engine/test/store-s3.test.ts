/**
 * S3Store against a real S3-compatible HTTP server started here (s3rver, from npm), so requests,
 * signing, XML and error mapping all go over the wire.
 *
 * s3rver quirks the tests work around, each a gap of the fake server and not of S3Store:
 * - it ignores `If-None-Match: *` on PUT, so putIfAbsent runs in its HEAD-then-PUT mode there
 *   (conditionalWrites: false) and the concurrent-writers case is left to the local store;
 * - it canonicalizes bucket URLs without the trailing slash the AWS SDK signs, so it checks no
 *   signatures (allowMismatchedSignatures);
 * - it predates GLACIER_IR, so the cold tier maps to GLACIER in the tiering test, and its listings
 *   always say STANDARD, so tiers are read back with HEAD.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { CreateBucketCommand, type StorageClass } from '@aws-sdk/client-s3';
import S3rver from '@20minutes/s3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaticKeyProvider } from '../src/keys.ts';
import { runBackup } from '../src/pipeline.ts';
import { Repository } from '../src/repository.ts';
import { snapshotItems } from '../src/snapshot.ts';
import type { StorageTier } from '../src/store.ts';
import { DEFAULT_STORAGE_CLASSES, S3Store } from '../src/store-s3.ts';
import { verify } from '../src/verify.ts';
import { objectStoreContract } from './store-contract.ts';
import { jsonRecords, newAccountId, randomBuffer, sha256, sha256Of, tempDir } from './support.ts';

describe('S3Store on an S3-compatible server', () => {
  const { dir, cleanup } = tempDir('s3rver');
  let server: InstanceType<typeof S3rver>;
  let endpoint = '';
  const bucket = 'listbackup-test';

  beforeAll(async () => {
    server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, allowMismatchedSignatures: true });
    const address: AddressInfo = await server.run();
    endpoint = `http://127.0.0.1:${address.port}`;
    await store().client.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  afterAll(async () => {
    await server?.close();
    cleanup();
  });

  function store(options: { storageClasses?: Partial<Record<StorageTier, StorageClass>> } = {}): S3Store {
    return S3Store.fromConfig(
      { endpoint, region: 'us-east-1', bucket, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', prefix: 'engine/' },
      { conditionalWrites: false, ...options },
    );
  }

  objectStoreContract('s3', () => store(), { concurrentPutIfAbsent: false });

  it('maps tiers to storage classes: hot STANDARD, warm STANDARD_IA, cold GLACIER_IR by default', async () => {
    expect(DEFAULT_STORAGE_CLASSES).toEqual({ hot: 'STANDARD', warm: 'STANDARD_IA', cold: 'GLACIER_IR' });
    const s3 = store({ storageClasses: { cold: 'GLACIER' } });
    const key = `tier-${randomBytes(4).toString('hex')}/chunk`;
    await s3.putIfAbsent(key, Buffer.from('aging data'));
    expect((await s3.head(key))!.tier).toBe('hot');
    await s3.setTier(key, 'warm');
    expect((await s3.head(key))!.tier).toBe('warm');
    await s3.setTier(key, 'cold');
    expect((await s3.head(key))!.tier).toBe('cold');
    expect((await s3.getBytes(key)).toString()).toBe('aging data');
  });

  it('backs up, deduplicates, verifies and restores byte for byte through S3', async () => {
    const accountId = newAccountId();
    const repository = new Repository({ store: store(), keys: new StaticKeyProvider({ [accountId]: randomBytes(32) }) });
    try {
      const file = randomBuffer('s3-file', 3 * 1024 * 1024 + 17);
      const records = jsonRecords('s3-records', 5000);
      const items = [
        { id: 'file-1', path: 'drive/report.bin', content: () => [file] },
        { id: 'customers', path: 'stripe/customers.ndjson', content: () => [records] },
      ];
      const first = await runBackup(repository, { accountId, sourceId: 'src-s3', items });
      expect(first.snapshot.totals.logicalBytes).toBe(file.length + records.length);
      const second = await runBackup(repository, { accountId, sourceId: 'src-s3', items });
      expect(second.snapshot.totals.newBytes).toBe(0);
      expect(second.snapshot.totals.storedBytes / second.snapshot.totals.logicalBytes).toBeLessThan(0.01);

      const account = await repository.account(accountId);
      expect((await verify(account)).ok).toBe(true);
      const restored = new Map<string, string>();
      for await (const item of snapshotItems(account, second.snapshot)) restored.set(item.path, (await sha256Of(account.readItem(item.chunks))).hash);
      expect(restored).toEqual(new Map([['drive/report.bin', sha256(file)], ['stripe/customers.ndjson', sha256(records)]]));
    } finally {
      await repository.close();
    }
  });
});
