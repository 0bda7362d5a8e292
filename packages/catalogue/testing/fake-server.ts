/**
 * Base of the fake SaaS servers: a node:http server on a free local port that records every
 * request with the server's own clock, and answers from an injected-failure queue before the
 * platform logic runs. Tests only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeAccount } from './fake-account.ts';

export interface RecordedRequest {
  seq: number;
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
  /** Server clock (epoch ms, including `advance`) when the request arrived. */
  at: number;
  /** Status the server answered (0 when the connection was cut). */
  status: number;
  /** For rate-limit answers: the server clock after which a retry is allowed. */
  retryAllowedAt?: number;
  /** The request came before the server's own `retryAllowedAt` said it could. */
  early?: boolean;
  /** The body the server answered with (as sent, before JSON encoding), when it answered with one. */
  answered?: unknown;
}

export interface Failure {
  /** How many matching requests fail this way (default 1). */
  times?: number;
  status?: number;
  headers?: Record<string, string>;
  /** Default: the platform's error body for this status. */
  body?: unknown;
  /** Platform-specific flavour for the default body (e.g. a Google error reason). */
  reason?: string;
  /** Cut the connection instead of answering. */
  reset?: boolean;
  /** Only requests this returns true for. */
  match?: (request: RecordedRequest) => boolean;
}

export interface ErrorAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export abstract class FakeServer {
  readonly requests: RecordedRequest[] = [];
  url = '';
  /** Offset added to the real clock: lets tests make time pass for timestamps. */
  clockOffsetMs = 0;
  readonly #failures: (Failure & { left: number })[] = [];
  #server: Server | undefined;
  #seq = 0;
  /** Server clock time before which any request is answered as rate limited. */
  protected blockedUntil = 0;
  /** The platform's OAuth and identity endpoints, when a test connects through them (`fake-account.ts`). */
  account: FakeAccount | undefined;

  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  advance(ms: number): void {
    this.clockOffsetMs += ms;
  }

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) this.send(res, 500, { message: String(error) });
        else res.destroy();
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    if (!this.#server) return;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server!.close(() => resolve()));
  }

  /** The next matching request(s) fail as described, then the server behaves again. */
  failNext(failure: Failure): this {
    this.#failures.push({ ...failure, left: failure.times ?? 1 });
    return this;
  }

  clearFailures(): void {
    this.#failures.length = 0;
  }

  /** Requests (except ones the test filters out) with the given path prefix. */
  requestsTo(prefix: string, method = 'GET'): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(prefix));
  }

  /**
   * How many records the successful answers to requests whose path matches carried, `pick` finding
   * them in an answer's body: what a connector read of a listing at the fake.
   */
  recordsServed(path: RegExp, pick: (body: any) => unknown[] | undefined): number {
    return this.requests
      .filter((r) => r.status < 300 && path.test(r.path))
      .reduce((count, r) => count + (Array.isArray(pick(r.answered)) ? pick(r.answered)!.length : 0), 0);
  }

  /** How many requests whose path matches the server answered without an error (a redirect counts). */
  requestsServed(path: RegExp): number {
    return this.requests.filter((r) => r.status > 0 && r.status < 400 && path.test(r.path)).length;
  }

  /** Requests that came before the server said they could. */
  get earlyRetries(): RecordedRequest[] {
    return this.requests.filter((r) => r.early);
  }

  /** The platform: answers a request that passed failure injection. */
  protected abstract route(request: RecordedRequest, res: ServerResponse): Promise<void> | void;

  /** The platform's error body for an injected failure. */
  protected abstract errorAnswer(status: number, failure: Failure): ErrorAnswer;

  /** Answered to every request while `blockedUntil` is in the future. */
  protected rateLimitAnswer(_request: RecordedRequest): ErrorAnswer {
    return this.errorAnswer(429, {});
  }

  protected send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
      date: new Date(this.now()).toUTCString(),
      ...headers,
    });
    res.end(text);
  }

  protected answer(request: RecordedRequest, res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    request.status = status;
    request.answered = body;
    this.send(res, status, body, headers);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake');
    const request: RecordedRequest = {
      seq: ++this.#seq,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      at: this.now(),
      status: 0,
    };
    if (this.requests.some((r) => r.retryAllowedAt !== undefined && r.retryAllowedAt > request.at)) request.early = true;
    this.requests.push(request);
    if (this.account?.route(request, (status, body, headers) => void this.answer(request, res, status, body, headers))) return;

    if (request.at < this.blockedUntil) {
      const answer = this.rateLimitAnswer(request);
      request.retryAllowedAt = this.blockedUntil;
      this.answer(request, res, answer.status, answer.body, answer.headers);
      return;
    }

    const failure = this.#failures.find((f) => f.left > 0 && (!f.match || f.match(request)));
    if (failure) {
      failure.left--;
      if (failure.reset) {
        req.socket.destroy();
        return;
      }
      const status = failure.status ?? 503;
      const answer = failure.body !== undefined ? { status, body: failure.body } : this.errorAnswer(status, failure);
      const headers = { ...answer.headers, ...failure.headers };
      const retryAfter = headers['retry-after'] ?? headers['Retry-After'];
      if (retryAfter !== undefined) {
        const seconds = Number(retryAfter);
        request.retryAllowedAt = Number.isNaN(seconds) ? Date.parse(retryAfter) : this.now() + seconds * 1000;
      }
      this.answer(request, res, answer.status, answer.body, headers);
      return;
    }
    await this.route(request, res);
  }
}

/** The bearer token of a request, or the username of Basic auth (Stripe accepts both). */
export function tokenOf(request: RecordedRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const [scheme, value] = header.split(' ', 2);
  if (scheme?.toLowerCase() === 'bearer') return value;
  if (scheme?.toLowerCase() === 'basic' && value) return Buffer.from(value, 'base64').toString('utf8').split(':')[0];
  return undefined;
}

/** Seconds-precision ISO 8601, as GitHub and Stripe print timestamps. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
