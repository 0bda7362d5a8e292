import { createHmac, timingSafeEqual } from 'node:crypto';
import { keyringSecrets } from './internal-token.ts';

/**
 * `<payload>.<hmac>`, both base64url: a token that says what a link gives (its claims, with an
 * expiry) and cannot be changed without the key. Single-purpose keys: derive one per use with
 * `linkKey`, so a token of one kind is never accepted as another.
 */
export function signLink(key: Buffer, claims: Record<string, unknown>): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${payload}.${createHmac('sha256', key).update(payload).digest('base64url')}`;
}

/** The claims of a token signed with `key`, or one of `keys` (expired or not); otherwise null. */
export function verifyLink(keys: Buffer | readonly Buffer[], token: string): Record<string, unknown> | null {
  const [payload, mac, extra] = String(token ?? '').split('.');
  if (!payload || !mac || extra !== undefined) return null;
  // Compared as text: base64url decoding ignores the spare low bits of the last character, so
  // comparing decoded bytes would accept several spellings of one signature.
  const given = Buffer.from(mac);
  const signedWith = (key: Buffer) => {
    const expected = Buffer.from(createHmac('sha256', key).update(payload).digest('base64url'));
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  if (!(Buffer.isBuffer(keys) ? [keys] : keys).some(signedWith)) return null;
  try {
    const body: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A key for one kind of link, derived from a service secret. */
export function linkKey(secret: string, purpose: string): Buffer {
  return createHmac('sha256', secret).update(`listbackup-link:${purpose}`).digest();
}

/**
 * The keys for one kind of link from each secret of `INTERNAL_TOKEN_SECRET` (`new,old`), newest
 * first: sign with the first, verify with all, so links outlive a rotation of the secret.
 */
export function linkKeys(internalTokenSecret: string, purpose: string): Buffer[] {
  return keyringSecrets(internalTokenSecret).map((secret) => linkKey(secret, purpose));
}
