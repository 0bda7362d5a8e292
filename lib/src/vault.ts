/**
 * The credential vault's envelope: AES-256-GCM through the one primitive ListBackup seals with
 * (`@listbackup/engine/envelope`, shared with the backup engine), in the vault's own byte layout.
 *
 * Every protected record has its own random data key. The data key encrypts the record's secrets;
 * a key-encryption key (KEK) from configuration wraps the data key, and the KEK's id is stored
 * beside the wrapped key. Rotating the KEK only rewraps the small data keys: the secrets stay as
 * they are. Both layers take additional authenticated data (AAD) naming the owner of the record
 * (for example account, connection, purpose), so a ciphertext copied to another row fails to
 * decrypt instead of handing one tenant's secret to another.
 */
import { EnvelopeError, IV_BYTES, type Keyring, open as openParts, type SealedParts, seal as sealParts, TAG_BYTES } from '@listbackup/engine/envelope';

export { additionalData, EnvelopeError, formatKeys, generateDataKey, generateKek, type Kek, Keyring, prependKeyToFile } from '@listbackup/engine/envelope';

/** First byte of every sealed value and wrapped key: the layout below, so it can evolve. */
const FORMAT_V1 = 1;

/** A data key wrapped by the KEK `kekId`, as a vault row stores it (`wrapped` in the layout below). */
export interface StoredWrappedKey {
  kekId: string;
  wrapped: Uint8Array;
}

/** Encrypts with a 256-bit key: `version | iv | tag | ciphertext`. */
export function seal(key: Buffer, plaintext: Buffer | string, aad: Buffer): Buffer {
  if (key.length !== 32) throw new EnvelopeError('KEY_INVALID', 'Encryption key must be 32 bytes');
  const { iv, ciphertext, tag } = sealParts(key, typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext, aad);
  return Buffer.concat([Buffer.from([FORMAT_V1]), iv, tag, ciphertext]);
}

/** Decrypts what `seal` produced with the same key and AAD; anything else is an EnvelopeError. */
export function open(key: Buffer, value: Uint8Array, aad: Buffer): Buffer {
  return openParts(key, parse(value), aad);
}

function parse(value: Uint8Array): SealedParts {
  if (value.length < 1 + IV_BYTES + TAG_BYTES || value[0] !== FORMAT_V1) throw new EnvelopeError('DECRYPTION_FAILED', 'Not a sealed value');
  return { iv: value.subarray(1, 1 + IV_BYTES), tag: value.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES), ciphertext: value.subarray(1 + IV_BYTES + TAG_BYTES) };
}

/** Wraps a data key under the keyring's current KEK. */
export function wrapDataKey(keyring: Keyring, dataKey: Buffer, aad: Buffer): StoredWrappedKey {
  const { kekId, iv, tag, ciphertext } = keyring.wrap(dataKey, aad);
  return { kekId, wrapped: Buffer.concat([Buffer.from([FORMAT_V1]), iv, tag, ciphertext]) };
}

export function unwrapDataKey(keyring: Keyring, wrapped: StoredWrappedKey, aad: Buffer): Buffer {
  return keyring.unwrap({ kekId: wrapped.kekId, ...parse(wrapped.wrapped) }, aad);
}

/** The same data key wrapped under the current KEK, or null when it already is. */
export function rewrapDataKey(keyring: Keyring, wrapped: StoredWrappedKey, aad: Buffer): StoredWrappedKey | null {
  if (wrapped.kekId === keyring.current.id) return null;
  const dataKey = unwrapDataKey(keyring, wrapped, aad);
  try {
    return wrapDataKey(keyring, dataKey, aad);
  } finally {
    dataKey.fill(0);
  }
}
