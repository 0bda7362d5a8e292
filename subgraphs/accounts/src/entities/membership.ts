import { defineEntity, p } from '@mikro-orm/core';
import { uuidv7 } from '@listbackup/lib/events/envelope';
import { ROLES } from '@listbackup/lib/access';

/** A role on an account, granted to a user or, until they sign up, to an invited address. */
export const MembershipSchema = defineEntity({
  name: 'Membership',
  tableName: 'memberships',
  uniques: [{ properties: ['accountId', 'email'] }],
  indexes: [
    { name: 'memberships_account_created_idx', properties: ['accountId', 'createdAt', 'id'] },
    { name: 'memberships_user_created_idx', properties: ['userId', 'createdAt', 'id'] },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => uuidv7()),
    accountId: p.uuid().index(),
    userId: p.uuid().nullable().index(),
    email: p.string().index(),
    role: p.enum(ROLES),
    invitedBy: p.uuid().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});

export class Membership extends MembershipSchema.class {}
MembershipSchema.setClass(Membership);
