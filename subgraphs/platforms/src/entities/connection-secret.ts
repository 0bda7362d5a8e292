import { defineEntity, p } from '@mikro-orm/core';

/**
 * The vault row of a connection: its data key wrapped by a key-encryption key (id stored), and the
 * secrets sealed under that data key. Deleting the row shreds the secrets.
 */
export const ConnectionSecretSchema = defineEntity({
  name: 'ConnectionSecret',
  tableName: 'connection_secrets',
  properties: {
    connectionId: p.uuid().primary(),
    accountId: p.uuid(),
    kekId: p.text(),
    wrappedKey: p.blob(),
    /** Sealed JSON of the credentials (tokens or API key). */
    credentials: p.blob().nullable(),
    /** Sealed PKCE code verifier of the OAuth flow in progress. */
    pkceVerifier: p.blob().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().nullable(),
    rewrappedAt: p.datetime().nullable(),
  },
});

export class ConnectionSecret extends ConnectionSecretSchema.class {}
ConnectionSecretSchema.setClass(ConnectionSecret);
