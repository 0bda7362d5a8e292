/**
 * Whether a platform's webhook delivery is genuine, and what it is about: the signature checked the
 * way the platform's definition says (`definition.webhooks`), in constant time, against every
 * secret accepted now; the timestamp within the platform's tolerance; the handshakes answered; the
 * events read with their type, account and the catalogue resources they change. Replays of a
 * delivery id are the route's to refuse (it keeps the ids it has seen).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { DeliveryField, HmacWebhookSignature, JwtWebhookSignature, PlatformDefinition, StripeWebhookSignature, WebhookSpec, WebhookTimestamp } from '../platform.ts';

export interface WebhookRequest {
  method: string;
  /** The public URL the platform called (HubSpot v3 signs it). */
  url: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Raw bytes as received. */
  body: Buffer;
}

export type WebhookRefusal = 'WEBHOOK_SIGNATURE_MISSING' | 'WEBHOOK_SIGNATURE_INVALID' | 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE' | 'WEBHOOK_MALFORMED';

export type WebhookOutcome =
  | { kind: 'handshake'; status: number; contentType: string; body: string }
  | { kind: 'events'; events: WebhookEvent[] }
  | { kind: 'refused'; code: WebhookRefusal; message: string };

export interface WebhookEvent {
  /**
   * The platform's delivery/event id, or the sha256 of the signed content when it has none (`:<n>`
   * added for the n-th event of a batch; with the minute it came when nothing signed tells two
   * deliveries apart, see contentHash).
   */
  deliveryId: string;
  type: string;
  /**
   * The platform's account id, matched to a connection's externalAccountId (or to the connection
   * parameter `definition.webhooks.accountParam` names); absent when the platform does not say (the
   * route then names the connection).
   */
  accountId?: string;
  /** Catalogue resources this event changes, from definition.webhooks.events. */
  resources: string[];
}

/** A challenge longer than this, or with characters outside printable ASCII, is not echoed. */
const MAX_CHALLENGE_LENGTH = 1024;

class Refused extends Error {
  readonly code: WebhookRefusal;
  constructor(code: WebhookRefusal, message: string) {
    super(message);
    this.code = code;
  }
}

/** secrets: every secret accepted now, newest first (two during a rollover; Box's primary and secondary). */
export function verifyWebhook(definition: PlatformDefinition, request: WebhookRequest, secrets: readonly string[], now: Date = new Date()): WebhookOutcome {
  const spec = definition.webhooks;
  if (!spec) return refused('WEBHOOK_MALFORMED', `${definition.name} sends no webhooks ListBackup takes`);
  try {
    const handshake = spec.handshake;
    if (handshake?.style === 'query-challenge' && request.method.toUpperCase() === 'GET') {
      return answerChallenge(queryParam(request.url, handshake.param), `the ${handshake.param} query parameter`);
    }
    if (handshake?.style === 'head' && request.method.toUpperCase() === 'HEAD') return { kind: 'handshake', status: 200, contentType: 'text/plain; charset=utf-8', body: '' };
    if (request.method.toUpperCase() !== 'POST') throw new Refused('WEBHOOK_MALFORMED', `${definition.name} webhooks are POST requests`);
    const signed = verifySignature(definition, spec, request, secrets, now);
    const body = parseBody(definition, request.body);
    if (handshake?.style === 'body-challenge' && String(atPath(body, handshake.typePath) ?? '') === handshake.type) {
      return answerChallenge(atPath(body, handshake.challengePath), `the body's ${handshake.challengePath}`);
    }
    return { kind: 'events', events: readEvents(definition, spec, request, body, signed, now) };
  } catch (error) {
    if (error instanceof Refused) return refused(error.code, error.message);
    throw error;
  }
}

function refused(code: WebhookRefusal, message: string): WebhookOutcome {
  return { kind: 'refused', code, message };
}

function queryParam(url: string, name: string): string | null {
  if (!URL.canParse(url, 'http://invalid.invalid')) throw new Refused('WEBHOOK_MALFORMED', 'The request URL cannot be read');
  return new URL(url, 'http://invalid.invalid').searchParams.get(name);
}

function answerChallenge(challenge: unknown, where: string): WebhookOutcome {
  if (typeof challenge !== 'string' || challenge.length === 0) throw new Refused('WEBHOOK_MALFORMED', `The handshake has no challenge in ${where}`);
  if (challenge.length > MAX_CHALLENGE_LENGTH || !/^[\x21-\x7e]+$/.test(challenge)) throw new Refused('WEBHOOK_MALFORMED', 'The handshake challenge is not a short printable token');
  return { kind: 'handshake', status: 200, contentType: 'text/plain; charset=utf-8', body: challenge };
}

/** Checks the signature; returns the signed content (the delivery id of a platform without one is its hash). */
function verifySignature(definition: PlatformDefinition, spec: WebhookSpec, request: WebhookRequest, secrets: readonly string[], now: Date): Buffer {
  if (secrets.length === 0) throw new Refused('WEBHOOK_SIGNATURE_INVALID', `No ${definition.name} webhook secret is configured`);
  const signature = spec.signature;
  switch (signature.scheme) {
    case 'hmac':
      return verifyHmac(definition, signature, request, secrets, now);
    case 'stripe':
      return verifyStripe(definition, signature, request, secrets, now);
    case 'jwt-hs256':
      return verifyJwt(definition, signature, request, secrets, now);
  }
}

function verifyHmac(definition: PlatformDefinition, signature: HmacWebhookSignature, request: WebhookRequest, secrets: readonly string[], now: Date): Buffer {
  const given = signature.headers.map((name) => request.headers[name.toLowerCase()]).filter((value): value is string => Boolean(value));
  if (given.length === 0) throw new Refused('WEBHOOK_SIGNATURE_MISSING', `The delivery has no ${signature.headers.join(' or ')} header`);
  let timestamp: string | undefined;
  if (signature.timestamp) timestamp = checkTimestamp(signature.timestamp, request, now);
  const parts = signature.signed ?? ['body'];
  const content = Buffer.concat(
    parts.map((part) => {
      if (part === 'body') return request.body;
      if (part === 'method') return Buffer.from(request.method.toUpperCase(), 'utf8');
      if (part === 'url') return Buffer.from(decodeEscapes(request.url, signature.decodeUrl ?? []), 'utf8');
      if (part === 'timestamp') return Buffer.from(timestamp ?? '', 'utf8');
      return Buffer.from(part.text, 'utf8');
    }),
  );
  const candidates = given.flatMap((value) => {
    if (signature.prefix && !value.startsWith(signature.prefix)) return [];
    const digest = decodeDigest(value.slice(signature.prefix?.length ?? 0), signature.encoding);
    return digest ? [digest] : [];
  });
  if (candidates.length === 0) throw new Refused('WEBHOOK_SIGNATURE_INVALID', `The ${signature.headers.join(' / ')} header is not a ${signature.prefix ?? ''}${signature.encoding} ${signature.algorithm} HMAC`);
  if (!anyMatches(candidates, secrets, (secret) => createHmac(signature.algorithm, secret).update(content).digest())) {
    throw new Refused('WEBHOOK_SIGNATURE_INVALID', `The ${definition.name} webhook signature does not match`);
  }
  return content;
}

function verifyStripe(definition: PlatformDefinition, signature: StripeWebhookSignature, request: WebhookRequest, secrets: readonly string[], now: Date): Buffer {
  const header = request.headers[signature.header.toLowerCase()];
  if (!header) throw new Refused('WEBHOOK_SIGNATURE_MISSING', `The delivery has no ${signature.header} header`);
  const pairs = header.split(',').map((pair) => {
    const equals = pair.indexOf('=');
    return equals < 0 ? ['', ''] : [pair.slice(0, equals).trim(), pair.slice(equals + 1).trim()];
  });
  const t = pairs.find(([key]) => key === 't')?.[1];
  const candidates = pairs.filter(([key]) => key === 'v1').flatMap(([, value]) => decodeDigest(value, 'hex') ?? []);
  if (!t || !/^\d+$/.test(t) || candidates.length === 0) throw new Refused('WEBHOOK_SIGNATURE_INVALID', `The ${signature.header} header has no t= timestamp and v1= signature`);
  checkAge(Number(t) * 1000, signature.toleranceSeconds, now);
  const content = Buffer.concat([Buffer.from(`${t}.`, 'utf8'), request.body]);
  if (!anyMatches(candidates, secrets, (secret) => createHmac('sha256', secret).update(content).digest())) {
    throw new Refused('WEBHOOK_SIGNATURE_INVALID', `The ${definition.name} webhook signature does not match`);
  }
  return content;
}

function verifyJwt(definition: PlatformDefinition, signature: JwtWebhookSignature, request: WebhookRequest, secrets: readonly string[], now: Date): Buffer {
  const header = request.headers[signature.header.toLowerCase()];
  if (!header) throw new Refused('WEBHOOK_SIGNATURE_MISSING', `The delivery has no ${signature.header} header`);
  const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  const parts = token?.split('.');
  if (!token || parts?.length !== 3) throw new Refused('WEBHOOK_SIGNATURE_INVALID', `The ${signature.header} header is not a bearer JWT`);
  const [encodedHeader, encodedClaims, encodedSignature] = parts as [string, string, string];
  const joseHeader = parseJwtPart(encodedHeader);
  if (joseHeader?.alg !== 'HS256') throw new Refused('WEBHOOK_SIGNATURE_INVALID', 'The webhook JWT is not signed HS256');
  const given = decodeDigest(encodedSignature, 'base64url');
  const signingInput = Buffer.from(`${encodedHeader}.${encodedClaims}`, 'utf8');
  if (!given || !anyMatches([given], secrets, (secret) => createHmac('sha256', secret).update(signingInput).digest())) {
    throw new Refused('WEBHOOK_SIGNATURE_INVALID', `The ${definition.name} webhook JWT signature does not match`);
  }
  const claims = parseJwtPart(encodedClaims);
  if (!claims) throw new Refused('WEBHOOK_MALFORMED', 'The webhook JWT claims are not a JSON object');
  if (claims.exp !== undefined && !(typeof claims.exp === 'number' && claims.exp * 1000 > now.getTime())) {
    throw new Refused('WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE', 'The webhook JWT has expired');
  }
  return Buffer.concat([signingInput, request.body]);
}

function parseJwtPart(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The timestamp header's value as sent (it is what is signed), once its age is within the tolerance. */
function checkTimestamp(spec: WebhookTimestamp, request: WebhookRequest, now: Date): string {
  const value = request.headers[spec.header.toLowerCase()];
  if (!value) throw new Refused('WEBHOOK_SIGNATURE_MISSING', `The delivery has no ${spec.header} header`);
  const time = spec.format === 'rfc3339' ? (/^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : Number.NaN) : /^\d+$/.test(value) ? Number(value) * (spec.format === 'unix-seconds' ? 1000 : 1) : Number.NaN;
  if (!Number.isFinite(time)) throw new Refused('WEBHOOK_MALFORMED', `The ${spec.header} header is not a ${spec.format} timestamp`);
  if (spec.toleranceSeconds !== undefined) checkAge(time, spec.toleranceSeconds, now);
  return value;
}

function checkAge(timeMs: number, toleranceSeconds: number, now: Date): void {
  const skew = Math.abs(now.getTime() - timeMs);
  if (skew > toleranceSeconds * 1000) {
    throw new Refused('WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE', `The delivery's timestamp is ${Math.round(skew / 1000)} s from now, more than the ${toleranceSeconds} s allowed`);
  }
}

function decodeDigest(value: string, encoding: 'hex' | 'base64' | 'base64url'): Buffer | undefined {
  const pattern = encoding === 'hex' ? /^(?:[0-9a-fA-F]{2})+$/ : encoding === 'base64' ? /^[A-Za-z0-9+/]+={0,2}$/ : /^[A-Za-z0-9_-]+$/;
  const trimmed = value.trim();
  return pattern.test(trimmed) ? Buffer.from(trimmed, encoding) : undefined;
}

/** Whether any given digest equals the expected one of any secret, each compared in constant time. */
function anyMatches(given: Buffer[], secrets: readonly string[], expected: (secret: string) => Buffer): boolean {
  let match = false;
  for (const secret of secrets) {
    const digest = expected(secret);
    for (const candidate of given) if (candidate.length === digest.length && timingSafeEqual(candidate, digest)) match = true;
  }
  return match;
}

function decodeEscapes(url: string, escapes: string[]): string {
  if (escapes.length === 0) return url;
  const wanted = new Set(escapes.map((sequence) => sequence.toUpperCase()));
  return url.replace(/%[0-9a-fA-F]{2}/g, (sequence) => (wanted.has(sequence.toUpperCase()) ? decodeURIComponent(sequence) : sequence));
}

function parseBody(definition: PlatformDefinition, body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new Refused('WEBHOOK_MALFORMED', `The ${definition.name} webhook body is not JSON`);
  }
}

/**
 * A delivery with neither an id nor a signed timestamp (Dropbox's notification: the same bytes each
 * time the same accounts change) is told apart only by when it came: its id is the hash of the
 * signed content and the minute it arrived, so a replay within that minute is the same delivery
 * and a later notification a new one.
 */
function contentHash(spec: WebhookSpec, signed: Buffer, now: Date): string {
  const hash = createHash('sha256').update(signed);
  if (spec.signature.scheme === 'hmac' && !spec.signature.timestamp && !spec.deliveryId) hash.update(`\n${Math.floor(now.getTime() / 60_000)}`);
  return hash.digest('hex');
}

function readEvents(definition: PlatformDefinition, spec: WebhookSpec, request: WebhookRequest, body: unknown, signed: Buffer, now: Date): WebhookEvent[] {
  const hash = contentHash(spec, signed, now);
  if (spec.batch === undefined) return [readEvent(definition, spec, request, body, hash)];
  const batch = spec.batch === '' ? body : atPath(body, spec.batch);
  if (!Array.isArray(batch)) throw new Refused('WEBHOOK_MALFORMED', `The ${definition.name} webhook body has no array of events${spec.batch ? ` at ${spec.batch}` : ''}`);
  return batch.map((event, index) => readEvent(definition, spec, request, event, `${hash}:${index}`));
}

function readEvent(definition: PlatformDefinition, spec: WebhookSpec, request: WebhookRequest, event: unknown, hash: string): WebhookEvent {
  const type = field(spec.eventType, request, event);
  if (!type) throw new Refused('WEBHOOK_MALFORMED', `The ${definition.name} webhook does not say its event type (${describe(spec.eventType)})`);
  const accountId = spec.accountId ? field(spec.accountId, request, event) : undefined;
  return {
    deliveryId: (spec.deliveryId && field(spec.deliveryId, request, event)) || hash,
    type,
    ...(accountId ? { accountId } : {}),
    resources: resourcesOf(spec, type),
  };
}

function field(where: DeliveryField, request: WebhookRequest, event: unknown): string | undefined {
  if ('value' in where) return where.value;
  const value = 'header' in where ? request.headers[where.header.toLowerCase()] : atPath(event, where.path);
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' ? String(value) : undefined;
}

function describe(where: DeliveryField): string {
  return 'header' in where ? `header ${where.header}` : 'path' in where ? `field ${where.path}` : where.value;
}

function atPath(value: unknown, path: string): unknown {
  if (path === '') return value;
  let current = value;
  for (const key of path.split('.')) {
    if (!current || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** The resources of every `events` entry whose type (with `*` wildcards) matches. */
function resourcesOf(spec: WebhookSpec, type: string): string[] {
  const resources = new Set<string>();
  for (const entry of spec.events) if (wildcard(entry.type).test(type)) for (const resource of entry.resources) resources.add(resource);
  return [...resources];
}

function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}
