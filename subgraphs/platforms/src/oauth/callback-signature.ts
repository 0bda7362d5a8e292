import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CallbackSignature } from '@listbackup/catalogue';
import type { OAuthClient } from '../config.ts';

/**
 * Whether a platform's redirect carries its valid signature (`CallbackSignature`): the HMAC of
 * the other parameters sorted by name, compared in constant time. Anyone can send a browser to
 * the callback with a stolen `state`; only the platform holds the client secret.
 */
export function validCallbackSignature(signature: CallbackSignature, query: Readonly<Record<string, string | undefined>>, client: OAuthClient): boolean {
  const given = query[signature.param];
  if (!given || !/^[0-9a-f]{64}$/i.test(given)) return false;
  const signed = Object.entries(query)
    .filter((entry): entry is [string, string] => entry[1] !== undefined && entry[0] !== signature.param && entry[0] !== 'signature')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const message = new URLSearchParams(signed).toString();
  const actual = Buffer.from(given, 'hex');
  // During a client secret rollover the platform may sign with the new or the old one.
  return [client.clientSecret, ...(client.previousClientSecrets ?? [])].some((secret) => timingSafeEqual(createHmac('sha256', secret).update(message).digest(), actual));
}
