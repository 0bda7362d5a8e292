import type { GraphQLFormattedError } from 'graphql';

/** One payload as sent to a client. */
export interface LiveResult {
  data?: Record<string, unknown> | null;
  errors?: readonly GraphQLFormattedError[];
}

/** Ends a subscription with errors the client is meant to read (sent as the protocol's `error` message). */
export class LiveEndError extends Error {
  override name = 'LiveEndError';
  readonly errors: readonly GraphQLFormattedError[];

  constructor(message: string, code: string, errors?: readonly GraphQLFormattedError[]) {
    super(message);
    this.errors = errors ?? [{ message, extensions: { code } }];
  }

  /** Ends with these errors, as they are (an authorization's answer). */
  static of(errors: readonly GraphQLFormattedError[]): LiveEndError {
    const first = errors[0];
    return new LiveEndError(first?.message ?? 'The subscription ended', String(first?.extensions?.code ?? 'FORBIDDEN'), errors);
  }
}

/**
 * One client's subscription, as the async iterator the websocket servers consume. Hand-written so
 * that `return()` releases everything at once, even while a `next()` is pending (an async generator
 * would wait for it to settle). Its buffer is bounded and keyed by entity: when the client reads more
 * slowly than states arrive, the latest state of each job replaces the one still waiting.
 */
export class Subscriber implements AsyncIterableIterator<LiveResult> {
  readonly #buffer = new Map<string, LiveResult>();
  readonly #maxBuffered: number;
  readonly #onRelease: (subscriber: Subscriber) => void;
  #waiting?: { resolve: (result: IteratorResult<LiveResult>) => void; reject: (error: unknown) => void };
  /** Set once no more payloads will come; the buffer still drains first. */
  #ending?: { error?: Error };
  #released = false;
  /** Payloads dropped because a newer state of the same entity, or too many entities, came first. */
  replaced = 0;

  constructor(maxBuffered: number, onRelease: (subscriber: Subscriber) => void) {
    this.#maxBuffered = maxBuffered;
    this.#onRelease = onRelease;
  }

  get released(): boolean {
    return this.#released;
  }

  push(key: string, result: LiveResult): void {
    if (this.#released || this.#ending) return;
    if (this.#waiting) {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting.resolve({ value: result, done: false });
      return;
    }
    if (this.#buffer.delete(key)) this.replaced++;
    this.#buffer.set(key, result);
    if (this.#buffer.size > this.#maxBuffered) {
      this.#buffer.delete(this.#buffer.keys().next().value!);
      this.replaced++;
    }
  }

  /** No more payloads: the client gets what is buffered, then `complete` (or the error). */
  end(error?: Error): void {
    if (this.#released || this.#ending) return;
    this.#ending = { error };
    this.#release();
    if (this.#waiting && this.#buffer.size === 0) this.#settleEnd();
  }

  next(): Promise<IteratorResult<LiveResult>> {
    const first = this.#buffer.entries().next();
    if (!first.done) {
      this.#buffer.delete(first.value[0]);
      return Promise.resolve({ value: first.value[1], done: false });
    }
    if (this.#ending) {
      const error = this.#ending.error;
      this.#ending = {};
      return error ? Promise.reject(error) : Promise.resolve({ value: undefined, done: true });
    }
    if (this.#released) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  /** The client unsubscribed or went away: release now, settle a pending `next()`. */
  return(): Promise<IteratorResult<LiveResult>> {
    this.#buffer.clear();
    this.#ending = {};
    this.#release();
    this.#settleEnd();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<LiveResult>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #settleEnd(): void {
    const waiting = this.#waiting;
    if (!waiting) return;
    this.#waiting = undefined;
    const error = this.#ending?.error;
    this.#ending = {};
    if (error) waiting.reject(error);
    else waiting.resolve({ value: undefined, done: true });
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#onRelease(this);
  }
}
