import { z } from 'zod';
import type { Principal } from '../principal.ts';
import { PlanLimitsShape } from '../plan-limits.ts';
import { assertValidEvent, uuidv7, type Actor, type EventEnvelope } from './envelope.ts';
import { currentTraceparent } from '../tracing.ts';

/**
 * Every event type of the product and the shape of its `data`: the one list publishers and
 * consumers share (docs/architecture.md says who publishes and who consumes each). A new type is
 * added here, with its shape, before anything publishes it.
 *
 * Publishers build events with `createEvent`, which checks the data against its shape (a mismatch
 * is a programming error and throws). Consumers read them with `readEvent`, which answers the
 * typed data or null for an envelope of another type or of a shape this version does not know.
 */

const id = z.string().min(1);
const time = z.string();
const nullableString = z.string().nullable();

// -------------------------------------------------------------------------------------------------
// The caller behind an event

export const ActorShape = z.object({
  kind: z.enum(['user', 'apiKey', 'system', 'anonymous']),
  /** The user or API key id, the service name for `system`, null for `anonymous`. */
  id: z.string().nullable(),
  ip: z.string().max(64).nullable().optional(),
  userAgent: z.string().max(512).nullable().optional(),
}) satisfies z.ZodType<Actor>;

const MAX_USER_AGENT = 512;

/**
 * The actor of a request: who (from the verified principal), from where (the client IP and user
 * agent the gateway forwarded). An anonymous caller is `anonymous` with its address.
 */
export function actorOf(request: { principal: Principal; clientIp?: string | null; userAgent?: string | null }): Actor {
  const { principal } = request;
  const where = { ip: request.clientIp ?? null, userAgent: request.userAgent?.slice(0, MAX_USER_AGENT) ?? null };
  switch (principal.kind) {
    case 'user':
      return { kind: 'user', id: principal.userId, ...where };
    case 'apiKey':
      return { kind: 'apiKey', id: principal.apiKeyId, ...where };
    default:
      return { kind: 'anonymous', id: null, ...where };
  }
}

/** A service acting on its own (the scheduler, a worker, billing's dunning). */
export const systemActor = (service: string): Actor => ({ kind: 'system', id: service });

// -------------------------------------------------------------------------------------------------
// Shapes shared by several types

/** A job's state, named as in the `Job` type of the schema (the gateway's live subscriptions project it). */
const JobState = z.object({
  __typename: z.literal('Job'),
  id,
  kind: z.string(),
  status: z.enum(['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED']),
  attempts: z.number().int(),
  progress: z.object({
    itemsDone: z.number(),
    itemsTotal: z.number().nullable(),
    bytesDone: z.number(),
    bytesTotal: z.number().nullable(),
    itemsPerSecond: z.number().nullable(),
    bytesPerSecond: z.number().nullable(),
    etaSeconds: z.number().nullable(),
    percent: z.number().nullable(),
    // Events published before the field existed carry no estimate.
    totalsEstimated: z.boolean().default(false),
  }),
  failureType: nullableString,
  failureReason: nullableString,
  partialSuccess: z.boolean(),
  cancelRequested: z.boolean(),
  createdAt: time,
  startedAt: time.nullable(),
  finishedAt: time.nullable(),
  nextAttemptAt: time.nullable(),
});

const JobData = z.object({ accountId: id, sourceId: id.nullable(), jobId: id, job: JobState });

/** How a snapshot differs from its parent, by item id and content hash. */
const SnapshotChanges = z.object({ previousItems: z.number(), added: z.number(), changed: z.number(), deleted: z.number() });

/** A finished backup's `job.completed` adds the snapshot it made (jobs' analytics keep it). */
const BackupSummary = z.object({
  snapshotId: id.nullable(),
  items: z.number(),
  logicalBytes: z.number(),
  /** Null for a source's first snapshot. */
  changes: SnapshotChanges.nullable(),
  /** True when the snapshot was flagged (`snapshot.anomaly_detected`). */
  anomaly: z.boolean(),
});

const ConnectionData = z.object({
  connectionId: id,
  platformId: id,
  /** The platform's slug, e.g. `stripe`. */
  platform: z.string(),
  name: z.string(),
  authType: z.string(),
  status: z.string(),
});

const SourceData = z.object({ accountId: id, sourceId: id });

const Role = z.enum(['owner', 'admin', 'operator', 'viewer']);
const MemberData = z.object({ membershipId: id, accountId: id, email: z.string(), userId: id.nullable(), role: Role });

const Schedule = z.object({ kind: z.string(), cron: z.string().nullable(), timeZone: z.string().nullable() });

/**
 * The source's state after the change, on every `source.*` event sources publishes (jobs' analytics
 * keep schedule, pause and platform); events archived before it was added have none.
 */
const SourceChange = SourceData.extend({
  source: z
    .object({
      name: z.string(),
      schedule: Schedule,
      paused: z.boolean(),
      deletedAt: time.nullable(),
      /** On `source.created`: the platform of its connection, which never changes. */
      platform: z.object({ id, slug: z.string() }).optional(),
      /** The shortest gap between two scheduled backups, in whole minutes; null for a manual schedule (billing checks a downgrade by it). */
      backupIntervalMinutes: z.number().int().nullable().optional(),
      /** How long the retention keeps a snapshot by its calendar rules, in days (billing checks a downgrade by it). */
      retentionDays: z.number().int().optional(),
    })
    .optional(),
});

/** A snapshot flagged because its backup moved far beyond the source's history. */
const SnapshotAnomaly = SourceData.extend({
  snapshotId: id,
  jobId: id,
  kind: z.enum(['MASS_DELETION', 'MASS_CHANGE']),
  /** The share of the previous snapshot's items deleted (or changed), 0 to 1. */
  share: z.number(),
  /** What the source's history calls a large move. */
  typicalShare: z.number(),
});

const DeletedSnapshots = z.array(z.object({ id, manifestKey: z.string() }));

// -------------------------------------------------------------------------------------------------
// The contract

interface EventDefinition<Data extends z.ZodType> {
  data: Data;
  /** Published directly to live subscribers only, never through the outbox or the archive. */
  ephemeral?: boolean;
}

const define = <Data extends z.ZodType>(data: Data, options: { ephemeral?: boolean } = {}): EventDefinition<Data> => ({ data, ...options });

export const EVENTS = {
  // accounts: users
  'user.created': define(z.object({ userId: id, email: z.string(), name: z.string(), personalAccountId: id })),
  'user.login': define(z.object({ userId: id, sessionId: id, method: z.string() })),
  /** Profile fields, the address, or its verification changed. */
  'user.updated': define(z.object({ userId: id, changed: z.array(z.string()), before: z.record(z.string(), z.unknown()), after: z.record(z.string(), z.unknown()) })),
  /** A wrong password or second factor for an existing user (unknown addresses belong to no account). */
  'user.login_failed': define(z.object({ userId: id, reason: z.enum(['password', 'second_factor']) })),
  'user.logout': define(z.object({ userId: id, sessionId: id })),
  /** A session ended by accounts itself: its rotated refresh token was presented again (a stolen token). */
  'user.session_revoked': define(z.object({ userId: id, sessionId: id, reason: z.literal('refresh_token_reused') })),
  'user.mfa_enabled': define(z.object({ userId: id, method: z.literal('totp') })),
  'user.mfa_disabled': define(z.object({ userId: id, method: z.literal('totp') })),
  'user.password_changed': define(z.object({ userId: id, method: z.enum(['change', 'reset']) })),
  /** The user erased themself (`deleteMe`); `accountIds` were left without an owner and deleted with them. */
  'user.deleted': define(z.object({ userId: id, accountIds: z.array(id) })),

  // accounts: tenancy
  'account.created': define(z.object({ name: z.string(), parentId: id.nullable() })),
  'account.updated': define(z.object({ accountId: id, before: z.object({ name: z.string() }), after: z.object({ name: z.string() }) })),
  /**
   * The account (and every account below it, `accountIds`, itself first) is suspended: reads work,
   * what costs resources answers ACCOUNT_SUSPENDED, schedules stop. `by` billing (non-payment: a
   * payment resumes it) or an operator.
   */
  'account.suspended': define(z.object({ accountId: id, accountIds: z.array(id), by: z.enum(['billing', 'operator']), reason: nullableString })),
  'account.resumed': define(z.object({ accountId: id, accountIds: z.array(id), by: z.enum(['billing', 'operator']) })),
  /** An owner deleted the account: it (and `accountIds`) only reads or is restored until `purgeAfter`, then `account.purged`. */
  'account.deleted': define(z.object({ accountId: id, accountIds: z.array(id), name: z.string(), purgeAfter: time })),
  'account.restored': define(z.object({ accountId: id, accountIds: z.array(id) })),
  /**
   * The recovery window is over and accounts has removed the accounts: each subgraph removes what it
   * keeps of `accountIds` (sources and snapshots; connections, revoked at the platform where it can,
   and their credentials; jobs, their
   * analytics and every stored object of the accounts). The audit log and billing's ledger and
   * invoices stay.
   */
  'account.purged': define(z.object({ accountId: id, accountIds: z.array(id) })),
  /** A role granted to an address with no user yet: claimed when that address is verified. */
  'member.invited': define(MemberData),
  'member.added': define(MemberData),
  'member.role_changed': define(MemberData.extend({ before: z.object({ role: Role }), after: z.object({ role: Role }) })),
  'member.removed': define(MemberData),
  'apikey.created': define(z.object({ apiKeyId: id, name: z.string(), prefix: z.string(), scopes: z.array(z.string()) })),
  'apikey.revoked': define(z.object({ apiKeyId: id, name: z.string() })),

  // accounts: the audit log itself
  'audit.exported': define(z.object({ accountId: id, format: z.enum(['NDJSON', 'CSV']) })),

  // billing (issue 11): plan changes, quotas and payments, as accounts (suspension) and notifications read them
  'account.upgraded': define(
    z.object({
      accountId: id,
      fromPlan: z.string().nullable(),
      toPlan: z.string(),
      /** How long the new plan keeps the account's audit log (accounts prunes by it). */
      auditLogRetentionDays: z.number().int().positive(),
      /** The new plan's name and limits, which sources, platforms and accounts enforce (absent on events from before limits). */
      planName: z.string().optional(),
      limits: PlanLimitsShape.optional(),
    }),
  ),
  'billing.quota_reached': define(
    z.object({
      accountId: id,
      /** The share of the quota now used, in percent: 80 (warning) or 100 (reached). */
      threshold: z.union([z.literal(80), z.literal(100)]),
      usedBytes: z.number(),
      quotaBytes: z.number(),
    }),
  ),
  /**
   * An account's standing against its plan's storage quota changed (it went over a quota without
   * overage, passed the grace margin, came back within, changed plan), or its stored bytes changed
   * while over. `version` grows with each one: a consumer keeps the highest. Backups are refused
   * from `blockedFrom` on (null: never, as long as nothing changes).
   */
  'billing.storage_standing': define(
    z.object({
      accountId: id,
      version: z.number().int().positive(),
      /** The plan's code and name. */
      plan: z.string(),
      planName: z.string(),
      usedBytes: z.number(),
      quotaBytes: z.number(),
      overSince: time.nullable(),
      blockedFrom: time.nullable(),
    }),
  ),
  'billing.payment_overdue': define(z.object({ accountId: id, invoiceId: id.nullable(), overdueSince: time })),
  'billing.payment_succeeded': define(z.object({ accountId: id, invoiceId: id.nullable() })),
  /** An invoice's payment failed every retry: the account is told, and suspended at `overdueAt` unless it pays. */
  'billing.payment_failed': define(z.object({ accountId: id, invoiceId: id, attempts: z.number().int().positive(), reason: z.string(), overdueAt: time })),

  // accounts: notifications
  /** A notification in one person's in-app list (feeds the gateway's `notificationAdded`). */
  'notification.created': define(
    z.object({
      userId: id,
      notification: z.object({
        __typename: z.literal('Notification'),
        id,
        event: z.string(),
        title: z.string(),
        body: z.string(),
        createdAt: time,
        read: z.boolean(),
        readAt: time.nullable(),
      }),
    }),
  ),
  'notification.rule_changed': define(z.object({ accountId: id, event: z.string(), email: z.boolean(), inApp: z.boolean() })),
  'notification.endpoint_created': define(z.object({ endpointId: id, kind: z.enum(['WEBHOOK', 'SLACK']), name: z.string(), url: z.string(), events: z.array(z.string()) })),
  'notification.endpoint_updated': define(
    z.object({
      endpointId: id,
      before: z.object({ name: z.string(), events: z.array(z.string()), enabled: z.boolean() }),
      after: z.object({ name: z.string(), events: z.array(z.string()), enabled: z.boolean() }),
    }),
  ),
  'notification.endpoint_secret_rotated': define(z.object({ endpointId: id })),
  'notification.endpoint_deleted': define(z.object({ endpointId: id, name: z.string() })),
  /** The worker turned an endpoint off after a delivery to it failed for a whole retry schedule. */
  'notification.endpoint_disabled': define(z.object({ endpointId: id, name: z.string(), kind: z.enum(['WEBHOOK', 'SLACK']), reason: z.string() })),

  // platforms: connections
  'connection.created': define(ConnectionData),
  'connection.authorized': define(ConnectionData.extend({ externalAccountId: z.string().nullable() })),
  'connection.failed': define(ConnectionData.extend({ code: z.string(), message: z.string() })),
  'connection.revoked': define(ConnectionData.extend({ revokedAtPlatform: z.boolean() })),
  /**
   * A connection's credential stops working soon: the platform said when its refresh token (or key)
   * expires, or refreshing the access has kept failing. Published once per expiry, some days ahead,
   * so the account can authorize the connection again before backups fail.
   */
  'connection.expiring': define(
    ConnectionData.extend({
      reason: z.enum(['CREDENTIAL_EXPIRES', 'REFRESH_FAILING']),
      /** When the credential stops working; null when a failing refresh gives no date. */
      expiresAt: time.nullable(),
      message: z.string(),
    }),
  ),
  /**
   * A verified webhook of the platform says data of this connection changed: sources queues an
   * incremental backup of each live source of it that includes one of `resources`.
   */
  'connection.webhook_received': define(ConnectionData.extend({ deliveryId: z.string().min(1), eventType: z.string(), resources: z.array(z.string()) })),

  // sources
  'source.created': define(SourceChange.extend({ connectionId: id, resources: z.array(z.string()), schedule: Schedule })),
  'source.updated': define(SourceChange.extend({ changed: z.array(z.string()) })),
  'source.paused': define(SourceChange),
  'source.resumed': define(SourceChange),
  'source.deleted': define(SourceChange.extend({ withSnapshots: z.boolean() })),
  'data.synced': define(
    SourceData.extend({
      jobId: id,
      snapshotId: id,
      items: z.number(),
      logicalBytes: z.number(),
      storedBytes: z.number(),
      partial: z.boolean(),
    }),
  ),
  'data.deleted': define(SourceData.extend({ snapshots: DeletedSnapshots })),
  /** An export's archive was downloaded, whole (a download cut short is not one). */
  'data.exported': define(SourceData.extend({ jobId: id, snapshotId: id.nullable(), format: z.string(), bytes: z.number().int().nonnegative() })),
  /**
   * Garbage collection freed stored bytes of an account (chunks are shared by every source of an
   * account, so the freed bytes belong to the account, not to a source). Billing meters it.
   */
  'data.garbage_collected': define(z.object({ accountId: id, jobId: id, deletedBytes: z.number().int().nonnegative(), deletedChunks: z.number().int().nonnegative() })),
  /** A backup deleted or changed far more than the source's history says is normal; notifications tell the account. */
  'snapshot.anomaly_detected': define(SnapshotAnomaly.extend({ reason: z.string(), changes: SnapshotChanges.nullable() })),
  /** Someone acknowledged a flagged snapshot: retention may drop it again. */
  'snapshot.anomaly_acknowledged': define(SnapshotAnomaly.extend({ acknowledgedBy: id.nullable() })),

  // jobs
  'job.created': define(JobData),
  'job.started': define(JobData),
  'job.progress': define(JobData, { ephemeral: true }),
  'job.retrying': define(JobData.extend({ retryDelayMs: z.number() })),
  'job.requeued': define(JobData),
  'job.cancelling': define(JobData),
  'job.completed': define(JobData.extend({ backup: BackupSummary.optional() })),
  'job.failed': define(JobData),
  'job.cancelled': define(JobData),
} as const satisfies Record<string, EventDefinition<z.ZodType>>;

export type EventType = keyof typeof EVENTS;
/** What a publisher passes as `data` for a type. */
export type EventDataInput<T extends EventType> = z.input<(typeof EVENTS)[T]['data']>;
/** What a consumer reads in `data` for a type. */
export type EventData<T extends EventType> = z.output<(typeof EVENTS)[T]['data']>;
/** An envelope of one type, its data typed. */
export type EventOf<T extends EventType> = Omit<EventEnvelope, 'type' | 'data'> & { type: T; data: EventData<T> };

export const EVENT_TYPES = Object.keys(EVENTS) as EventType[];

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(EVENTS, type);
}

export interface CreateEventOptions {
  /** Who caused it (see `actorOf`); absent for what the system does on its own schedule. */
  actor?: Actor;
  /** When it happened; now by default. */
  time?: Date;
}

/**
 * A new envelope: UUID v7 id, the tenant, the entity it is about (`subject`) and the data of its
 * type, checked against the contract.
 */
export function createEvent<T extends EventType>(type: T, accountId: string, subject: string, data: EventDataInput<T>, options: CreateEventOptions = {}): EventOf<T> {
  const parsed = EVENTS[type].data.safeParse(data);
  if (!parsed.success) throw new TypeError(`Event ${type} does not match its contract: ${z.prettifyError(parsed.error)}`);
  const traceparent = currentTraceparent();
  const event = {
    id: uuidv7(),
    type,
    accountId,
    subject,
    time: (options.time ?? new Date()).toISOString(),
    data: parsed.data as EventData<T>,
    ...(options.actor ? { actor: ActorShape.parse(options.actor) } : {}),
    ...(traceparent ? { traceparent } : {}),
  };
  assertValidEvent(event);
  return event;
}

/**
 * The event as its type, when it is one and its data has the shape of the contract; else null (an
 * unknown type or a shape of another version: a consumer logs and skips it).
 */
export function readEvent<T extends EventType>(event: EventEnvelope, type: T): EventOf<T> | null {
  if (event.type !== type) return null;
  const parsed = EVENTS[type].data.safeParse(event.data);
  if (!parsed.success) return null;
  return { ...event, type, data: parsed.data as EventData<T> };
}

/** Any event of the contract, discriminated by `type`. */
export type ContractEvent = { [T in EventType]: EventOf<T> }[EventType];

/** The event typed by its own type, or null when the type is unknown or the data off-contract. */
export function readAnyEvent(event: EventEnvelope): ContractEvent | null {
  return isEventType(event.type) ? (readEvent(event, event.type) as ContractEvent | null) : null;
}
