import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AccountKeys, ContentHash, chunkDigest, rewrapDataKey, unwrapDataKey, wrapDataKey } from '../src/crypto.ts';
import { EnvelopeError, generateDataKey, Keyring } from '../src/envelope.ts';
import { DecryptionError } from '../src/errors.ts';

const kek = (id: string) => ({ id, key: randomBytes(32) });

describe('envelope encryption', () => {
  it('wraps a data key under the current KEK, records its id, and unwraps it', () => {
    const ring = new Keyring([kek('k1'), kek('k2')]);
    const dataKey = generateDataKey();
    const wrapped = wrapDataKey(ring, dataKey, 'acct-a');
    expect(wrapped.kekId).toBe('k1');
    expect(JSON.stringify(wrapped)).not.toContain(dataKey.toString('base64'));
    expect(unwrapDataKey(ring, wrapped, 'acct-a').equals(dataKey)).toBe(true);
  });

  it('refuses to unwrap for another account, with a KEK it does not hold, or after tampering', () => {
    const ring = new Keyring([kek('k1')]);
    const wrapped = wrapDataKey(ring, generateDataKey(), 'acct-a');
    expect(() => unwrapDataKey(ring, wrapped, 'acct-b')).toThrow(DecryptionError);
    expect(() => unwrapDataKey(new Keyring([kek('other')]), wrapped, 'acct-a')).toThrow(/does not hold/);
    expect(() => unwrapDataKey(new Keyring([{ id: 'k1', key: randomBytes(32) }]), wrapped, 'acct-a')).toThrow(DecryptionError);
    const tampered = { ...wrapped, ciphertext: Buffer.from(randomBytes(32)).toString('base64') };
    expect(() => unwrapDataKey(ring, tampered, 'acct-a')).toThrow(DecryptionError);
  });

  it('rotates by rewrapping: the new KEK becomes current and the data key stays the same', () => {
    const old = kek('2025');
    const next = kek('2026');
    const dataKey = generateDataKey();
    const wrapped = wrapDataKey(new Keyring([old]), dataKey, 'acct-a');
    const rotating = new Keyring([next, old]);
    const rewrapped = rewrapDataKey(rotating, wrapped, 'acct-a')!;
    expect(rewrapped.kekId).toBe('2026');
    expect(rewrapDataKey(rotating, rewrapped, 'acct-a')).toBeNull();
    expect(unwrapDataKey(new Keyring([next]), rewrapped, 'acct-a').equals(dataKey)).toBe(true);
  });

  it('parses a key ring from an environment-style spec and rejects bad keys', () => {
    const a = randomBytes(32).toString('base64');
    const b = randomBytes(32).toString('base64');
    const ring = Keyring.parse(`new:${a}, old:${b}`);
    expect(ring.current.id).toBe('new');
    expect(ring.ids).toEqual(['new', 'old']);
    expect(() => Keyring.parse(`short:${randomBytes(16).toString('base64')}`)).toThrow(EnvelopeError);
    expect(() => Keyring.parse('')).toThrow(expect.objectContaining({ code: 'KEY_INVALID' }));
    expect(() => Keyring.parse(`a:${a},a:${b}`)).toThrow(/twice/);
  });

  it('reads a data key wrapped before the envelope was shared: the stored format is unchanged', () => {
    // Wrapped by the engine's own AES-GCM code before it moved to envelope.ts (KEK = 32 × 0x01, data key = 32 × 0x02, account acct-a).
    const ring = new Keyring([{ id: 'k1', key: Buffer.alloc(32, 1) }]);
    const stored = { version: 1 as const, kekId: 'k1', iv: 'Eua7ZUfsLQfw4i3+', ciphertext: '5yM8lTlZkz/pCtAlJojw+js4ZBGwL2zWS00cgdn7CoY=', tag: 'n4Fy2H4y9j1c5++CZDkXVQ==' };
    expect(unwrapDataKey(ring, stored, 'acct-a').equals(Buffer.alloc(32, 2))).toBe(true);
  });

  it('addresses chunks by keyed hash: equal content gets different addresses in different accounts', () => {
    const content = Buffer.from('the same invoice in two tenants');
    const a = new AccountKeys('acct-a', generateDataKey());
    const b = new AccountKeys('acct-b', generateDataKey());
    expect(a.address(content)).toMatch(/^[0-9a-f]{64}$/);
    expect(a.address(content)).toBe(a.address(Buffer.from(content)));
    expect(a.address(content)).not.toBe(b.address(content));
    expect(a.matches(a.address(content), chunkDigest(content))).toBe(true);
    expect(a.matches(a.address(content), chunkDigest(Buffer.from('something else')))).toBe(false);
    // The address is keyed: the plain SHA-256 of the content is not it.
    expect(a.address(content)).not.toBe(chunkDigest(content).toString('hex'));
  });

  it('hashes an item as the list of its chunks: their order and every chunk count', () => {
    const one = Buffer.from('first chunk');
    const two = Buffer.from('second chunk');
    const hash = ContentHash.of([one, two]);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(ContentHash.of([Buffer.from(one), Buffer.from(two)])).toBe(hash);
    expect(ContentHash.of([two, one])).not.toBe(hash);
    expect(ContentHash.of([one])).not.toBe(hash);
    expect(ContentHash.of([])).toMatch(/^[0-9a-f]{64}$/);
  });

  it('binds a sealed chunk to its account and address: moved or altered bytes fail to open', () => {
    const dataKey = generateDataKey();
    const keys = new AccountKeys('acct-a', dataKey);
    const plaintext = randomBytes(1000);
    const address = keys.address(plaintext);
    const sealed = keys.sealChunk(address, plaintext, 0);
    expect(keys.openChunk(address, sealed).plaintext.equals(plaintext)).toBe(true);
    expect(sealed.includes(plaintext.subarray(0, 32))).toBe(false);
    // Same plaintext sealed twice: fresh IVs, different bytes.
    expect(keys.sealChunk(address, plaintext, 0).equals(sealed)).toBe(false);

    const otherAddress = keys.address(Buffer.from('other'));
    expect(() => keys.openChunk(otherAddress, sealed)).toThrow(DecryptionError);
    // Same data key, another account id: the associated data differs.
    expect(() => new AccountKeys('acct-b', dataKey).openChunk(address, sealed)).toThrow(DecryptionError);
    expect(() => new AccountKeys('acct-a', generateDataKey()).openChunk(address, sealed)).toThrow(DecryptionError);
    const flipped = Buffer.from(sealed);
    flipped[40] ^= 1;
    expect(() => keys.openChunk(address, flipped)).toThrow(DecryptionError);
    const flagChanged = Buffer.from(sealed);
    flagChanged[4] ^= 1;
    expect(() => keys.openChunk(address, flagChanged)).toThrow(DecryptionError);
    expect(() => keys.openChunk(address, sealed.subarray(0, 10))).toThrow(DecryptionError);
  });
});
