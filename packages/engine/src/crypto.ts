/**
 * The engine's use of the envelope (envelope.ts, the AES-256-GCM primitive shared with the
 * credential vault). Each account has a random 32-byte data key; a key-encryption key (KEK) from
 * the Keyring wraps it, and the wrapped form records which KEK did. Rotation is rewrapping: the
 * data key (and so every stored chunk) stays the same, only its wrapping changes.
 *
 * From the data key, HKDF derives two independent keys: one for HMAC-SHA256 chunk addresses (so an
 * address says nothing about content to anyone without the key, and equal content in two accounts
 * gets two addresses) and one for AES-256-GCM. Every sealed object carries a random 12-byte IV and
 * authenticates associated data naming the account, the kind of object and its name or address,
 * so bytes moved to another account or another key fail to open instead of decrypting.
 */
import { createHash, createHmac, createSecretKey, hkdfSync, type KeyObject, randomFillSync, timingSafeEqual } from 'node:crypto';
import { additionalData, EnvelopeError, IV_BYTES, KEY_BYTES, type Keyring, open, seal, TAG_BYTES } from './envelope.ts';
import { DecryptionError, EngineConfigError } from './errors.ts';

export const DATA_KEY_BYTES = KEY_BYTES;

/** A data key as the repository stores it (`keys/data-key`): JSON, names the KEK that wrapped it. */
export interface WrappedDataKey {
  version: 1;
  kekId: string;
  iv: string;
  ciphertext: string;
  tag: string;
}

const PREFIX = Buffer.from('listbackup/v1');

/** Associated data of the repository format: a fixed prefix, then each field length-prefixed. */
function associatedData(...fields: string[]): Buffer {
  return Buffer.concat([PREFIX, additionalData(...fields)]);
}

const dataKeyAad = (accountId: string) => (kekId: string) => associatedData('data-key', accountId, kekId);

/** Wraps an account's data key under the keyring's current KEK. */
export function wrapDataKey(keyring: Keyring, dataKey: Uint8Array, accountId: string): WrappedDataKey {
  if (dataKey.length !== DATA_KEY_BYTES) throw new EngineConfigError(`a data key is ${DATA_KEY_BYTES} bytes`);
  const { kekId, iv, ciphertext, tag } = keyring.wrap(dataKey, dataKeyAad(accountId));
  return { version: 1, kekId, iv: iv.toString('base64'), ciphertext: ciphertext.toString('base64'), tag: tag.toString('base64') };
}

/** The account's data key; DecryptionError when no KEK of the keyring unwraps it. */
export function unwrapDataKey(keyring: Keyring, wrapped: WrappedDataKey, accountId: string): Buffer {
  if (!keyring.find(wrapped.kekId)) throw new DecryptionError(`data key of account ${accountId} is wrapped by key ${wrapped.kekId}, which the keyring does not hold`);
  try {
    return keyring.unwrap(
      { kekId: wrapped.kekId, iv: Buffer.from(wrapped.iv, 'base64'), ciphertext: Buffer.from(wrapped.ciphertext, 'base64'), tag: Buffer.from(wrapped.tag, 'base64') },
      dataKeyAad(accountId),
    );
  } catch (cause) {
    throw new DecryptionError(`data key of account ${accountId} does not unwrap with key ${wrapped.kekId}`, { cause });
  }
}

/** The same data key wrapped by the current KEK (KEK rotation), or null when it already is. */
export function rewrapDataKey(keyring: Keyring, wrapped: WrappedDataKey, accountId: string): WrappedDataKey | null {
  if (wrapped.kekId === keyring.current.id) return null;
  const key = unwrapDataKey(keyring, wrapped, accountId);
  try {
    return wrapDataKey(keyring, key, accountId);
  } finally {
    key.fill(0);
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

/** AES-256-GCM sealing of one account's chunks and repository objects, with its encryption key alone. */
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

  /** A sealed chunk as its pieces: header and IV, ciphertext, tag (written one after the other, never copied together). */
  sealChunkParts(address: string, body: Uint8Array, flags: number): Buffer[] {
    return this.sealParts(associatedData('chunk', this.accountId, address), body, flags);
  }

  private seal(aad: Buffer, body: Uint8Array, flags: number): Buffer {
    return Buffer.concat(this.sealParts(aad, body, flags), SEAL_OVERHEAD + body.length);
  }

  private sealParts(aad: Buffer, body: Uint8Array, flags: number): Buffer[] {
    const head = Buffer.allocUnsafe(HEADER_BYTES + IV_BYTES);
    MAGIC.copy(head, 0);
    head[MAGIC.length] = flags & 0xff;
    const iv = randomFillSync(head.subarray(HEADER_BYTES));
    const { ciphertext, tag } = seal(this.encKey, body, Buffer.concat([aad, head.subarray(0, HEADER_BYTES)]), iv);
    return [head, ciphertext, tag];
  }

  private open(aad: Buffer, sealed: Uint8Array, what: string): Opened {
    const buf = Buffer.isBuffer(sealed) ? sealed : Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length);
    if (buf.length < SEAL_OVERHEAD || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new DecryptionError(`${what} is not a sealed object of this format`);
    }
    const header = buf.subarray(0, HEADER_BYTES);
    try {
      const plaintext = open(
        this.encKey,
        { iv: buf.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES), ciphertext: buf.subarray(HEADER_BYTES + IV_BYTES, buf.length - TAG_BYTES), tag: buf.subarray(buf.length - TAG_BYTES) },
        Buffer.concat([aad, header]),
      );
      return { flags: buf[MAGIC.length], plaintext };
    } catch (cause) {
      if (!(cause instanceof EnvelopeError)) throw cause;
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

  constructor(accountId: string, dataKey: Uint8Array) {
    if (dataKey.length !== DATA_KEY_BYTES) throw new EngineConfigError(`a data key is ${DATA_KEY_BYTES} bytes`);
    this.accountId = accountId;
    const salt = Buffer.from(`listbackup account ${accountId}`);
    this.idKey = createSecretKey(Buffer.from(hkdfSync('sha256', dataKey, salt, 'listbackup chunk address v2', 32)));
    this.sealer = new Sealer(accountId, Buffer.from(hkdfSync('sha256', dataKey, salt, 'listbackup encryption v1', 32)));
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
