import { defineEntity, p } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { AUTH_TYPES } from '@listbackup/catalogue';

export const CONNECTION_STATUSES = ['PENDING', 'AUTHORIZED', 'FAILED', 'EXPIRED', 'REVOKED'] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

/**
 * An account's link to one platform. Nothing here is secret: the credentials live encrypted in
 * `ConnectionSecret`, which only the vault reads.
 */
export const ConnectionSchema = defineEntity({
  name: 'Connection',
  tableName: 'connections',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    accountId: p.uuid().index(),
    platformId: p.uuid(),
    name: p.text(),
    status: p.enum(CONNECTION_STATUSES).default('PENDING'),
    authType: p.enum(AUTH_TYPES).nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().nullable(),
    /** Non-secret values the platform needs: shop domain, realmId, instance_url, data center… */
    params: p.json<Record<string, string>>().nullable(),
    /** Scopes the platform granted (may differ from those asked for). */
    scopes: p.array().nullable(),
    /** Who the credential belongs to on the platform, from its identity endpoint. */
    externalAccountId: p.text().nullable(),
    externalAccountName: p.text().nullable(),
    lastError: p.text().nullable(),
    lastErrorCode: p.text().nullable(),
    lastErrorAt: p.datetime().nullable(),
    authorizedAt: p.datetime().nullable(),
    revokedAt: p.datetime().nullable(),
    lastTestedAt: p.datetime().nullable(),
    accessTokenExpiresAt: p.datetime().nullable(),
    /** When the credential itself stops working (the refresh token's lifetime, where the platform says); the user must authorize again before. */
    credentialExpiresAt: p.datetime().nullable(),
    /** Since when refreshing the access has failed without a success since (cleared by one). */
    refreshFailingSince: p.datetime().nullable(),
    /** What the last `connection.expiring` was about (reason and date), so each expiry is announced once. */
    expiryNotice: p.text().nullable(),
    /** SHA-256 of the nonce of the OAuth state in flight; cleared when a callback uses it (single use). */
    pendingStateHash: p.text().nullable(),
    pendingStateExpiresAt: p.datetime().nullable(),
  },
  indexes: [{ name: 'connections_account_created_idx', properties: ['accountId', 'createdAt', 'id'] }],
});

export class Connection extends ConnectionSchema.class {}
ConnectionSchema.setClass(Connection);
