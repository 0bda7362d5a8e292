import { describe, expect, it } from 'vitest';
import { COMMON_PASSWORDS } from '../src/common-passwords.ts';
import {
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  checkPasswordPolicy,
  hashPassword,
  passwordNeedsRehash,
  verifyPassword,
} from '../src/passwords.ts';

const codes = (password: string, context?: { email?: string; name?: string }) =>
  checkPasswordPolicy(password, context).map((problem) => problem.code);

describe('hashPassword / verifyPassword', () => {
  it('hashes with argon2id and verifies', async () => {
    const stored = await hashPassword('correct horse battery staple');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(stored, 'correct horse battery staple')).toBe(true);
    expect(await verifyPassword(stored, 'correct horse battery stapler')).toBe(false);
    expect(await verifyPassword(stored, '')).toBe(false);
    expect(passwordNeedsRehash(stored)).toBe(false);
  });

  it('salts every hash', async () => {
    const [a, b] = await Promise.all([hashPassword('same password here'), hashPassword('same password here')]);
    expect(a).not.toBe(b);
    expect(await verifyPassword(b, 'same password here')).toBe(true);
  });

  it('normalises Unicode, so composed and decomposed forms match', async () => {
    const stored = await hashPassword('caf\u00e9 au lait s\u00fbr');
    expect(await verifyPassword(stored, 'cafe\u0301 au lait su\u0302r')).toBe(true);
  });

  it('returns false, never throws, for a malformed hash, no hash or an absurd input', async () => {
    expect(await verifyPassword('not a hash', 'whatever password')).toBe(false);
    expect(await verifyPassword('$argon2id$v=19$m=19456,t=2,p=1$broken', 'whatever password')).toBe(false);
    expect(await verifyPassword(null, 'whatever password')).toBe(false);
    expect(await verifyPassword(undefined, 'whatever password')).toBe(false);
    const stored = await hashPassword('a fine password');
    expect(await verifyPassword(stored, 'x'.repeat(100_000))).toBe(false);
  });

  it('asks for a rehash of weaker or foreign hashes', () => {
    expect(passwordNeedsRehash('$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHRzYWx0c2FsdA$0Ezm1mR4cBPq7+VGYT9uOL6T5Y0yY5G/7rYzzOiG6eY')).toBe(true);
    expect(passwordNeedsRehash('$2b$12$abcdefghijklmnopqrstuuFakeBcryptHashForTesting123456')).toBe(true);
  });
});

describe('checkPasswordPolicy', () => {
  it('accepts a reasonable password', () => {
    expect(checkPasswordPolicy('violet-harbour-lantern-42', { email: 'ana.lima@example.com', name: 'Ana Lima' })).toEqual([]);
    expect(checkPasswordPolicy('mfN7#qP2vL')).toEqual([]);
  });

  it('enforces the length limits in characters, not bytes', () => {
    expect(PASSWORD_MIN_LENGTH).toBe(10);
    expect(PASSWORD_MAX_LENGTH).toBe(256);
    expect(codes('Gx7#pQ2vL')).toEqual(['too_short']);
    expect(codes('')).toEqual(['too_short']);
    expect(codes('😀🐙🌵🎲🚲🧭🪁🎈🦉🍄')).toEqual([]); // 10 characters, 40 bytes
    expect(codes('x7#Gp'.repeat(52))).toEqual(['too_long']); // 260
    expect(codes('x7#Gp2'.repeat(42) + 'abcd')).toEqual([]); // exactly 256
  });

  it('reports every problem at once', () => {
    const problems = checkPasswordPolicy('ana', { email: 'ana@example.com' });
    expect(problems.map((problem) => problem.code)).toEqual(['too_short', 'contains_email']);
    for (const problem of problems) expect(problem.message).toMatch(/\w/);
  });

  it('refuses common passwords, whatever the case', () => {
    for (const password of ['password123', 'qwertyuiop', '1234567890', 'iloveyou12', 'QwErTyUiOp', 'Password1234', 'listbackup123']) {
      expect(codes(password)).toContain('common');
    }
  });

  it('refuses common words padded with digits and symbols, or in leetspeak', () => {
    for (const password of ['password2024!', '!!monkey12345', 'P@ssw0rd2024', 'sunshine!!!!', 'Iloveyou4ever'.slice(0, 8) + '123456', 'l3tm31n12345']) {
      expect(codes(password)).toContain('common');
    }
  });

  it('ships a blocklist of about 200 entries, in lower case', () => {
    expect(COMMON_PASSWORDS.size).toBeGreaterThanOrEqual(200);
    for (const entry of COMMON_PASSWORDS) expect(entry).toBe(entry.toLowerCase());
    expect([...COMMON_PASSWORDS].filter((entry) => entry.length >= PASSWORD_MIN_LENGTH).length).toBeGreaterThanOrEqual(150);
  });

  it('refuses very repetitive passwords', () => {
    expect(codes('zzzzzzzzzzzz')).toEqual(['repetitive']);
    expect(codes('xyxyxyxyxyxy')).toEqual(['repetitive']);
  });

  it('refuses a password equal to or containing the email local part', () => {
    const email = 'jonathan.parker+work@example.com';
    expect(codes('jonathan.parker', { email })).toContain('contains_email');
    expect(codes('Jonathan.Parker1!', { email })).toContain('contains_email');
    expect(codes('my-jonathan.parker-pass', { email })).toContain('contains_email');
    expect(codes('jonathan.parker+work', { email })).toContain('contains_email');
    expect(codes('jonathan.parker+work@example.com', { email })).toContain('contains_email');
    expect(codes('violet-harbour-lantern', { email })).not.toContain('contains_email');
  });

  it('handles short local parts without forbidding every word that contains them', () => {
    expect(codes('ana2024!!!!', { email: 'ana@example.com' })).toContain('contains_email');
    expect(codes('banana-split-sunday', { email: 'ana@example.com' })).toEqual([]);
  });

  it('refuses a password that is just the user’s name with padding', () => {
    const name = 'Marguerite Okafor';
    expect(codes('MargueriteOkafor', { name })).toContain('contains_name');
    expect(codes('marguerite1990!', { name })).toContain('contains_name');
    expect(codes('okafor12345678', { name })).toContain('contains_name');
    expect(codes('marguerite loves the blue ocean', { name })).toEqual([]);
  });

  it('works without context', () => {
    expect(checkPasswordPolicy('violet-harbour-lantern-42')).toEqual([]);
    expect(checkPasswordPolicy('violet-harbour-lantern-42', { email: '', name: '' })).toEqual([]);
  });
});
