import type { EventBus, EventSubscription } from '@listbackup/lib/events/bus';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import { EVENT_SUBJECT_PREFIX } from '@listbackup/lib/events/envelope';

export type EventListener = (event: EventEnvelope) => void;

interface Route {
  pattern: string;
  /** Listeners for every event of the route. */
  listeners: Set<EventListener>;
  /** Listeners for the events of one entity (by the envelope's `subject`), so an event reaches only them. */
  bySubject: Map<string, Set<EventListener>>;
  size: number;
  subscription: Promise<EventSubscription>;
}

const ACCOUNT_TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * One live bus subscription per (account, event family) in this gateway, shared by every open
 * subscription that needs it and released the moment the last one lets go.
 */
export class EventRouter {
  readonly #bus: EventBus;
  readonly #routes = new Map<string, Route>();
  #open = 0;

  constructor(bus: EventBus) {
    this.#bus = bus;
  }

  /** Bus subscriptions currently open (or being opened). */
  get openSubscriptions(): number {
    return this.#open;
  }

  /**
   * Listens to `lb.evt.<accountId>.<family>.>` (only to events about `subject`, when given); resolves
   * once the bus delivers to it. The returned function stops listening; the bus subscription is
   * released when no listener is left.
   */
  async listen(accountId: string, family: string, listener: EventListener, subject?: string): Promise<() => void> {
    if (!ACCOUNT_TOKEN.test(accountId)) throw new TypeError(`Invalid account id for an event subject: ${JSON.stringify(accountId)}`);
    const pattern = `${EVENT_SUBJECT_PREFIX}.${accountId}.${family}.>`;
    let route = this.#routes.get(pattern);
    if (!route) {
      const listeners = new Set<EventListener>();
      const bySubject = new Map<string, Set<EventListener>>();
      const subscription = this.#bus.subscribe(pattern, (event) => {
        for (const each of listeners) each(event);
        const forSubject = bySubject.get(event.subject);
        if (forSubject) for (const each of forSubject) each(event);
      });
      route = { pattern, listeners, bySubject, size: 0, subscription };
      this.#routes.set(pattern, route);
      this.#open++;
      subscription.catch(() => {
        if (this.#routes.get(pattern) === route) {
          this.#routes.delete(pattern);
          this.#open--;
        }
      });
    }
    const current = route;
    const set = subject === undefined ? current.listeners : current.bySubject.get(subject) ?? new Set<EventListener>();
    if (subject !== undefined) current.bySubject.set(subject, set);
    set.add(listener);
    current.size++;
    let released = false;
    const remove = () => {
      if (released) return;
      released = true;
      set.delete(listener);
      if (subject !== undefined && set.size === 0 && current.bySubject.get(subject) === set) current.bySubject.delete(subject);
      current.size--;
    };
    try {
      await current.subscription;
    } catch (error) {
      remove();
      throw error;
    }
    return () => {
      if (released) return;
      remove();
      if (current.size > 0 || this.#routes.get(pattern) !== current) return;
      this.#routes.delete(pattern);
      this.#open--;
      void current.subscription.then((subscription) => subscription.unsubscribe()).catch(() => undefined);
    };
  }
}
