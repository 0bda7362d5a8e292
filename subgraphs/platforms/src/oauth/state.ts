import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The OAuth `state`: a signed, expiring reference to one connection of one account, carrying a
 * nonce whose hash the connection row keeps until a callback uses it (single use).
 */
export interface OAuthState {
  connectionId: string;
  accountId: string;
  nonce: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export const STATE_LIFETIME_MS = 10 * 60_000;

export function newNonce(): string {
  return randomBytes(24).toString('base64url');
}

export function hashNonce(nonce: string): string {
  return createHash('sha256').update(nonce).digest('hex');
}

export function signState(key: Buffer, state: OAuthState): string {
  const payload = Buffer.from(JSON.stringify({ v: 1, c: state.connectionId, a: state.accountId, n: state.nonce, e: state.expiresAt })).toString('base64url');
  return `${payload}.${mac(key, payload)}`;
}

/** The state if the signature holds (expiry is checked by the caller, to tell "expired" apart); otherwise null. */
export function verifyState(keys: readonly Buffer[], value: string): OAuthState | null {
  if (value.length > 1024) return null;
  const [payload, signature, extra] = value.split('.');
  if (!payload || !signature || extra !== undefined) return null;
  const given = Buffer.from(signature);
  const signedWith = (key: Buffer) => {
    const expected = Buffer.from(mac(key, payload));
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  if (!keys.some(signedWith)) return null;
  try {
    const data = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (data.v !== 1 || typeof data.c !== 'string' || typeof data.a !== 'string' || typeof data.n !== 'string' || typeof data.e !== 'number') return null;
    return { connectionId: data.c, accountId: data.a, nonce: data.n, expiresAt: data.e };
  } catch {
    return null;
  }
}

function mac(key: Buffer, payload: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url');
}

/** RFC 7636 S256. */
export function newPkceVerifier(): string {
  return randomBytes(32).toString('base64url');
}

export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}
