import { defineEntity, p } from '@mikro-orm/core';
import { uuidv7 } from '@listbackup/lib/events/envelope';

export const AccountSchema = defineEntity({
  name: 'Account',
  tableName: 'accounts',
  // GIN, for `path @> array[id]` (an account's subtree) and `path && array[...]` (several subtrees).
  indexes: [
    { name: 'accounts_path_gin_index', properties: ['path'], type: 'gin' },
    { name: 'accounts_parent_name_idx', properties: ['parentId', 'name', 'id'] },
    { name: 'accounts_purge_after_index', properties: ['purgeAfter'], where: 'purge_after is not null' },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => uuidv7()),
    name: p.string(),
    parentId: p.uuid().nullable().index(),
    /** Ids from the root down to this account, itself included: finds descendants with one index scan. */
    path: p.array(),
    createdAt: p.datetime().onCreate(() => new Date()),
    /** Set while the account is suspended; reads still work, what costs resources is refused. */
    suspendedAt: p.datetime().nullable(),
    /** `billing` (non-payment: a payment resumes it) or `operator` (only an operator resumes it). */
    suspendedBy: p.enum(['billing', 'operator']).nullable(),
    suspendedReason: p.text().nullable(),
    /** Set when an owner deleted the account; it can be restored until `purgeAfter`, then it is purged. */
    deletedAt: p.datetime().nullable(),
    deletedBy: p.uuid().nullable(),
    purgeAfter: p.datetime().nullable(),
  },
});

export class Account extends AccountSchema.class {}
AccountSchema.setClass(Account);
