import type { EventEnvelope } from './envelope.ts';
import type { EventHandler, EventLogger } from './bus.ts';

export const DEDUP_WINDOW_MS = 2 * 60_000;

/** Remembers ids for a time window; `add` returns false for an id already seen in the window. */
export class RecentIds {
  readonly #windowMs: number;
  readonly #seenAt = new Map<string, number>();

  constructor(windowMs: number = DEDUP_WINDOW_MS) {
    this.#windowMs = windowMs;
  }

  add(id: string, now: number = Date.now()): boolean {
    // Map iteration follows insertion order, so the oldest ids come first.
    for (const [oldId, seenAt] of this.#seenAt) {
      if (now - seenAt < this.#windowMs) break;
      this.#seenAt.delete(oldId);
    }
    if (this.#seenAt.has(id)) return false;
    this.#seenAt.set(id, now);
    return true;
  }
}

/**
 * Delivers events to a live subscriber's handler one at a time, in arrival order, never inside
 * the publisher's call stack. A handler error is logged and the event dropped: live subscriptions
 * are at-most-once. Ids seen within the dedup window are dropped too.
 */
export class LiveDispatcher {
  readonly #handler: EventHandler;
  readonly #logger: EventLogger;
  readonly #pattern: string;
  readonly #recent = new RecentIds();
  #queue: EventEnvelope[] = [];
  #draining = false;
  #stopped = false;

  constructor(pattern: string, handler: EventHandler, logger: EventLogger) {
    this.#pattern = pattern;
    this.#handler = handler;
    this.#logger = logger;
  }

  push(event: EventEnvelope): void {
    if (this.#stopped || !this.#recent.add(event.id)) return;
    this.#queue.push(event);
    if (!this.#draining) {
      this.#draining = true;
      setImmediate(() => void this.#drain());
    }
  }

  /** No handler call starts after this; one already running finishes on its own. */
  stop(): void {
    this.#stopped = true;
    this.#queue = [];
  }

  async #drain(): Promise<void> {
    while (!this.#stopped && this.#queue.length > 0) {
      const event = this.#queue.shift()!;
      try {
        await this.#handler(event);
      } catch (error) {
        this.#logger.error({ err: error, pattern: this.#pattern, eventId: event.id, type: event.type }, 'live event handler failed');
      }
    }
    this.#draining = false;
  }
}
