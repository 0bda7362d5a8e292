import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { INTERNAL_TOKEN_HEADER, verifyInternalToken } from '@listbackup/lib/internal-token';
import { readJson, sendJson } from '@listbackup/lib/http';
import type { Principal } from '@listbackup/lib/principal';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from '../../src/auth.ts';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function newSigningKey(kid = `k_${randomBytes(4).toString('hex')}`): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' } };
}

export interface TokenOptions {
  key: SigningKey;
  userId?: string;
  sessionId?: string | null;
  issuer?: string;
  audience?: string;
  expiresAt?: number | string;
}

export async function issueAccessToken(options: TokenOptions): Promise<string> {
  const claims = options.sessionId === null ? {} : { sid: options.sessionId ?? 'session-1' };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', kid: options.key.kid, typ: 'JWT' })
    .setIssuer(options.issuer ?? ACCESS_TOKEN_ISSUER)
    .setAudience(options.audience ?? ACCESS_TOKEN_AUDIENCE)
    .setSubject(options.userId ?? 'user-1')
    .setIssuedAt()
    .setExpirationTime(options.expiresAt ?? '15m')
    .sign(options.key.privateKey);
}

export interface ApiKeyRecord {
  apiKeyId: string;
  accountId: string;
  scopes: string[];
  revoked?: boolean;
}

/**
 * Stands in for the routes of the accounts subgraph the gateway calls — `GET /internal/jwks`,
 * `POST /internal/api-keys/verify` and the facts form of `POST /internal/access` — behind the
 * same internal-token check, counting calls.
 */
export interface FakeAccounts {
  url: string;
  keys: SigningKey[];
  apiKeys: Map<string, ApiKeyRecord>;
  /** Sessions signed out: their facts answer `live: false`. Every other session is alive and sees no account. */
  endedSessions: Set<string>;
  calls: { jwks: number; verify: number; facts: number; rejected: number };
  /** When set, every route answers with this HTTP status. */
  failWith?: number;
  close(): Promise<void>;
}

export async function startFakeAccounts(internalTokenSecret: string, keys: SigningKey[]): Promise<FakeAccounts> {
  const fake: Omit<FakeAccounts, 'url' | 'close'> = { keys, apiKeys: new Map(), endedSessions: new Set(), calls: { jwks: 0, verify: 0, facts: 0, rejected: 0 } };
  const server = http.createServer(async (req, res) => {
    let principal: Principal;
    try {
      ({ principal } = verifyInternalToken(internalTokenSecret, 'accounts', req.headers[INTERNAL_TOKEN_HEADER] as string | undefined));
    } catch {
      fake.calls.rejected++;
      return sendJson(res, 401, { errors: [{ message: 'gateway token required', extensions: { code: 'UNAUTHENTICATED' } }] });
    }
    if (fake.failWith) return sendJson(res, fake.failWith, { error: 'failing on purpose' });
    if (req.url === '/internal/jwks' && req.method === 'GET') {
      fake.calls.jwks++;
      return sendJson(res, 200, { keys: fake.keys.map((key) => key.publicJwk) });
    }
    if (req.url === '/internal/api-keys/verify' && req.method === 'POST') {
      fake.calls.verify++;
      const { secret } = (await readJson(req)) as { secret: string };
      const record = fake.apiKeys.get(secret);
      if (!record || record.revoked) return sendJson(res, 401, { errors: [{ message: 'Invalid or revoked API key', extensions: { code: 'UNAUTHENTICATED' } }] });
      return sendJson(res, 200, { principal: { kind: 'apiKey', apiKeyId: record.apiKeyId, accountId: record.accountId, scopes: record.scopes } });
    }
    if (req.url === '/internal/access' && req.method === 'POST') {
      const body = (await readJson(req)) as { facts?: boolean };
      if (body.facts !== true) return sendJson(res, 400, { error: 'only the facts form is faked' });
      fake.calls.facts++;
      const live =
        principal.kind === 'user' ? !fake.endedSessions.has(principal.sessionId) : principal.kind === 'apiKey' && [...fake.apiKeys.values()].some((key) => key.apiKeyId === principal.apiKeyId && !key.revoked);
      return sendJson(res, 200, { live, accounts: live ? [] : null });
    }
    sendJson(res, 404, { error: 'no such route' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}/graphql`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
