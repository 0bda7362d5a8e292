/**
 * Where an account's data key comes from. The engine asks a DataKeyProvider; StoreKeyProvider keeps
 * the wrapped key next to the account's data (as restic and kopia keep theirs in the repository),
 * so a copy of the store plus the KEKs is a complete, restorable backup. A deployment that keeps
 * wrapped keys in its database implements the same two-method interface.
 */
import { rewrapDataKey, unwrapDataKey, type WrappedDataKey, wrapDataKey } from './crypto.ts';
import { generateDataKey, type Keyring } from './envelope.ts';
import { DecryptionError } from './errors.ts';
import { assertId, layout } from './layout.ts';
import type { ObjectStore } from './store.ts';

export interface DataKeyProvider {
  /** The account's unwrapped data key, created on first use. */
  dataKey(accountId: string): Promise<Uint8Array>;
}

/** Fixed keys, for tests and tools. */
export class StaticKeyProvider implements DataKeyProvider {
  private readonly keys: Map<string, Uint8Array>;
  constructor(keys: Record<string, Uint8Array> | Map<string, Uint8Array>) {
    this.keys = keys instanceof Map ? keys : new Map(Object.entries(keys));
  }
  async dataKey(accountId: string): Promise<Uint8Array> {
    const key = this.keys.get(accountId);
    if (!key) throw new DecryptionError(`no data key for account ${accountId}`);
    return key;
  }
}

export class StoreKeyProvider implements DataKeyProvider {
  private readonly store: ObjectStore;
  private readonly keyring: Keyring;
  private readonly cache = new Map<string, Promise<Uint8Array>>();

  constructor(store: ObjectStore, keyring: Keyring) {
    this.store = store;
    this.keyring = keyring;
  }

  dataKey(accountId: string): Promise<Uint8Array> {
    assertId('account', accountId);
    let key = this.cache.get(accountId);
    if (!key) {
      key = this.load(accountId);
      this.cache.set(accountId, key);
      key.catch(() => this.cache.delete(accountId));
    }
    return key;
  }

  async wrapped(accountId: string): Promise<WrappedDataKey | null> {
    const info = await this.store.head(layout.dataKey(accountId));
    if (!info) return null;
    return JSON.parse((await this.store.getBytes(layout.dataKey(accountId))).toString('utf8')) as WrappedDataKey;
  }

  private async load(accountId: string): Promise<Uint8Array> {
    const existing = await this.wrapped(accountId);
    if (existing) return unwrapDataKey(this.keyring, existing, accountId);
    const fresh = generateDataKey();
    const wrapped = wrapDataKey(this.keyring, fresh, accountId);
    if (await this.store.putIfAbsent(layout.dataKey(accountId), Buffer.from(JSON.stringify(wrapped)))) return fresh;
    // Another process created the key first: use theirs.
    const winner = await this.wrapped(accountId);
    if (!winner) throw new Error(`data key of account ${accountId} vanished while being created`);
    return unwrapDataKey(this.keyring, winner, accountId);
  }

  /**
   * Rewraps the account's data key with the key ring's current KEK (KEK rotation). The data key
   * itself, and so every stored chunk, is unchanged. Returns false when it was already current.
   */
  async rewrap(accountId: string): Promise<boolean> {
    assertId('account', accountId);
    const existing = await this.wrapped(accountId);
    const rewrapped = existing && rewrapDataKey(this.keyring, existing, accountId);
    if (!rewrapped) return false;
    await this.store.put(layout.dataKey(accountId), Buffer.from(JSON.stringify(rewrapped)));
    this.cache.delete(accountId);
    return true;
  }
}
