import { createHash } from 'node:crypto';
import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWK, type JWTHeaderParameters, type FlattenedJWSInput, type JWTPayload } from 'jose';
import { z } from 'zod';
import type { Logger } from '@listbackup/lib/logger';
import { ANONYMOUS, type Principal } from '@listbackup/lib/principal';
import { internalClient, readJsonBody, systemCaller, type InternalRequest, type InternalResponse, type ServiceClient } from '@listbackup/lib/internal-client';
import { ACCESS_PATH } from '@listbackup/lib/access';
import { ACCESS_EVENT_PATTERNS, MAX_CARRIED_ACCOUNTS, accessChangeOf, boundedCarriedAccess, parseCarriedAccess, type AccessChange, type CarriedAccess, type VisibleFact } from '@listbackup/lib/access-facts';
import type { EventBus, EventSubscription } from '@listbackup/lib/events/bus';

/** Access tokens are issued by the accounts subgraph with exactly these parameters. */
export const ACCESS_TOKEN_ISSUER = 'listbackup';
export const ACCESS_TOKEN_AUDIENCE = 'listbackup-api';
export const API_KEY_PREFIX = 'lbk_';
export const JWKS_PATH = '/internal/jwks';
export const API_KEY_VERIFY_PATH = '/internal/api-keys/verify';

/** The caller presented a credential that does not hold: answered with 401, never downgraded to anonymous. */
export class AuthenticationError extends Error {
  override name = 'AuthenticationError';
  readonly code = 'UNAUTHENTICATED';
}

/** The credential could not be checked because accounts did not answer: answered with 503. */
export class AuthenticationUnavailableError extends Error {
  override name = 'AuthenticationUnavailableError';
  readonly code = 'SERVICE_UNAVAILABLE';
}

export interface AuthenticatorOptions {
  /** Any URL of the accounts subgraph (its /graphql URL will do); only the origin is used. */
  accountsUrl: string;
  internalTokenSecret: string;
  log: Logger;
  /** How long an API key verdict is reused. Default 30 s: a revoked key stops working within this time. */
  apiKeyCacheMs?: number;
  /** A token signed by an unknown key refetches the JWKS at most this often. Default 30 s. */
  jwksRefetchCooldownMs?: number;
  /** The JWKS is refetched on the next request after this long, so retired keys drop out. Default 10 min. */
  jwksMaxAgeMs?: number;
  /**
   * How long a caller's access facts (session or key alive, roles) are reused when no event said
   * they changed: the fallback for a lost event. Default 15 s.
   */
  accessFactsTtlMs?: number;
  /** Clock for the caches (tests move it forward instead of waiting). */
  now?: () => number;
}

/** A verified caller and what the gateway vouches for about it in this request. */
export interface Authenticated {
  principal: Principal;
  /** Absent for the anonymous caller. */
  facts?: CarriedAccess;
}

/** What accounts answers about a principal (`{facts: true}` on its access route). */
const FactsBody = z.object({
  live: z.boolean(),
  accounts: z
    .array(z.object({ accountId: z.string(), role: z.string(), status: z.string(), path: z.array(z.string()) }))
    .nullable(),
});

interface CachedFacts {
  at: number;
  principal: Principal;
  facts: Promise<FactsAnswer>;
  /** Once settled. */
  answer?: FactsAnswer;
}

interface FactsAnswer {
  live: boolean;
  accounts: VisibleFact[] | null;
  /** What tokens carry, when live. */
  carried?: CarriedAccess;
}

const MAX_CACHED_PRINCIPALS = 10_000;

/** What accounts answers for a valid key; an unknown or revoked key gets 401. */
const ApiKeyVerdict = z.object({
  principal: z.object({
    kind: z.literal('apiKey'),
    apiKeyId: z.string().min(1),
    accountId: z.string().min(1),
    scopes: z.array(z.string()),
  }),
});

interface CachedVerdict {
  at: number;
  verdict: Promise<Principal | null>;
}

const MAX_CACHED_API_KEYS = 10_000;

/**
 * Turns the `Authorization` header into a verified principal, once per request: an EdDSA access
 * token checked against the accounts JWKS, or an API key checked by accounts (verdicts cached).
 */
export class Authenticator {
  readonly #accounts: ServiceClient;
  readonly #log: Logger;
  readonly #apiKeyCacheMs: number;
  readonly #now: () => number;
  readonly #apiKeys = new Map<string, CachedVerdict>();
  readonly #jwks: JwksCache;
  readonly #factsTtlMs: number;
  readonly #facts = new Map<string, CachedFacts>();
  readonly #listeners = new Set<(change: AccessChange) => void>();

  constructor(options: AuthenticatorOptions) {
    this.#accounts = internalClient(options.internalTokenSecret).service('accounts', options.accountsUrl);
    this.#log = options.log;
    this.#apiKeyCacheMs = options.apiKeyCacheMs ?? 30_000;
    this.#factsTtlMs = options.accessFactsTtlMs ?? 15_000;
    this.#now = options.now ?? Date.now;
    this.#jwks = new JwksCache({
      load: (requestId) => this.#fetchJwks(requestId),
      cooldownMs: options.jwksRefetchCooldownMs ?? 30_000,
      maxAgeMs: options.jwksMaxAgeMs ?? 600_000,
      now: this.#now,
      log: options.log,
    });
  }

  /**
   * No header is the anonymous caller; a header that does not verify, or whose session was signed
   * out (or key revoked), throws AuthenticationError.
   */
  async authenticate(authorization: string | undefined, requestId: string): Promise<Principal> {
    return (await this.authenticateRequest(authorization, requestId)).principal;
  }

  /** `authenticate`, with the caller's access facts for the internal tokens of this request. */
  async authenticateRequest(authorization: string | undefined, requestId: string): Promise<Authenticated> {
    if (authorization === undefined) return { principal: ANONYMOUS };
    const match = /^Bearer +(\S+) *$/i.exec(authorization);
    if (!match) throw new AuthenticationError('The Authorization header must be "Bearer <access token or API key>"');
    const credential = match[1];
    const principal = credential.startsWith(API_KEY_PREFIX) ? await this.#verifyApiKey(credential, requestId) : await this.#verifyAccessToken(credential, requestId);
    return { principal, facts: await this.#factsOf(principal, requestId) };
  }

  /**
   * Drops the cached facts of every caller the change touches (and every look-up in flight), then
   * tells the listeners (open websockets check their caller again).
   */
  accessChanged(change: AccessChange): void {
    const users = new Set(change.userIds ?? []);
    const sessions = new Set(change.sessionIds ?? []);
    const keys = new Set(change.apiKeyIds ?? []);
    const accounts = new Set(change.accountIds ?? []);
    for (const [key, entry] of this.#facts) {
      const { principal, answer } = entry;
      const touched =
        !answer ||
        (principal.kind === 'user' && (users.has(principal.userId) || sessions.has(principal.sessionId))) ||
        (principal.kind === 'apiKey' && keys.has(principal.apiKeyId)) ||
        (accounts.size > 0 && (answer.accounts === null || answer.accounts.some((account) => accounts.has(account.accountId))));
      if (touched) this.#facts.delete(key);
    }
    for (const listener of this.#listeners) listener(change);
  }

  /** Calls `listener` with every access change; returns the function that stops it. */
  onAccessChange(listener: (change: AccessChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Hears the events that change access (from every accounts replica), live. */
  async listen(bus: EventBus): Promise<() => Promise<void>> {
    const subscriptions: EventSubscription[] = [];
    for (const pattern of ACCESS_EVENT_PATTERNS) {
      subscriptions.push(
        await bus.subscribe(pattern, (event) => {
          const change = accessChangeOf(event);
          if (change) this.accessChanged(change);
        }),
      );
    }
    return async () => {
      await Promise.all(subscriptions.map((subscription) => subscription.unsubscribe()));
    };
  }

  /** The public signing keys, as served at /.well-known/jwks.json. */
  async publicJwks(requestId: string): Promise<JSONWebKeySet> {
    const jwks = await this.#jwks.current(requestId);
    return { keys: jwks.keys.map(publicPart) };
  }

  /** The caller's facts, from the cache or asked of accounts; a session or key that is no longer alive throws. */
  async #factsOf(principal: Principal, requestId: string): Promise<CarriedAccess | undefined> {
    if (principal.kind === 'anonymous') return undefined;
    const key = principal.kind === 'user' ? `session:${principal.sessionId}:${principal.userId}` : `key:${principal.apiKeyId}`;
    const now = this.#now();
    let cached = this.#facts.get(key);
    if (!cached || now - cached.at >= this.#factsTtlMs) {
      this.#facts.delete(key);
      const entry: CachedFacts = { at: now, principal, facts: this.#askFacts(principal, requestId) };
      entry.facts.then(
        (answer) => {
          entry.answer = answer;
        },
        () => {
          if (this.#facts.get(key) === entry) this.#facts.delete(key);
        },
      );
      this.#facts.set(key, (cached = entry));
      if (this.#facts.size > MAX_CACHED_PRINCIPALS) this.#facts.delete(this.#facts.keys().next().value!);
    }
    const answer = await cached.facts;
    if (!answer.live) {
      throw new AuthenticationError(principal.kind === 'user' ? 'This session has ended. Sign in again.' : 'API key is invalid or has been revoked');
    }
    return answer.carried!;
  }

  async #askFacts(principal: Principal, requestId: string): Promise<FactsAnswer> {
    let response: InternalResponse;
    try {
      response = await this.#accounts.request({ path: ACCESS_PATH, caller: { principal, requestId }, json: { facts: true, max: MAX_CARRIED_ACCOUNTS }, idempotent: true, timeoutMs: 5_000 });
    } catch (error) {
      this.#log.error({ err: error, requestId }, 'accounts unreachable for access facts');
      throw new AuthenticationUnavailableError(`accounts is unreachable: ${(error as Error).message}`);
    }
    const body = await readJsonBody(response);
    const parsed = FactsBody.safeParse(body);
    if (response.status !== 200 || !parsed.success) throw new AuthenticationUnavailableError(`access facts failed: accounts answered HTTP ${response.status}`);
    if (!parsed.data.live) return { live: false, accounts: null };
    if (!parsed.data.accounts) return { live: true, accounts: null, carried: { live: true } };
    // Checked as a subgraph will check it, so a token never carries what a subgraph would refuse.
    const carried = parseCarriedAccess({ live: true, accounts: parsed.data.accounts.map((a) => [a.accountId, a.role, a.status, a.path.slice(0, -1)]) });
    const accounts = carried?.accounts ?? null;
    return { live: true, accounts, carried: boundedCarriedAccess(accounts) };
  }

  async #verifyAccessToken(token: string, requestId: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, (header, input) => this.#jwks.key(header, input, requestId), {
        algorithms: ['EdDSA'],
        issuer: ACCESS_TOKEN_ISSUER,
        audience: ACCESS_TOKEN_AUDIENCE,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      throw accessTokenError(error);
    }
    if (typeof payload.sub !== 'string' || !payload.sub || typeof payload.sid !== 'string' || !payload.sid) {
      throw new AuthenticationError('Access token is missing its subject or session');
    }
    return { kind: 'user', userId: payload.sub, sessionId: payload.sid };
  }

  async #verifyApiKey(secret: string, requestId: string): Promise<Principal> {
    const key = createHash('sha256').update(secret).digest('base64url');
    const now = this.#now();
    let cached = this.#apiKeys.get(key);
    if (!cached || now - cached.at >= this.#apiKeyCacheMs) {
      this.#apiKeys.delete(key);
      const verdict = this.#askAccounts(secret, requestId);
      cached = { at: now, verdict };
      this.#apiKeys.set(key, cached);
      if (this.#apiKeys.size > MAX_CACHED_API_KEYS) this.#apiKeys.delete(this.#apiKeys.keys().next().value!);
      // Only answers are cached; a failed call to accounts is retried by the next request.
      verdict.catch(() => {
        if (this.#apiKeys.get(key) === cached) this.#apiKeys.delete(key);
      });
    }
    const principal = await cached.verdict;
    if (!principal) throw new AuthenticationError('API key is invalid or has been revoked');
    return principal;
  }

  async #askAccounts(secret: string, requestId: string): Promise<Principal | null> {
    // Not retried: a verification is cheap to ask again on the next request.
    const response = await this.#callAccounts(API_KEY_VERIFY_PATH, requestId, { json: { secret } });
    if (response.status === 401 || response.status === 404) {
      await response.body.dump();
      return null;
    }
    const body = await readJsonBody(response);
    if (response.status !== 200) throw new AuthenticationUnavailableError(`API key verification failed: accounts answered HTTP ${response.status}`);
    const verdict = ApiKeyVerdict.safeParse(body);
    if (!verdict.success) throw new AuthenticationUnavailableError(`API key verification failed: unexpected answer from accounts (${verdict.error.message})`);
    return verdict.data.principal;
  }

  async #fetchJwks(requestId: string): Promise<JSONWebKeySet> {
    const response = await this.#callAccounts(JWKS_PATH, requestId, { method: 'GET' });
    const body = (await readJsonBody(response)) as { keys?: unknown } | undefined;
    if (response.status !== 200) throw new AuthenticationUnavailableError(`JWKS fetch failed: accounts answered HTTP ${response.status}`);
    if (!body || !Array.isArray(body.keys)) throw new AuthenticationUnavailableError('JWKS fetch failed: accounts answered without keys');
    return { keys: body.keys as JWK[] };
  }

  async #callAccounts(path: string, requestId: string, init: Pick<InternalRequest, 'method' | 'json'>): Promise<InternalResponse> {
    try {
      return await this.#accounts.request({ ...init, path, caller: systemCaller(requestId), timeoutMs: 5_000 });
    } catch (error) {
      this.#log.error({ err: error, path, requestId }, 'accounts unreachable for authentication');
      throw new AuthenticationUnavailableError(`accounts is unreachable: ${(error as Error).message}`);
    }
  }
}

interface JwksCacheOptions {
  load: (requestId: string) => Promise<JSONWebKeySet>;
  cooldownMs: number;
  maxAgeMs: number;
  now: () => number;
  log: Logger;
}

/**
 * The accounts JWKS, fetched on first use and kept. A token whose `kid` is not in it triggers a
 * refetch (a key was rotated in), at most once per cooldown, so garbage tokens cannot flood accounts.
 */
class JwksCache {
  readonly #options: JwksCacheOptions;
  #jwks?: JSONWebKeySet;
  #local?: ReturnType<typeof createLocalJWKSet>;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #loading?: Promise<void>;

  constructor(options: JwksCacheOptions) {
    this.#options = options;
  }

  async current(requestId: string): Promise<JSONWebKeySet> {
    if (!this.#jwks || this.#options.now() - this.#fetchedAt >= this.#options.maxAgeMs) await this.#refresh(requestId);
    return this.#jwks!;
  }

  async key(header: JWTHeaderParameters, input: FlattenedJWSInput, requestId: string) {
    await this.current(requestId);
    try {
      return await this.#local!(header, input);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || this.#options.now() - this.#fetchedAt < this.#options.cooldownMs) throw error;
      await this.#refresh(requestId);
      return this.#local!(header, input);
    }
  }

  #refresh(requestId: string): Promise<void> {
    this.#loading ??= this.#options
      .load(requestId)
      .then((jwks) => {
        this.#jwks = jwks;
        this.#local = createLocalJWKSet(jwks);
        this.#fetchedAt = this.#options.now();
      })
      .catch((error: unknown) => {
        // Keys we already have stay usable while accounts is away.
        if (!this.#jwks) throw error;
        this.#options.log.warn({ err: error, requestId }, 'JWKS refresh failed; keeping the previous keys');
      })
      .finally(() => {
        this.#loading = undefined;
      });
    return this.#loading;
  }
}

function publicPart(jwk: JWK): JWK {
  const { kty, crv, x, y, n, e, kid, alg, use } = jwk;
  return Object.fromEntries(Object.entries({ kty, crv, x, y, n, e, kid, alg, use }).filter(([, value]) => value !== undefined)) as JWK;
}

function accessTokenError(error: unknown): Error {
  if (error instanceof AuthenticationUnavailableError) return error;
  if (error instanceof errors.JWTExpired) return new AuthenticationError('Access token has expired; refresh the session');
  if (error instanceof errors.JOSEAlgNotAllowed) return new AuthenticationError('Access token algorithm is not allowed (only EdDSA)');
  if (error instanceof errors.JWSSignatureVerificationFailed) return new AuthenticationError('Access token signature is invalid');
  if (error instanceof errors.JWKSNoMatchingKey) return new AuthenticationError('Access token was signed by an unknown key');
  if (error instanceof errors.JWTClaimValidationFailed) return new AuthenticationError(`Access token is not valid here: ${error.message}`);
  if (error instanceof errors.JOSEError) return new AuthenticationError('Access token is malformed');
  return error instanceof Error ? error : new Error(String(error));
}
