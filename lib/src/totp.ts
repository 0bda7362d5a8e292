/**
 * TOTP (RFC 6238, on HOTP RFC 4226) with node:crypto only, plus RFC 4648 base32.
 *
 * Secrets are base32 strings (what authenticator apps take). Times are milliseconds since
 * the epoch, like Date.now(). `verifyTotp` returns the matched time-step counter so the caller
 * can store it and reject a code whose counter is not greater than the last one accepted
 * (RFC 6238 §5.2: a code must not be accepted twice).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type TotpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';

export interface TotpParameters {
  /** Code length, 6 to 10. Default 6. */
  digits?: number;
  /** Time step in seconds. Default 30. */
  period?: number;
  /** HMAC hash. Default SHA1, the only one every authenticator app supports. */
  algorithm?: TotpAlgorithm;
}

export interface VerifyTotpOptions extends TotpParameters {
  /** Milliseconds since the epoch. Default Date.now(). */
  time?: number;
  /** How many time steps before and after the current one are also accepted. Default 1. */
  window?: number;
}

const DEFAULT_DIGITS = 6;
const DEFAULT_PERIOD = 30;
const SECRET_BYTES = 20; // 160 bits, the HMAC-SHA1 output size recommended by RFC 4226 §4

// ---------------------------------------------------------------------------------------------
// base32 (RFC 4648 §6, upper-case alphabet, no padding on output)

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const LOOKUP = new Map([...ALPHABET].map((char, index) => [char, index] as const));

export function base32Encode(bytes: Uint8Array): string {
  let output = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      output += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) output += ALPHABET[(buffer << (5 - bits)) & 31];
  return output;
}

/**
 * Decodes base32, case-insensitively, ignoring spaces, hyphens and trailing `=` padding (as
 * people copy secrets). Throws on any other character or an impossible length.
 */
export function base32Decode(text: string): Buffer {
  const clean = text.replace(/[\s-]/g, '').replace(/=+$/, '').toUpperCase();
  // Lengths mod 8 of 1, 3 or 6 cannot come from whole bytes.
  if ([1, 3, 6].includes(clean.length % 8)) throw new Error('Invalid base32: impossible length');
  const output = Buffer.alloc(Math.floor((clean.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let index = 0;
  for (const char of clean) {
    const value = LOOKUP.get(char);
    if (value === undefined) throw new Error(`Invalid base32 character: ${JSON.stringify(char)}`);
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      output[index++] = (buffer >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  return output;
}

// ---------------------------------------------------------------------------------------------
// TOTP

/** A new random 160-bit secret, base32 without padding (32 characters). */
export function generateTotpSecret(): string {
  return base32Encode(randomBytes(SECRET_BYTES));
}

export interface TotpUriOptions extends TotpParameters {
  secret: string;
  /** Usually the user's email. */
  accountName: string;
  /** The product name shown in the authenticator app. */
  issuer: string;
}

/**
 * The otpauth:// URI for a QR code (Key Uri Format):
 * `otpauth://totp/Issuer:account?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`.
 */
export function totpUri({ secret, accountName, issuer, ...parameters }: TotpUriOptions): string {
  if (issuer.includes(':')) throw new Error('TOTP issuer must not contain ":"');
  if (!accountName) throw new Error('TOTP accountName is required');
  const { digits, period, algorithm } = resolveParameters(parameters);
  const normalizedSecret = base32Encode(decodeSecret(secret)); // validates, upper-cases, drops padding
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(accountName)}`;
  const query = [
    ['secret', normalizedSecret],
    ['issuer', issuer],
    ['algorithm', algorithm],
    ['digits', String(digits)],
    ['period', String(period)],
  ]
    .map(([key, value]) => `${key}=${encodeURIComponent(value)}`)
    .join('&');
  return `otpauth://totp/${label}?${query}`;
}

/** The time-step counter for a time in milliseconds. */
export function totpCounter(time: number = Date.now(), period: number = DEFAULT_PERIOD): number {
  return Math.floor(time / 1000 / period);
}

/** The code for `time` (milliseconds since the epoch). */
export function totpCode(secret: string, time: number = Date.now(), parameters: TotpParameters = {}): string {
  const { digits, period, algorithm } = resolveParameters(parameters);
  return hotp(decodeSecret(secret), totpCounter(time, period), digits, algorithm);
}

/**
 * Checks `code` against the time steps `current - window … current + window`. Returns the
 * matched counter, or null when the code is wrong or malformed (not exactly `digits` digits
 * once spaces are removed). Throws only when the secret itself is not valid base32.
 */
export function verifyTotp(secret: string, code: string, options: VerifyTotpOptions = {}): number | null {
  const { digits, period, algorithm } = resolveParameters(options);
  const window = options.window ?? 1;
  if (!Number.isInteger(window) || window < 0 || window > 10) throw new Error('TOTP window must be an integer from 0 to 10');
  const key = decodeSecret(secret);
  if (typeof code !== 'string') return null;
  const candidate = code.replace(/\s/g, '');
  if (candidate.length !== digits || !/^[0-9]+$/.test(candidate)) return null;

  const current = totpCounter(options.time ?? Date.now(), period);
  const given = Buffer.from(candidate);
  let matched: number | null = null;
  // Every step is computed and compared in constant time; the current step wins a tie.
  for (const offset of offsetsByDistance(window)) {
    const counter = current + offset;
    if (counter < 0) continue;
    const expected = Buffer.from(hotp(key, counter, digits, algorithm));
    if (timingSafeEqual(expected, given) && matched === null) matched = counter;
  }
  return matched;
}

function decodeSecret(secret: string): Buffer {
  const key = base32Decode(secret);
  // RFC 4226 asks for 128 bits; 80-bit secrets (16 characters) are still common in the wild.
  if (key.length < 10) throw new Error('TOTP secret is too short (under 80 bits)');
  return key;
}

/** 0, -1, 1, -2, 2, … */
function offsetsByDistance(window: number): number[] {
  const offsets = [0];
  for (let distance = 1; distance <= window; distance++) offsets.push(-distance, distance);
  return offsets;
}

/** HOTP (RFC 4226 §5.3) with dynamic truncation. */
function hotp(key: Buffer, counter: number, digits: number, algorithm: TotpAlgorithm): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm.toLowerCase(), key).update(message).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return (binary % 10 ** digits).toString().padStart(digits, '0');
}

function resolveParameters(parameters: TotpParameters): Required<TotpParameters> {
  const digits = parameters.digits ?? DEFAULT_DIGITS;
  const period = parameters.period ?? DEFAULT_PERIOD;
  const algorithm = parameters.algorithm ?? 'SHA1';
  if (!Number.isInteger(digits) || digits < 6 || digits > 10) throw new Error('TOTP digits must be an integer from 6 to 10');
  if (!Number.isInteger(period) || period < 1) throw new Error('TOTP period must be a positive integer');
  if (!['SHA1', 'SHA256', 'SHA512'].includes(algorithm)) throw new Error(`Unsupported TOTP algorithm: ${algorithm}`);
  return { digits, period, algorithm };
}
