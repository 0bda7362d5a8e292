import { createHash, createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Principal } from './principal.ts';
import { compactCarriedAccess, parseCarriedAccess, type CarriedAccess } from './access-facts.ts';

/**
 * The gateway's proof on every subgraph request: a JWT (HS256) for one subgraph (audience), valid
 * for a minute, carrying the verified caller. Subgraphs accept nothing without it.
 *
 * Signed and checked synchronously with `node:crypto` HMAC under keys built once. The keyring holds
 * several secrets (`INTERNAL_TOKEN_SECRET=new,old`): the first signs, every one verifies, and the
 * token's `kid` names the key that signed it, so a rolling restart can rotate the secret.
 */
const ISSUER = 'listbackup-gateway';
export const INTERNAL_TOKEN_LIFETIME_SECONDS = 60;
/** Clock skew tolerated between the signer and the verifier. */
const LEEWAY_SECONDS = 5;
const MIN_SECRET_LENGTH = 32;

export interface InternalClaims {
  principal: Principal;
  requestId: string;
  /** What the gateway checked about the caller for this request (liveness, roles): see access.ts. */
  facts?: CarriedAccess;
}

export const INTERNAL_TOKEN_HEADER = 'x-listbackup-internal';

export class InternalTokenError extends Error {
  override name = 'InternalTokenError';
}

interface RingKey {
  id: string;
  key: KeyObject;
  /** The token's first segment, which names this key. */
  header: string;
}

const PRINCIPAL_KINDS = new Set(['user', 'apiKey', 'anonymous']);

/** The secrets of `INTERNAL_TOKEN_SECRET`, comma-separated, newest first. */
export function keyringSecrets(config: string): string[] {
  return config
    .split(',')
    .map((secret) => secret.trim())
    .filter(Boolean);
}

/** The problem with an `INTERNAL_TOKEN_SECRET` value, or null: for the configuration schemas. */
export function keyringProblem(config: string): string | null {
  const secrets = keyringSecrets(config);
  if (secrets.length === 0) return 'must hold at least one secret';
  if (secrets.some((secret) => secret.length < MIN_SECRET_LENGTH)) return `every secret (comma-separated) must be at least ${MIN_SECRET_LENGTH} characters`;
  return null;
}

export class InternalKeyring {
  readonly #signing: RingKey;
  readonly #byHeader: Map<string, RingKey>;

  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new Error('An internal token keyring needs at least one secret');
    const keys = secrets.map((secret): RingKey => {
      const id = createHash('sha256').update(`listbackup-internal-token:${secret}`).digest('base64url').slice(0, 12);
      const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: id })).toString('base64url');
      return { id, key: createSecretKey(Buffer.from(secret, 'utf8')), header };
    });
    this.#signing = keys[0];
    this.#byHeader = new Map(keys.map((key) => [key.header, key]));
  }

  /** The id (`kid`) of the key that signs. */
  get signingKeyId(): string {
    return this.#signing.id;
  }

  sign(audience: string, claims: InternalClaims, nowMs = Date.now()): string {
    const iat = Math.floor(nowMs / 1000);
    const payload = { iss: ISSUER, aud: audience, iat, exp: iat + INTERNAL_TOKEN_LIFETIME_SECONDS, principal: claims.principal, rid: claims.requestId, acc: claims.facts && compactCarriedAccess(claims.facts) };
    const signingInput = `${this.#signing.header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    return `${signingInput}.${createHmac('sha256', this.#signing.key).update(signingInput).digest('base64url')}`;
  }

  verify(audience: string, token: string | undefined, nowMs = Date.now()): InternalClaims {
    if (!token) throw new InternalTokenError('missing gateway token');
    const firstDot = token.indexOf('.');
    const lastDot = token.lastIndexOf('.');
    if (firstDot < 1 || lastDot === firstDot) throw new InternalTokenError('invalid gateway token: malformed');
    const key = this.#byHeader.get(token.slice(0, firstDot));
    if (!key) throw new InternalTokenError('invalid gateway token: unknown key');
    const signingInput = token.slice(0, lastDot);
    const expected = createHmac('sha256', key.key).update(signingInput).digest();
    const given = Buffer.from(token.slice(lastDot + 1), 'base64url');
    // Compare the decoded bytes and the spelling: base64url has spare bits, and only one spelling is ours.
    if (given.length !== expected.length || !timingSafeEqual(given, expected) || given.toString('base64url') !== token.slice(lastDot + 1)) {
      throw new InternalTokenError('invalid gateway token: bad signature');
    }
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(Buffer.from(signingInput.slice(firstDot + 1), 'base64url').toString('utf8'));
    } catch {
      throw new InternalTokenError('invalid gateway token: malformed payload');
    }
    const now = Math.floor(nowMs / 1000);
    if (payload.iss !== ISSUER) throw new InternalTokenError('invalid gateway token: wrong issuer');
    if (payload.aud !== audience) throw new InternalTokenError('invalid gateway token: wrong audience');
    if (typeof payload.exp !== 'number' || payload.exp + LEEWAY_SECONDS <= now) throw new InternalTokenError('invalid gateway token: expired');
    if (typeof payload.iat !== 'number' || payload.iat - LEEWAY_SECONDS > now) throw new InternalTokenError('invalid gateway token: issued in the future');
    const principal = payload.principal as Principal | undefined;
    if (!principal || typeof principal !== 'object' || !PRINCIPAL_KINDS.has(principal.kind)) {
      throw new InternalTokenError('gateway token carries no principal');
    }
    const claims: InternalClaims = { principal, requestId: typeof payload.rid === 'string' ? payload.rid : 'unknown' };
    if (payload.acc !== undefined && principal.kind !== 'anonymous') {
      const facts = parseCarriedAccess(payload.acc);
      if (!facts) throw new InternalTokenError('invalid gateway token: malformed access facts');
      claims.facts = facts;
    }
    return claims;
  }
}

const keyrings = new Map<string, InternalKeyring>();

/** The keyring of an `INTERNAL_TOKEN_SECRET` value, built once per value. */
export function internalKeyring(config: string): InternalKeyring {
  let keyring = keyrings.get(config);
  if (!keyring) {
    const problem = keyringProblem(config);
    if (problem) throw new Error(`INTERNAL_TOKEN_SECRET ${problem}`);
    keyrings.set(config, (keyring = new InternalKeyring(keyringSecrets(config))));
  }
  return keyring;
}

export function signInternalToken(secret: string, audience: string, claims: InternalClaims): string {
  return internalKeyring(secret).sign(audience, claims);
}

export function verifyInternalToken(secret: string, audience: string, token: string | undefined): InternalClaims {
  return internalKeyring(secret).verify(audience, token);
}
