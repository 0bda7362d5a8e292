import type { GraphQLResolveInfo, GraphQLScalarType, GraphQLScalarTypeConfig } from 'graphql';
import type { Job as JobEntity } from '../entities/job.ts';
import type { JobLog as JobLogEntity } from '../entities/job-log.ts';
import type { EntityRef as EntityRefEntity } from '@listbackup/lib/federation';
import type { RecoveryPoint as RecoveryPointEntity } from '../services/recovery-point.ts';
import type { JobAnalytics as JobAnalyticsEntity } from '../services/job-analytics.ts';
import type { JobsContext } from '../context.ts';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Omit<T, K extends keyof T> = Pick<T, Exclude<keyof T, K>>;
export type RequireFields<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** A calendar day, `YYYY-MM-DD`. */
  Date: { input: string; output: string; }
  /** An ISO-8601 date and time in UTC. */
  DateTime: { input: Date | string; output: Date | string; }
  _FieldSet: { input: unknown; output: unknown; }
};

export type Account = {
  __typename?: 'Account';
  id: Scalars['ID']['output'];
  /**
   * How this account's jobs of one kind went over a range of UTC days (default: the last 30 days,
   * today included), per day and per platform, and how its sources stand against their schedules.
   * With `includeSubAccounts`, every account below this one that the caller can read is rolled in
   * (an MSP's view). Read from aggregates kept as jobs finish: the cost does not grow with the number
   * of jobs. Errors (BAD_USER_INPUT, with `extensions.reason`): RANGE_REVERSED, RANGE_IN_FUTURE,
   * RANGE_TOO_LONG.
   */
  jobAnalytics: JobAnalytics;
  /** This account's jobs, newest first. */
  jobs: JobConnection;
};


export type AccountJobAnalyticsArgs = {
  includeSubAccounts?: Scalars['Boolean']['input'];
  kind?: InputMaybe<JobKind>;
  range?: InputMaybe<AnalyticsRange>;
};


export type AccountJobsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  kind?: InputMaybe<Array<JobKind>>;
  status?: InputMaybe<Array<JobStatus>>;
};

/** One account's jobs in a roll-up. */
export type AccountJobStats = {
  __typename?: 'AccountJobStats';
  account: Account;
  stats: JobRunStats;
};

/** A page of accounts' job statistics. */
export type AccountJobStatsConnection = {
  __typename?: 'AccountJobStatsConnection';
  edges: Array<AccountJobStatsEdge>;
  pageInfo: PageInfo;
  /** How many accounts the roll-up covers. */
  totalCount: Scalars['Int']['output'];
};

export type AccountJobStatsEdge = {
  __typename?: 'AccountJobStatsEdge';
  cursor: Scalars['String']['output'];
  node: AccountJobStats;
};

/** A span of whole UTC days, both ends included: at most 366 days, ending today at the latest. */
export type AnalyticsRange = {
  from: Scalars['Date']['input'];
  to: Scalars['Date']['input'];
};

export type ChunkProblem = {
  __typename?: 'ChunkProblem';
  /** The chunk's content address. */
  address: Scalars['String']['output'];
  /** The pack the chunk is stored in; null when no pack index knows the chunk. */
  packId?: Maybe<Scalars['String']['output']>;
  problem: ChunkProblemKind;
};

export type ChunkProblemKind =
  /** The stored object does not decrypt, decompress or hash back to its address. */
  | 'CORRUPT'
  /** The stored object is gone. */
  | 'MISSING';

export type FailureTypeCount = {
  __typename?: 'FailureTypeCount';
  count: Scalars['Int']['output'];
  type: JobFailureType;
};

/** What a GC job did to its account's stored data. */
export type GarbageCollectionReport = {
  __typename?: 'GarbageCollectionReport';
  /** Stored bytes freed. */
  deletedBytes: Scalars['Float']['output'];
  /** Chunks that no remaining snapshot used, deleted. */
  deletedChunks: Scalars['Float']['output'];
  /** Packs (stored objects of many chunks) deleted whole. */
  deletedPacks: Scalars['Int']['output'];
  /** Exports whose download link had expired, removed. */
  expiredExports: Scalars['Int']['output'];
  /** Snapshots deleted from the catalogue (with their source, or by retention) that it removed from the store. */
  forgottenSnapshots: Scalars['Int']['output'];
  /** The account was purged after its recovery window: everything it stored was deleted. */
  purged: Scalars['Boolean']['output'];
  /** Partly used packs rewritten without their unused chunks. */
  repackedPacks: Scalars['Int']['output'];
  /** The account's snapshots that remain; their data stays. */
  snapshots: Scalars['Int']['output'];
};

/** One run of work for an account: a backup, export, restore, verification or maintenance. */
export type Job = {
  __typename?: 'Job';
  account: Account;
  /** How many times a worker has started this job (1 on the first run; retries add one each). */
  attempts: Scalars['Int']['output'];
  /** True once someone asked to cancel the job while it was running; it stops within seconds. */
  cancelRequested: Scalars['Boolean']['output'];
  createdAt: Scalars['DateTime']['output'];
  /**
   * For a finished EXPORT (or a RESTORE to a download): the archive's signed, expiring link. The link
   * works through the gateway for members of the job's account who can read its jobs, until `expiresAt`.
   */
  download?: Maybe<JobDownload>;
  /** A readable explanation of the failure, safe to show to the account's members. */
  failureReason?: Maybe<Scalars['String']['output']>;
  /** Why the job failed (or, while it waits for a retry, why its last attempt failed). */
  failureType?: Maybe<JobFailureType>;
  /** When the job reached SUCCEEDED, FAILED or CANCELLED. */
  finishedAt?: Maybe<Scalars['DateTime']['output']>;
  /** For a finished GC: what it freed. */
  garbageCollection?: Maybe<GarbageCollectionReport>;
  id: Scalars['ID']['output'];
  kind: JobKind;
  /**
   * The job's log, oldest line first. `first` is 1 to 100 (default 100); `after` is a page's
   * `endCursor`. Errors (BAD_USER_INPUT, with `extensions.reason`): BAD_PAGE_SIZE, BAD_CURSOR.
   */
  log: JobLogConnection;
  /** When the next attempt is due, while a failed attempt waits for its retry. */
  nextAttemptAt?: Maybe<Scalars['DateTime']['output']>;
  /** True when the job finished but skipped some items (each is named in the log). */
  partialSuccess: Scalars['Boolean']['output'];
  /** Where the job stands. Live values arrive through the job subscriptions; this is the last one stored. */
  progress: JobProgress;
  /** The source the job works on, when it has one. */
  source?: Maybe<Source>;
  /** When the first attempt started. */
  startedAt?: Maybe<Scalars['DateTime']['output']>;
  status: JobStatus;
  /** For a finished TIER: what it moved to colder storage. */
  tiering?: Maybe<TieringReport>;
  /** Who or what started the job. */
  triggeredBy: JobTrigger;
  /** For a finished VERIFY (SUCCEEDED, or FAILED as DAMAGED): what the check found. */
  verification?: Maybe<VerificationReport>;
};


/** One run of work for an account: a backup, export, restore, verification or maintenance. */
export type JobLogArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** Job analytics of an account (or of an account and its sub-accounts). */
export type JobAnalytics = {
  __typename?: 'JobAnalytics';
  /** How many accounts are counted: 1, or the account and its sub-accounts the caller can read. */
  accounts: Scalars['Int']['output'];
  /** Each account counted (this one, and its sub-accounts when rolled up), the most failed jobs first. */
  byAccount: AccountJobStatsConnection;
  /** The range per platform of the sources, the busiest first. */
  byPlatform: Array<PlatformJobStats>;
  /** Every day of the range, oldest first (days without jobs count zero). */
  days: Array<JobDayStats>;
  from: Scalars['Date']['output'];
  kind: JobKind;
  /** How the sources stand now against their schedules (deleted sources left out). */
  recovery: RecoverySummary;
  to: Scalars['Date']['output'];
  /** The whole range. */
  totals: JobRunStats;
};


/** Job analytics of an account (or of an account and its sub-accounts). */
export type JobAnalyticsByAccountArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** A page of jobs, newest first. */
export type JobConnection = {
  __typename?: 'JobConnection';
  edges: Array<JobEdge>;
  pageInfo: PageInfo;
};

export type JobDayStats = {
  __typename?: 'JobDayStats';
  /** The UTC day. */
  day: Scalars['Date']['output'];
  stats: JobRunStats;
};

/** A downloadable archive made by a job. */
export type JobDownload = {
  __typename?: 'JobDownload';
  /** Size of the archive in bytes. */
  bytes: Scalars['Float']['output'];
  contentType: Scalars['String']['output'];
  expiresAt: Scalars['DateTime']['output'];
  fileName: Scalars['String']['output'];
  /** Items in the archive. */
  items: Scalars['Float']['output'];
  /** The same link relative to the API's origin. */
  path: Scalars['String']['output'];
  /** SHA-256 of the archive, hex. */
  sha256: Scalars['String']['output'];
  /** The absolute link on the public API (send the same `Authorization` header as for /graphql). */
  url: Scalars['String']['output'];
};

export type JobEdge = {
  __typename?: 'JobEdge';
  cursor: Scalars['String']['output'];
  node: Job;
};

export type JobFailureType =
  /**
   * The platform refuses the connection's credential even after a refresh (access revoked, app
   * uninstalled, refresh token dead): the connection is marked as needing authorization again
   * (EXPIRED) and the job is not retried. Reconnect it, then back up again.
   */
  | 'AUTH'
  /** The job cannot succeed as configured (a resource, a permission or a setting); it is not retried. */
  | 'CONFIG'
  /** A VERIFY found stored data missing or corrupt; its `verification` names the chunks and their packs. */
  | 'DAMAGED'
  /** A fault on our side; not retried automatically, an operator can re-run it. */
  | 'INTERNAL'
  /**
   * A BACKUP of an account past its storage quota's grace (a plan without overage, see
   * `Account.storageQuota`): refused before it stored anything, its reason naming the plan, the quota
   * and the stored bytes. Not retried; deleting data or upgrading the plan lets the next one run.
   */
  | 'QUOTA_EXCEEDED'
  /** The platform asked us to slow down; retried after the delay it gave. */
  | 'RATE_LIMITED'
  /** A temporary problem (network, a platform outage); retried with backoff. */
  | 'TRANSIENT'
  /**
   * The platform stayed unavailable (its circuit breaker open) for longer than a job waits for it,
   * deferral after deferral; the job gave up. An operator can re-run it.
   */
  | 'UNAVAILABLE';

export type JobFilter = {
  /** Only this account's jobs; without it, every account the caller can see. */
  accountId?: InputMaybe<Scalars['ID']['input']>;
  kind?: InputMaybe<Array<JobKind>>;
  sourceId?: InputMaybe<Scalars['ID']['input']>;
  status?: InputMaybe<Array<JobStatus>>;
};

export type JobKind =
  /** Copies a source's data into a new snapshot. */
  | 'BACKUP'
  /** Packs a snapshot (or chosen items) into a downloadable archive. */
  | 'EXPORT'
  /**
   * Maintenance of an account's stored data (garbage collection): forgets the snapshots deleted with
   * their source, then deletes the data no remaining snapshot of the account uses. Runs daily per
   * account and a few minutes after snapshots are deleted; it has no source.
   */
  | 'GC'
  /** Maintenance: deletes the snapshots a source's retention drops (a GC job then frees their data). */
  | 'PRUNE'
  /** Writes items of a snapshot back to a target. */
  | 'RESTORE'
  /**
   * Maintenance, daily per account (it has no source): moves packs to cheaper storage by age, warm
   * (S3 STANDARD_IA) after 30 days and cold (GLACIER_IR, read without a thaw) after 90.
   */
  | 'TIER'
  /**
   * Re-reads stored data and checks that it is intact: a snapshot when asked (`verifySnapshot`), and
   * weekly per account a sampled share of the packs of all its snapshots (it has no source). Fails
   * as DAMAGED when anything checked is missing or corrupt.
   */
  | 'VERIFY';

export type JobLogConnection = {
  __typename?: 'JobLogConnection';
  edges: Array<JobLogEdge>;
  pageInfo: PageInfo;
};

export type JobLogEdge = {
  __typename?: 'JobLogEdge';
  cursor: Scalars['String']['output'];
  node: JobLogLine;
};

export type JobLogLevel =
  | 'ERROR'
  | 'INFO'
  | 'WARN';

export type JobLogLine = {
  __typename?: 'JobLogLine';
  at: Scalars['DateTime']['output'];
  level: JobLogLevel;
  message: Scalars['String']['output'];
};

/** Progress of a job. Totals are null while unknown. */
export type JobProgress = {
  __typename?: 'JobProgress';
  bytesDone: Scalars['Float']['output'];
  /** Bytes per second, averaged over the last few seconds. */
  bytesPerSecond?: Maybe<Scalars['Float']['output']>;
  bytesTotal?: Maybe<Scalars['Float']['output']>;
  /** Estimated seconds left, when a total and a rate are known. */
  etaSeconds?: Maybe<Scalars['Int']['output']>;
  itemsDone: Scalars['Float']['output'];
  /** Items per second, averaged over the last few seconds. */
  itemsPerSecond?: Maybe<Scalars['Float']['output']>;
  itemsTotal?: Maybe<Scalars['Float']['output']>;
  /** Percent done (0 to 100), when a total is known. */
  percent?: Maybe<Scalars['Float']['output']>;
  /**
   * Whether the totals are an estimate (the size of the source's previous snapshot, or what the
   * platform's page count allows) rather than a count the platform gave. An estimate grows with what
   * is done, so percent never passes 100.
   */
  totalsEstimated: Scalars['Boolean']['output'];
};

/** What the jobs that finished in a span added up to. */
export type JobRunStats = {
  __typename?: 'JobRunStats';
  /** Bytes (as the platform gave them) in the snapshots the backups made. */
  bytesBackedUp: Scalars['Float']['output'];
  cancelled: Scalars['Int']['output'];
  /** Median time from a job's first start to its end, in seconds, within 1% (a DDSketch); null without timed jobs. */
  durationP50Seconds?: Maybe<Scalars['Float']['output']>;
  /** 95th percentile of the same, within 1%. */
  durationP95Seconds?: Maybe<Scalars['Float']['output']>;
  failed: Scalars['Int']['output'];
  /** Failed jobs by why they failed, the most frequent first (types that did not occur are left out). */
  failuresByType: Array<FailureTypeCount>;
  /** Items new since each backup's previous snapshot. */
  itemsAdded: Scalars['Float']['output'];
  /** Items in the snapshots the backups made. */
  itemsBackedUp: Scalars['Float']['output'];
  /** Items whose content changed since each backup's previous snapshot. */
  itemsChanged: Scalars['Float']['output'];
  /** Items gone since each backup's previous snapshot. */
  itemsDeleted: Scalars['Float']['output'];
  /** Succeeded, with some items skipped. */
  partial: Scalars['Int']['output'];
  /** Jobs that finished (SUCCEEDED, FAILED or CANCELLED); a job retried by hand counts each time it finished. */
  runs: Scalars['Int']['output'];
  succeeded: Scalars['Int']['output'];
  /** succeeded / (succeeded + failed): cancelled jobs count neither way. Null when none succeeded or failed. */
  successRate?: Maybe<Scalars['Float']['output']>;
};

export type JobStatus =
  | 'CANCELLED'
  | 'FAILED'
  | 'QUEUED'
  | 'RUNNING'
  | 'SUCCEEDED';

export type JobTrigger = {
  __typename?: 'JobTrigger';
  /** The user or API key id, for USER and API_KEY. */
  id?: Maybe<Scalars['ID']['output']>;
  kind: JobTriggerKind;
};

export type JobTriggerKind =
  /** An API key of the account. */
  | 'API_KEY'
  /** A ListBackup operator (for example a dead-letter redrive). */
  | 'OPERATOR'
  /** The source's schedule. */
  | 'SCHEDULE'
  /** ListBackup itself (maintenance). */
  | 'SYSTEM'
  /** A member of the account, from the API or the app. */
  | 'USER'
  /** A webhook of the platform saying data of the source changed. */
  | 'WEBHOOK';

export type Mutation = {
  __typename?: 'Mutation';
  /**
   * Cancels a job. A queued job is cancelled at once; a running one is asked to stop and reaches
   * CANCELLED within seconds, keeping what it had already stored consistent.
   */
  cancelJob: Job;
  /**
   * Packs a snapshot (or the items at the given paths) into an archive; the job's `download` has the
   * link once it has SUCCEEDED. A path the snapshot does not hold is BAD_USER_INPUT with `reason`
   * UNKNOWN_ITEM (and the paths in `missing`), and nothing is queued.
   */
  exportSnapshot: Job;
  /**
   * Writes a snapshot's items (all, or those at the given paths) to a target: a download, or back to
   * the platform through `connectionId` (default: the source's own connection, which must be of the
   * same platform). A PLATFORM restore is checked before it is queued: a connection that is not one
   * of the snapshot's account is NOT_FOUND; BAD_USER_INPUT with `reason` CONNECTION_NOT_AUTHORIZED
   * (the connection needs reconnecting), CONNECTION_PLATFORM_MISMATCH (another platform's) or
   * SOURCE_DELETED (restore a deleted source's snapshot to a download); chosen items are checked as
   * for `exportSnapshot` (UNKNOWN_ITEM). Nothing is queued then.
   */
  restoreSnapshot: Job;
  /** Runs a FAILED or CANCELLED job again (same job, a new attempt), resuming from its last checkpoint. */
  retryJob: Job;
  /**
   * Starts a backup of the source now and returns its job, QUEUED. When a backup of the source is
   * already queued or running, returns that job instead of starting a second one.
   *
   * Backups read only what changed since the last one where the platform allows it, and every
   * resource in full once a week, which drops what was deleted at the platform. `full: true` reads
   * every resource in full now.
   *
   * A source whose connection is not authorized (revoked, failed, expired, pending) is refused with
   * BAD_USER_INPUT, `extensions.reason` CONNECTION_NOT_AUTHORIZED and the connection's `status`, and
   * nothing is queued.
   */
  triggerSync: Job;
  /** Re-reads and re-hashes a share (0 < sample ≤ 1) of the snapshot's chunks; the job's `verification` names any that are missing or corrupt. */
  verifySnapshot: Job;
};


export type MutationCancelJobArgs = {
  id: Scalars['ID']['input'];
};


export type MutationExportSnapshotArgs = {
  format?: InputMaybe<SnapshotArchiveFormat>;
  items?: InputMaybe<Array<Scalars['String']['input']>>;
  snapshotId: Scalars['ID']['input'];
};


export type MutationRestoreSnapshotArgs = {
  connectionId?: InputMaybe<Scalars['ID']['input']>;
  items?: InputMaybe<Array<Scalars['String']['input']>>;
  snapshotId: Scalars['ID']['input'];
  target: RestoreTarget;
};


export type MutationRetryJobArgs = {
  id: Scalars['ID']['input'];
};


export type MutationTriggerSyncArgs = {
  full?: Scalars['Boolean']['input'];
  sourceId: Scalars['ID']['input'];
};


export type MutationVerifySnapshotArgs = {
  sample?: InputMaybe<Scalars['Float']['input']>;
  snapshotId: Scalars['ID']['input'];
};

/** Relay-style page information: pass `endCursor` as `after` for the next page. */
export type PageInfo = {
  __typename?: 'PageInfo';
  endCursor?: Maybe<Scalars['String']['output']>;
  hasNextPage: Scalars['Boolean']['output'];
};

export type Platform = {
  __typename?: 'Platform';
  id: Scalars['ID']['output'];
};

export type PlatformJobStats = {
  __typename?: 'PlatformJobStats';
  /** Null for sources whose platform is not known here yet (their creation has not been applied). */
  platform?: Maybe<Platform>;
  /** Sources of this platform (deleted ones left out). */
  sources: Scalars['Int']['output'];
  stats: JobRunStats;
};

export type Query = {
  __typename?: 'Query';
  /** A job of an account the caller can see. */
  job: Job;
  /** Jobs the caller can see, newest first (at most 100 per page). */
  jobs: JobConnection;
};


export type QueryJobArgs = {
  id: Scalars['ID']['input'];
};


export type QueryJobsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<JobFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** The recovery point a source achieves: how old the newest backup you could restore is. */
export type RecoveryPoint = {
  __typename?: 'RecoveryPoint';
  /** Seconds since the last successful backup: the recovery point achieved now. */
  ageSeconds?: Maybe<Scalars['Float']['output']>;
  lastSuccessfulBackupAt?: Maybe<Scalars['DateTime']['output']>;
  /** The backup job that made it. */
  lastSuccessfulJob?: Maybe<Job>;
  /**
   * ON_SCHEDULE while the last successful backup is no older than the scheduled run before the
   * latest one (the latest may still be running); BEHIND once a whole scheduled backup is missing.
   */
  status: RecoveryPointStatus;
  /** The longest gap the schedule leaves between two backups: the recovery point it promises. Null when unscheduled. */
  targetSeconds?: Maybe<Scalars['Float']['output']>;
};

export type RecoveryPointStatus =
  | 'BEHIND'
  | 'NEVER_BACKED_UP'
  | 'ON_SCHEDULE'
  /** A manual, paused or deleted source. */
  | 'UNSCHEDULED';

/** Sources counted by how their last successful backup compares with their schedule. */
export type RecoverySummary = {
  __typename?: 'RecoverySummary';
  behind: Scalars['Int']['output'];
  /** The most recent successful backup of any of the sources. */
  lastSuccessfulBackupAt?: Maybe<Scalars['DateTime']['output']>;
  neverBackedUp: Scalars['Int']['output'];
  /** The oldest last successful backup among scheduled sources: the worst recovery point achieved now. */
  oldestLastSuccessfulBackupAt?: Maybe<Scalars['DateTime']['output']>;
  onSchedule: Scalars['Int']['output'];
  sources: Scalars['Int']['output'];
  /** Manual or paused sources: their schedule promises no recovery point. */
  unscheduled: Scalars['Int']['output'];
};

/** Where a restore writes the items. */
export type RestoreTarget =
  /** The items as files in a zip archive to download. */
  | 'DOWNLOAD'
  /** Back to the platform, where its connector can write (PostgreSQL, REST APIs with a restore path). */
  | 'PLATFORM';

/** Archive formats of an export. */
export type SnapshotArchiveFormat =
  /** A tar archive compressed with zstd (`.tar.zst`). */
  | 'TAR_ZSTD'
  /** A zip archive (`.zip`), stored without recompression. */
  | 'ZIP';

export type Source = {
  __typename?: 'Source';
  id: Scalars['ID']['output'];
  /**
   * How this source's jobs of one kind went over a range of UTC days (default: the last 30 days,
   * today included), and the recovery point its backups achieve now. Read from aggregates kept as
   * jobs finish. Errors (BAD_USER_INPUT, with `extensions.reason`): RANGE_REVERSED, RANGE_IN_FUTURE,
   * RANGE_TOO_LONG.
   */
  jobAnalytics: SourceJobAnalytics;
  /** This source's jobs, newest first. */
  jobs: JobConnection;
};


export type SourceJobAnalyticsArgs = {
  kind?: InputMaybe<JobKind>;
  range?: InputMaybe<AnalyticsRange>;
};


export type SourceJobsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  kind?: InputMaybe<Array<JobKind>>;
  status?: InputMaybe<Array<JobStatus>>;
};

/** Job analytics of one source. */
export type SourceJobAnalytics = {
  __typename?: 'SourceJobAnalytics';
  /** Every day of the range, oldest first (days without jobs count zero). */
  days: Array<JobDayStats>;
  from: Scalars['Date']['output'];
  kind: JobKind;
  /** The recovery point the source's backups achieve now, against its schedule. */
  recoveryPoint: RecoveryPoint;
  to: Scalars['Date']['output'];
  totals: JobRunStats;
};

/**
 * Live job status. Served by the gateway over the websocket at `/graphql` (graphql-transport-ws, or
 * the legacy graphql-ws protocol of subscriptions-transport-ws); each payload may select fields of
 * every subgraph. The current state comes first, then every change.
 */
export type Subscription = {
  __typename?: 'Subscription';
  /**
   * The jobs of an account (or of one of its sources): those queued or running first, then every
   * change of any of its jobs.
   */
  jobEvents: Job;
  /** One job: its current state, then each change of status and progress until it has ended. */
  jobUpdated: Job;
};


/**
 * Live job status. Served by the gateway over the websocket at `/graphql` (graphql-transport-ws, or
 * the legacy graphql-ws protocol of subscriptions-transport-ws); each payload may select fields of
 * every subgraph. The current state comes first, then every change.
 */
export type SubscriptionJobEventsArgs = {
  accountId: Scalars['ID']['input'];
  sourceId?: InputMaybe<Scalars['ID']['input']>;
};


/**
 * Live job status. Served by the gateway over the websocket at `/graphql` (graphql-transport-ws, or
 * the legacy graphql-ws protocol of subscriptions-transport-ws); each payload may select fields of
 * every subgraph. The current state comes first, then every change.
 */
export type SubscriptionJobUpdatedArgs = {
  id: Scalars['ID']['input'];
};

/** What a TIER job did: packs moved to colder (cheaper) storage classes by age. */
export type TieringReport = {
  __typename?: 'TieringReport';
  /** Packs moved to cold storage (older than 90 days). */
  movedToCold: Scalars['Int']['output'];
  /** Packs moved to warm storage (older than 30 days). */
  movedToWarm: Scalars['Int']['output'];
  /** The account's packs looked at. */
  scannedPacks: Scalars['Int']['output'];
};

/** What a VERIFY job found: every checked chunk re-read, decrypted, decompressed and re-hashed. */
export type VerificationReport = {
  __typename?: 'VerificationReport';
  checkedChunks: Scalars['Float']['output'];
  /** Packs read by the check (null for checks older than this field). */
  checkedPacks?: Maybe<Scalars['Int']['output']>;
  /** True when nothing was missing or corrupt. */
  ok: Scalars['Boolean']['output'];
  /** The chunks that are missing or corrupt, by address. */
  problems: Array<ChunkProblem>;
  /** Distinct chunks the verified snapshots reference. */
  referencedChunks: Scalars['Float']['output'];
  /** Distinct packs (stored objects of many chunks) holding those chunks (null for checks older than this field). */
  referencedPacks?: Maybe<Scalars['Int']['output']>;
  /** What `share` is of. */
  sampledBy: VerificationSample;
  /** The share of chunks (or, for the weekly verify of an account, of packs) checked: 1 = all. */
  share: Scalars['Float']['output'];
};

export type VerificationSample =
  /** A share of the chunks, wherever they are stored. */
  | 'CHUNKS'
  /** A share of the packs, each read whole, like restic's `check --read-data-subset`. */
  | 'PACKS';

export type WithIndex<TObject> = TObject & Record<string, any>;
export type ResolversObject<TObject> = WithIndex<TObject>;

export type ResolverTypeWrapper<T> = Promise<T> | T;

export type ReferenceResolver<TResult, TReference, TContext> = (
      reference: TReference,
      context: TContext,
      info: GraphQLResolveInfo
    ) => Promise<TResult> | TResult;

      type ScalarCheck<T, S> = S extends true ? T : NullableCheck<T, S>;
      type NullableCheck<T, S> = Maybe<T> extends T ? Maybe<ListCheck<NonNullable<T>, S>> : ListCheck<T, S>;
      type ListCheck<T, S> = T extends (infer U)[] ? NullableCheck<U, S>[] : GraphQLRecursivePick<T, S>;
      export type GraphQLRecursivePick<T, S> = { [K in keyof T & keyof S]: ScalarCheck<T[K], S[K]> };
    

export type ResolverWithResolve<TResult, TParent, TContext, TArgs> = {
  resolve: ResolverFn<TResult, TParent, TContext, TArgs>;
};
export type Resolver<TResult, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = ResolverFn<TResult, TParent, TContext, TArgs> | ResolverWithResolve<TResult, TParent, TContext, TArgs>;

export type ResolverFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => Promise<TResult> | TResult;

export type SubscriptionSubscribeFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => AsyncIterable<TResult> | Promise<AsyncIterable<TResult>>;

export type SubscriptionResolveFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;

export interface SubscriptionSubscriberObject<TResult, TKey extends string, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<{ [key in TKey]: TResult }, TParent, TContext, TArgs>;
  resolve?: SubscriptionResolveFn<TResult, { [key in TKey]: TResult }, TContext, TArgs>;
}

export interface SubscriptionResolverObject<TResult, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<any, TParent, TContext, TArgs>;
  resolve: SubscriptionResolveFn<TResult, any, TContext, TArgs>;
}

export type SubscriptionObject<TResult, TKey extends string, TParent, TContext, TArgs> =
  | SubscriptionSubscriberObject<TResult, TKey, TParent, TContext, TArgs>
  | SubscriptionResolverObject<TResult, TParent, TContext, TArgs>;

export type SubscriptionResolver<TResult, TKey extends string, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> =
  | ((...args: any[]) => SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>)
  | SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>;

export type TypeResolveFn<TTypes, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (
  parent: TParent,
  context: TContext,
  info: GraphQLResolveInfo
) => Maybe<TTypes> | Promise<Maybe<TTypes>>;

export type IsTypeOfResolverFn<T = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (obj: T, context: TContext, info: GraphQLResolveInfo) => boolean | Promise<boolean>;

export type NextResolverFn<T> = () => Promise<T>;

export type DirectiveResolverFn<TResult = Record<PropertyKey, never>, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = (
  next: NextResolverFn<TResult>,
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;

/** Mapping of federation types */
export type FederationTypes = ResolversObject<{
  Account: Account;
  Job: Job;
  Source: Source;
}>;

/** Mapping of federation reference types */
export type FederationReferenceTypes = ResolversObject<{
  Account:
    ( { __typename: 'Account' }
    & GraphQLRecursivePick<FederationTypes['Account'], {"id":true}> );
  Job:
    ( { __typename: 'Job' }
    & GraphQLRecursivePick<FederationTypes['Job'], {"id":true}> );
  Source:
    ( { __typename: 'Source' }
    & GraphQLRecursivePick<FederationTypes['Source'], {"id":true}> );
}>;



/** Mapping between all available schema types and the resolvers types */
export type ResolversTypes = ResolversObject<{
  Account: ResolverTypeWrapper<EntityRefEntity>;
  ID: ResolverTypeWrapper<Scalars['ID']['output']>;
  Boolean: ResolverTypeWrapper<Scalars['Boolean']['output']>;
  String: ResolverTypeWrapper<Scalars['String']['output']>;
  Int: ResolverTypeWrapper<Scalars['Int']['output']>;
  AccountJobStats: ResolverTypeWrapper<Omit<AccountJobStats, 'account'> & { account: ResolversTypes['Account'] }>;
  AccountJobStatsConnection: ResolverTypeWrapper<Omit<AccountJobStatsConnection, 'edges'> & { edges: Array<ResolversTypes['AccountJobStatsEdge']> }>;
  AccountJobStatsEdge: ResolverTypeWrapper<Omit<AccountJobStatsEdge, 'node'> & { node: ResolversTypes['AccountJobStats'] }>;
  AnalyticsRange: AnalyticsRange;
  ChunkProblem: ResolverTypeWrapper<ChunkProblem>;
  ChunkProblemKind: ChunkProblemKind;
  Date: ResolverTypeWrapper<Scalars['Date']['output']>;
  DateTime: ResolverTypeWrapper<Scalars['DateTime']['output']>;
  FailureTypeCount: ResolverTypeWrapper<FailureTypeCount>;
  GarbageCollectionReport: ResolverTypeWrapper<GarbageCollectionReport>;
  Float: ResolverTypeWrapper<Scalars['Float']['output']>;
  Job: ResolverTypeWrapper<JobEntity>;
  JobAnalytics: ResolverTypeWrapper<JobAnalyticsEntity>;
  JobConnection: ResolverTypeWrapper<Omit<JobConnection, 'edges'> & { edges: Array<ResolversTypes['JobEdge']> }>;
  JobDayStats: ResolverTypeWrapper<JobDayStats>;
  JobDownload: ResolverTypeWrapper<JobDownload>;
  JobEdge: ResolverTypeWrapper<Omit<JobEdge, 'node'> & { node: ResolversTypes['Job'] }>;
  JobFailureType: JobFailureType;
  JobFilter: JobFilter;
  JobKind: JobKind;
  JobLogConnection: ResolverTypeWrapper<Omit<JobLogConnection, 'edges'> & { edges: Array<ResolversTypes['JobLogEdge']> }>;
  JobLogEdge: ResolverTypeWrapper<Omit<JobLogEdge, 'node'> & { node: ResolversTypes['JobLogLine'] }>;
  JobLogLevel: JobLogLevel;
  JobLogLine: ResolverTypeWrapper<JobLogEntity>;
  JobProgress: ResolverTypeWrapper<JobProgress>;
  JobRunStats: ResolverTypeWrapper<JobRunStats>;
  JobStatus: JobStatus;
  JobTrigger: ResolverTypeWrapper<JobTrigger>;
  JobTriggerKind: JobTriggerKind;
  Mutation: ResolverTypeWrapper<Record<PropertyKey, never>>;
  PageInfo: ResolverTypeWrapper<PageInfo>;
  Platform: ResolverTypeWrapper<EntityRefEntity>;
  PlatformJobStats: ResolverTypeWrapper<Omit<PlatformJobStats, 'platform'> & { platform?: Maybe<ResolversTypes['Platform']> }>;
  Query: ResolverTypeWrapper<Record<PropertyKey, never>>;
  RecoveryPoint: ResolverTypeWrapper<RecoveryPointEntity>;
  RecoveryPointStatus: RecoveryPointStatus;
  RecoverySummary: ResolverTypeWrapper<RecoverySummary>;
  RestoreTarget: RestoreTarget;
  SnapshotArchiveFormat: SnapshotArchiveFormat;
  Source: ResolverTypeWrapper<EntityRefEntity>;
  SourceJobAnalytics: ResolverTypeWrapper<Omit<SourceJobAnalytics, 'recoveryPoint'> & { recoveryPoint: ResolversTypes['RecoveryPoint'] }>;
  Subscription: ResolverTypeWrapper<Record<PropertyKey, never>>;
  TieringReport: ResolverTypeWrapper<TieringReport>;
  VerificationReport: ResolverTypeWrapper<VerificationReport>;
  VerificationSample: VerificationSample;
}>;

/** Mapping between all available schema types and the resolvers parents */
export type ResolversParentTypes = ResolversObject<{
  Account: EntityRefEntity;
  ID: Scalars['ID']['output'];
  Boolean: Scalars['Boolean']['output'];
  String: Scalars['String']['output'];
  Int: Scalars['Int']['output'];
  AccountJobStats: Omit<AccountJobStats, 'account'> & { account: ResolversParentTypes['Account'] };
  AccountJobStatsConnection: Omit<AccountJobStatsConnection, 'edges'> & { edges: Array<ResolversParentTypes['AccountJobStatsEdge']> };
  AccountJobStatsEdge: Omit<AccountJobStatsEdge, 'node'> & { node: ResolversParentTypes['AccountJobStats'] };
  AnalyticsRange: AnalyticsRange;
  ChunkProblem: ChunkProblem;
  Date: Scalars['Date']['output'];
  DateTime: Scalars['DateTime']['output'];
  FailureTypeCount: FailureTypeCount;
  GarbageCollectionReport: GarbageCollectionReport;
  Float: Scalars['Float']['output'];
  Job: JobEntity;
  JobAnalytics: JobAnalyticsEntity;
  JobConnection: Omit<JobConnection, 'edges'> & { edges: Array<ResolversParentTypes['JobEdge']> };
  JobDayStats: JobDayStats;
  JobDownload: JobDownload;
  JobEdge: Omit<JobEdge, 'node'> & { node: ResolversParentTypes['Job'] };
  JobFilter: JobFilter;
  JobLogConnection: Omit<JobLogConnection, 'edges'> & { edges: Array<ResolversParentTypes['JobLogEdge']> };
  JobLogEdge: Omit<JobLogEdge, 'node'> & { node: ResolversParentTypes['JobLogLine'] };
  JobLogLine: JobLogEntity;
  JobProgress: JobProgress;
  JobRunStats: JobRunStats;
  JobTrigger: JobTrigger;
  Mutation: Record<PropertyKey, never>;
  PageInfo: PageInfo;
  Platform: EntityRefEntity;
  PlatformJobStats: Omit<PlatformJobStats, 'platform'> & { platform?: Maybe<ResolversParentTypes['Platform']> };
  Query: Record<PropertyKey, never>;
  RecoveryPoint: RecoveryPointEntity;
  RecoverySummary: RecoverySummary;
  Source: EntityRefEntity;
  SourceJobAnalytics: Omit<SourceJobAnalytics, 'recoveryPoint'> & { recoveryPoint: ResolversParentTypes['RecoveryPoint'] };
  Subscription: Record<PropertyKey, never>;
  TieringReport: TieringReport;
  VerificationReport: VerificationReport;
}>;

export type AccountResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['Account'] = ResolversParentTypes['Account'], FederationReferenceType extends FederationReferenceTypes['Account'] = FederationReferenceTypes['Account']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Account']> | FederationReferenceType, FederationReferenceType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  jobAnalytics?: Resolver<ResolversTypes['JobAnalytics'], ParentType, ContextType, RequireFields<AccountJobAnalyticsArgs, 'includeSubAccounts' | 'kind'>>;
  jobs?: Resolver<ResolversTypes['JobConnection'], ParentType, ContextType, RequireFields<AccountJobsArgs, 'first'>>;
}>;

export type AccountJobStatsResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['AccountJobStats'] = ResolversParentTypes['AccountJobStats']> = ResolversObject<{
  account?: Resolver<ResolversTypes['Account'], ParentType, ContextType>;
  stats?: Resolver<ResolversTypes['JobRunStats'], ParentType, ContextType>;
}>;

export type AccountJobStatsConnectionResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['AccountJobStatsConnection'] = ResolversParentTypes['AccountJobStatsConnection']> = ResolversObject<{
  edges?: Resolver<Array<ResolversTypes['AccountJobStatsEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
  totalCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type AccountJobStatsEdgeResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['AccountJobStatsEdge'] = ResolversParentTypes['AccountJobStatsEdge']> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['AccountJobStats'], ParentType, ContextType>;
}>;

export type ChunkProblemResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['ChunkProblem'] = ResolversParentTypes['ChunkProblem']> = ResolversObject<{
  address?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  packId?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  problem?: Resolver<ResolversTypes['ChunkProblemKind'], ParentType, ContextType>;
}>;

export interface DateScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['Date'], any> {
  name: 'Date';
}

export interface DateTimeScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['DateTime'], any> {
  name: 'DateTime';
}

export type FailureTypeCountResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['FailureTypeCount'] = ResolversParentTypes['FailureTypeCount']> = ResolversObject<{
  count?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  type?: Resolver<ResolversTypes['JobFailureType'], ParentType, ContextType>;
}>;

export type GarbageCollectionReportResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['GarbageCollectionReport'] = ResolversParentTypes['GarbageCollectionReport']> = ResolversObject<{
  deletedBytes?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  deletedChunks?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  deletedPacks?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  expiredExports?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  forgottenSnapshots?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  purged?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  repackedPacks?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  snapshots?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type JobResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['Job'] = ResolversParentTypes['Job'], FederationReferenceType extends FederationReferenceTypes['Job'] = FederationReferenceTypes['Job']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Job']> | FederationReferenceType, FederationReferenceType, ContextType>;
  account?: Resolver<ResolversTypes['Account'], ParentType, ContextType>;
  attempts?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  cancelRequested?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  download?: Resolver<Maybe<ResolversTypes['JobDownload']>, ParentType, ContextType>;
  failureReason?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  failureType?: Resolver<Maybe<ResolversTypes['JobFailureType']>, ParentType, ContextType>;
  finishedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  garbageCollection?: Resolver<Maybe<ResolversTypes['GarbageCollectionReport']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  kind?: Resolver<ResolversTypes['JobKind'], ParentType, ContextType>;
  log?: Resolver<ResolversTypes['JobLogConnection'], ParentType, ContextType, RequireFields<JobLogArgs, 'first'>>;
  nextAttemptAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  partialSuccess?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  progress?: Resolver<ResolversTypes['JobProgress'], ParentType, ContextType>;
  source?: Resolver<Maybe<ResolversTypes['Source']>, ParentType, ContextType>;
  startedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  status?: Resolver<ResolversTypes['JobStatus'], ParentType, ContextType>;
  tiering?: Resolver<Maybe<ResolversTypes['TieringReport']>, ParentType, ContextType>;
  triggeredBy?: Resolver<ResolversTypes['JobTrigger'], ParentType, ContextType>;
  verification?: Resolver<Maybe<ResolversTypes['VerificationReport']>, ParentType, ContextType>;
}>;

export type JobAnalyticsResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['JobAnalytics'] = ResolversParentTypes['JobAnalytics']> = ResolversObject<{
  accounts?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  byAccount?: Resolver<ResolversTypes['AccountJobStatsConnection'], ParentType, ContextType, RequireFields<JobAnalyticsByAccountArgs, 'first'>>;
  byPlatform?: Resolver<Array<ResolversTypes['PlatformJobStats']>, ParentType, ContextType>;
  days?: Resolver<Array<ResolversTypes['JobDayStats']>, ParentType, ContextType>;
  from?: Resolver<ResolversTypes['Date'], ParentType, ContextType>;
  kind?: Resolver<ResolversTypes['JobKind'], ParentType, ContextType>;
  recovery?: Resolver<ResolversTypes['RecoverySummary'], ParentType, ContextType>;
  to?: Resolver<ResolversTypes['Date'], ParentType, ContextType>;
  totals?: Resolver<ResolversTypes['JobRunStats'], ParentType, ContextType>;
}>;

export type JobConnectionResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['JobConnection'] = ResolversParentTypes['JobConnection']> = ResolversObject<{
  edges?: Resolver<Array<ResolversTypes['JobEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
}>;

export type JobDayStatsResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['JobDayStats'] = ResolversParentTypes['JobDayStats']> = ResolversObject<{
  day?: Resolver<ResolversTypes['Date'], ParentType, ContextType>;
  stats?: Resolver<ResolversTypes['JobRunStats'], ParentType, ContextType>;
}>;

export type JobDownloadResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['JobDownload'] = ResolversParentTypes['JobDownload']> = ResolversObject<{
  bytes?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  contentType?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  expiresAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  fileName?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  items?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  path?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  sha256?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  url?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type JobEdgeResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['JobEdge'] = ResolversParentTypes['JobEdge']> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Job'], ParentType, ContextType>;
}>;

export type JobLogConnectionResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['JobLogConnection'] = ResolversParentTypes['JobLogConnection']> = ResolversObject<{
  edges?: Resolver<Array<ResolversTypes['JobLogEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
}>;

export type JobLogEdgeResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['JobLogEdge'] = ResolversParentTypes['JobLogEdge']> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['JobLogLine'], ParentType, ContextType>;
}>;

export type JobLogLineResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['JobLogLine'] = ResolversParentTypes['JobLogLine']> = ResolversObject<{
  at?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  level?: Resolver<ResolversTypes['JobLogLevel'], ParentType, ContextType>;
  message?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type JobProgressResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['JobProgress'] = ResolversParentTypes['JobProgress']> = ResolversObject<{
  bytesDone?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  bytesPerSecond?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  bytesTotal?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  etaSeconds?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  itemsDone?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  itemsPerSecond?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  itemsTotal?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  percent?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  totalsEstimated?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
}>;

export type JobRunStatsResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['JobRunStats'] = ResolversParentTypes['JobRunStats']> = ResolversObject<{
  bytesBackedUp?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  cancelled?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  durationP50Seconds?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  durationP95Seconds?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  failed?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  failuresByType?: Resolver<Array<ResolversTypes['FailureTypeCount']>, ParentType, ContextType>;
  itemsAdded?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  itemsBackedUp?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  itemsChanged?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  itemsDeleted?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  partial?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  runs?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  succeeded?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  successRate?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
}>;

export type JobTriggerResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['JobTrigger'] = ResolversParentTypes['JobTrigger']> = ResolversObject<{
  id?: Resolver<Maybe<ResolversTypes['ID']>, ParentType, ContextType>;
  kind?: Resolver<ResolversTypes['JobTriggerKind'], ParentType, ContextType>;
}>;

export type MutationResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['Mutation'] = ResolversParentTypes['Mutation']> = ResolversObject<{
  cancelJob?: Resolver<ResolversTypes['Job'], ParentType, ContextType, RequireFields<MutationCancelJobArgs, 'id'>>;
  exportSnapshot?: Resolver<ResolversTypes['Job'], ParentType, ContextType, RequireFields<MutationExportSnapshotArgs, 'format' | 'snapshotId'>>;
  restoreSnapshot?: Resolver<ResolversTypes['Job'], ParentType, ContextType, RequireFields<MutationRestoreSnapshotArgs, 'snapshotId' | 'target'>>;
  retryJob?: Resolver<ResolversTypes['Job'], ParentType, ContextType, RequireFields<MutationRetryJobArgs, 'id'>>;
  triggerSync?: Resolver<ResolversTypes['Job'], ParentType, ContextType, RequireFields<MutationTriggerSyncArgs, 'full' | 'sourceId'>>;
  verifySnapshot?: Resolver<ResolversTypes['Job'], ParentType, ContextType, RequireFields<MutationVerifySnapshotArgs, 'sample' | 'snapshotId'>>;
}>;

export type PageInfoResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['PageInfo'] = ResolversParentTypes['PageInfo']> = ResolversObject<{
  endCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  hasNextPage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
}>;

export type PlatformResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['Platform'] = ResolversParentTypes['Platform']> = ResolversObject<{
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
}>;

export type PlatformJobStatsResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['PlatformJobStats'] = ResolversParentTypes['PlatformJobStats']> = ResolversObject<{
  platform?: Resolver<Maybe<ResolversTypes['Platform']>, ParentType, ContextType>;
  sources?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  stats?: Resolver<ResolversTypes['JobRunStats'], ParentType, ContextType>;
}>;

export type QueryResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['Query'] = ResolversParentTypes['Query']> = ResolversObject<{
  job?: Resolver<ResolversTypes['Job'], ParentType, ContextType, RequireFields<QueryJobArgs, 'id'>>;
  jobs?: Resolver<ResolversTypes['JobConnection'], ParentType, ContextType, RequireFields<QueryJobsArgs, 'first'>>;
}>;

export type RecoveryPointResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['RecoveryPoint'] = ResolversParentTypes['RecoveryPoint']> = ResolversObject<{
  ageSeconds?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  lastSuccessfulBackupAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  lastSuccessfulJob?: Resolver<Maybe<ResolversTypes['Job']>, ParentType, ContextType>;
  status?: Resolver<ResolversTypes['RecoveryPointStatus'], ParentType, ContextType>;
  targetSeconds?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
}>;

export type RecoverySummaryResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['RecoverySummary'] = ResolversParentTypes['RecoverySummary']> = ResolversObject<{
  behind?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  lastSuccessfulBackupAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  neverBackedUp?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  oldestLastSuccessfulBackupAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  onSchedule?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  sources?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  unscheduled?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type SourceResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['Source'] = ResolversParentTypes['Source'], FederationReferenceType extends FederationReferenceTypes['Source'] = FederationReferenceTypes['Source']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Source']> | FederationReferenceType, FederationReferenceType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  jobAnalytics?: Resolver<ResolversTypes['SourceJobAnalytics'], ParentType, ContextType, RequireFields<SourceJobAnalyticsArgs, 'kind'>>;
  jobs?: Resolver<ResolversTypes['JobConnection'], ParentType, ContextType, RequireFields<SourceJobsArgs, 'first'>>;
}>;

export type SourceJobAnalyticsResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['SourceJobAnalytics'] = ResolversParentTypes['SourceJobAnalytics']> = ResolversObject<{
  days?: Resolver<Array<ResolversTypes['JobDayStats']>, ParentType, ContextType>;
  from?: Resolver<ResolversTypes['Date'], ParentType, ContextType>;
  kind?: Resolver<ResolversTypes['JobKind'], ParentType, ContextType>;
  recoveryPoint?: Resolver<ResolversTypes['RecoveryPoint'], ParentType, ContextType>;
  to?: Resolver<ResolversTypes['Date'], ParentType, ContextType>;
  totals?: Resolver<ResolversTypes['JobRunStats'], ParentType, ContextType>;
}>;

export type SubscriptionResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['Subscription'] = ResolversParentTypes['Subscription']> = ResolversObject<{
  jobEvents?: SubscriptionResolver<ResolversTypes['Job'], "jobEvents", ParentType, ContextType, RequireFields<SubscriptionJobEventsArgs, 'accountId'>>;
  jobUpdated?: SubscriptionResolver<ResolversTypes['Job'], "jobUpdated", ParentType, ContextType, RequireFields<SubscriptionJobUpdatedArgs, 'id'>>;
}>;

export type TieringReportResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['TieringReport'] = ResolversParentTypes['TieringReport']> = ResolversObject<{
  movedToCold?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  movedToWarm?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  scannedPacks?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type VerificationReportResolvers<ContextType = JobsContext, ParentType extends ResolversParentTypes['VerificationReport'] = ResolversParentTypes['VerificationReport']> = ResolversObject<{
  checkedChunks?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  checkedPacks?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  ok?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  problems?: Resolver<Array<ResolversTypes['ChunkProblem']>, ParentType, ContextType>;
  referencedChunks?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  referencedPacks?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  sampledBy?: Resolver<ResolversTypes['VerificationSample'], ParentType, ContextType>;
  share?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
}>;

export type Resolvers<ContextType = JobsContext> = ResolversObject<{
  Account?: AccountResolvers<ContextType>;
  AccountJobStats?: AccountJobStatsResolvers<ContextType>;
  AccountJobStatsConnection?: AccountJobStatsConnectionResolvers<ContextType>;
  AccountJobStatsEdge?: AccountJobStatsEdgeResolvers<ContextType>;
  ChunkProblem?: ChunkProblemResolvers<ContextType>;
  Date?: GraphQLScalarType;
  DateTime?: GraphQLScalarType;
  FailureTypeCount?: FailureTypeCountResolvers<ContextType>;
  GarbageCollectionReport?: GarbageCollectionReportResolvers<ContextType>;
  Job?: JobResolvers<ContextType>;
  JobAnalytics?: JobAnalyticsResolvers<ContextType>;
  JobConnection?: JobConnectionResolvers<ContextType>;
  JobDayStats?: JobDayStatsResolvers<ContextType>;
  JobDownload?: JobDownloadResolvers<ContextType>;
  JobEdge?: JobEdgeResolvers<ContextType>;
  JobLogConnection?: JobLogConnectionResolvers<ContextType>;
  JobLogEdge?: JobLogEdgeResolvers<ContextType>;
  JobLogLine?: JobLogLineResolvers<ContextType>;
  JobProgress?: JobProgressResolvers<ContextType>;
  JobRunStats?: JobRunStatsResolvers<ContextType>;
  JobTrigger?: JobTriggerResolvers<ContextType>;
  Mutation?: MutationResolvers<ContextType>;
  PageInfo?: PageInfoResolvers<ContextType>;
  Platform?: PlatformResolvers<ContextType>;
  PlatformJobStats?: PlatformJobStatsResolvers<ContextType>;
  Query?: QueryResolvers<ContextType>;
  RecoveryPoint?: RecoveryPointResolvers<ContextType>;
  RecoverySummary?: RecoverySummaryResolvers<ContextType>;
  Source?: SourceResolvers<ContextType>;
  SourceJobAnalytics?: SourceJobAnalyticsResolvers<ContextType>;
  Subscription?: SubscriptionResolvers<ContextType>;
  TieringReport?: TieringReportResolvers<ContextType>;
  VerificationReport?: VerificationReportResolvers<ContextType>;
}>;

