import type { Em } from '@listbackup/lib/db';
import {
  additionalData,
  generateDataKey,
  open,
  rewrapDataKey,
  seal,
  unwrapDataKey,
  wrapDataKey,
  type Keyring,
} from '@listbackup/lib/vault';
import { ConnectionSecret } from '../entities/connection-secret.ts';

/** What a connection authenticates with. Lives only sealed in `connection_secrets` and in memory. */
export type Credentials =
  | { kind: 'oauth2'; accessToken: string; refreshToken?: string; tokenType?: string }
  | { kind: 'apiKey'; apiKey: string };

export type SecretPurpose = 'credentials' | 'pkce';

// The AAD binds each ciphertext to its tenant, its connection and what it is, so bytes copied to
// another row (or from one column to the other) do not decrypt.
const keyAad = (secret: ConnectionSecret) => additionalData('listbackup/platforms/data-key/v1', secret.accountId, secret.connectionId);
const valueAad = (secret: ConnectionSecret, purpose: SecretPurpose) =>
  additionalData('listbackup/platforms/secret/v1', secret.accountId, secret.connectionId, purpose);

/** Seals and opens the secrets of connections, one data key per connection. */
export class CredentialVault {
  readonly keyring: Keyring;

  constructor(keyring: Keyring) {
    this.keyring = keyring;
  }

  /** A new vault row for a connection, with a fresh data key wrapped under the current KEK (persisted with `em`). */
  create(em: Em, accountId: string, connectionId: string): ConnectionSecret {
    const secret = em.create(ConnectionSecret, { connectionId, accountId, kekId: '', wrappedKey: Buffer.alloc(0), createdAt: new Date() });
    const dataKey = generateDataKey();
    try {
      const wrapped = wrapDataKey(this.keyring, dataKey, keyAad(secret));
      secret.kekId = wrapped.kekId;
      secret.wrappedKey = wrapped.wrapped;
    } finally {
      dataKey.fill(0);
    }
    return secret;
  }

  seal(secret: ConnectionSecret, purpose: 'credentials', value: Credentials): void;
  seal(secret: ConnectionSecret, purpose: 'pkce', value: string): void;
  seal(secret: ConnectionSecret, purpose: SecretPurpose, value: Credentials | string): void {
    const sealed = this.#withDataKey(secret, (key) => seal(key, JSON.stringify(value), valueAad(secret, purpose)));
    if (purpose === 'credentials') secret.credentials = sealed;
    else secret.pkceVerifier = sealed;
    secret.updatedAt = new Date();
  }

  openCredentials(secret: ConnectionSecret): Credentials | null {
    if (!secret.credentials) return null;
    const sealed = secret.credentials;
    return JSON.parse(this.#withDataKey(secret, (key) => open(key, sealed, valueAad(secret, 'credentials')).toString('utf8'))) as Credentials;
  }

  openPkceVerifier(secret: ConnectionSecret): string | null {
    if (!secret.pkceVerifier) return null;
    const sealed = secret.pkceVerifier;
    return JSON.parse(this.#withDataKey(secret, (key) => open(key, sealed, valueAad(secret, 'pkce')).toString('utf8'))) as string;
  }

  /** Rewraps the row's data key under the current KEK; false when it already was. */
  rewrap(secret: ConnectionSecret): boolean {
    const rewrapped = rewrapDataKey(this.keyring, { kekId: secret.kekId, wrapped: secret.wrappedKey }, keyAad(secret));
    if (!rewrapped) return false;
    secret.kekId = rewrapped.kekId;
    secret.wrappedKey = rewrapped.wrapped;
    secret.rewrappedAt = new Date();
    return true;
  }

  #withDataKey<T>(secret: ConnectionSecret, use: (key: Buffer) => T): T {
    const key = unwrapDataKey(this.keyring, { kekId: secret.kekId, wrapped: secret.wrappedKey }, keyAad(secret));
    try {
      return use(key);
    } finally {
      key.fill(0);
    }
  }
}
