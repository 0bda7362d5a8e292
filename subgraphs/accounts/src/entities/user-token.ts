import { defineEntity, p } from '@mikro-orm/core';

export const TOKEN_PURPOSES = ['VERIFY_EMAIL', 'RESET_PASSWORD'] as const;
export type TokenPurpose = (typeof TOKEN_PURPOSES)[number];

/** A single-use token sent by email: the link proves the address (`email`) or allows a password reset. Stored hashed. */
export const UserTokenSchema = defineEntity({
  name: 'UserToken',
  tableName: 'user_tokens',
  properties: {
    id: p.uuid().primary(),
    userId: p.uuid().index(),
    purpose: p.enum(TOKEN_PURPOSES),
    tokenHash: p.text().unique(),
    /** The address the link was sent to (for an email change, the new one). */
    email: p.text(),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
    createdAt: p.datetime(),
  },
});
export class UserToken extends UserTokenSchema.class {}
UserTokenSchema.setClass(UserToken);
