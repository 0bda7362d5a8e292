import { defineEntity, p } from '@mikro-orm/core';
import { uuidv7 } from '@listbackup/lib/events/envelope';

/** Programmatic access to an account and its sub-accounts, limited to its scopes. */
export const ApiKeySchema = defineEntity({
  name: 'ApiKey',
  tableName: 'api_keys',
  properties: {
    id: p.uuid().primary().onCreate(() => uuidv7()),
    accountId: p.uuid().index(),
    name: p.string(),
    /** Shown in lists to tell keys apart; the full secret is never stored. */
    prefix: p.string(),
    /** SHA-256 of the secret (the secret has 256 bits of entropy, so a slow hash adds nothing). */
    secretHash: p.string().unique(),
    scopes: p.array(),
    createdBy: p.uuid().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    lastUsedAt: p.datetime().nullable(),
    revokedAt: p.datetime().nullable(),
  },
});

export class ApiKey extends ApiKeySchema.class {}
ApiKeySchema.setClass(ApiKey);
