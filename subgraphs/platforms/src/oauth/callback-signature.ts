import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CallbackSignature } from '@listbackup/catalogue';

/**
 * Whether a platform's redirect carries its valid signature (`CallbackSignature`): the HMAC of
 * the other parameters sorted by name, compared in constant time. Anyone can send a browser to
 * the callback with a stolen `state`; only the platform holds the client secret.
 */
export function validCallbackSignature(signature: CallbackSignature, query: Readonly<Record<string, string | undefined>>, clientSecret: string): boolean {
  const given = query[signature.param];
  if (!given || !/^[0-9a-f]{64}$/i.test(given)) return false;
  const signed = Object.entries(query)
    .filter((entry): entry is [string, string] => entry[1] !== undefined && entry[0] !== signature.param && entry[0] !== 'signature')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const expected = createHmac('sha256', clientSecret).update(new URLSearchParams(signed).toString()).digest();
  return timingSafeEqual(expected, Buffer.from(given, 'hex'));
}
