import type { IncomingHttpHeaders } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, type Dispatcher } from 'undici';
import { ANONYMOUS, type Principal } from './principal.ts';
import type { CarriedAccess } from './access-facts.ts';
import { INTERNAL_TOKEN_HEADER, INTERNAL_TOKEN_LIFETIME_SECONDS, internalKeyring, type InternalKeyring } from './internal-token.ts';
import { metrics } from './metrics.ts';
import { clientTlsOptions, processTls, type TlsSettings } from './tls.ts';
import { injectTraceHeaders, SpanKind, tracingEnabled, withSpan } from './tracing.ts';

/** The header that carries the caller's IP from the gateway to the services (throttling, audit). */
export const CLIENT_IP_HEADER = 'x-listbackup-client-ip';
/** The header that carries the client's User-Agent from the gateway to the services (audit). */
export const USER_AGENT_HEADER = 'x-listbackup-user-agent';
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * Who a call is made for. The gateway passes its per-request context; a service calling on behalf
 * of a request passes the caller it got; background work passes `systemCaller(...)`. Tokens are
 * cached per caller object and audience, so one request signs one token per service it calls.
 */
export interface Caller {
  principal: Principal;
  requestId: string;
  /** The gateway's checked facts about the caller (access-facts.ts), signed into every token of the request. */
  facts?: CarriedAccess;
  clientIp?: string;
  userAgent?: string;
}

/** A caller that is no user: schedulers, workers, the gateway's own look-ups. */
export function systemCaller(requestId: string): Caller {
  return { principal: ANONYMOUS, requestId };
}

export type InternalMethod = 'GET' | 'HEAD' | 'POST';

export interface InternalRequest {
  method?: InternalMethod;
  /** Path and query string, resolved against the service's origin. */
  path: string;
  caller: Caller;
  /** Sent as a JSON body. */
  json?: unknown;
  headers?: Record<string, string>;
  /** Default: the client's `timeoutMs`. Applies to the response headers and to each gap in the body. */
  timeoutMs?: number;
  /**
   * Safe to send again: retried on a failed connection and on 502/503/504, a bounded number of
   * times. Default: true for GET and HEAD, false for POST.
   */
  idempotent?: boolean;
  signal?: AbortSignal;
}

/** One attempt of a call, as middleware sees it: headers may still be added (trace context). */
export interface InternalCall {
  service: string;
  method: InternalMethod;
  url: URL;
  headers: Record<string, string>;
  body?: string;
  caller: Caller;
  /** 1 for the first try. */
  attempt: number;
}

export interface InternalResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Must be read or dumped, so the connection goes back to the pool. */
  body: Dispatcher.ResponseData['body'];
}

/**
 * Wraps every attempt of every call (metrics, traces): call `next(call)` and return its answer.
 * Add one with `client.use(...)`.
 */
export type InternalMiddleware = (call: InternalCall, next: (call: InternalCall) => Promise<InternalResponse>) => Promise<InternalResponse>;

/** A call that got no usable answer: the service was unreachable, too slow, overloaded or answered an error status. */
export class InternalCallError extends Error {
  override name = 'InternalCallError';
  readonly service: string;
  readonly path: string;
  /** The HTTP status, when the service answered. */
  readonly status?: number;
  readonly body?: unknown;

  constructor(service: string, path: string, message: string, details: { status?: number; body?: unknown; cause?: unknown } = {}) {
    super(`${service} ${path}: ${message}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.service = service;
    this.path = path;
    this.status = details.status;
    this.body = details.body;
  }
}

export interface InternalClientOptions {
  /** `INTERNAL_TOKEN_SECRET` (its first secret signs). */
  internalTokenSecret: string;
  /** Default timeout of a call. Default 10 s. */
  timeoutMs?: number;
  /** Open connections per service at most; further calls wait for one. Default 64. */
  connectionsPerService?: number;
  /** Calls waiting for a connection per service at most; beyond it a call fails at once. Default 2,000. */
  maxQueuedPerService?: number;
  /** Extra attempts of an idempotent call. Default 2. */
  retries?: number;
  /** First retry delay; doubles per attempt, with jitter. Default 25 ms. */
  retryDelayMs?: number;
  /** TLS to the services: with a CA, calls go over https only, trusting that CA, and show `cert`/`key` when given. */
  tls?: TlsSettings;
}

const RETRIED_STATUSES = new Set([502, 503, 504]);
const RETRIED_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED']);
/** A cached token is reused while it has at least this long to live. */
const TOKEN_REUSE_MARGIN_MS = 20_000;

interface CachedToken {
  token: string;
  reuseUntil: number;
}

/**
 * The one client for service-to-service HTTP: every call carries an internal token for the
 * service it goes to (one per caller and service, not per call), the request id and the client IP,
 * goes through a keep-alive pool with a bounded number of connections and a bounded queue per
 * service, has a timeout, and is retried (boundedly) when it is idempotent and the connection failed.
 */
export class InternalClient {
  readonly #keyring: InternalKeyring;
  readonly #agent: Agent;
  readonly #timeoutMs: number;
  readonly #maxQueued: number;
  readonly #retries: number;
  readonly #retryDelayMs: number;
  readonly #middleware: InternalMiddleware[] = [];
  readonly #tokens = new WeakMap<Caller, Map<string, CachedToken>>();
  readonly #pending = new Map<string, number>();
  readonly #connections: number;
  readonly #tls: boolean;

  constructor(options: InternalClientOptions) {
    this.#keyring = internalKeyring(options.internalTokenSecret);
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#connections = options.connectionsPerService ?? 64;
    this.#maxQueued = options.maxQueuedPerService ?? 2_000;
    this.#retries = options.retries ?? 2;
    this.#retryDelayMs = options.retryDelayMs ?? 25;
    // Below the services' keep-alive timeout (65 s), so the pool never sends on a socket the server is closing.
    this.#tls = Boolean(options.tls?.ca);
    this.#agent = new Agent({
      connections: this.#connections,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 60_000,
      connect: { timeout: 5_000, ...(options.tls ? clientTlsOptions(options.tls) : {}) },
    });
  }

  /** Adds a middleware around every attempt; the first added is the outermost. */
  use(middleware: InternalMiddleware): this {
    this.#middleware.push(middleware);
    return this;
  }

  /** A client bound to one service: `name` is the token's audience, `url` any URL of the service (its origin is used). */
  service(name: string, url: string): ServiceClient {
    const parsed = new URL(url);
    if (this.#tls && parsed.protocol !== 'https:') throw new Error(`${name} is at ${parsed.origin}, but with TLS_CA_FILE set calls between services go over https only`);
    return new ServiceClient(this, name, parsed.origin);
  }

  /** The internal token for `caller` at `service`, signed once and reused while it has time left. */
  tokenFor(caller: Caller, service: string): string {
    let byService = this.#tokens.get(caller);
    if (!byService) this.#tokens.set(caller, (byService = new Map()));
    const now = Date.now();
    const cached = byService.get(service);
    if (cached && cached.reuseUntil > now) return cached.token;
    const token = this.#keyring.sign(service, { principal: caller.principal, requestId: caller.requestId, facts: caller.facts }, now);
    byService.set(service, { token, reuseUntil: now + INTERNAL_TOKEN_LIFETIME_SECONDS * 1000 - TOKEN_REUSE_MARGIN_MS });
    return token;
  }

  async request(service: string, origin: string, request: InternalRequest): Promise<InternalResponse> {
    const method = request.method ?? (request.json === undefined ? 'GET' : 'POST');
    const headers: Record<string, string> = {
      ...request.headers,
      [INTERNAL_TOKEN_HEADER]: this.tokenFor(request.caller, service),
      [REQUEST_ID_HEADER]: request.caller.requestId,
    };
    if (request.caller.clientIp) headers[CLIENT_IP_HEADER] = request.caller.clientIp;
    if (request.caller.userAgent) headers[USER_AGENT_HEADER] = request.caller.userAgent;
    let body: string | undefined;
    if (request.json !== undefined) {
      body = JSON.stringify(request.json);
      headers['content-type'] = 'application/json';
    }
    const idempotent = request.idempotent ?? (method === 'GET' || method === 'HEAD');
    const timeoutMs = request.timeoutMs ?? this.#timeoutMs;
    const url = new URL(request.path, origin);

    const pending = this.#pending.get(service) ?? 0;
    if (pending >= this.#connections + this.#maxQueued) {
      throw new InternalCallError(service, url.pathname, `overloaded: ${pending} calls already waiting`, { status: 503 });
    }
    this.#pending.set(service, pending + 1);
    try {
      for (let attempt = 1; ; attempt++) {
        const call: InternalCall = { service, method, url, headers: { ...headers }, body, caller: request.caller, attempt };
        const last = !idempotent || attempt > this.#retries;
        let response: InternalResponse;
        try {
          response = await this.#run(call, 0, timeoutMs, request.signal);
        } catch (error) {
          if (last || request.signal?.aborted || !RETRIED_ERRORS.has(errorCode(error))) {
            throw new InternalCallError(service, url.pathname, `unreachable (${errorCode(error) || (error as Error).message})`, { cause: error });
          }
          await this.#backoff(attempt);
          continue;
        }
        if (last || !RETRIED_STATUSES.has(response.status)) return response;
        await response.body.dump();
        await this.#backoff(attempt);
      }
    } finally {
      const left = (this.#pending.get(service) ?? 1) - 1;
      if (left === 0) this.#pending.delete(service);
      else this.#pending.set(service, left);
    }
  }

  /** The pooled dispatcher, for libraries that make their own HTTP calls to the services. */
  get dispatcher(): Dispatcher {
    return this.#agent;
  }

  close(): Promise<void> {
    return this.#agent.close();
  }

  #run(call: InternalCall, index: number, timeoutMs: number, signal?: AbortSignal): Promise<InternalResponse> {
    const middleware = this.#middleware[index];
    if (middleware) return middleware(call, (next) => this.#run(next, index + 1, timeoutMs, signal));
    return this.#send(call, timeoutMs, signal);
  }

  async #send(call: InternalCall, timeoutMs: number, signal?: AbortSignal): Promise<InternalResponse> {
    const response = await this.#agent.request({
      origin: call.url.origin,
      path: call.url.pathname + call.url.search,
      method: call.method,
      headers: call.headers,
      body: call.body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal,
    });
    return { status: response.statusCode, headers: response.headers, body: response.body };
  }

  #backoff(attempt: number): Promise<void> {
    const delay = this.#retryDelayMs * 2 ** (attempt - 1);
    return sleep(delay / 2 + Math.random() * delay);
  }
}

/** The internal client for one service. */
export class ServiceClient {
  readonly #client: InternalClient;
  readonly name: string;
  readonly origin: string;

  constructor(client: InternalClient, name: string, origin: string) {
    this.#client = client;
    this.name = name;
    this.origin = origin;
  }

  request(request: InternalRequest): Promise<InternalResponse> {
    return this.#client.request(this.name, this.origin, request);
  }

  /**
   * POSTs `json` (or GETs without it) and reads the JSON answer; an error status or a body that is
   * not JSON throws an InternalCallError (with `status` and the parsed `body` when there is one).
   */
  async json<T = Record<string, unknown>>(request: InternalRequest): Promise<T> {
    const response = await this.request(request);
    const body = await readJsonBody(response);
    if (response.status < 200 || response.status >= 300) {
      throw new InternalCallError(this.name, request.path, `answered HTTP ${response.status}`, { status: response.status, body });
    }
    if (body === undefined) throw new InternalCallError(this.name, request.path, 'answered without a JSON body', { status: response.status });
    return body as T;
  }

  /** A GraphQL operation on the service's /graphql as `caller`; the response body as it came (data and errors). */
  async graphql<T = Record<string, any>>(caller: Caller, query: string, variables?: Record<string, unknown>, options: Pick<InternalRequest, 'timeoutMs' | 'signal' | 'idempotent'> = {}): Promise<GraphQLBody<T>> {
    const path = '/graphql';
    const response = await this.request({ method: 'POST', path, caller, json: { query, variables }, ...options });
    const body = await readJsonBody(response);
    if (body === undefined || (response.status >= 500 && !(body as GraphQLBody).errors)) {
      throw new InternalCallError(this.name, path, `answered HTTP ${response.status}`, { status: response.status, body });
    }
    return body as GraphQLBody<T>;
  }
}

export interface GraphQLBody<T = Record<string, any>> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; [key: string]: unknown } }[];
}

/** The body parsed as JSON, or undefined when it is not JSON. Always consumes the body. */
export async function readJsonBody(response: InternalResponse): Promise<unknown> {
  const type = String(response.headers['content-type'] ?? '');
  if (!type.includes('json')) {
    await response.body.dump();
    return undefined;
  }
  const text = await response.body.text();
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorCode(error: unknown): string {
  const own = (error as { code?: unknown })?.code;
  if (typeof own === 'string') return own;
  const cause = (error as { cause?: { code?: unknown } })?.cause?.code;
  return typeof cause === 'string' ? cause : '';
}

/** Counts and times every attempt of every call: `internal_requests_total`, `internal_request_duration_seconds`. */
export const metricsMiddleware: InternalMiddleware = async (call, next) => {
  const started = performance.now();
  try {
    const response = await next(call);
    metrics.internalCalls.inc({ service: call.service, method: call.method, status: String(response.status) });
    return response;
  } catch (error) {
    metrics.internalCalls.inc({ service: call.service, method: call.method, status: 'error' });
    throw error;
  } finally {
    metrics.internalCallDuration.observe({ service: call.service }, (performance.now() - started) / 1000);
  }
};

/**
 * Each attempt in a client span of the caller's trace, its `traceparent` sent along so the service
 * continues it (lib/src/tracing.ts); nothing while tracing is off.
 */
export const traceMiddleware: InternalMiddleware = (call, next) => {
  if (!tracingEnabled()) return next(call);
  const attributes = { 'listbackup.service': call.service, 'http.request.method': call.method, 'url.path': call.url.pathname, 'server.address': call.url.hostname, 'http.request.resend_count': call.attempt - 1 };
  return withSpan(`internal ${call.service} ${call.method} ${call.url.pathname}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    injectTraceHeaders(call.headers);
    const response = await next(call);
    span?.setAttribute('http.response.status_code', response.status);
    return response;
  });
};

const shared = new Map<string, InternalClient>();

/**
 * The process's internal client for a keyring: every caller in a process shares its pool (and the
 * middleware added to it, metrics first, then traces), however many services the process runs. TLS comes from
 * the process's environment (lib/src/tls.ts).
 */
export function internalClient(internalTokenSecret: string): InternalClient {
  let client = shared.get(internalTokenSecret);
  if (!client) shared.set(internalTokenSecret, (client = new InternalClient({ internalTokenSecret, tls: processTls() }).use(metricsMiddleware).use(traceMiddleware)));
  return client;
}
