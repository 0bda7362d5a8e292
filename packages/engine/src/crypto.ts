/**
 * Envelope encryption. Each account has a random 32-byte data key; a key-encryption key (KEK) from
 * the KeyRing wraps it with AES-256-GCM, and the wrapped form records which KEK did. Rotation is
 * rewrapping: the data key (and so every stored chunk) stays the same, only its wrapping changes.
 *
 * From the data key, HKDF derives two independent keys: one for HMAC-SHA256 chunk addresses (so an
 * address says nothing about content to anyone without the key, and equal content in two accounts
 * gets two addresses) and one for AES-256-GCM. Every sealed object carries a random 12-byte IV and
 * authenticates associated data naming the account, the kind of object and its name or address,
 * so bytes moved to another account or another key fail to open instead of decrypting.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, createSecretKey, hkdfSync, type KeyObject, randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto';
import { DecryptionError, EngineConfigError } from './errors.ts';

export const DATA_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export interface Kek {
  id: string;
  key: Uint8Array;
}

/** A data key as stored: JSON-safe, names the KEK that wrapped it. */
export interface WrappedDataKey {
  version: 1;
  kekId: string;
  iv: string;
  ciphertext: string;
  tag: string;
}

export function generateDataKey(): Buffer {
  return randomBytes(DATA_KEY_BYTES);
}

/** Unambiguous associated data: each field length-prefixed. */
function associatedData(...fields: string[]): Buffer {
  const parts: Buffer[] = [Buffer.from('listbackup/v1')];
  for (const field of fields) {
    const bytes = Buffer.from(field, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    parts.push(len, bytes);
  }
  return Buffer.concat(parts);
}

/** The KEKs this process knows: the current one wraps, every one unwraps. */
export class KeyRing {
  private readonly keys = new Map<string, Buffer>();
  readonly currentKekId: string;

  constructor(keks: Kek[], currentKekId?: string) {
    if (keks.length === 0) throw new EngineConfigError('a key ring needs at least one key-encryption key');
    for (const kek of keks) {
      if (!KEY_ID_PATTERN.test(kek.id)) throw new EngineConfigError(`key id "${kek.id}" must be 1-64 characters of A-Z a-z 0-9 . _ -`);
      if (kek.key.length !== 32) throw new EngineConfigError(`key-encryption key ${kek.id} must be 32 bytes, got ${kek.key.length}`);
      if (this.keys.has(kek.id)) throw new EngineConfigError(`key id ${kek.id} appears twice`);
      this.keys.set(kek.id, Buffer.from(kek.key));
    }
    this.currentKekId = currentKekId ?? keks[0].id;
    if (!this.keys.has(this.currentKekId)) throw new EngineConfigError(`current key id ${this.currentKekId} is not in the key ring`);
  }

  /** `id:base64key[,id:base64key…]`, the first one current: the shape of an ENGINE_KEKS environment variable. */
  static parse(spec: string): KeyRing {
    const keks = spec
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part) => {
        const at = part.indexOf(':');
        if (at <= 0) throw new EngineConfigError('key ring entries look like id:base64key');
        return { id: part.slice(0, at), key: Buffer.from(part.slice(at + 1), 'base64') };
      });
    return new KeyRing(keks);
  }

  kekIds(): string[] {
    return [...this.keys.keys()];
  }

  wrap(dataKey: Uint8Array, accountId: string): WrappedDataKey {
    if (dataKey.length !== DATA_KEY_BYTES) throw new EngineConfigError(`a data key is ${DATA_KEY_BYTES} bytes`);
    const kekId = this.currentKekId;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(kekId)!, iv);
    cipher.setAAD(associatedData('data-key', accountId, kekId));
    const ciphertext = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    return { version: 1, kekId, iv: iv.toString('base64'), ciphertext: ciphertext.toString('base64'), tag: cipher.getAuthTag().toString('base64') };
  }

  unwrap(wrapped: WrappedDataKey, accountId: string): Buffer {
    const kek = this.keys.get(wrapped.kekId);
    if (!kek) throw new DecryptionError(`data key of account ${accountId} is wrapped by key ${wrapped.kekId}, which this key ring does not hold`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(wrapped.iv, 'base64'));
      decipher.setAAD(associatedData('data-key', accountId, wrapped.kekId));
      decipher.setAuthTag(Buffer.from(wrapped.tag, 'base64'));
      const key = Buffer.concat([decipher.update(Buffer.from(wrapped.ciphertext, 'base64')), decipher.final()]);
      if (key.length !== DATA_KEY_BYTES) throw new Error('wrong length');
      return key;
    } catch (cause) {
      throw new DecryptionError(`data key of account ${accountId} does not unwrap with key ${wrapped.kekId}`, { cause });
    }
  }

  needsRewrap(wrapped: WrappedDataKey): boolean {
    return wrapped.kekId !== this.currentKekId;
  }

  /** The same data key wrapped by the current KEK. */
  rewrap(wrapped: WrappedDataKey, accountId: string): WrappedDataKey {
    if (!this.needsRewrap(wrapped)) return wrapped;
    const key = this.unwrap(wrapped, accountId);
    try {
      return this.wrap(key, accountId);
    } finally {
      key.fill(0);
    }
  }
}

/** Sealed object layout: magic(4) | flags(1) | iv(12) | ciphertext | tag(16). */
const MAGIC = Buffer.from('LBX1');
const HEADER_BYTES = MAGIC.length + 1;
export const SEAL_OVERHEAD = HEADER_BYTES + IV_BYTES + TAG_BYTES;

export interface Opened {
  flags: number;
  plaintext: Buffer;
}

/**
 * AES-256-GCM sealing of one account's chunks and repository objects. Separate from AccountKeys so
 * a worker thread can seal with the encryption key alone.
 */
export class Sealer {
  readonly accountId: string;
  // A KeyObject, imported once: passing raw bytes re-imports the key on every chunk.
  private readonly encKey: KeyObject;

  constructor(accountId: string, encKey: Uint8Array) {
    if (encKey.length !== 32) throw new EngineConfigError('an encryption key is 32 bytes');
    this.accountId = accountId;
    this.encKey = createSecretKey(Buffer.from(encKey));
  }

  sealChunk(address: string, body: Uint8Array, flags: number): Buffer {
    return this.seal(associatedData('chunk', this.accountId, address), body, flags);
  }

  openChunk(address: string, sealed: Uint8Array): Opened {
    return this.open(associatedData('chunk', this.accountId, address), sealed, `chunk ${address}`);
  }

  /** Repository objects (manifests, indexes, config) are bound to their kind and name instead of an address. */
  sealObject(kind: string, name: string, body: Uint8Array, flags = 0): Buffer {
    return this.seal(associatedData(`object:${kind}`, this.accountId, name), body, flags);
  }

  openObject(kind: string, name: string, sealed: Uint8Array): Opened {
    return this.open(associatedData(`object:${kind}`, this.accountId, name), sealed, `${kind} ${name}`);
  }

  private seal(aad: Buffer, body: Uint8Array, flags: number): Buffer {
    const out = Buffer.allocUnsafe(SEAL_OVERHEAD + body.length);
    MAGIC.copy(out, 0);
    out[MAGIC.length] = flags & 0xff;
    const iv = out.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES);
    randomFillSync(iv);
    const cipher = createCipheriv('aes-256-gcm', this.encKey, iv);
    cipher.setAAD(Buffer.concat([aad, out.subarray(0, HEADER_BYTES)]));
    const ct = cipher.update(body);
    ct.copy(out, HEADER_BYTES + IV_BYTES);
    const fin = cipher.final();
    if (fin.length) fin.copy(out, HEADER_BYTES + IV_BYTES + ct.length);
    cipher.getAuthTag().copy(out, out.length - TAG_BYTES);
    return out;
  }

  private open(aad: Buffer, sealed: Uint8Array, what: string): Opened {
    const buf = Buffer.isBuffer(sealed) ? sealed : Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length);
    if (buf.length < SEAL_OVERHEAD || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new DecryptionError(`${what} is not a sealed object of this format`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.encKey, buf.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES));
      decipher.setAAD(Buffer.concat([aad, buf.subarray(0, HEADER_BYTES)]));
      decipher.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
      const first = decipher.update(buf.subarray(HEADER_BYTES + IV_BYTES, buf.length - TAG_BYTES));
      const last = decipher.final();
      return { flags: buf[MAGIC.length], plaintext: last.length ? Buffer.concat([first, last]) : first };
    } catch (cause) {
      throw new DecryptionError(`${what} of account ${this.accountId} failed authentication (wrong key, moved or altered)`, { cause });
    }
  }
}

/**
 * The keys of one account, derived from its data key: chunk addressing and sealing of chunks and
 * repository objects (manifests, indexes, config).
 */
export class AccountKeys {
  readonly accountId: string;
  readonly sealer: Sealer;
  private readonly idKey: KeyObject;
  /** The derived keys, for the worker threads that address and seal chunks. */
  readonly encryptionKey: Buffer;
  readonly addressKey: Buffer;

  constructor(accountId: string, dataKey: Uint8Array) {
    if (dataKey.length !== DATA_KEY_BYTES) throw new EngineConfigError(`a data key is ${DATA_KEY_BYTES} bytes`);
    this.accountId = accountId;
    const salt = Buffer.from(`listbackup account ${accountId}`);
    this.addressKey = Buffer.from(hkdfSync('sha256', dataKey, salt, 'listbackup chunk address v2', 32));
    this.idKey = createSecretKey(this.addressKey);
    this.encryptionKey = Buffer.from(hkdfSync('sha256', dataKey, salt, 'listbackup encryption v1', 32));
    this.sealer = new Sealer(accountId, this.encryptionKey);
  }

  /** Content address of a plaintext chunk: HMAC-SHA256 of its SHA-256 (see chunkDigest) under this account's address key, hex. */
  address(plaintext: Uint8Array): string {
    return this.addressOf(chunkDigest(plaintext));
  }

  addressOf(digest: Uint8Array): string {
    return createHmac('sha256', this.idKey).update(digest).digest('hex');
  }

  /** True when the chunk with this SHA-256 has `address` (constant-time compare). */
  matches(address: string, digest: Uint8Array): boolean {
    const actual = createHmac('sha256', this.idKey).update(digest).digest();
    const expected = Buffer.from(address, 'hex');
    return expected.length === actual.length && timingSafeEqual(actual, expected);
  }

  sealChunk(address: string, body: Uint8Array, flags: number): Buffer {
    return this.sealer.sealChunk(address, body, flags);
  }

  openChunk(address: string, sealed: Uint8Array): Opened {
    return this.sealer.openChunk(address, sealed);
  }

  sealObject(kind: string, name: string, body: Uint8Array, flags = 0): Buffer {
    return this.sealer.sealObject(kind, name, body, flags);
  }

  openObject(kind: string, name: string, sealed: Uint8Array): Opened {
    return this.sealer.openObject(kind, name, sealed);
  }
}

/**
 * SHA-256 of a chunk's plaintext: the one pass over its bytes that both its address (an HMAC of
 * this digest) and its item's content hash are built from.
 */
export function chunkDigest(plaintext: Uint8Array): Buffer {
  return createHash('sha256').update(plaintext).digest();
}

/**
 * An item's content hash: SHA-256 over the SHA-256 of each of its chunks, in order (a hash list,
 * like Dropbox's content_hash over 4 MiB blocks). Every chunk's digest is computed for its address
 * anyway, so checking a whole item costs no second pass over its bytes.
 */
export class ContentHash {
  private readonly hash = createHash('sha256').update('listbackup item v2\n');

  update(chunkDigest: Uint8Array): this {
    this.hash.update(chunkDigest);
    return this;
  }

  hex(): string {
    return this.hash.digest('hex');
  }

  /** The content hash of `bytes` as one item cut into `chunks` (for tests and tools). */
  static of(chunks: Iterable<Uint8Array>): string {
    const hash = new ContentHash();
    for (const chunk of chunks) hash.update(chunkDigest(chunk));
    return hash.hex();
  }
}
