import { randomBytes } from 'node:crypto';

/** The one event shape every service publishes and consumes ("An event" in docs/architecture.md); `createEvent` in contract.ts builds it. */
export interface EventEnvelope {
  /** UUID v7: unique, and sortable by creation time. Also the dedup key (`Nats-Msg-Id`). */
  id: string;
  /** Dotted event type, e.g. `account.created`, `job.progress`. */
  type: string;
  /** The tenant the event belongs to; part of the subject. */
  accountId: string;
  /** Id of the entity the event is about. */
  subject: string;
  /** ISO-8601 timestamp of when the event happened. */
  time: string;
  data: Record<string, unknown>;
  /** Who caused it, when a caller did: see `actorOf` in contract.ts. */
  actor?: Actor;
  /** W3C trace context of the code that created it, when tracing is on: a durable consumer continues that trace (lib/src/tracing.ts). */
  traceparent?: string;
}

/** The user, API key, service or anonymous client behind an event, and where a request came from. */
export interface Actor {
  kind: 'user' | 'apiKey' | 'system' | 'anonymous';
  /** The user or API key id, the service name for `system`, null for `anonymous`. */
  id: string | null;
  ip?: string | null;
  userAgent?: string | null;
}

/** Logical subject namespace of all events: `lb.evt.<accountId>.<type>`. */
export const EVENT_SUBJECT_PREFIX = 'lb.evt';

const TYPE_PATTERN = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/i;
// A NATS subject token: no dots, wildcards or whitespace.
const TOKEN_PATTERN = /^[^.*>\s]+$/;

/** The NATS subject an event is published on: `lb.evt.<accountId>.<type>` (the type keeps its dots). */
export function subjectFor(event: Pick<EventEnvelope, 'accountId' | 'type'>): string {
  assertValidEvent(event);
  return `${EVENT_SUBJECT_PREFIX}.${event.accountId}.${event.type}`;
}

export function assertValidEvent(event: Partial<Pick<EventEnvelope, 'accountId' | 'type'>>): void {
  if (typeof event.accountId !== 'string' || !TOKEN_PATTERN.test(event.accountId)) {
    throw new TypeError(`Invalid event accountId ${JSON.stringify(event.accountId)}: must be one subject token`);
  }
  if (typeof event.type !== 'string' || !TYPE_PATTERN.test(event.type)) {
    throw new TypeError(`Invalid event type ${JSON.stringify(event.type)}: expected dotted words like "job.started"`);
  }
}

/** Parses and checks an envelope received from the wire. */
export function parseEvent(json: string): EventEnvelope {
  const value = JSON.parse(json) as Partial<EventEnvelope>;
  if (
    typeof value !== 'object' || value === null ||
    typeof value.id !== 'string' || typeof value.subject !== 'string' || typeof value.time !== 'string' ||
    typeof value.data !== 'object' || value.data === null ||
    (value.actor !== undefined && (typeof value.actor !== 'object' || value.actor === null)) ||
    (value.traceparent !== undefined && typeof value.traceparent !== 'string')
  ) {
    throw new TypeError('Malformed event envelope');
  }
  assertValidEvent(value);
  return value as EventEnvelope;
}

/** RFC 9562 UUID version 7: 48-bit millisecond timestamp followed by random bits. */
export function uuidv7(now: number = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
