import { describe, expect, it } from 'vitest';
import {
  base32Decode,
  base32Encode,
  generateTotpSecret,
  totpCode,
  totpCounter,
  totpUri,
  verifyTotp,
} from '../src/totp.ts';

const ascii = (text: string) => base32Encode(Buffer.from(text, 'ascii'));

// RFC 6238 Appendix B. The seeds are the ASCII strings below (20, 32 and 64 bytes).
const SHA1_SECRET = ascii('12345678901234567890');
const SHA256_SECRET = ascii('12345678901234567890123456789012');
const SHA512_SECRET = ascii('1234567890123456789012345678901234567890123456789012345678901234');
const VECTORS: [seconds: number, sha1: string, sha256: string, sha512: string][] = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];

describe('base32 (RFC 4648)', () => {
  it('matches the RFC 4648 §10 test vectors, without padding', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'MY'],
      ['fo', 'MZXQ'],
      ['foo', 'MZXW6'],
      ['foob', 'MZXW6YQ'],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI'],
    ];
    for (const [plain, encoded] of vectors) {
      expect(base32Encode(Buffer.from(plain))).toBe(encoded);
      expect(base32Decode(encoded).toString()).toBe(plain);
    }
  });

  it('decodes padded, lower-case and spaced input', () => {
    expect(base32Decode('MZXW6YQ=').toString()).toBe('foob');
    expect(base32Decode('mzxw 6ytb oi').toString()).toBe('foobar');
  });

  it('round-trips random bytes', () => {
    for (let length = 0; length < 40; length++) {
      const bytes = Buffer.from(Array.from({ length }, (_, i) => (i * 37 + length * 11) & 0xff));
      expect(base32Decode(base32Encode(bytes))).toEqual(bytes);
    }
  });

  it('rejects characters outside the alphabet and impossible lengths', () => {
    expect(() => base32Decode('MZXW1')).toThrow(/character/);
    expect(() => base32Decode('MZXW6Y!')).toThrow(/character/);
    expect(() => base32Decode('M')).toThrow(/length/);
    expect(() => base32Decode('MZX')).toThrow(/length/);
  });
});

describe('TOTP (RFC 6238)', () => {
  it('produces the Appendix B SHA1 test vectors with 8 digits', () => {
    expect(SHA1_SECRET).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    for (const [seconds, sha1] of VECTORS) {
      expect(totpCode(SHA1_SECRET, seconds * 1000, { digits: 8 })).toBe(sha1);
    }
  });

  it('produces the Appendix B SHA256 and SHA512 test vectors', () => {
    for (const [seconds, , sha256, sha512] of VECTORS) {
      expect(totpCode(SHA256_SECRET, seconds * 1000, { digits: 8, algorithm: 'SHA256' })).toBe(sha256);
      expect(totpCode(SHA512_SECRET, seconds * 1000, { digits: 8, algorithm: 'SHA512' })).toBe(sha512);
    }
  });

  it('verifies the Appendix B vectors and returns the time-step counter', () => {
    for (const [seconds, sha1] of VECTORS) {
      expect(verifyTotp(SHA1_SECRET, sha1, { time: seconds * 1000, digits: 8, window: 0 })).toBe(Math.floor(seconds / 30));
    }
  });

  it('uses 6 digits and 30 s steps by default (the last 6 digits of the 8-digit code)', () => {
    expect(totpCode(SHA1_SECRET, 59_000)).toBe('287082');
    expect(totpCode(SHA1_SECRET, 1111111109_000)).toBe('081804');
    expect(totpCounter(59_000)).toBe(1);
    expect(totpCounter(60_000)).toBe(2);
  });

  it('accepts the previous and next step with the default window of 1, and no further', () => {
    const now = 1_700_000_000_000;
    const step = 30_000;
    const counter = totpCounter(now);
    expect(verifyTotp(SHA1_SECRET, totpCode(SHA1_SECRET, now), { time: now })).toBe(counter);
    expect(verifyTotp(SHA1_SECRET, totpCode(SHA1_SECRET, now - step), { time: now })).toBe(counter - 1);
    expect(verifyTotp(SHA1_SECRET, totpCode(SHA1_SECRET, now + step), { time: now })).toBe(counter + 1);
    expect(verifyTotp(SHA1_SECRET, totpCode(SHA1_SECRET, now - 2 * step), { time: now })).toBeNull();
    expect(verifyTotp(SHA1_SECRET, totpCode(SHA1_SECRET, now + 2 * step), { time: now })).toBeNull();
  });

  it('honours window 0 and wider windows', () => {
    const now = 1_700_000_000_000;
    const step = 30_000;
    const counter = totpCounter(now);
    expect(verifyTotp(SHA1_SECRET, totpCode(SHA1_SECRET, now - step), { time: now, window: 0 })).toBeNull();
    expect(verifyTotp(SHA1_SECRET, totpCode(SHA1_SECRET, now), { time: now, window: 0 })).toBe(counter);
    expect(verifyTotp(SHA1_SECRET, totpCode(SHA1_SECRET, now - 2 * step), { time: now, window: 2 })).toBe(counter - 2);
  });

  it('lets callers reject reuse through the returned counter', () => {
    const now = 1_700_000_000_000;
    const code = totpCode(SHA1_SECRET, now);
    const first = verifyTotp(SHA1_SECRET, code, { time: now });
    const replay = verifyTotp(SHA1_SECRET, code, { time: now + 10_000 });
    expect(first).not.toBeNull();
    expect(replay).toBe(first); // same step: the caller sees counter <= last accepted and refuses
  });

  it('returns null for a wrong or malformed code', () => {
    const now = 1_700_000_000_000;
    const code = totpCode(SHA1_SECRET, now);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    expect(verifyTotp(SHA1_SECRET, wrong, { time: now, window: 0 })).toBeNull();
    expect(verifyTotp(SHA1_SECRET, code.slice(0, 5), { time: now })).toBeNull();
    expect(verifyTotp(SHA1_SECRET, `${code}0`, { time: now })).toBeNull();
    expect(verifyTotp(SHA1_SECRET, '', { time: now })).toBeNull();
    expect(verifyTotp(SHA1_SECRET, 'abcdef', { time: now })).toBeNull();
    expect(verifyTotp(SHA1_SECRET, `${code.slice(0, 5)}x`, { time: now })).toBeNull();
    expect(verifyTotp(SHA1_SECRET, `-${code.slice(1)}`, { time: now })).toBeNull();
    expect(verifyTotp(SHA1_SECRET, '１２３４５６', { time: now })).toBeNull(); // full-width digits
    expect(verifyTotp(SHA1_SECRET, undefined as unknown as string, { time: now })).toBeNull();
    // An 8-digit code is not accepted where 6 are expected, nor the reverse.
    expect(verifyTotp(SHA1_SECRET, totpCode(SHA1_SECRET, now, { digits: 8 }), { time: now })).toBeNull();
    expect(verifyTotp(SHA1_SECRET, code, { time: now, digits: 8 })).toBeNull();
  });

  it('tolerates spaces typed inside the code', () => {
    const now = 1_700_000_000_000;
    const code = totpCode(SHA1_SECRET, now);
    expect(verifyTotp(SHA1_SECRET, `${code.slice(0, 3)} ${code.slice(3)}`, { time: now })).toBe(totpCounter(now));
  });

  it('throws on an invalid secret rather than pretending the code is wrong', () => {
    expect(() => verifyTotp('not base32!', '123456')).toThrow();
    expect(() => totpCode('GEZDGNBV')).toThrow(/too short/);
  });
});

describe('secrets and otpauth URIs', () => {
  it('generates 160-bit base32 secrets without padding', () => {
    const secret = generateTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(base32Decode(secret)).toHaveLength(20);
    expect(generateTotpSecret()).not.toBe(secret);
  });

  it('builds an encoded otpauth URI', () => {
    const uri = totpUri({ secret: SHA1_SECRET, accountName: 'ana+mfa@example.com', issuer: 'ListBackup' });
    expect(uri).toBe(
      'otpauth://totp/ListBackup:ana%2Bmfa%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ' +
        '&issuer=ListBackup&algorithm=SHA1&digits=6&period=30',
    );
    const parsed = new URL(uri);
    expect(parsed.protocol).toBe('otpauth:');
    expect(parsed.searchParams.get('secret')).toBe(SHA1_SECRET);
  });

  it('encodes spaces and special characters in issuer and account', () => {
    const uri = totpUri({ secret: SHA1_SECRET.toLowerCase(), accountName: 'Zoë Smith', issuer: 'List Backup & Co' });
    expect(uri.startsWith('otpauth://totp/List%20Backup%20%26%20Co:Zo%C3%AB%20Smith?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&')).toBe(true);
    expect(new URL(uri).searchParams.get('issuer')).toBe('List Backup & Co');
    expect(() => totpUri({ secret: SHA1_SECRET, accountName: 'a', issuer: 'Bad:Issuer' })).toThrow();
  });
});
