import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AccountKeys, ContentHash, chunkDigest, generateDataKey, KeyRing } from '../src/crypto.ts';
import { DecryptionError, EngineConfigError } from '../src/errors.ts';

const kek = (id: string) => ({ id, key: randomBytes(32) });

describe('envelope encryption', () => {
  it('wraps a data key under the current KEK, records its id, and unwraps it', () => {
    const ring = new KeyRing([kek('k1'), kek('k2')]);
    const dataKey = generateDataKey();
    const wrapped = ring.wrap(dataKey, 'acct-a');
    expect(wrapped.kekId).toBe('k1');
    expect(JSON.stringify(wrapped)).not.toContain(dataKey.toString('base64'));
    expect(ring.unwrap(wrapped, 'acct-a').equals(dataKey)).toBe(true);
  });

  it('refuses to unwrap for another account, with a KEK it does not hold, or after tampering', () => {
    const ring = new KeyRing([kek('k1')]);
    const wrapped = ring.wrap(generateDataKey(), 'acct-a');
    expect(() => ring.unwrap(wrapped, 'acct-b')).toThrow(DecryptionError);
    expect(() => new KeyRing([kek('other')]).unwrap(wrapped, 'acct-a')).toThrow(/does not hold/);
    expect(() => new KeyRing([{ id: 'k1', key: randomBytes(32) }]).unwrap(wrapped, 'acct-a')).toThrow(DecryptionError);
    const tampered = { ...wrapped, ciphertext: Buffer.from(randomBytes(32)).toString('base64') };
    expect(() => ring.unwrap(tampered, 'acct-a')).toThrow(DecryptionError);
  });

  it('rotates by rewrapping: the new KEK becomes current and the data key stays the same', () => {
    const old = kek('2025');
    const next = kek('2026');
    const dataKey = generateDataKey();
    const wrapped = new KeyRing([old]).wrap(dataKey, 'acct-a');
    const rotating = new KeyRing([next, old]);
    expect(rotating.needsRewrap(wrapped)).toBe(true);
    const rewrapped = rotating.rewrap(wrapped, 'acct-a');
    expect(rewrapped.kekId).toBe('2026');
    expect(rotating.needsRewrap(rewrapped)).toBe(false);
    expect(new KeyRing([next]).unwrap(rewrapped, 'acct-a').equals(dataKey)).toBe(true);
  });

  it('parses a key ring from an environment-style spec and rejects bad keys', () => {
    const a = randomBytes(32).toString('base64');
    const b = randomBytes(32).toString('base64');
    const ring = KeyRing.parse(`new:${a}, old:${b}`);
    expect(ring.currentKekId).toBe('new');
    expect(ring.kekIds()).toEqual(['new', 'old']);
    expect(() => KeyRing.parse(`short:${randomBytes(16).toString('base64')}`)).toThrow(EngineConfigError);
    expect(() => KeyRing.parse('')).toThrow(EngineConfigError);
    expect(() => KeyRing.parse(`a:${a},a:${b}`)).toThrow(/twice/);
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
