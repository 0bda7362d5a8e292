import { defineEntity, p } from '@mikro-orm/core';

/** An account with metered storage: the daily reconciliation walks these. */
export const MeteredAccountSchema = defineEntity({
  name: 'MeteredAccount',
  tableName: 'metered_accounts',
  properties: {
    accountId: p.uuid().primary(),
    firstMeteredAt: p.datetime(),
    reconciledAt: p.datetime().nullable(),
    /** The engine's figure minus the ledger's at the last reconciliation (what it corrected). */
    lastDriftBytes: p.bigint('number'),
    deletedAt: p.datetime().nullable(),
  },
});

export class MeteredAccount extends MeteredAccountSchema.class {}
MeteredAccountSchema.setClass(MeteredAccount);
