import { createHash } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import { authorize } from '@listbackup/lib/access';
import type { Em, Orm } from '@listbackup/lib/db';
import { ValidationError } from '@listbackup/lib/errors';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import { uuidv7 } from '@listbackup/lib/events/envelope';
import { readEvent } from '@listbackup/lib/events/contract';
import { isUuid } from '@listbackup/lib/ids';
import { decodeCursor, encodeCursor, pageSize, toPage, type Page } from '@listbackup/lib/pagination';
import type { AccountsContext } from '../context.ts';
import { AuditChain, AuditEntry } from '../entities/audit-entry.ts';

/** Where every chain starts: the "previous hash" of an account's first entry. */
export const GENESIS_HASH = '0'.repeat(64);
/** How long entries are kept when billing has not said otherwise (the Free plan's retention). */
export const DEFAULT_AUDIT_RETENTION_DAYS = 90;
const DAY_MS = 24 * 60 * 60_000;

export const ACTOR_KINDS = ['user', 'apiKey', 'system', 'anonymous'] as const;

/** What the entry says about the event, before it is chained. */
interface EntryContent {
  accountId: string;
  eventId: string;
  action: string;
  actorKind: string;
  actorId: string | null;
  actorIp: string | null;
  actorUserAgent: string | null;
  targetType: string | null;
  targetId: string | null;
  before: unknown;
  after: unknown;
  details: Record<string, unknown>;
  occurredAt: Date;
}

/** The entity an event type is about, by its first word. */
const TARGET_TYPES: Record<string, string> = {
  user: 'User',
  account: 'Account',
  billing: 'Account',
  member: 'Membership',
  apikey: 'ApiKey',
  connection: 'Connection',
  source: 'Source',
  data: 'Source',
  job: 'Job',
  notification: 'NotificationEndpoint',
  audit: 'Account',
};

/** The entry for an event, or null for what the log does not keep (live progress ticks, a malformed tenant). */
export function entryContent(event: EventEnvelope): EntryContent | null {
  // Progress ticks and one person's in-app copies are not changes of the account.
  if (event.type === 'job.progress' || event.type === 'notification.created' || !isUuid(event.accountId)) return null;
  const { before, after, ...details } = event.data as Record<string, unknown>;
  const family = event.type.split('.')[0];
  const data = readEvent(event, 'data.deleted') ?? readEvent(event, 'data.synced') ?? readEvent(event, 'data.exported');
  const time = new Date(event.time);
  return {
    accountId: event.accountId.toLowerCase(),
    eventId: event.id,
    action: event.type,
    actorKind: event.actor?.kind ?? 'system',
    actorId: event.actor?.id ?? null,
    actorIp: event.actor?.ip ?? null,
    actorUserAgent: event.actor?.userAgent ?? null,
    targetType: TARGET_TYPES[family] ?? null,
    targetId: data ? data.data.sourceId : event.subject,
    before: before ?? null,
    after: after ?? null,
    details,
    occurredAt: Number.isNaN(time.getTime()) ? new Date() : time,
  };
}

/** JSON with keys sorted at every level: the same value always hashes the same, whatever jsonb did to key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}

/** SHA-256 over the previous hash and the entry's content, hex. */
export function entryHash(previousHash: string, sequence: number, content: EntryContent): string {
  const body = canonicalJson({ ...content, sequence, occurredAt: content.occurredAt.toISOString() });
  return createHash('sha256').update(previousHash).update('\n').update(body).digest('hex');
}

/**
 * Records an event once (a redelivered event finds its entry and changes nothing). The account's
 * chain head is locked, so entries of one account get consecutive sequences in a single order
 * whatever the number of consumers.
 */
export async function recordAuditEntry(orm: Orm, event: EventEnvelope): Promise<boolean> {
  const content = entryContent(event);
  if (!content) return false;
  return orm.em.fork().transactional(async (tx) => {
    const chain = await lockChain(tx, content.accountId);
    if ((await tx.count(AuditEntry, { eventId: content.eventId })) > 0) return false;
    const sequence = chain.sequence + 1;
    const hash = entryHash(chain.hash, sequence, content);
    tx.create(AuditEntry, { id: uuidv7(), ...content, sequence, recordedAt: new Date(), previousHash: chain.hash, hash });
    chain.sequence = sequence;
    chain.hash = hash;
    return true;
  });
}

async function lockChain(tx: Em, accountId: string): Promise<AuditChain> {
  await tx.getConnection().execute(
    `insert into "${tx.config.get('schema')}"."audit_chains" ("account_id", "sequence", "hash", "pruned_through", "pruned_hash") values (?, 0, ?, 0, ?) on conflict do nothing`,
    [accountId, GENESIS_HASH, GENESIS_HASH],
    'run',
    tx.getTransactionContext(),
  );
  return tx.findOneOrFail(AuditChain, { accountId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
}

/** The retention billing gives the account's plan, kept with its chain. */
export async function setAuditRetention(orm: Orm, accountId: string, days: number): Promise<void> {
  await orm.em.fork().transactional(async (tx) => {
    const chain = await lockChain(tx, accountId);
    chain.retentionDays = days;
  });
}

// -------------------------------------------------------------------------------------------------
// Reading

export interface AuditLogFilter {
  actorId?: string | null;
  actorKind?: (typeof ACTOR_KINDS)[number] | null;
  /** Event types; `job.*` matches every type of the family. */
  actions?: string[] | null;
  targetType?: string | null;
  targetId?: string | null;
  from?: Date | null;
  to?: Date | null;
}

const MAX_ACTIONS = 50;
const ACTION_PATTERN = /^[a-z_]+(\.([a-z_]+|\*))*$/;

/** The query of a filter; a bad filter is a VALIDATION error. */
export function auditQuery(accountId: string, filter: AuditLogFilter): Record<string, unknown> {
  const query: Record<string, unknown> = { accountId };
  if (filter.actorId) query.actorId = filter.actorId;
  if (filter.actorKind) query.actorKind = filter.actorKind;
  if (filter.targetType) query.targetType = filter.targetType;
  if (filter.targetId) query.targetId = filter.targetId;
  if (filter.from || filter.to) query.occurredAt = { ...(filter.from ? { $gte: filter.from } : {}), ...(filter.to ? { $lt: filter.to } : {}) };
  if (filter.actions?.length) {
    if (filter.actions.length > MAX_ACTIONS) throw new ValidationError(`Filter on at most ${MAX_ACTIONS} actions`, 'filter.actions');
    const bad = filter.actions.find((action) => !ACTION_PATTERN.test(action));
    if (bad) throw new ValidationError(`"${bad.slice(0, 64)}" is not an action: use an event type like "job.created", or "job.*"`, 'filter.actions');
    query.$or = filter.actions.map((action) => (action.endsWith('.*') ? { action: { $like: `${action.slice(0, -1)}%` } } : { action }));
  }
  if (filter.from && filter.to && filter.from >= filter.to) throw new ValidationError('`from` must be before `to`', 'filter.from');
  return query;
}


/** The account's entries, newest first, for roles with `audit:read`. */
export async function listAuditEntries(ctx: AccountsContext, accountId: string, filter: AuditLogFilter = {}, first?: number | null, after?: string | null): Promise<Page<AuditEntry>> {
  await authorize(ctx, 'audit:read', accountId);
  const size = pageSize(first);
  const scope = { list: 'Account.auditLog', owner: accountId };
  const cursor = decodeCursor(scope, after, (key) => key.length === 1 && Number.isSafeInteger(key[0]) && (key[0] as number) > 0);
  const query = auditQuery(accountId, filter);
  if (cursor) query.sequence = { $lt: cursor[0] };
  const rows = await ctx.em.find(AuditEntry, query, { orderBy: { sequence: 'desc' }, limit: size + 1 });
  return toPage(rows, size, (entry) => encodeCursor(scope, [entry.sequence]));
}

/** Entries in chain order, a batch at a time: for export and verification. */
export async function* entriesInOrder(em: Em, accountId: string, filter: AuditLogFilter = {}, batch = 500): AsyncGenerator<AuditEntry> {
  let after = 0;
  for (;;) {
    const rows = await em.fork().find(AuditEntry, { ...auditQuery(accountId, filter), sequence: { $gt: after } }, { orderBy: { sequence: 'asc' }, limit: batch });
    yield* rows;
    if (rows.length < batch) return;
    after = rows[rows.length - 1].sequence;
  }
}

export interface AuditVerification {
  valid: boolean;
  entriesChecked: number;
  /** The first entry that does not follow from the one before it (changed, missing, reordered). */
  firstInvalidSequence: number | null;
  reason: string | null;
  /** The hash of the newest entry: keep it, and a later verification proves nothing before it changed. */
  headHash: string;
  headSequence: number;
}

/**
 * Recomputes the account's chain from the retention anchor to the head: every hash from the
 * content and the previous hash, sequences without gaps, and the head matching the last entry.
 */
export async function verifyAuditLog(ctx: AccountsContext, accountId: string): Promise<AuditVerification> {
  await authorize(ctx, 'audit:read', accountId);
  return verifyChain(ctx.em, accountId);
}

export async function verifyChain(em: Em, accountId: string): Promise<AuditVerification> {
  const chain = await em.fork().findOne(AuditChain, { accountId });
  if (!chain) return { valid: true, entriesChecked: 0, firstInvalidSequence: null, reason: null, headHash: GENESIS_HASH, headSequence: 0 };
  let previousHash = chain.prunedHash;
  let expected = chain.prunedThrough + 1;
  let checked = 0;
  const broken = (sequence: number, reason: string): AuditVerification => ({ valid: false, entriesChecked: checked, firstInvalidSequence: sequence, reason, headHash: chain.hash, headSequence: chain.sequence });
  for await (const entry of entriesInOrder(em, accountId)) {
    if (entry.sequence !== expected) return broken(expected, `entry ${expected} is missing`);
    if (entry.previousHash !== previousHash) return broken(entry.sequence, `entry ${entry.sequence} does not follow entry ${entry.sequence - 1}`);
    const { id: _id, sequence, recordedAt: _recordedAt, previousHash: _previous, hash, ...content } = entry;
    if (entryHash(previousHash, sequence, content as EntryContent) !== hash) return broken(entry.sequence, `entry ${entry.sequence} was changed after it was recorded`);
    previousHash = hash;
    expected++;
    checked++;
  }
  if (expected - 1 !== chain.sequence || previousHash !== chain.hash) return broken(expected, `entries after ${expected - 1} are missing`);
  return { valid: true, entriesChecked: checked, firstInvalidSequence: null, reason: null, headHash: chain.hash, headSequence: chain.sequence };
}

// -------------------------------------------------------------------------------------------------
// Retention

/**
 * Deletes each account's entries older than its plan keeps them, moving the chain's anchor to the
 * last deleted entry so verification goes on from there. The only delete the database allows.
 */
export async function pruneAuditLog(orm: Orm, now = new Date(), defaultDays = DEFAULT_AUDIT_RETENTION_DAYS): Promise<number> {
  const chains = await orm.em.fork().find(AuditChain, {}, { fields: ['accountId'] });
  let deleted = 0;
  for (const { accountId } of chains) {
    deleted += await orm.em.fork().transactional(async (tx) => {
      const chain = await tx.findOneOrFail(AuditChain, { accountId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      const cutoff = new Date(now.getTime() - (chain.retentionDays ?? defaultDays) * DAY_MS);
      const last = await tx.findOne(AuditEntry, { accountId, occurredAt: { $lt: cutoff } }, { orderBy: { sequence: 'desc' } });
      if (!last) return 0;
      await tx.getConnection().execute(`set local listbackup.audit_retention = 'on'`, [], 'run', tx.getTransactionContext());
      const count = await tx.nativeDelete(AuditEntry, { accountId, sequence: { $lte: last.sequence } });
      chain.prunedThrough = last.sequence;
      chain.prunedHash = last.hash;
      return count;
    });
  }
  return deleted;
}
