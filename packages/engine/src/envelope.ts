/**
 * AES-256-GCM envelopes: the one sealing primitive of ListBackup, shared by the backup engine
 * (chunks, repository objects, each account's wrapped data key) and the credential vault
 * (`@listbackup/lib/vault`: connection secrets and their wrapped data keys).
 *
 * A key-encryption key (KEK) from a Keyring wraps a random data key, and the data key seals the
 * data; the wrapped key records which KEK wrapped it. Rotating a KEK is rewrapping the small data
 * keys: what they sealed stays as it is. Every seal authenticates associated data that names what
 * is sealed and whose it is, so bytes moved to another record fail to open instead of decrypting.
 *
 * How the parts (IV, ciphertext, tag) are laid out in bytes is each format's own (see the engine's
 * README and the vault); this module owns the cipher, the keys and the key ring. It imports only
 * node:crypto and node:fs, so importing it loads nothing else of the engine.
 */
import { createCipheriv, createDecipheriv, type KeyObject, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const ALGORITHM = 'aes-256-gcm';
export const KEY_BYTES = 32;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
const KEK_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** A 32-byte key, raw or imported once as a KeyObject (cheaper when it seals many values). */
export type Key = Uint8Array | KeyObject;

/** A key-encryption key: 32 random bytes and the id stored beside everything it wraps. */
export interface Kek {
  id: string;
  key: Buffer;
}

export type EnvelopeErrorCode = 'DECRYPTION_FAILED' | 'KEY_INVALID';

/**
 * `DECRYPTION_FAILED`: wrong key, unknown KEK, other associated data or altered bytes (never says
 * which secret). `KEY_INVALID`: a key or key ring that cannot be used (bad id, length, spec).
 */
export class EnvelopeError extends Error {
  readonly code: EnvelopeErrorCode;
  constructor(code: EnvelopeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EnvelopeError';
    this.code = code;
  }
}

/** Associated data from parts, each length-prefixed, so no two lists give the same bytes (`["ab","c"]` ≠ `["a","bc"]`). */
export function additionalData(...parts: string[]): Buffer {
  const buffers: Buffer[] = [];
  for (const part of parts) {
    const bytes = Buffer.from(part, 'utf8');
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(bytes.length);
    buffers.push(length, bytes);
  }
  return Buffer.concat(buffers);
}

/** One sealed value's parts, as `open` reads them (views into a stored object will do). */
export interface SealedParts {
  iv: Uint8Array;
  ciphertext: Uint8Array;
  tag: Uint8Array;
}

/** One sealed value's parts, as `seal` makes them. */
export interface Sealed extends SealedParts {
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** AES-256-GCM of `plaintext` under `key`, authenticating `aad`, with a fresh random IV. */
export function seal(key: Key, plaintext: Uint8Array, aad: Uint8Array, iv: Buffer = randomBytes(IV_BYTES)): Sealed {
  const cipher = createCipheriv(ALGORITHM, key, iv);
  cipher.setAAD(aad);
  const first = cipher.update(plaintext);
  const last = cipher.final();
  return { iv, ciphertext: last.length ? Buffer.concat([first, last]) : first, tag: cipher.getAuthTag() };
}

/** The plaintext of what `seal` produced with the same key and associated data; an EnvelopeError otherwise. */
export function open(key: Key, sealed: SealedParts, aad: Uint8Array): Buffer {
  if (sealed.iv.length !== IV_BYTES || sealed.tag.length !== TAG_BYTES) throw new EnvelopeError('DECRYPTION_FAILED', 'Not a sealed value');
  try {
    const decipher = createDecipheriv(ALGORITHM, key, sealed.iv);
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.tag);
    const first = decipher.update(sealed.ciphertext);
    const last = decipher.final();
    return last.length ? Buffer.concat([first, last]) : first;
  } catch (cause) {
    throw new EnvelopeError('DECRYPTION_FAILED', 'Decryption failed', { cause });
  }
}

export function generateDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** A data key wrapped by the KEK `kekId`. */
export interface WrappedKey extends Sealed {
  kekId: string;
}

/** Associated data of a wrapped key: fixed, or depending on the id of the KEK that wraps it. */
export type WrapAad = Uint8Array | ((kekId: string) => Uint8Array);

const aadFor = (aad: WrapAad, kekId: string) => (typeof aad === 'function' ? aad(kekId) : aad);

/**
 * The KEKs a process may use: the first is current (wraps new data keys), the others stay readable
 * so data keys wrapped before a rotation still open. An optional `reload` re-reads the source (a
 * key file) when it changed, so a running service picks up a rotation without a restart.
 */
export class Keyring {
  #keys: Kek[];
  readonly #reload?: () => Kek[] | undefined;

  constructor(keys: readonly { id: string; key: Uint8Array }[], reload?: () => Kek[] | undefined) {
    Keyring.validate(keys);
    this.#keys = keys.map((kek) => ({ id: kek.id, key: Buffer.from(kek.key) }));
    this.#reload = reload;
  }

  /**
   * Parses `id:base64key[,id:base64key…]` (commas or new lines), current key first: the format of
   * `VAULT_KEYS`, `STORAGE_KEYS` and key files. Each key must decode to exactly 32 bytes; ids are
   * letters, digits, `_`, `.` and `-`, and unique.
   */
  static parse(spec: string): Keyring {
    return new Keyring(parseKeys(spec));
  }

  /**
   * A keyring kept in a file (mode 0600) in the `parse` format, for the single-process default.
   * With `create`, a missing file is created with one fresh key. The file is re-read when it changes.
   */
  static fromFile(path: string, options: { create?: boolean } = {}): Keyring {
    if (!existsSync(path)) {
      if (!options.create) throw new EnvelopeError('KEY_INVALID', `Key file ${path} does not exist`);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, `${formatKeys([generateKek()])}\n`, { mode: 0o600 });
    }
    let mtimeMs = statSync(path).mtimeMs;
    return new Keyring(parseKeys(readFileSync(path, 'utf8')), () => {
      const now = statSync(path, { throwIfNoEntry: false })?.mtimeMs;
      if (now === undefined || now === mtimeMs) return undefined;
      try {
        const keys = parseKeys(readFileSync(path, 'utf8'));
        mtimeMs = now;
        return keys;
      } catch {
        // Caught mid-edit (or broken): keep the keys we have and look again next time.
        return undefined;
      }
    });
  }

  /** The key that wraps new data keys. */
  get current(): Kek {
    this.refresh();
    return this.#keys[0];
  }

  get ids(): string[] {
    this.refresh();
    return this.#keys.map((kek) => kek.id);
  }

  find(id: string): Kek | undefined {
    this.refresh();
    return this.#keys.find((candidate) => candidate.id === id);
  }

  /** Re-reads the source if it changed; answers whether the keys changed. */
  refresh(): boolean {
    const keys = this.#reload?.();
    if (!keys) return false;
    Keyring.validate(keys);
    this.#keys = keys;
    return true;
  }

  /** Throws an EnvelopeError (KEY_INVALID) naming the first problem: no key, a bad id, a duplicate id, a key not 32 bytes. */
  static validate(keys: readonly { id: string; key: Uint8Array }[]): void {
    if (keys.length === 0) throw new EnvelopeError('KEY_INVALID', 'A keyring needs at least one key');
    const seen = new Set<string>();
    for (const kek of keys) {
      if (!KEK_ID.test(kek.id)) throw new EnvelopeError('KEY_INVALID', `Invalid key id "${kek.id}": letters, digits, _ . - only (at most 64)`);
      if (seen.has(kek.id)) throw new EnvelopeError('KEY_INVALID', `Key id "${kek.id}" appears twice`);
      if (kek.key.length !== KEY_BYTES) throw new EnvelopeError('KEY_INVALID', `Key "${kek.id}" must be ${KEY_BYTES} bytes, not ${kek.key.length}`);
      seen.add(kek.id);
    }
  }

  /** Wraps a data key under the current KEK. */
  wrap(dataKey: Uint8Array, aad: WrapAad): WrappedKey {
    if (dataKey.length !== KEY_BYTES) throw new EnvelopeError('KEY_INVALID', `A data key is ${KEY_BYTES} bytes`);
    const kek = this.current;
    return { kekId: kek.id, ...seal(kek.key, dataKey, aadFor(aad, kek.id)) };
  }

  unwrap(wrapped: SealedParts & { kekId: string }, aad: WrapAad): Buffer {
    const kek = this.find(wrapped.kekId);
    if (!kek) throw new EnvelopeError('DECRYPTION_FAILED', `Unknown key-encryption key "${wrapped.kekId}"`);
    const dataKey = open(kek.key, wrapped, aadFor(aad, wrapped.kekId));
    if (dataKey.length !== KEY_BYTES) throw new EnvelopeError('DECRYPTION_FAILED', 'Decryption failed');
    return dataKey;
  }

  /** The same data key wrapped under the current KEK, or null when it already is. */
  rewrap(wrapped: SealedParts & { kekId: string }, aad: WrapAad): WrappedKey | null {
    if (wrapped.kekId === this.current.id) return null;
    const dataKey = this.unwrap(wrapped, aad);
    try {
      return this.wrap(dataKey, aad);
    } finally {
      dataKey.fill(0);
    }
  }
}

function parseKeys(spec: string): Kek[] {
  const entries = spec
    .split(/[,\n]/)
    .map((entry) => entry.trim())
    .filter(Boolean);
  return entries.map((entry) => {
    const colon = entry.indexOf(':');
    if (colon <= 0) throw new EnvelopeError('KEY_INVALID', 'Each key must be written id:base64key');
    const id = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1);
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) throw new EnvelopeError('KEY_INVALID', `Key "${id}" is not base64`);
    return { id, key: Buffer.from(encoded, 'base64') };
  });
}

/** A fresh KEK; the id defaults to `k` + the UTC date and time + random letters, so ids sort by age. */
export function generateKek(id?: string): Kek {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return { id: id ?? `k${stamp}-${randomBytes(3).toString('hex')}`, key: randomBytes(KEY_BYTES) };
}

/** The `Keyring.parse` text for these keys, current first. */
export function formatKeys(keys: readonly Kek[]): string {
  return keys.map((kek) => `${kek.id}:${kek.key.toString('base64')}`).join(',');
}

/** Writes a key file (0600) with `kek` first, followed by the keys already in it. */
export function prependKeyToFile(path: string, kek: Kek): void {
  const existing = existsSync(path) ? parseKeys(readFileSync(path, 'utf8')) : [];
  const keys = [kek, ...existing.filter((old) => old.id !== kek.id)];
  Keyring.validate(keys);
  // Written aside and renamed over, so a running service never reads half a file.
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${formatKeys(keys)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}
