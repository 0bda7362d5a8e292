import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { Em } from '@listbackup/lib/db';
import { SigningKey } from '../entities/signing-key.ts';

/** The gateway verifies access tokens with exactly these (gateway/src/auth.ts). */
export const ACCESS_TOKEN_ISSUER = 'listbackup';
export const ACCESS_TOKEN_AUDIENCE = 'listbackup-api';
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 60 * 60_000;

const ALG = 'EdDSA';
/** A signing key older than this is replaced by a new one on next use. */
const KEY_MAX_AGE_MS = 90 * 24 * 60 * 60_000;
/** A retired key stays in the JWKS until every token it signed has expired (replicas may sign with it for KEY_CACHE_MS more). */
const RETIRED_KEY_GRACE_MS = ACCESS_TOKEN_TTL_SECONDS * 1000 + 15 * 60_000;
/** How long a process reuses the key it loaded before looking again (another replica may have rotated). */
const KEY_CACHE_MS = 5 * 60_000;

interface LoadedKey {
  kid: string;
  privateKey: Awaited<ReturnType<typeof importJWK>>;
  createdAt: Date;
  loadedAt: number;
}

// Keyed by the ORM configuration, shared by every fork of one ORM: one database, one cache.
const activeKeys = new WeakMap<object, Promise<LoadedKey>>();

/** The key that signs new access tokens: the newest unretired one, created on first need. */
async function activeKey(em: Em): Promise<LoadedKey> {
  const cacheKey = em.config;
  const cached = activeKeys.get(cacheKey);
  if (cached) {
    const key = await cached.catch(() => undefined);
    if (key && Date.now() - key.loadedAt < KEY_CACHE_MS && Date.now() - key.createdAt.getTime() < KEY_MAX_AGE_MS) return key;
  }
  const loading = loadOrCreateKey(em);
  activeKeys.set(cacheKey, loading);
  loading.catch(() => activeKeys.delete(cacheKey));
  return loading;
}

async function loadOrCreateKey(em: Em): Promise<LoadedKey> {
  const row = await em.fork().transactional(async (tx) => {
    // Several replicas may start at once: one of them creates the key, the others wait and read it.
    await tx.execute(`select pg_advisory_xact_lock(hashtext('accounts.signing_keys'))`);
    const current = await tx.findOne(SigningKey, { retiredAt: null }, { orderBy: { createdAt: 'desc' }, populate: ['privateJwk'] });
    if (current && Date.now() - current.createdAt.getTime() < KEY_MAX_AGE_MS) return current;
    if (current) current.retiredAt = new Date();
    return createKey(tx);
  });
  return {
    kid: row.kid,
    privateKey: await importJWK(row.privateJwk as JWK, ALG),
    createdAt: row.createdAt,
    loadedAt: Date.now(),
  };
}

async function createKey(em: Em): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(ALG, { crv: 'Ed25519', extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const key = em.create(SigningKey, {
    kid,
    publicJwk: { ...publicJwk, kid, alg: ALG, use: 'sig' },
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: ALG },
    createdAt: new Date(),
  });
  await em.persist(key).flush();
  return key;
}

/**
 * Retires the current signing key and starts signing with a new one. Tokens signed by the old key
 * keep verifying: it stays in the JWKS until they have all expired.
 */
export async function rotateSigningKey(em: Em): Promise<string> {
  const fresh = await em.fork().transactional(async (tx) => {
    await tx.execute(`select pg_advisory_xact_lock(hashtext('accounts.signing_keys'))`);
    await tx.nativeUpdate(SigningKey, { retiredAt: null }, { retiredAt: new Date() });
    return createKey(tx);
  });
  activeKeys.delete(em.config);
  return fresh.kid;
}

/** The public keys that verify access tokens, as a JWKS (`{ keys: [...] }`). */
export async function currentJwks(em: Em): Promise<{ keys: JWK[] }> {
  await activeKey(em); // the very first call creates the key, so the set is never empty
  const keys = await em.fork().find(
    SigningKey,
    { $or: [{ retiredAt: null }, { retiredAt: { $gt: new Date(Date.now() - RETIRED_KEY_GRACE_MS) } }] },
    { orderBy: { createdAt: 'desc' } },
  );
  return { keys: keys.map((key) => key.publicJwk as JWK) };
}

export interface AccessToken {
  token: string;
  expiresAt: Date;
}

/** An EdDSA JWT for the gateway: `sub` the user, `sid` the session, 15 minutes. */
export async function issueAccessToken(em: Em, userId: string, sessionId: string): Promise<AccessToken> {
  const key = await activeKey(em);
  const issuedAt = Math.floor(Date.now() / 1000);
  const expiresAt = issuedAt + ACCESS_TOKEN_TTL_SECONDS;
  const token = await new SignJWT({ sid: sessionId })
    .setProtectedHeader({ alg: ALG, kid: key.kid, typ: 'JWT' })
    .setSubject(userId)
    .setIssuer(ACCESS_TOKEN_ISSUER)
    .setAudience(ACCESS_TOKEN_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .setJti(randomBytes(12).toString('base64url'))
    .sign(key.privateKey);
  return { token, expiresAt: new Date(expiresAt * 1000) };
}

/** A refresh token: 256 random bits, base64url. Only its hash is stored. */
export function newRefreshToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token) };
}

/** The secrets hashed here are random and long, so a fast hash is enough (no dictionary to try). */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** Refresh tokens are exactly 43 base64url characters; anything else is not worth a database look-up. */
export function looksLikeRefreshToken(token: unknown): token is string {
  return typeof token === 'string' && /^[A-Za-z0-9_-]{43}$/.test(token);
}
