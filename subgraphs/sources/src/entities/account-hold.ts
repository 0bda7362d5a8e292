import { defineEntity, p } from '@mikro-orm/core';

/**
 * An account whose schedules are held, kept from accounts' events (events/account-holds.ts):
 * `reason` is `suspended` or `deleted`, `since` the time of the event that set it.
 */
export const AccountHoldSchema = defineEntity({
  name: 'AccountHold',
  tableName: 'account_holds',
  properties: {
    accountId: p.uuid().primary(),
    reason: p.text().primary(),
    since: p.datetime(),
  },
});
