import { SignJWT, jwtVerify, errors } from 'jose';
import type { Principal } from './principal.ts';

/**
 * The gateway's proof on every subgraph request: an HS256 JWT for one subgraph (audience),
 * valid for a minute, carrying the verified caller. Subgraphs accept nothing without it.
 */
const ISSUER = 'listbackup-gateway';
const LIFETIME_SECONDS = 60;

export interface InternalClaims {
  principal: Principal;
  requestId: string;
}

export const INTERNAL_TOKEN_HEADER = 'x-listbackup-internal';

const keys = new Map<string, Uint8Array>();
function keyFor(secret: string): Uint8Array {
  let key = keys.get(secret);
  if (!key) keys.set(secret, (key = new TextEncoder().encode(secret)));
  return key;
}

export async function signInternalToken(secret: string, audience: string, claims: InternalClaims): Promise<string> {
  return new SignJWT({ principal: claims.principal, rid: claims.requestId })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(`${LIFETIME_SECONDS}s`)
    .sign(keyFor(secret));
}

export class InternalTokenError extends Error {
  override name = 'InternalTokenError';
}

export async function verifyInternalToken(secret: string, audience: string, token: string | undefined): Promise<InternalClaims> {
  if (!token) throw new InternalTokenError('missing gateway token');
  try {
    const { payload } = await jwtVerify(token, keyFor(secret), { issuer: ISSUER, audience, algorithms: ['HS256'] });
    const principal = payload.principal as Principal | undefined;
    if (!principal || typeof principal !== 'object' || !['user', 'apiKey', 'anonymous'].includes(principal.kind)) {
      throw new InternalTokenError('gateway token carries no principal');
    }
    return { principal, requestId: typeof payload.rid === 'string' ? payload.rid : 'unknown' };
  } catch (error) {
    if (error instanceof InternalTokenError) throw error;
    if (error instanceof errors.JOSEError) throw new InternalTokenError(`invalid gateway token: ${error.code}`);
    throw error;
  }
}
