/**
 * Envelope encryption with AES-256-GCM (node:crypto only).
 *
 * Every protected record has its own random data key. The data key encrypts the record's secrets;
 * a key-encryption key (KEK) from configuration wraps the data key, and the KEK's id is stored
 * beside the wrapped key. Rotating the KEK only rewraps the small data keys: the secrets stay as
 * they are. Both layers take additional authenticated data (AAD) naming the owner of the record
 * (for example account, connection, purpose), so a ciphertext copied to another row fails to
 * decrypt instead of handing one tenant's secret to another.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** First byte of every sealed value and wrapped key: the layout below, so it can evolve. */
const FORMAT_V1 = 1;
const KEK_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** A key-encryption key: 32 random bytes and the id stored beside everything it wraps. */
export interface Kek {
  id: string;
  key: Buffer;
}

/** A data key wrapped by the KEK `kekId`. */
export interface WrappedKey {
  kekId: string;
  wrapped: Uint8Array;
}

/** Decryption failed: unknown key id, wrong key, wrong AAD or tampered bytes. Never says which secret. */
export class VaultError extends Error {
  override name = 'VaultError';
}

/**
 * The KEKs a process may use: the first is current (wraps new data keys), the others stay readable
 * so data keys wrapped before a rotation still open. An optional `reload` re-reads the source (a
 * key file) when it changed, so a running service picks up a rotation (a key added, an old one
 * retired) without a restart.
 */
export class Keyring {
  #keys: Kek[];
  readonly #reload?: () => Kek[] | undefined;

  constructor(keys: Kek[], reload?: () => Kek[] | undefined) {
    Keyring.validate(keys);
    this.#keys = keys.map((kek) => ({ id: kek.id, key: Buffer.from(kek.key) }));
    this.#reload = reload;
  }

  /**
   * Parses `VAULT_KEYS`: `id:base64key[,id:base64key…]`, current key first. Each key must decode to
   * exactly 32 bytes; ids are letters, digits, `_`, `.` and `-`, and unique.
   */
  static parse(spec: string): Keyring {
    return new Keyring(parseKeys(spec));
  }

  /**
   * A keyring kept in a file (mode 0600) in the `VAULT_KEYS` format, for the single-process default.
   * With `create`, a missing file is created with one fresh key. The file is re-read when it changes.
   */
  static fromFile(path: string, options: { create?: boolean } = {}): Keyring {
    if (!existsSync(path)) {
      if (!options.create) throw new VaultError(`Key file ${path} does not exist`);
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

  /** Throws a VaultError naming the first problem: no key, a bad id, a duplicate id, a key not 32 bytes. */
  static validate(keys: Kek[]): void {
    if (keys.length === 0) throw new VaultError('A keyring needs at least one key');
    const seen = new Set<string>();
    for (const kek of keys) {
      if (!KEK_ID.test(kek.id)) throw new VaultError(`Invalid key id "${kek.id}": letters, digits, _ . - only (at most 64)`);
      if (seen.has(kek.id)) throw new VaultError(`Key id "${kek.id}" appears twice`);
      if (kek.key.length !== KEY_BYTES) throw new VaultError(`Key "${kek.id}" must be ${KEY_BYTES} bytes, not ${kek.key.length}`);
      seen.add(kek.id);
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
    if (colon <= 0) throw new VaultError('Each key must be written id:base64key');
    const id = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1);
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) throw new VaultError(`Key "${id}" is not base64`);
    return { id, key: Buffer.from(encoded, 'base64') };
  });
}

/** A fresh KEK; the id defaults to `k` + the UTC date and time + random letters, so ids sort by age. */
export function generateKek(id?: string): Kek {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return { id: id ?? `k${stamp}-${randomBytes(3).toString('hex')}`, key: randomBytes(KEY_BYTES) };
}

/** The `VAULT_KEYS` text for these keys, current first. */
export function formatKeys(keys: Kek[]): string {
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

/**
 * Additional authenticated data from parts, each length-prefixed so that no two different lists
 * give the same bytes (`["ab","c"]` and `["a","bc"]` differ).
 */
export function additionalData(...parts: string[]): Buffer {
  return Buffer.concat(
    parts.map((part) => {
      const bytes = Buffer.from(part, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      return Buffer.concat([length, bytes]);
    }),
  );
}

export function generateDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** Encrypts with a 256-bit key: `version | iv | tag | ciphertext`. */
export function seal(key: Buffer, plaintext: Buffer | string, aad: Buffer): Buffer {
  if (key.length !== KEY_BYTES) throw new VaultError('Encryption key must be 32 bytes');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([FORMAT_V1]), iv, cipher.getAuthTag(), ciphertext]);
}

/** Decrypts what `seal` produced with the same key and AAD; anything else is a VaultError. */
export function open(key: Buffer, value: Uint8Array, aad: Buffer): Buffer {
  const sealed = asBuffer(value);
  if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== FORMAT_V1) throw new VaultError('Not a sealed value');
  const iv = sealed.subarray(1, 1 + IV_BYTES);
  const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
  try {
    const decipher = createDecipheriv(ALGORITHM, key, iv);
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw new VaultError('Decryption failed');
  }
}

const asBuffer = (bytes: Uint8Array): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

/** Wraps a data key under the keyring's current KEK. */
export function wrapDataKey(keyring: Keyring, dataKey: Buffer, aad: Buffer): WrappedKey {
  const kek = keyring.current;
  return { kekId: kek.id, wrapped: seal(kek.key, dataKey, aad) };
}

export function unwrapDataKey(keyring: Keyring, wrapped: WrappedKey, aad: Buffer): Buffer {
  const kek = keyring.find(wrapped.kekId);
  if (!kek) throw new VaultError(`Unknown key-encryption key "${wrapped.kekId}"`);
  const dataKey = open(kek.key, wrapped.wrapped, aad);
  if (dataKey.length !== KEY_BYTES) throw new VaultError('Decryption failed');
  return dataKey;
}

/** The same data key wrapped under the current KEK, or null when it already is. */
export function rewrapDataKey(keyring: Keyring, wrapped: WrappedKey, aad: Buffer): WrappedKey | null {
  if (wrapped.kekId === keyring.current.id) return null;
  const dataKey = unwrapDataKey(keyring, wrapped, aad);
  try {
    return wrapDataKey(keyring, dataKey, aad);
  } finally {
    dataKey.fill(0);
  }
}
