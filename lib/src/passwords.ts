/**
 * Password hashing (argon2id via @node-rs/argon2) and the sign-up/change password policy
 * (NIST SP 800-63B style: length, blocklist, context words; no composition rules).
 *
 * Passwords are NFKC-normalised before hashing and checking, so the same password typed on
 * different keyboards or input methods gives the same hash.
 */
import { hash, parseOptions, verify, type Algorithm, type Options } from '@node-rs/argon2';
import { COMMON_PASSWORDS } from './common-passwords.ts';

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;
/** Inputs longer than this (UTF-8 bytes) are refused outright, to keep hashing bounded. */
const MAX_INPUT_BYTES = 4 * PASSWORD_MAX_LENGTH;

const ARGON2ID: Algorithm = 2; // Algorithm.Argon2id (an ambient const enum, unusable under isolatedModules)
/** OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane. */
const HASH_OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1, outputLen: 32 } satisfies Options;

function normalize(password: string): string {
  return password.normalize('NFKC');
}

/** An argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`). */
export async function hashPassword(password: string): Promise<string> {
  const normalized = normalize(password);
  if (Buffer.byteLength(normalized) > MAX_INPUT_BYTES) throw new Error('Password too long to hash');
  return hash(normalized, HASH_OPTIONS);
}

let dummyHash: Promise<string> | undefined;

/**
 * True when `password` matches `storedHash`. False for a wrong password, a malformed hash or an
 * over-long input; never throws. Pass `null` when there is no such user: the same work is done
 * against a dummy hash, so response time does not reveal which emails have accounts.
 */
export async function verifyPassword(storedHash: string | null | undefined, password: string): Promise<boolean> {
  const normalized = normalize(String(password ?? ''));
  if (!storedHash) {
    dummyHash ??= hash('listbackup-dummy-password', HASH_OPTIONS);
    await verify(await dummyHash, normalized).catch(() => false);
    return false;
  }
  if (!storedHash.startsWith('$argon2') || Buffer.byteLength(normalized) > MAX_INPUT_BYTES) return false;
  try {
    return await verify(storedHash, normalized);
  } catch {
    return false;
  }
}

/** True when `storedHash` was made with other parameters than today's: rehash after a successful login. */
export function passwordNeedsRehash(storedHash: string): boolean {
  try {
    const used = parseOptions(storedHash);
    return (
      used.algorithm !== HASH_OPTIONS.algorithm ||
      used.memoryCost < HASH_OPTIONS.memoryCost ||
      used.timeCost < HASH_OPTIONS.timeCost ||
      used.outputLen < HASH_OPTIONS.outputLen
    );
  } catch {
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Policy

export type PasswordProblemCode = 'too_short' | 'too_long' | 'common' | 'contains_email' | 'contains_name' | 'repetitive';

export interface PasswordProblem {
  code: PasswordProblemCode;
  message: string;
}

export interface PasswordContext {
  email?: string | null;
  name?: string | null;
}

const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', '$': 's', '!': 'i' };

const deleet = (text: string) => text.replace(/[013457@$!]/g, (char) => LEET[char] ?? char);
/** Drops the digits and symbols padded before and after a word ("!!password2024" → "password"). */
const core = (text: string) => text.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
const lettersOnly = (text: string) => text.replace(/[^\p{L}]+/gu, '');

/**
 * Everything wrong with `password` as a new password, or `[]` when it is acceptable.
 * `email` and `name` are the user's own, used to refuse passwords built from them.
 */
export function checkPasswordPolicy(password: string, context: PasswordContext = {}): PasswordProblem[] {
  const problems: PasswordProblem[] = [];
  const normalized = normalize(String(password ?? ''));
  const length = [...normalized].length;

  if (length < PASSWORD_MIN_LENGTH) {
    problems.push({ code: 'too_short', message: `Use at least ${PASSWORD_MIN_LENGTH} characters.` });
  }
  if (length > PASSWORD_MAX_LENGTH) {
    problems.push({ code: 'too_long', message: `Use at most ${PASSWORD_MAX_LENGTH} characters.` });
    return problems; // not worth checking further
  }
  if (length === 0) return problems;

  const lower = normalized.toLowerCase();
  const candidates = new Set([lower, deleet(lower), core(lower), deleet(core(lower)), core(deleet(lower))]);
  if ([...candidates].some((candidate) => COMMON_PASSWORDS.has(candidate))) {
    problems.push({ code: 'common', message: 'This password is too common. Choose one that is harder to guess.' });
  } else if (length >= PASSWORD_MIN_LENGTH && new Set(lower).size < 4) {
    problems.push({ code: 'repetitive', message: 'Use more than a few different characters.' });
  }

  const email = context.email?.normalize('NFKC').toLowerCase().trim() ?? '';
  if (email) {
    const local = email.includes('@') ? email.slice(0, email.lastIndexOf('@')) : email;
    const localWithoutTag = local.split('+')[0];
    const words = [email, local, localWithoutTag].filter((word) => word.length > 0);
    // Containment only from 4 characters, so "ana@…" does not forbid "banana…"; shorter local
    // parts are still caught by equality and by isMostly ("ana2024!!!!").
    const contains = words.some((word) => word.length >= 4 && lower.includes(word));
    const equals = words.some(
      (word) => word === lower || word === core(lower) || (lettersOnly(word).length >= 3 && lettersOnly(word) === lettersOnly(lower)),
    );
    if (contains || equals || isMostly(lower, words)) {
      problems.push({ code: 'contains_email', message: 'Do not use your email address in your password.' });
    }
  }

  const name = context.name?.normalize('NFKC').toLowerCase().trim() ?? '';
  if (name) {
    const tokens = name.split(/[^\p{L}\p{N}]+/u).filter((token) => token.length >= 3);
    const words = [lettersOnly(name), ...tokens].filter((word) => word.length >= 3);
    if (isMostly(lower, words)) {
      problems.push({ code: 'contains_name', message: 'Do not base your password on your name.' });
    }
  }

  return problems;
}

/** True when, once the words are removed, little more than digits and symbols is left. */
function isMostly(password: string, words: string[]): boolean {
  let rest = password;
  let removed = false;
  for (const word of [...words].sort((a, b) => b.length - a.length)) {
    if (word && rest.includes(word)) {
      rest = rest.split(word).join('');
      removed = true;
    }
  }
  return removed && lettersOnly(rest).length < 4;
}
