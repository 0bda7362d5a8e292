import { defineEntity, p } from '@mikro-orm/core';

/**
 * One recorded change or security event of an account. Append-only: the database refuses every
 * update, and every delete except retention's (see migration 0006). `hash` chains it to the entry
 * before it in the same account (`previousHash`), so a verify pass detects an entry changed,
 * removed or reordered.
 */
export const AuditEntrySchema = defineEntity({
  name: 'AuditEntry',
  tableName: 'audit_entries',
  properties: {
    id: p.uuid().primary(),
    accountId: p.uuid(),
    /** Position in the account's chain, from 1, without gaps. */
    sequence: p.bigint('number'),
    /** The event it records: an event is recorded once. */
    eventId: p.uuid().unique(),
    /** The event type, e.g. `job.created`. */
    action: p.text(),
    actorKind: p.text(),
    actorId: p.text().nullable(),
    actorIp: p.text().nullable(),
    actorUserAgent: p.text().nullable(),
    targetType: p.text().nullable(),
    targetId: p.text().nullable(),
    before: p.json<unknown>().nullable(),
    after: p.json<unknown>().nullable(),
    details: p.json<Record<string, unknown>>(),
    occurredAt: p.datetime(),
    recordedAt: p.datetime(),
    previousHash: p.text(),
    hash: p.text(),
  },
  uniques: [{ name: 'audit_entries_account_sequence_unique', properties: ['accountId', 'sequence'] }],
  // Declared so the schema comparison knows it (its function, and the truncate trigger, which
  // PostgreSQL does not list among a table's triggers, come from migration 0006).
  triggers: [
    {
      name: 'audit_entries_append_only',
      timing: 'before',
      events: ['update', 'delete'],
      expression: 'create trigger "audit_entries_append_only" before update or delete on "audit_entries" for each row execute function "audit_entries_append_only"();',
    },
  ],
});

export class AuditEntry extends AuditEntrySchema.class {}
AuditEntrySchema.setClass(AuditEntry);

/**
 * The head of an account's chain: the last sequence and hash, and where retention cut it (the
 * sequence and hash of the last entry deleted, which the first kept entry must follow).
 */
export const AuditChainSchema = defineEntity({
  name: 'AuditChain',
  tableName: 'audit_chains',
  properties: {
    accountId: p.uuid().primary(),
    sequence: p.bigint('number').defaultRaw('0'),
    hash: p.text(),
    prunedThrough: p.bigint('number').defaultRaw('0'),
    prunedHash: p.text(),
    /** How long entries are kept, from the account's plan (billing's `account.upgraded`); null: the default. */
    retentionDays: p.integer().nullable(),
  },
});

export class AuditChain extends AuditChainSchema.class {}
AuditChainSchema.setClass(AuditChain);
