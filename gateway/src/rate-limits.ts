import pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { ApolloServerPlugin } from '@apollo/server';
import type { FieldNode, FragmentDefinitionNode, SelectionSetNode } from 'graphql';
import { z } from 'zod';
import type { Logger } from '@listbackup/lib/logger';
import type { Principal } from '@listbackup/lib/principal';
import type { GatewayContext } from './context.ts';
import { graphql } from './subscriptions/graphql.ts';

const { GraphQLError, Kind } = graphql;

/** A rate: at most `points` in any window of `durationSeconds`. */
export interface Rate {
  points: number;
  durationSeconds: number;
}

/** Each rate limit of the gateway (docs/limits.md); `null` turns one off. */
export interface RateLimits {
  /** `signUp` per client IP. */
  signUpPerIp: Rate | null;
  /** `logIn`, `requestPasswordReset` and `resetPassword` per client IP. */
  signInPerIp: Rate | null;
  /** Mutation fields per user or API key. */
  mutationsPerPrincipal: Rate | null;
  /** Mutation fields per client IP, whoever calls. */
  mutationsPerIp: Rate | null;
  /** `exportSnapshot` and `exportAuditLog` per user or API key. */
  exportsPerPrincipal: Rate | null;
  /** Websocket upgrades per client IP. */
  websocketsPerIp: Rate | null;
  /** Accepted websocket connections per user or API key. */
  websocketsPerPrincipal: Rate | null;
  /** Subscriptions started per user or API key. */
  subscriptionsPerPrincipal: Rate | null;
}

export type RateLimitName = keyof RateLimits;

export const DEFAULT_RATE_LIMITS: RateLimits = {
  signUpPerIp: { points: 20, durationSeconds: 3_600 },
  signInPerIp: { points: 30, durationSeconds: 300 },
  mutationsPerPrincipal: { points: 300, durationSeconds: 60 },
  mutationsPerIp: { points: 1_200, durationSeconds: 60 },
  exportsPerPrincipal: { points: 30, durationSeconds: 3_600 },
  websocketsPerIp: { points: 120, durationSeconds: 60 },
  websocketsPerPrincipal: { points: 60, durationSeconds: 60 },
  subscriptionsPerPrincipal: { points: 1_000, durationSeconds: 60 },
};

/** The mutation fields each limit counts, besides the mutation limits that count every field. */
const FIELD_LIMITS: Record<string, RateLimitName> = {
  signUp: 'signUpPerIp',
  logIn: 'signInPerIp',
  requestPasswordReset: 'signInPerIp',
  resetPassword: 'signInPerIp',
  exportSnapshot: 'exportsPerPrincipal',
  exportAuditLog: 'exportsPerPrincipal',
};

const PER_IP = new Set<RateLimitName>(['signUpPerIp', 'signInPerIp', 'mutationsPerIp', 'websocketsPerIp']);

/** `<points>/<seconds>` (e.g. `30/300`), or `off`. */
const rate = (fallback: Rate | null) =>
  z
    .string()
    .regex(/^(off|[1-9]\d{0,8}\/[1-9]\d{0,6})$/, 'must be "<points>/<seconds>", e.g. "30/300", or "off"')
    .optional()
    .transform((value): Rate | null => {
      if (value === undefined) return fallback;
      if (value === 'off') return null;
      const [points, durationSeconds] = value.split('/').map(Number);
      return { points, durationSeconds };
    });

/** Environment variables that set the rate limits of one deployment (gateway/src/main.ts, `npm start`). */
export const rateLimitsEnv = {
  RATE_LIMITS: z.stringbool().default(true),
  RATE_LIMIT_SIGN_UP_PER_IP: rate(DEFAULT_RATE_LIMITS.signUpPerIp),
  RATE_LIMIT_SIGN_IN_PER_IP: rate(DEFAULT_RATE_LIMITS.signInPerIp),
  RATE_LIMIT_MUTATIONS_PER_PRINCIPAL: rate(DEFAULT_RATE_LIMITS.mutationsPerPrincipal),
  RATE_LIMIT_MUTATIONS_PER_IP: rate(DEFAULT_RATE_LIMITS.mutationsPerIp),
  RATE_LIMIT_EXPORTS_PER_PRINCIPAL: rate(DEFAULT_RATE_LIMITS.exportsPerPrincipal),
  RATE_LIMIT_WEBSOCKETS_PER_IP: rate(DEFAULT_RATE_LIMITS.websocketsPerIp),
  RATE_LIMIT_WEBSOCKETS_PER_PRINCIPAL: rate(DEFAULT_RATE_LIMITS.websocketsPerPrincipal),
  RATE_LIMIT_SUBSCRIPTIONS_PER_PRINCIPAL: rate(DEFAULT_RATE_LIMITS.subscriptionsPerPrincipal),
};

export function rateLimitsFromEnv(config: { [K in keyof typeof rateLimitsEnv]: z.infer<(typeof rateLimitsEnv)[K]> }): RateLimits | false {
  if (!config.RATE_LIMITS) return false;
  return {
    signUpPerIp: config.RATE_LIMIT_SIGN_UP_PER_IP,
    signInPerIp: config.RATE_LIMIT_SIGN_IN_PER_IP,
    mutationsPerPrincipal: config.RATE_LIMIT_MUTATIONS_PER_PRINCIPAL,
    mutationsPerIp: config.RATE_LIMIT_MUTATIONS_PER_IP,
    exportsPerPrincipal: config.RATE_LIMIT_EXPORTS_PER_PRINCIPAL,
    websocketsPerIp: config.RATE_LIMIT_WEBSOCKETS_PER_IP,
    websocketsPerPrincipal: config.RATE_LIMIT_WEBSOCKETS_PER_PRINCIPAL,
    subscriptionsPerPrincipal: config.RATE_LIMIT_SUBSCRIPTIONS_PER_PRINCIPAL,
  };
}

export const RATE_LIMITED = 'RATE_LIMITED';

/** A request over one of the rate limits: answered with 429 and `Retry-After`. */
export interface RateRefusal {
  limit: RateLimitName;
  /** Whole seconds until the request would be accepted, at least 1. */
  retryAfter: number;
  message: string;
}

/** The table (in the gateway's own schema) where every gateway of a deployment counts. */
const SCHEMA = 'gateway';
const TABLE = 'rate_limits';

/**
 * The gateway's rate limits, counted in PostgreSQL (rate-limiter-flexible's Postgres store) so that
 * every gateway of a deployment shares them. A key over its limit is also remembered in memory until
 * its window ends, so an abusive client costs no database round trip after its first refusal; when
 * the database cannot be reached, each gateway counts in memory instead (the insurance limiter)
 * rather than failing the request.
 */
export class RateLimiter {
  readonly #limiters: Partial<Record<RateLimitName, RateLimiterAbstract>>;
  readonly #pool?: pg.Pool;

  private constructor(limiters: Partial<Record<RateLimitName, RateLimiterAbstract>>, pool?: pg.Pool) {
    this.#limiters = limiters;
    this.#pool = pool;
  }

  /** Opens the limiters, creating their table when it does not exist; without `databaseUrl` each gateway counts alone. */
  static async open(limits: RateLimits, options: { databaseUrl?: string; log: Logger }): Promise<RateLimiter> {
    const rates = Object.entries(limits).filter((entry): entry is [RateLimitName, Rate] => entry[1] !== null);
    if (!options.databaseUrl) {
      options.log.warn('rate limits are counted by this gateway alone: give it DATABASE_URL to share them between gateways');
      return new RateLimiter(Object.fromEntries(rates.map(([name, rate]) => [name, new RateLimiterMemory({ keyPrefix: name, points: rate.points, duration: rate.durationSeconds })])));
    }
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10, idleTimeoutMillis: 30_000 });
    pool.on('error', (error) => options.log.warn({ err: error }, 'rate limit database connection failed'));
    try {
      await createSchema(pool);
      const limiters: Partial<Record<RateLimitName, RateLimiterAbstract>> = {};
      let tableCreated = false;
      for (const [name, rate] of rates) {
        const common = { keyPrefix: name, points: rate.points, duration: rate.durationSeconds };
        // The first limiter creates the table (the callback says when); the others find it.
        await new Promise<void>((resolve, reject) => {
          limiters[name] = new RateLimiterPostgres(
            {
              ...common,
              storeClient: pool,
              storeType: 'pool',
              schemaName: SCHEMA,
              tableName: TABLE,
              tableCreated,
              // One limiter of the table deletes expired rows for all of them.
              clearExpiredByTimeout: !tableCreated,
              inMemoryBlockOnConsumed: rate.points,
              insuranceLimiter: new RateLimiterMemory(common),
            },
            (error) => (error ? reject(error) : resolve()),
          );
        });
        tableCreated = true;
      }
      return new RateLimiter(limiters, pool);
    } catch (error) {
      await pool.end().catch(() => {});
      throw error;
    }
  }

  /** Counts one use by `key` (a client IP or a principal's id); the refusal when it is over the limit. */
  async consume(name: RateLimitName, key: string | undefined, points = 1): Promise<RateRefusal | undefined> {
    const limiter = this.#limiters[name];
    if (!limiter || !key) return undefined;
    try {
      await limiter.consume(key, points);
      return undefined;
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      const retryAfter = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      return { limit: name, retryAfter, message: `Too many requests (${describe(name)}); retry after ${retryAfter} s` };
    }
  }

  /** Counts one use by the caller against the limit's key: the client IP for a per-IP limit, else the principal. */
  consumeFor(name: RateLimitName, caller: { principal: Principal; clientIp?: string }, points = 1): Promise<RateRefusal | undefined> {
    return this.consume(name, PER_IP.has(name) ? caller.clientIp : principalKey(caller.principal), points);
  }

  async close(): Promise<void> {
    await this.#pool?.end();
  }
}

/** The key of a principal's own limits; anonymous callers have none (their IP is counted instead). */
export function principalKey(principal: Principal): string | undefined {
  switch (principal.kind) {
    case 'user':
      return `user:${principal.userId}`;
    case 'apiKey':
      return `key:${principal.apiKeyId}`;
    default:
      return undefined;
  }
}

/** The GraphQL error of a refusal: HTTP 429 with `Retry-After`, and `extensions.retryAfter` for websocket clients. */
export function rateLimitedError(refusal: RateRefusal): InstanceType<typeof GraphQLError> {
  return new GraphQLError(refusal.message, {
    extensions: { code: RATE_LIMITED, limit: refusal.limit, retryAfter: refusal.retryAfter, http: { status: 429, headers: new Map([['retry-after', String(refusal.retryAfter)]]) } },
  });
}

/**
 * Counts each mutation field against the mutation limits of its caller and IP, and the fields
 * with their own limit (sign-up, sign-in, exports) against theirs — per field, so aliasing one
 * mutation many times in a document counts each alias.
 */
export function rateLimitPlugin(limiter: RateLimiter): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, contextValue }) {
          if (operation?.operation !== 'mutation') return;
          const fragments = Object.fromEntries(
            document.definitions.filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION).map((fragment) => [fragment.name.value, fragment]),
          );
          const fields = rootFields(operation.selectionSet, fragments);
          const counts = new Map<RateLimitName, number>([
            ['mutationsPerPrincipal', fields.length],
            ['mutationsPerIp', fields.length],
          ]);
          for (const field of fields) {
            const own = FIELD_LIMITS[field];
            if (own) counts.set(own, (counts.get(own) ?? 0) + 1);
          }
          const refusals = await Promise.all([...counts].map(([name, points]) => limiter.consumeFor(name, contextValue, points)));
          const refused = refusals.filter((refusal) => refusal !== undefined).sort((a, b) => b.retryAfter - a.retryAfter)[0];
          if (refused) throw rateLimitedError(refused);
        },
      };
    },
  };
}

function rootFields(selectionSet: SelectionSetNode, fragments: Record<string, FragmentDefinitionNode>, seen = new Set<string>()): string[] {
  const names: string[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (!(selection as FieldNode).name.value.startsWith('__')) names.push(selection.name.value);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      names.push(...rootFields(selection.selectionSet, fragments, seen));
    } else if (!seen.has(selection.name.value) && fragments[selection.name.value]) {
      seen.add(selection.name.value);
      names.push(...rootFields(fragments[selection.name.value].selectionSet, fragments, seen));
    }
  }
  return names;
}

function describe(name: RateLimitName): string {
  const what: Record<RateLimitName, string> = {
    signUpPerIp: 'sign-ups from this address',
    signInPerIp: 'sign-in attempts from this address',
    mutationsPerPrincipal: 'changes by this caller',
    mutationsPerIp: 'changes from this address',
    exportsPerPrincipal: 'exports by this caller',
    websocketsPerIp: 'websocket connections from this address',
    websocketsPerPrincipal: 'websocket connections by this caller',
    subscriptionsPerPrincipal: 'subscriptions started by this caller',
  };
  return what[name];
}

async function createSchema(pool: pg.Pool): Promise<void> {
  try {
    await pool.query(`create schema if not exists ${SCHEMA}`);
  } catch (error) {
    // Two gateways starting together race on the catalog; the loser can move on.
    if ((error as { code?: string }).code !== '23505') throw error;
  }
}
