import { defineEntity, p } from '@mikro-orm/core';

/**
 * An account's standing against its plan's storage quota, as last announced with
 * `billing.storage_standing` (services/storage-quota.ts). Its row is locked by every change of the
 * account's stored total or plan, so the standing follows them one at a time.
 */
export const StorageQuotaSchema = defineEntity({
  name: 'StorageQuota',
  tableName: 'storage_quotas',
  properties: {
    accountId: p.uuid().primary(),
    /** Bumped with each announcement; consumers keep the highest they saw. 0: never announced. */
    version: p.integer(),
    planCode: p.text().nullable(),
    usedBytes: p.bigint('number'),
    quotaBytes: p.bigint('number'),
    /** Since when the account stores more than a quota without overage allows; null while within it. */
    overSince: p.datetime().nullable(),
    /** When its backups are refused (the grace period's end, or when the grace margin was passed); null while within. */
    blockedFrom: p.datetime().nullable(),
  },
});

export class StorageQuota extends StorageQuotaSchema.class {}
StorageQuotaSchema.setClass(StorageQuota);
