import { defineEntity, p } from '@mikro-orm/core';
import { uuidv7 } from '@listbackup/lib/events/envelope';

/**
 * A sign-in. Its refresh tokens form one family: each refresh rotates the token, and presenting
 * an already-rotated one revokes the whole session.
 */
export const SessionSchema = defineEntity({
  name: 'Session',
  tableName: 'sessions',
  // GIN, so a rotated token presented again (`rotated_token_hashes @> array[hash]`) is found by index.
  indexes: [{ name: 'sessions_rotated_token_hashes_gin_index', properties: ['rotatedTokenHashes'], type: 'gin' }],
  properties: {
    id: p.uuid().primary().onCreate(() => uuidv7()),
    userId: p.uuid().index(),
    /** SHA-256 of the current refresh token. */
    refreshTokenHash: p.string().unique(),
    /** Hashes of the tokens this one replaced; seeing one again means the family leaked. */
    rotatedTokenHashes: p.array().default([]),
    createdAt: p.datetime().onCreate(() => new Date()),
    lastRefreshedAt: p.datetime().onCreate(() => new Date()),
    expiresAt: p.datetime(),
    revokedAt: p.datetime().nullable(),
    revokedReason: p.string().nullable(),
    userAgent: p.string().nullable(),
    ip: p.string().nullable(),
  },
});

export class Session extends SessionSchema.class {}
SessionSchema.setClass(Session);
