import type { Duplex } from 'node:stream';
import type { GraphQLFormattedError } from 'graphql';
import type { Principal } from '@listbackup/lib/principal';
import { principalKey, RATE_LIMITED, type RateLimiter, type RateRefusal } from '../rate-limits.ts';
import { z } from 'zod';
import { DEFAULT_LIMITS, type SubscriptionLimits } from './engine.ts';
import { limitReason } from './transport-ws.ts';

/** Close code of a websocket refused by a rate limit; the reason starts with RATE_LIMITED and says when to retry. */
export const CLOSE_RATE_LIMITED = 4029;
/** Close code of a websocket over its principal's cap of open sockets; the reason starts with TOO_MANY_CONNECTIONS. */
export const CLOSE_TOO_MANY_CONNECTIONS = 4030;

export const TOO_MANY_CONNECTIONS = 'TOO_MANY_CONNECTIONS';
export const TOO_MANY_SUBSCRIPTIONS = 'TOO_MANY_SUBSCRIPTIONS';

/** Why a websocket is not accepted after its connection_init: the close code, and the error for the legacy protocol's connection_error. */
export interface ConnectionRefusal {
  closeCode: number;
  /** `<CODE>: <message>`, at most 123 bytes. */
  reason: string;
  error: GraphQLFormattedError;
}

/**
 * Per-principal caps on what is open at this gateway (websockets; subscriptions are counted by the
 * engine), and the rate limits of websocket connects and subscription starts. Caps count what this
 * gateway holds open; rates are counted where every gateway shares them (rate-limits.ts).
 */
export class ConnectionCaps {
  readonly #socketsPerPrincipal: number;
  readonly #rateLimiter?: RateLimiter;
  readonly #sockets = new Map<string, number>();

  constructor(options: { socketsPerPrincipal: number; rateLimiter?: RateLimiter }) {
    this.#socketsPerPrincipal = options.socketsPerPrincipal;
    this.#rateLimiter = options.rateLimiter;
  }

  /** At the upgrade: the client IP's connect rate. Answers the refusal on the raw socket (HTTP 429) and returns false. */
  async admitUpgrade(socket: Duplex, clientIp: string | undefined): Promise<boolean> {
    const refused = await this.#rateLimiter?.consume('websocketsPerIp', clientIp);
    if (!refused) return true;
    const body = JSON.stringify({ errors: [rateError(refused)] });
    socket.end(
      `HTTP/1.1 429 Too Many Requests\r\nRetry-After: ${refused.retryAfter}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    return false;
  }

  /**
   * After connection_init: the principal's connect rate, then its cap of open sockets. On success
   * returns the function to call once the socket closes.
   */
  async admitConnection(principal: Principal): Promise<{ release: () => void } | ConnectionRefusal> {
    const key = principalKey(principal);
    if (!key) return { release: () => {} };
    const refused = await this.#rateLimiter?.consume('websocketsPerPrincipal', key);
    if (refused) return { closeCode: CLOSE_RATE_LIMITED, reason: closeReason(RATE_LIMITED, refused.message), error: rateError(refused) };
    const open = this.#sockets.get(key) ?? 0;
    if (open >= this.#socketsPerPrincipal) {
      const message = `at most ${this.#socketsPerPrincipal} open websockets per user or API key; close one first`;
      return { closeCode: CLOSE_TOO_MANY_CONNECTIONS, reason: closeReason(TOO_MANY_CONNECTIONS, message), error: { message, extensions: { code: TOO_MANY_CONNECTIONS, limit: this.#socketsPerPrincipal } } };
    }
    this.#sockets.set(key, open + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const left = (this.#sockets.get(key) ?? 1) - 1;
        if (left > 0) this.#sockets.set(key, left);
        else this.#sockets.delete(key);
      },
    };
  }

  /** Before a subscription starts: the principal's rate of subscription starts. */
  async admitSubscription(principal: Principal): Promise<GraphQLFormattedError | undefined> {
    const refused = await this.#rateLimiter?.consume('subscriptionsPerPrincipal', principalKey(principal));
    return refused ? rateError(refused) : undefined;
  }

  /** Open sockets of a principal at this gateway (tests, metrics). */
  openSockets(principal: Principal): number {
    const key = principalKey(principal);
    return key ? (this.#sockets.get(key) ?? 0) : 0;
  }
}

function rateError(refused: RateRefusal): GraphQLFormattedError {
  return { message: refused.message, extensions: { code: RATE_LIMITED, limit: refused.limit, retryAfter: refused.retryAfter } };
}

function closeReason(code: string, message: string): string {
  return limitReason(`${code}: ${message}`);
}

const count = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/** Environment variables that set the websocket caps of one deployment (gateway/src/main.ts, `npm start`). */
export const subscriptionLimitsEnv = {
  WS_MAX_SOCKETS_PER_PRINCIPAL: count(DEFAULT_LIMITS.socketsPerPrincipal),
  WS_MAX_SUBSCRIPTIONS_PER_PRINCIPAL: count(DEFAULT_LIMITS.perPrincipal),
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: count(DEFAULT_LIMITS.perSocket),
  WS_MAX_SUBSCRIPTIONS_PER_ACCOUNT: count(DEFAULT_LIMITS.perAccount),
  WS_START_CONCURRENCY: count(DEFAULT_LIMITS.startConcurrency),
};

export function subscriptionLimitsFromEnv(config: { [K in keyof typeof subscriptionLimitsEnv]: number }): Partial<SubscriptionLimits> {
  return {
    socketsPerPrincipal: config.WS_MAX_SOCKETS_PER_PRINCIPAL,
    perPrincipal: config.WS_MAX_SUBSCRIPTIONS_PER_PRINCIPAL,
    perSocket: config.WS_MAX_SUBSCRIPTIONS_PER_SOCKET,
    perAccount: config.WS_MAX_SUBSCRIPTIONS_PER_ACCOUNT,
    startConcurrency: config.WS_START_CONCURRENCY,
  };
}
