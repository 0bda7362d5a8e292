import { defineEntity, p } from '@mikro-orm/core';

/**
 * An account's standing against its storage quota, as billing last announced it
 * (`billing.storage_standing`, kept by events/quota-consumer.ts): a backup reads one row before it
 * stores anything. No row: the account was never over a quota.
 */
export const AccountQuotaSchema = defineEntity({
  name: 'AccountQuota',
  tableName: 'account_quotas',
  properties: {
    accountId: p.uuid().primary(),
    /** Billing's version of the standing: an older one (redelivered, out of order) changes nothing. */
    version: p.integer(),
    planName: p.text(),
    usedBytes: p.bigint('number'),
    quotaBytes: p.bigint('number'),
    overSince: p.datetime().nullable(),
    /** Backups are refused from then on; null: they run. */
    blockedFrom: p.datetime().nullable(),
  },
});

export class AccountQuota extends AccountQuotaSchema.class {}
AccountQuotaSchema.setClass(AccountQuota);
