import type { Logger } from '@listbackup/lib/logger';
import { OutboundError, outboundFetch } from '@listbackup/lib/outbound';
import { AuthError, ConfigError, ConnectorError, PlatformError, RateLimitedError, TransientError } from './errors.ts';
import { type BreakerOutcome, type BreakerPolicy, DEFAULT_BREAKER_POLICY, throughBreakers } from './breaker.ts';
import { holdScope, pace, pacingScope, type RateSpec } from './pacing.ts';
import { abortReason, backoffDelay, sleep, throwIfAborted } from './timing.ts';
import type { Credentials } from './types.ts';

/** What the client decided about a platform's answer. */
export type Verdict =
  | { kind: 'success' }
  | { kind: 'rateLimited'; retryAfterMs?: number }
  | { kind: 'transient'; retryAfterMs?: number }
  | { kind: 'unauthorized' }
  | { kind: 'config' }
  | { kind: 'platform' };

export interface ResponseInfo {
  status: number;
  headers: Headers;
  /** The error body: parsed JSON when it is JSON, else text (at most 64 KiB); undefined for 2xx. */
  body: unknown;
  url: string;
  /** The platform's clock at the time of the answer (its `Date` header), in epoch ms. */
  serverNow: number;
}

export interface HttpClientConfig {
  /** Name used in error messages ("GitHub answered 404: Not Found"). */
  platform: string;
  baseUrl: string;
  headers?: Record<string, string>;
  /** Other origins of the platform that take the same credentials (Slack's files.slack.com). */
  credentialOrigins?: string[];
  /** Headers that carry the credentials; the default is `Authorization: Bearer <accessToken | apiKey>`. */
  authorize?: (credentials: Credentials) => Record<string, string>;
  /** Platform-specific reading of an answer; return undefined to fall back to the default rules. */
  classify?: (response: ResponseInfo) => Verdict | undefined;
  /** The human message inside the platform's error body. */
  errorMessage?: (body: unknown) => string | undefined;
  /** The platform's machine code inside its error body. */
  errorCode?: (body: unknown) => string | undefined;
  /**
   * The documented steady rate a request counts against (a method's tier, a base's 5 per second):
   * the client waits before sending rather than be told no. Shared by every run of the credential.
   */
  rate?: (request: { method: string; url: URL }) => RateSpec | undefined;
  /**
   * How long the platform's quota headers (on any answer) say to hold the next request; the
   * default holds until the reset once `x-ratelimit-remaining` / `ratelimit-remaining` reaches 0.
   */
  quota?: (response: ResponseInfo) => number | undefined;
}

export interface RetryPolicy extends BreakerPolicy {
  /** Attempts for one request that fails transiently (5xx, network), the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Rate-limit waits for one request before giving up with RATE_LIMITED. */
  maxRateLimitWaits: number;
  /** A platform asking for a longer wait than this fails the request with RATE_LIMITED and `retryAfterMs`. */
  maxRateLimitWaitMs: number;
  /** Added to a wait the platform named, against clock differences. */
  rateLimitCushionMs: number;
  /** Until the response headers arrive (and, for JSON, the whole body). */
  requestTimeoutMs: number;
  /** Longest silence while streaming a body. */
  idleTimeoutMs: number;
  random: () => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 500,
  maxDelayMs: 60_000,
  maxRateLimitWaits: 10,
  maxRateLimitWaitMs: 15 * 60_000,
  rateLimitCushionMs: 100,
  requestTimeoutMs: 60_000,
  idleTimeoutMs: 120_000,
  random: Math.random,
  ...DEFAULT_BREAKER_POLICY,
};

export type QueryValue = string | number | boolean | undefined | null | readonly (string | number)[];

export interface RequestOptions {
  method?: string;
  query?: Record<string, QueryValue>;
  headers?: Record<string, string>;
  /** Sent as JSON with `content-type: application/json`. */
  json?: unknown;
  body?: string | Uint8Array;
  /**
   * Whether the request may be sent again after a 5xx or a network error. GET, HEAD, PUT, DELETE
   * and OPTIONS are; a POST only when the caller makes it so (an idempotency key).
   */
  idempotent?: boolean;
  /** Send credentials (default true). */
  auth?: boolean;
}

export interface JsonResponse<T> {
  data: T;
  status: number;
  headers: Headers;
  url: string;
}

export interface StreamOptions extends RequestOptions {
  /** Resume an interrupted download with `Range: bytes=<received>-` instead of failing. */
  resumable?: boolean;
}

export interface HttpClientDeps {
  credentials: () => Promise<Credentials>;
  refreshCredentials: () => Promise<Credentials>;
  /** Increases with every refresh: a request refused with older credentials retries without refreshing again. */
  credentialsVersion?: () => number;
  signal: AbortSignal;
  log: Logger;
  policy?: Partial<RetryPolicy>;
  /** Names the connection's circuit breaker (its id); without it, the credentials' pacing scope does. */
  connection?: string;
}

type Attempt =
  | (BreakerOutcome & { kind: 'answer'; response: Response })
  | (BreakerOutcome & { kind: 'refused'; info: ResponseInfo; verdict: Verdict; statusText: string })
  | (BreakerOutcome & { kind: 'error'; error: unknown });

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const ERROR_BODY_LIMIT = 64 * 1024;

/**
 * The HTTP client every connector uses. It owns the rules for a platform's bad days:
 * 429 and rate-limit reset headers wait as long as the platform says, 5xx and network errors back
 * off exponentially with jitter, a 401 refreshes the credentials once, and every wait ends at once
 * when the job's signal fires. Every request goes through the connection's and the platform's
 * circuit breakers (breaker.ts): an open one ends the request at once with an UnavailableError.
 */
export class HttpClient {
  readonly config: HttpClientConfig;
  readonly policy: RetryPolicy;
  readonly #deps: HttpClientDeps;
  readonly #base: URL;

  constructor(config: HttpClientConfig, deps: HttpClientDeps) {
    this.config = config;
    this.#deps = deps;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...deps.policy };
    this.#base = new URL(config.baseUrl.endsWith('/') ? config.baseUrl : `${config.baseUrl}/`);
  }

  /** An absolute URL for a path under the base URL (or an absolute URL on the same origin). */
  url(pathOrUrl: string, query?: Record<string, QueryValue>): URL {
    const url = /^https?:\/\//i.test(pathOrUrl) ? new URL(pathOrUrl) : new URL(pathOrUrl.replace(/^\//, ''), this.#base);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined || value === null) continue;
      if (Array.isArray(value)) for (const v of value) url.searchParams.append(key, String(v));
      else url.searchParams.set(key, String(value));
    }
    return url;
  }

  /** A JSON call: `accept: application/json` unless the connector's headers or the call name another. */
  async json<T = unknown>(pathOrUrl: string, options: RequestOptions = {}): Promise<JsonResponse<T>> {
    return this.#withRetries(pathOrUrl, options, 'application/json', async (response, timer) => {
      try {
        const text = await response.text();
        const data = (text.length === 0 ? undefined : parseJson(text, this.config.platform, response.url)) as T;
        return { data, status: response.status, headers: response.headers, url: response.url };
      } finally {
        timer.clear();
      }
    });
  }

  /** Streams a response body; the request is made when iteration starts. */
  async *stream(pathOrUrl: string, options: StreamOptions = {}): AsyncGenerator<Uint8Array, void, undefined> {
    const { signal } = this.#deps;
    let received = 0;
    let resumes = 0;
    let validator: string | undefined;
    let current = await this.#withRetries(pathOrUrl, options, undefined, async (response, timer) => ({ response, timer }));
    validator = current.response.headers.get('etag') ?? current.response.headers.get('last-modified') ?? undefined;
    for (;;) {
      const { response, timer } = current;
      try {
        for await (const chunk of readBody(response, timer, this.policy.idleTimeoutMs)) {
          received += chunk.byteLength;
          yield chunk;
        }
        return;
      } catch (error) {
        if (signal.aborted) throw abortReason(signal);
        if (error instanceof ConnectorError) throw error;
        resumes++;
        if (!options.resumable || resumes >= this.policy.maxAttempts) {
          throw new TransientError(`${this.config.platform}: download interrupted after ${received} bytes (${describe(error)})`, { attempts: resumes, cause: error });
        }
        this.#deps.log.warn({ platform: this.config.platform, received, resumes }, 'download interrupted, resuming');
        await sleep(backoffDelay(resumes, this.policy), signal);
        const headers: Record<string, string> = { ...options.headers, range: `bytes=${received}-` };
        if (validator) headers['if-range'] = validator;
        current = await this.#withRetries(pathOrUrl, { ...options, headers }, undefined, async (r, t) => ({ response: r, timer: t }));
        const start = /^bytes (\d+)-/.exec(current.response.headers.get('content-range') ?? '')?.[1];
        if (current.response.status !== 206 || Number(start) !== received) {
          current.timer.clear();
          await current.response.body?.cancel().catch(() => {});
          throw new TransientError(`${this.config.platform}: the download was interrupted and the platform cannot resume it`, { attempts: resumes, cause: error });
        }
      }
    }
  }

  async #withRetries<R>(pathOrUrl: string, options: RequestOptions, accept: string | undefined, onSuccess: (response: Response, timer: RequestTimer) => Promise<R>): Promise<R> {
    const { signal, log } = this.#deps;
    const method = (options.method ?? 'GET').toUpperCase();
    const idempotent = options.idempotent ?? IDEMPOTENT_METHODS.has(method);
    const url = this.url(pathOrUrl, options.query);
    const sendsCredentials = options.auth !== false;
    if (sendsCredentials && url.origin !== this.#base.origin && !this.config.credentialOrigins?.includes(url.origin)) {
      throw new PlatformError(`${this.config.platform}: refusing to send credentials to ${url.origin}`);
    }
    let failures = 0;
    let rateLimitWaits = 0;
    let refreshed = false;
    for (;;) {
      throwIfAborted(signal);
      const timer = new RequestTimer(signal, this.policy.requestTimeoutMs);
      const version = this.#deps.credentialsVersion?.();
      let attempt: Attempt;
      try {
        const auth = sendsCredentials ? (this.config.authorize ?? bearer)(await this.#deps.credentials()) : {};
        const headers = this.#headers(options, auth, accept);
        const scope = pacingScope(this.#base.href, auth);
        const names = { platform: this.config.platform, apiRoot: this.#base.href, connection: this.#deps.connection ?? scope };
        attempt = await throughBreakers(names, this.policy, () => this.#attempt(scope, method, url, headers, options, timer), describeAttempt);
      } catch (error) {
        timer.clear();
        throw error;
      }
      if (attempt.kind === 'error') {
        const { error } = attempt;
        timer.clear();
        if (signal.aborted) throw abortReason(signal);
        if (error instanceof ConnectorError) throw error;
        if (error instanceof OutboundError && error.code === 'TARGET_NOT_ALLOWED') throw new ConfigError(`${this.config.platform}: ${error.message}`, { platformCode: error.code });
        failures++;
        if (!idempotent || failures >= this.policy.maxAttempts) {
          throw new TransientError(`${this.config.platform}: ${method} ${url.pathname} failed: ${describe(error)}`, { attempts: failures, cause: error });
        }
        const wait = backoffDelay(failures, this.policy);
        log.warn({ platform: this.config.platform, path: url.pathname, attempt: failures, waitMs: wait, error: describe(error) }, 'network error, retrying');
        await sleep(wait, signal);
        continue;
      }

      if (attempt.kind === 'answer') {
        const { response } = attempt;
        try {
          return await onSuccess(response, timer);
        } catch (error) {
          timer.clear();
          if (signal.aborted) throw abortReason(signal);
          if (error instanceof ConnectorError) throw error;
          failures++;
          if (!idempotent || failures >= this.policy.maxAttempts) {
            throw new TransientError(`${this.config.platform}: reading ${url.pathname} failed: ${describe(error)}`, { attempts: failures, cause: error });
          }
          await sleep(backoffDelay(failures, this.policy), signal);
          continue;
        }
      }

      if (signal.aborted) throw abortReason(signal);
      const { info, verdict } = attempt;
      const { body, status } = info;
      const platformCode = this.config.errorCode?.(body) ?? defaultErrorCode(body);
      const message = `${this.config.platform} answered ${status}: ${this.config.errorMessage?.(body) ?? defaultErrorMessage(body) ?? attempt.statusText}`;
      const details = { status, platformCode };

      switch (verdict.kind) {
        case 'success':
          throw new PlatformError(`${message} (an error status classified as success)`, details);
        case 'unauthorized':
          if (sendsCredentials && !refreshed) {
            refreshed = true;
            if (version === undefined || version === this.#deps.credentialsVersion?.()) {
              log.info({ platform: this.config.platform, path: url.pathname }, 'credentials refused, refreshing once');
              await this.#deps.refreshCredentials();
            }
            continue;
          }
          throw new AuthError(message, details);
        case 'rateLimited': {
          rateLimitWaits++;
          const named = verdict.retryAfterMs !== undefined;
          const wait = named ? verdict.retryAfterMs! + this.policy.rateLimitCushionMs : backoffDelay(rateLimitWaits, this.policy);
          if (rateLimitWaits > this.policy.maxRateLimitWaits || wait > this.policy.maxRateLimitWaitMs) {
            throw new RateLimitedError(message, { ...details, retryAfterMs: wait, attempts: rateLimitWaits });
          }
          log.warn({ platform: this.config.platform, path: url.pathname, status, waitMs: wait, waits: rateLimitWaits }, 'rate limited, waiting');
          await sleep(wait, signal);
          continue;
        }
        case 'transient': {
          failures++;
          if (!idempotent || failures >= this.policy.maxAttempts) {
            throw new TransientError(message, { ...details, attempts: failures, retryAfterMs: verdict.retryAfterMs });
          }
          const named = verdict.retryAfterMs === undefined ? 0 : verdict.retryAfterMs + this.policy.rateLimitCushionMs;
          const wait = Math.max(named, backoffDelay(failures, this.policy));
          log.warn({ platform: this.config.platform, path: url.pathname, status, attempt: failures, waitMs: wait }, 'transient failure, retrying');
          await sleep(wait, signal);
          continue;
        }
        case 'config':
          throw new ConfigError(message, details);
        case 'platform':
          throw new PlatformError(message, details);
      }
    }
  }

  /** One request and the platform's verdict on it; never throws, so the breakers see every outcome. */
  async #attempt(scope: string, method: string, url: URL, headers: Record<string, string>, options: RequestOptions, timer: RequestTimer): Promise<Attempt> {
    const { signal } = this.#deps;
    let answered = () => {};
    let response: Response;
    try {
      answered = await pace(scope, this.config.rate?.({ method, url }), { signal, maxWaitMs: this.policy.maxRateLimitWaitMs, platform: this.config.platform });
      // Every hop, redirects included, connects only to an address the outbound policy allows.
      response = await outboundFetch(url, { method, headers, body: requestBody(options), signal: timer.signal, redirect: 'follow' });
      answered();
    } catch (error) {
      answered();
      // Our own refusals and the job's abort say nothing about the platform's health.
      const counted = !signal.aborted && !(error instanceof ConnectorError) && !(error instanceof OutboundError && error.code === 'TARGET_NOT_ALLOWED');
      return { kind: 'error', error, counted };
    }
    if (response.status < 400) {
      holdScope(scope, (this.config.quota ?? defaultQuota)({ status: response.status, headers: response.headers, body: undefined, url: response.url, serverNow: serverNow(response.headers) }) ?? 0);
      return { kind: 'answer', response, counted: false };
    }
    let body: unknown;
    try {
      body = await readErrorBody(response);
    } catch {
      body = undefined;
    } finally {
      timer.clear();
    }
    const info: ResponseInfo = { status: response.status, headers: response.headers, body, url: response.url, serverNow: serverNow(response.headers) };
    holdScope(scope, (this.config.quota ?? defaultQuota)(info) ?? 0);
    const verdict = this.config.classify?.(info) ?? defaultClassify(info);
    return { kind: 'refused', info, verdict, statusText: response.statusText, counted: verdict.kind === 'transient' && !signal.aborted };
  }

  #headers(options: RequestOptions, auth: Record<string, string>, accept: string | undefined): Record<string, string> {
    const headers: Record<string, string> = { ...(accept ? { accept } : {}), ...this.config.headers };
    if (options.json !== undefined) headers['content-type'] = 'application/json';
    return { ...headers, ...auth, ...options.headers };
  }
}

function bearer(credentials: Credentials): Record<string, string> {
  const token = credentials.accessToken ?? credentials.apiKey;
  if (!token) throw new AuthError('The connection has no access token or API key');
  return { authorization: `Bearer ${token}` };
}

function requestBody(options: RequestOptions): string | Uint8Array | undefined {
  if (options.json !== undefined) return JSON.stringify(options.json);
  return options.body;
}

/** 429, 403 with reset headers, 5xx and 408 as the common platforms document them. */
export function defaultClassify(info: ResponseInfo): Verdict {
  const { status, headers, serverNow: now } = info;
  if (status < 400) return { kind: 'success' };
  const retryAfterMs = parseRetryAfter(headers.get('retry-after'), now);
  const resetMs = rateLimitResetMs(headers, now);
  if (status === 429) return { kind: 'rateLimited', retryAfterMs: retryAfterMs ?? resetMs };
  if (status === 403 && (retryAfterMs !== undefined || resetMs !== undefined)) return { kind: 'rateLimited', retryAfterMs: retryAfterMs ?? resetMs };
  if (status === 401) return { kind: 'unauthorized' };
  if (status === 408 || (status >= 500 && status !== 501)) return { kind: 'transient', retryAfterMs };
  if (status === 403 || status === 404 || status === 410) return { kind: 'config' };
  return { kind: 'platform' };
}

/** Holds the next request until the reset once the quota headers say none is left. */
export function defaultQuota(info: ResponseInfo): number | undefined {
  return rateLimitResetMs(info.headers, info.serverNow);
}

/** `Retry-After` as delay-seconds or an HTTP date, relative to the platform's clock. */
export function parseRetryAfter(value: string | null, serverNowMs: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - serverNowMs);
}

/**
 * A quota that is used up (`x-ratelimit-remaining: 0` or `ratelimit-remaining: 0`) and the wait
 * until its reset. `x-ratelimit-reset` is epoch seconds (GitHub); small values are taken as
 * seconds from now, as `ratelimit-reset` (IETF draft) defines it.
 */
export function rateLimitResetMs(headers: Headers, serverNowMs: number = Date.now()): number | undefined {
  const remaining = headers.get('x-ratelimit-remaining') ?? headers.get('ratelimit-remaining');
  const reset = headers.get('x-ratelimit-reset') ?? headers.get('ratelimit-reset');
  if (remaining === null || Number(remaining) > 0 || reset === null || !/^\d+$/.test(reset.trim())) return undefined;
  const value = Number(reset);
  return value > 1_000_000_000 ? Math.max(0, value * 1000 - serverNowMs) : value * 1000;
}

function serverNow(headers: Headers): number {
  const date = headers.get('date');
  const parsed = date ? Date.parse(date) : Number.NaN;
  return Number.isNaN(parsed) ? Date.now() : parsed;
}

function defaultErrorMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim().slice(0, 500) || undefined;
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, any>;
  if (typeof b.message === 'string') return b.message;
  if (b.error && typeof b.error === 'object' && typeof b.error.message === 'string') return b.error.message;
  if (typeof b.error_description === 'string') return b.error_description;
  if (typeof b.error === 'string') return b.error;
  if (Array.isArray(b.errors) && typeof b.errors[0]?.message === 'string') return b.errors[0].message;
  return undefined;
}

function defaultErrorCode(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, any>;
  if (b.error && typeof b.error === 'object') {
    const code = b.error.code ?? b.error.type ?? b.error.status;
    if (code !== undefined) return String(code);
  }
  if (typeof b.error === 'string') return b.error;
  if (typeof b.code === 'string') return b.code;
  return undefined;
}

function parseJson(text: string, platform: string, url: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new PlatformError(`${platform}: ${new URL(url).pathname} did not answer JSON`);
  }
}

async function readErrorBody(response: Response): Promise<unknown> {
  if (!response.body) return undefined;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < ERROR_BODY_LIMIT) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const text = Buffer.concat(chunks).toString('utf8').slice(0, ERROR_BODY_LIMIT);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function* readBody(response: Response, timer: RequestTimer, idleMs: number): AsyncGenerator<Uint8Array, void, undefined> {
  if (!response.body) return;
  const reader = response.body.getReader();
  let finished = false;
  try {
    for (;;) {
      timer.restart(idleMs);
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      yield value;
    }
  } finally {
    timer.clear();
    if (!finished) await reader.cancel().catch(() => {});
  }
}

/** Aborts a request that goes silent for too long, without touching the job's own signal. */
class RequestTimer {
  readonly signal: AbortSignal;
  readonly #controller = new AbortController();
  #timer: NodeJS.Timeout | undefined;

  constructor(parent: AbortSignal, ms: number) {
    this.signal = AbortSignal.any([parent, this.#controller.signal]);
    this.restart(ms);
  }

  restart(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#controller.abort(new DOMException(`no answer within ${ms} ms`, 'TimeoutError')), ms);
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const code = cause && typeof cause === 'object' && 'code' in cause ? ` (${String((cause as { code: unknown }).code)})` : '';
  return `${error.message}${code}`;
}

function describeAttempt(attempt: Attempt): string {
  if (attempt.kind === 'error') return describe(attempt.error);
  if (attempt.kind === 'refused') return `HTTP ${attempt.info.status}`;
  return `HTTP ${attempt.response.status}`;
}
