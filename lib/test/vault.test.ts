import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Keyring,
  EnvelopeError,
  additionalData,
  formatKeys,
  generateDataKey,
  generateKek,
  open,
  prependKeyToFile,
  rewrapDataKey,
  seal,
  unwrapDataKey,
  wrapDataKey,
} from '../src/vault.ts';

const aad = (...parts: string[]) => additionalData('test', ...parts);

describe('seal / open (AES-256-GCM)', () => {
  const key = generateDataKey();

  it('round-trips, and two seals of the same text differ (fresh IV)', () => {
    const first = seal(key, 'xoxb-secret', aad('acct', 'conn', 'credentials'));
    const second = seal(key, 'xoxb-secret', aad('acct', 'conn', 'credentials'));
    expect(first.equals(second)).toBe(false);
    expect(first.includes(Buffer.from('xoxb-secret'))).toBe(false);
    expect(open(key, first, aad('acct', 'conn', 'credentials')).toString()).toBe('xoxb-secret');
  });

  it('refuses another AAD: other account, other connection, other purpose', () => {
    const sealed = seal(key, 'token', aad('acct', 'conn', 'credentials'));
    for (const wrong of [aad('acct2', 'conn', 'credentials'), aad('acct', 'conn2', 'credentials'), aad('acct', 'conn', 'pkce')]) {
      expect(() => open(key, sealed, wrong)).toThrow(EnvelopeError);
    }
  });

  it('refuses another key and any flipped byte', () => {
    const sealed = seal(key, 'token', aad('a'));
    expect(() => open(generateDataKey(), sealed, aad('a'))).toThrow(EnvelopeError);
    for (const index of [0, 1, 14, 30, sealed.length - 1]) {
      const tampered = Buffer.from(sealed);
      tampered[index] ^= 0x01;
      expect(() => open(key, tampered, aad('a'))).toThrow(EnvelopeError);
    }
    expect(() => open(key, Buffer.alloc(5), aad('a'))).toThrow(EnvelopeError);
  });

  it('length-prefixes AAD parts so shifted boundaries do not collide', () => {
    expect(additionalData('ab', 'c').equals(additionalData('a', 'bc'))).toBe(false);
  });
});

describe('Keyring', () => {
  const k1 = generateKek('k1');
  const k2 = generateKek('k2');

  it('parses VAULT_KEYS, first key current, others readable', () => {
    const keyring = Keyring.parse(formatKeys([k2, k1]));
    expect(keyring.current.id).toBe('k2');
    expect(keyring.ids).toEqual(['k2', 'k1']);
    expect(keyring.find('k1')?.key.equals(k1.key)).toBe(true);
    expect(keyring.find('k3')).toBeUndefined();
  });

  it('rejects malformed specs with a message naming the problem', () => {
    expect(() => Keyring.parse('')).toThrow(/at least one key/);
    expect(() => Keyring.parse('nokey')).toThrow(/id:base64key/);
    expect(() => Keyring.parse(`k1:${randomBytes(16).toString('base64')}`)).toThrow(/32 bytes, not 16/);
    expect(() => Keyring.parse(`k1:${k1.key.toString('base64')},k1:${k2.key.toString('base64')}`)).toThrow(/appears twice/);
    expect(() => Keyring.parse(`bad id:${k1.key.toString('base64')}`)).toThrow(/Invalid key id/);
    expect(() => Keyring.parse('k1:***')).toThrow(/not base64/);
  });
});

describe('data keys wrapped by a KEK', () => {
  const old = generateKek('old');
  const next = generateKek('new');

  it('wraps under the current KEK with its id and unwraps with the same AAD only', () => {
    const keyring = new Keyring([old]);
    const dataKey = generateDataKey();
    const wrapped = wrapDataKey(keyring, dataKey, aad('acct', 'conn'));
    expect(wrapped.kekId).toBe('old');
    expect(unwrapDataKey(keyring, wrapped, aad('acct', 'conn')).equals(dataKey)).toBe(true);
    expect(() => unwrapDataKey(keyring, wrapped, aad('acct', 'other'))).toThrow(EnvelopeError);
    expect(() => unwrapDataKey(new Keyring([next]), wrapped, aad('acct', 'conn'))).toThrow(/Unknown key-encryption key "old"/);
  });

  it('rewraps under a new current KEK; old and new keys both read during the rotation', () => {
    const before = new Keyring([old]);
    const during = new Keyring([next, old]);
    const after = new Keyring([next]);
    const dataKey = generateDataKey();
    const secret = seal(dataKey, 'refresh-token', aad('acct', 'conn', 'credentials'));
    const wrappedOld = wrapDataKey(before, dataKey, aad('acct', 'conn'));

    // Mid-rotation: a row not yet rewrapped still opens, and so does a rewrapped one.
    expect(unwrapDataKey(during, wrappedOld, aad('acct', 'conn')).equals(dataKey)).toBe(true);
    const wrappedNew = rewrapDataKey(during, wrappedOld, aad('acct', 'conn'))!;
    expect(wrappedNew.kekId).toBe('new');
    expect(rewrapDataKey(during, wrappedNew, aad('acct', 'conn'))).toBeNull();

    // Once every row is rewrapped the old key can go: the secret itself was never re-encrypted.
    const reopened = unwrapDataKey(after, wrappedNew, aad('acct', 'conn'));
    expect(open(reopened, secret, aad('acct', 'conn', 'credentials')).toString()).toBe('refresh-token');
    expect(() => unwrapDataKey(after, wrappedOld, aad('acct', 'conn'))).toThrow(EnvelopeError);
  });
});

describe('values stored before the envelope moved to the engine package', () => {
  it('still open: the vault layout (version | iv | tag | ciphertext) is unchanged', () => {
    // Sealed by the vault's own AES-GCM code before it shared the engine's primitive.
    const key = Buffer.alloc(32, 3);
    const sealed = Buffer.from('AexgOCXDD9UlPs8XDBfKl9Jon1SFmC0rlV2pQqtfXbgYLYOlLVjukBPI', 'base64');
    expect(open(key, sealed, aad('acct', 'conn', 'credentials')).toString()).toBe('refresh-token');
    const wrapped = { kekId: 'old', wrapped: Buffer.from('AVelIT3KULGOlcdjqi8+DdJuOMx6i0mUSL82gqJFlunFEYSrA4JY4030Jya5TdVtGNhjObN1HfeIt6kmVg==', 'base64') };
    expect(unwrapDataKey(new Keyring([{ id: 'old', key: Buffer.alloc(32, 4) }]), wrapped, aad('acct', 'conn')).equals(key)).toBe(true);
  });
});

describe('key file (single-process default)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lb-vault-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a 0600 file with one key, and reads the same key back on the next start', () => {
    const path = join(dir, 'nested', 'vault-keys');
    const first = Keyring.fromFile(path, { create: true });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = Keyring.fromFile(path);
    expect(again.current.id).toBe(first.current.id);
    expect(again.current.key.equals(first.current.key)).toBe(true);
  });

  it('refuses a missing file without create', () => {
    expect(() => Keyring.fromFile(join(dir, 'absent'))).toThrow(/does not exist/);
  });

  it('picks up a key prepended by a rotation while running', () => {
    const path = join(dir, 'running');
    const keyring = Keyring.fromFile(path, { create: true });
    const original = keyring.current.id;
    const added = generateKek('rotated');
    prependKeyToFile(path, added);
    // Make sure the change is visible even on file systems with coarse timestamps.
    const later = new Date(Date.now() + 5_000);
    utimesSync(path, later, later);
    expect(keyring.find('rotated')?.key.equals(added.key)).toBe(true);
    expect(keyring.current.id).toBe('rotated');
    expect(keyring.find(original)).toBeDefined();
    expect(readFileSync(path, 'utf8').startsWith('rotated:')).toBe(true);
  });

  it('refuses a key file with a malformed key', () => {
    const path = join(dir, 'broken');
    writeFileSync(path, 'k1:short\n', { mode: 0o600 });
    expect(() => Keyring.fromFile(path)).toThrow(EnvelopeError);
  });
});
