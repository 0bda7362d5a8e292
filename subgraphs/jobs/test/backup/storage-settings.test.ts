/** Storage from the environment: the S3 storage classes tiering moves packs to, and a clear error for a bad setting. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@listbackup/lib/config';
import { S3Store } from '@listbackup/engine/s3';
import { storageFromEnv } from '../../src/backup/settings.ts';

const base = { STORAGE_KEYS: `s1:${randomBytes(32).toString('base64')}`, STORAGE_S3_BUCKET: 'listbackup', STORAGE_S3_ENDPOINT: 'http://127.0.0.1:9' };

describe('storageFromEnv', () => {
  it('maps tiers to the storage classes STORAGE_S3_STORAGE_CLASSES names, the others keeping their defaults', async () => {
    const { store } = await storageFromEnv({ ...base, STORAGE_S3_STORAGE_CLASSES: 'warm=REDUCED_REDUNDANCY, cold=GLACIER' });
    expect(store).toBeInstanceOf(S3Store);
    const s3 = store as S3Store;
    expect([s3.storageClassOf('hot'), s3.storageClassOf('warm'), s3.storageClassOf('cold')]).toEqual(['STANDARD', 'REDUCED_REDUNDANCY', 'GLACIER']);
    const defaults = (await storageFromEnv(base)).store as S3Store;
    expect([defaults.storageClassOf('hot'), defaults.storageClassOf('warm'), defaults.storageClassOf('cold')]).toEqual(['STANDARD', 'STANDARD_IA', 'GLACIER_IR']);
  });

  it('refuses a malformed STORAGE_S3_STORAGE_CLASSES with a ConfigError that names it', async () => {
    for (const value of ['lukewarm=STANDARD', 'warm', 'cold=glacier']) {
      const error = await storageFromEnv({ ...base, STORAGE_S3_STORAGE_CLASSES: value }).catch((e: unknown) => e);
      expect(error, value).toBeInstanceOf(ConfigError);
      expect((error as Error).message, value).toMatch(/STORAGE_S3_STORAGE_CLASSES: ".+" is not tier=CLASS/);
    }
  });
});
