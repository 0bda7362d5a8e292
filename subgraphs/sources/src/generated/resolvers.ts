import type { GraphQLResolveInfo, GraphQLScalarType, GraphQLScalarTypeConfig } from 'graphql';
import type { Source as SourceEntity } from '../entities/source.ts';
import type { Snapshot as SnapshotEntity } from '../entities/snapshot.ts';
import type { EntityRef as EntityRefEntity } from '@listbackup/lib/federation';
import type { SourcesContext } from '../context.ts';
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
  /** An ISO-8601 date and time in UTC. */
  DateTime: { input: Date | string; output: Date | string; }
  _FieldSet: { input: unknown; output: unknown; }
};

export type Account = {
  __typename?: 'Account';
  id: Scalars['ID']['output'];
  /**
   * The sources of this account (deleted ones left out), by name. `first` is 1 to 100 (default 20);
   * `after` is a page's `endCursor`. Errors (BAD_USER_INPUT, with `extensions.reason`): BAD_PAGE_SIZE,
   * BAD_CURSOR.
   */
  sources: SourceConnection;
};


export type AccountSourcesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};

export type Connection = {
  __typename?: 'Connection';
  id: Scalars['ID']['output'];
};

export type CreateSourceInput = {
  accountId: Scalars['ID']['input'];
  /** An AUTHORIZED connection of the same account. */
  connectionId: Scalars['ID']['input'];
  name: Scalars['String']['input'];
  /** Resources of the connection's platform; at least one. */
  resources: Array<Scalars['String']['input']>;
  retention: RetentionInput;
  schedule: ScheduleInput;
};

export type Job = {
  __typename?: 'Job';
  id: Scalars['ID']['output'];
  /** The snapshot this job made, for a backup that finished. */
  snapshot?: Maybe<Snapshot>;
};

export type Mutation = {
  __typename?: 'Mutation';
  /**
   * Acknowledges a flagged snapshot: from now on its source's retention may drop it like any other.
   * Needs `sources:manage`. Errors (BAD_USER_INPUT, with `extensions.reason`): NO_ANOMALY. Acknowledging
   * again answers the first acknowledgement.
   */
  acknowledgeSnapshotAnomaly: Snapshot;
  /**
   * Creates a source on an AUTHORIZED connection of the same account. Errors (BAD_USER_INPUT, with
   * `extensions.reason`): INVALID_SCHEDULE, INVALID_RETENTION, UNKNOWN_RESOURCE,
   * CONNECTION_NOT_AUTHORIZED, INVALID_NAME. Nothing is stored on error.
   */
  createSource: Source;
  /**
   * Deletes a source. Its snapshots stay restorable unless `withSnapshots` is true, in which case they
   * are deleted too, and a GC job of the account (in its jobs) frees the stored data no other
   * snapshot uses within minutes (data stored in the hour before the deletion: by a later daily GC).
   */
  deleteSource: Scalars['Boolean']['output'];
  /** Stops scheduled backups until resumed. */
  pauseSource: Source;
  /** Resumes scheduled backups from the next occurrence of the schedule. */
  resumeSource: Source;
  /** Changes a source; the same checks as createSource apply to the fields given. */
  updateSource: Source;
};


export type MutationAcknowledgeSnapshotAnomalyArgs = {
  snapshotId: Scalars['ID']['input'];
};


export type MutationCreateSourceArgs = {
  input: CreateSourceInput;
};


export type MutationDeleteSourceArgs = {
  id: Scalars['ID']['input'];
  withSnapshots?: Scalars['Boolean']['input'];
};


export type MutationPauseSourceArgs = {
  id: Scalars['ID']['input'];
};


export type MutationResumeSourceArgs = {
  id: Scalars['ID']['input'];
};


export type MutationUpdateSourceArgs = {
  id: Scalars['ID']['input'];
  input: UpdateSourceInput;
};

/** Relay-style page information: pass `endCursor` as `after` for the next page. */
export type PageInfo = {
  __typename?: 'PageInfo';
  endCursor?: Maybe<Scalars['String']['output']>;
  hasNextPage: Scalars['Boolean']['output'];
};

export type Query = {
  __typename?: 'Query';
  /** A snapshot of an account the caller can see. */
  snapshot: Snapshot;
  /** The snapshots of a source, newest first. */
  snapshots: SnapshotConnection;
  /** A source of an account the caller can see (a deleted one too, with `deletedAt`). */
  source: Source;
};


export type QuerySnapshotArgs = {
  id: Scalars['ID']['input'];
};


export type QuerySnapshotsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  sourceId: Scalars['ID']['input'];
};


export type QuerySourceArgs = {
  id: Scalars['ID']['input'];
};

/**
 * Which snapshots to keep (grandfather-father-son): the newest `keepLast`, plus the newest of each of
 * the last `keepDaily` days, `keepWeekly` weeks and `keepMonthly` months. A snapshot kept by any rule
 * stays.
 */
export type Retention = {
  __typename?: 'Retention';
  keepDaily: Scalars['Int']['output'];
  keepLast: Scalars['Int']['output'];
  keepMonthly: Scalars['Int']['output'];
  keepWeekly: Scalars['Int']['output'];
};

export type RetentionInput = {
  keepDaily?: Scalars['Int']['input'];
  keepLast?: Scalars['Int']['input'];
  keepMonthly?: Scalars['Int']['input'];
  keepWeekly?: Scalars['Int']['input'];
};

/** When backups run. */
export type Schedule = {
  __typename?: 'Schedule';
  /** A cron expression (5 fields, or 6 with seconds first), for CRON. */
  cron?: Maybe<Scalars['String']['output']>;
  kind: ScheduleKind;
  /** The IANA time zone the cron expression is read in, for example `Europe/Paris`. */
  timeZone?: Maybe<Scalars['String']['output']>;
};

export type ScheduleInput = {
  /** Required for CRON. */
  cron?: InputMaybe<Scalars['String']['input']>;
  kind: ScheduleKind;
  /** An IANA time zone; defaults to UTC. */
  timeZone?: InputMaybe<Scalars['String']['input']>;
};

export type ScheduleKind =
  /** On a cron schedule. */
  | 'CRON'
  /** Only when someone starts a backup. */
  | 'MANUAL';

/** A point-in-time copy of a source's data. Immutable once made. */
export type Snapshot = {
  __typename?: 'Snapshot';
  account: Account;
  /**
   * Set when the backup deleted or changed far more of the source's items than its history says is
   * normal (for example 40% of items gone where backups usually move under 2%). A flagged snapshot is
   * kept past its retention until someone acknowledges it (`acknowledgeSnapshotAnomaly`).
   */
  anomaly?: Maybe<SnapshotAnomaly>;
  /** How it differs from the source's previous snapshot; null for a source's first. */
  changes?: Maybe<SnapshotChanges>;
  createdAt: Scalars['DateTime']['output'];
  id: Scalars['ID']['output'];
  /** How many items it holds. */
  itemCount: Scalars['Float']['output'];
  /**
   * The items, ordered by path; `search` matches a part of the name or path, ignoring case. `first`
   * is 1 to 100 (default 50); `after` is a page's `endCursor`. Errors (BAD_USER_INPUT, with
   * `extensions.reason`): BAD_PAGE_SIZE, BAD_CURSOR.
   */
  items: SnapshotItemConnection;
  /** The backup job that made it. */
  job: Job;
  /** The size of its items as the platform gave them. */
  logicalBytes: Scalars['Float']['output'];
  /** True when the backup skipped some items (its job's log names them). */
  partial: Scalars['Boolean']['output'];
  source: Source;
  /** Bytes this snapshot added to storage, after deduplication and compression. */
  storedBytes: Scalars['Float']['output'];
};


/** A point-in-time copy of a source's data. Immutable once made. */
export type SnapshotItemsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  search?: InputMaybe<Scalars['String']['input']>;
};

/** A backup that moved far beyond the source's own history. */
export type SnapshotAnomaly = {
  __typename?: 'SnapshotAnomaly';
  /** When someone acknowledged it; until then retention keeps the snapshot. */
  acknowledgedAt?: Maybe<Scalars['DateTime']['output']>;
  /** The user or API key that acknowledged it. */
  acknowledgedBy?: Maybe<Scalars['ID']['output']>;
  detectedAt: Scalars['DateTime']['output'];
  kind: SnapshotAnomalyKind;
  /** A readable explanation, safe to show to the account's members. */
  reason: Scalars['String']['output'];
  /** The share of the previous snapshot's items deleted (or changed), 0 to 1. */
  share: Scalars['Float']['output'];
  /** What the source's history calls a large move (mean plus three standard deviations of its backups' shares). */
  typicalShare: Scalars['Float']['output'];
};

export type SnapshotAnomalyKind =
  /** Many more items changed than usual (for example encrypted in place). */
  | 'MASS_CHANGE'
  /** Many more items deleted than usual. */
  | 'MASS_DELETION';

/** How a snapshot differs from its parent, item by item (by id and content). */
export type SnapshotChanges = {
  __typename?: 'SnapshotChanges';
  added: Scalars['Float']['output'];
  /** Items whose content changed. */
  changed: Scalars['Float']['output'];
  /** Items gone (items the backup had to skip are not counted). */
  deleted: Scalars['Float']['output'];
  /** Items in the previous snapshot, over the resources both back up. */
  previousItems: Scalars['Float']['output'];
};

export type SnapshotConnection = {
  __typename?: 'SnapshotConnection';
  edges: Array<SnapshotEdge>;
  pageInfo: PageInfo;
};

export type SnapshotEdge = {
  __typename?: 'SnapshotEdge';
  cursor: Scalars['String']['output'];
  node: Snapshot;
};

/** One backed-up object: a record, a file, a table. */
export type SnapshotItem = {
  __typename?: 'SnapshotItem';
  contentType?: Maybe<Scalars['String']['output']>;
  /** When the platform last changed it, when it says. */
  modifiedAt?: Maybe<Scalars['DateTime']['output']>;
  name: Scalars['String']['output'];
  /** Where the item sits in the snapshot, for example `customers/cus_123.json`. */
  path: Scalars['String']['output'];
  /** The platform resource it came from. */
  resource?: Maybe<Scalars['String']['output']>;
  /** Size in bytes as the platform gave it. */
  size: Scalars['Float']['output'];
};

export type SnapshotItemConnection = {
  __typename?: 'SnapshotItemConnection';
  edges: Array<SnapshotItemEdge>;
  pageInfo: PageInfo;
};

export type SnapshotItemEdge = {
  __typename?: 'SnapshotItemEdge';
  cursor: Scalars['String']['output'];
  node: SnapshotItem;
};

/** What to back up from a connection, and when. */
export type Source = {
  __typename?: 'Source';
  account: Account;
  connection: Connection;
  createdAt: Scalars['DateTime']['output'];
  /** Set once the source is deleted: it runs no more backups and leaves lists; its remaining snapshots stay. */
  deletedAt?: Maybe<Scalars['DateTime']['output']>;
  id: Scalars['ID']['output'];
  name: Scalars['String']['output'];
  /** When the schedule next starts a backup; null for manual sources and while paused. */
  nextRunAt?: Maybe<Scalars['DateTime']['output']>;
  /** True while scheduled backups are paused (a backup can still be started by hand). */
  paused: Scalars['Boolean']['output'];
  /** The platform resources included, for example `customers` and `invoices`. */
  resources: Array<Scalars['String']['output']>;
  retention: Retention;
  schedule: Schedule;
  /** This source's snapshots, newest first. */
  snapshots: SnapshotConnection;
  updatedAt: Scalars['DateTime']['output'];
};


/** What to back up from a connection, and when. */
export type SourceSnapshotsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** A page of sources, by name. */
export type SourceConnection = {
  __typename?: 'SourceConnection';
  edges: Array<SourceEdge>;
  pageInfo: PageInfo;
};

export type SourceEdge = {
  __typename?: 'SourceEdge';
  cursor: Scalars['String']['output'];
  node: Source;
};

/** Fields to change; those left out stay as they are. */
export type UpdateSourceInput = {
  name?: InputMaybe<Scalars['String']['input']>;
  resources?: InputMaybe<Array<Scalars['String']['input']>>;
  retention?: InputMaybe<RetentionInput>;
  schedule?: InputMaybe<ScheduleInput>;
};

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
  Snapshot: Snapshot;
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
  Snapshot:
    ( { __typename: 'Snapshot' }
    & GraphQLRecursivePick<FederationTypes['Snapshot'], {"id":true}> );
  Source:
    ( { __typename: 'Source' }
    & GraphQLRecursivePick<FederationTypes['Source'], {"id":true}> );
}>;



/** Mapping between all available schema types and the resolvers types */
export type ResolversTypes = ResolversObject<{
  Account: ResolverTypeWrapper<EntityRefEntity>;
  ID: ResolverTypeWrapper<Scalars['ID']['output']>;
  String: ResolverTypeWrapper<Scalars['String']['output']>;
  Int: ResolverTypeWrapper<Scalars['Int']['output']>;
  Connection: ResolverTypeWrapper<EntityRefEntity>;
  CreateSourceInput: CreateSourceInput;
  DateTime: ResolverTypeWrapper<Scalars['DateTime']['output']>;
  Job: ResolverTypeWrapper<EntityRefEntity>;
  Mutation: ResolverTypeWrapper<Record<PropertyKey, never>>;
  Boolean: ResolverTypeWrapper<Scalars['Boolean']['output']>;
  PageInfo: ResolverTypeWrapper<PageInfo>;
  Query: ResolverTypeWrapper<Record<PropertyKey, never>>;
  Retention: ResolverTypeWrapper<Retention>;
  RetentionInput: RetentionInput;
  Schedule: ResolverTypeWrapper<Schedule>;
  ScheduleInput: ScheduleInput;
  ScheduleKind: ScheduleKind;
  Snapshot: ResolverTypeWrapper<SnapshotEntity>;
  Float: ResolverTypeWrapper<Scalars['Float']['output']>;
  SnapshotAnomaly: ResolverTypeWrapper<SnapshotAnomaly>;
  SnapshotAnomalyKind: SnapshotAnomalyKind;
  SnapshotChanges: ResolverTypeWrapper<SnapshotChanges>;
  SnapshotConnection: ResolverTypeWrapper<Omit<SnapshotConnection, 'edges'> & { edges: Array<ResolversTypes['SnapshotEdge']> }>;
  SnapshotEdge: ResolverTypeWrapper<Omit<SnapshotEdge, 'node'> & { node: ResolversTypes['Snapshot'] }>;
  SnapshotItem: ResolverTypeWrapper<SnapshotItem>;
  SnapshotItemConnection: ResolverTypeWrapper<SnapshotItemConnection>;
  SnapshotItemEdge: ResolverTypeWrapper<SnapshotItemEdge>;
  Source: ResolverTypeWrapper<SourceEntity>;
  SourceConnection: ResolverTypeWrapper<Omit<SourceConnection, 'edges'> & { edges: Array<ResolversTypes['SourceEdge']> }>;
  SourceEdge: ResolverTypeWrapper<Omit<SourceEdge, 'node'> & { node: ResolversTypes['Source'] }>;
  UpdateSourceInput: UpdateSourceInput;
}>;

/** Mapping between all available schema types and the resolvers parents */
export type ResolversParentTypes = ResolversObject<{
  Account: EntityRefEntity;
  ID: Scalars['ID']['output'];
  String: Scalars['String']['output'];
  Int: Scalars['Int']['output'];
  Connection: EntityRefEntity;
  CreateSourceInput: CreateSourceInput;
  DateTime: Scalars['DateTime']['output'];
  Job: EntityRefEntity;
  Mutation: Record<PropertyKey, never>;
  Boolean: Scalars['Boolean']['output'];
  PageInfo: PageInfo;
  Query: Record<PropertyKey, never>;
  Retention: Retention;
  RetentionInput: RetentionInput;
  Schedule: Schedule;
  ScheduleInput: ScheduleInput;
  Snapshot: SnapshotEntity;
  Float: Scalars['Float']['output'];
  SnapshotAnomaly: SnapshotAnomaly;
  SnapshotChanges: SnapshotChanges;
  SnapshotConnection: Omit<SnapshotConnection, 'edges'> & { edges: Array<ResolversParentTypes['SnapshotEdge']> };
  SnapshotEdge: Omit<SnapshotEdge, 'node'> & { node: ResolversParentTypes['Snapshot'] };
  SnapshotItem: SnapshotItem;
  SnapshotItemConnection: SnapshotItemConnection;
  SnapshotItemEdge: SnapshotItemEdge;
  Source: SourceEntity;
  SourceConnection: Omit<SourceConnection, 'edges'> & { edges: Array<ResolversParentTypes['SourceEdge']> };
  SourceEdge: Omit<SourceEdge, 'node'> & { node: ResolversParentTypes['Source'] };
  UpdateSourceInput: UpdateSourceInput;
}>;

export type AccountResolvers<ContextType = SourcesContext, ParentType extends ResolversParentTypes['Account'] = ResolversParentTypes['Account'], FederationReferenceType extends FederationReferenceTypes['Account'] = FederationReferenceTypes['Account']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Account']> | FederationReferenceType, FederationReferenceType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  sources?: Resolver<ResolversTypes['SourceConnection'], ParentType, ContextType, RequireFields<AccountSourcesArgs, 'first'>>;
}>;

export type ConnectionResolvers<ContextType = SourcesContext, ParentType extends ResolversParentTypes['Connection'] = ResolversParentTypes['Connection']> = ResolversObject<{
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
}>;

export interface DateTimeScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['DateTime'], any> {
  name: 'DateTime';
}

export type JobResolvers<ContextType = SourcesContext, ParentType extends ResolversParentTypes['Job'] = ResolversParentTypes['Job'], FederationReferenceType extends FederationReferenceTypes['Job'] = FederationReferenceTypes['Job']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Job']> | FederationReferenceType, FederationReferenceType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  snapshot?: Resolver<Maybe<ResolversTypes['Snapshot']>, ParentType, ContextType>;
}>;

export type MutationResolvers<ContextType = SourcesContext, ParentType extends ResolversParentTypes['Mutation'] = ResolversParentTypes['Mutation']> = ResolversObject<{
  acknowledgeSnapshotAnomaly?: Resolver<ResolversTypes['Snapshot'], ParentType, ContextType, RequireFields<MutationAcknowledgeSnapshotAnomalyArgs, 'snapshotId'>>;
  createSource?: Resolver<ResolversTypes['Source'], ParentType, ContextType, RequireFields<MutationCreateSourceArgs, 'input'>>;
  deleteSource?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType, RequireFields<MutationDeleteSourceArgs, 'id' | 'withSnapshots'>>;
  pauseSource?: Resolver<ResolversTypes['Source'], ParentType, ContextType, RequireFields<MutationPauseSourceArgs, 'id'>>;
  resumeSource?: Resolver<ResolversTypes['Source'], ParentType, ContextType, RequireFields<MutationResumeSourceArgs, 'id'>>;
  updateSource?: Resolver<ResolversTypes['Source'], ParentType, ContextType, RequireFields<MutationUpdateSourceArgs, 'id' | 'input'>>;
}>;

export type PageInfoResolvers<ContextType = SourcesContext, ParentType extends ResolversParentTypes['PageInfo'] = ResolversParentTypes['PageInfo']> = ResolversObject<{
  endCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  hasNextPage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
}>;

export type QueryResolvers<ContextType = SourcesContext, ParentType extends ResolversParentTypes['Query'] = ResolversParentTypes['Query']> = ResolversObject<{
  snapshot?: Resolver<ResolversTypes['Snapshot'], ParentType, ContextType, RequireFields<QuerySnapshotArgs, 'id'>>;
  snapshots?: Resolver<ResolversTypes['SnapshotConnection'], ParentType, ContextType, RequireFields<QuerySnapshotsArgs, 'first' | 'sourceId'>>;
  source?: Resolver<ResolversTypes['Source'], ParentType, ContextType, RequireFields<QuerySourceArgs, 'id'>>;
}>;

export type RetentionResolvers<ContextType = SourcesContext, ParentType extends ResolversParentTypes['Retention'] = ResolversParentTypes['Retention']> = ResolversObject<{
  keepDaily?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  keepLast?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  keepMonthly?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  keepWeekly?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type ScheduleResolvers<ContextType = SourcesContext, ParentType extends ResolversParentTypes['Schedule'] = ResolversParentTypes['Schedule']> = ResolversObject<{
  cron?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  kind?: Resolver<ResolversTypes['ScheduleKind'], ParentType, ContextType>;
  timeZone?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type SnapshotResolvers<ContextType = SourcesContext, ParentType extends ResolversParentTypes['Snapshot'] = ResolversParentTypes['Snapshot'], FederationReferenceType extends FederationReferenceTypes['Snapshot'] = FederationReferenceTypes['Snapshot']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Snapshot']> | FederationReferenceType, FederationReferenceType, ContextType>;
  account?: Resolver<ResolversTypes['Account'], ParentType, ContextType>;
  anomaly?: Resolver<Maybe<ResolversTypes['SnapshotAnomaly']>, ParentType, ContextType>;
  changes?: Resolver<Maybe<ResolversTypes['SnapshotChanges']>, ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  itemCount?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  items?: Resolver<ResolversTypes['SnapshotItemConnection'], ParentType, ContextType, RequireFields<SnapshotItemsArgs, 'first'>>;
  job?: Resolver<ResolversTypes['Job'], ParentType, ContextType>;
  logicalBytes?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  partial?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  source?: Resolver<ResolversTypes['Source'], ParentType, ContextType>;
  storedBytes?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
}>;

export type SnapshotAnomalyResolvers<ContextType = SourcesContext, ParentType extends ResolversParentTypes['SnapshotAnomaly'] = ResolversParentTypes['SnapshotAnomaly']> = ResolversObject<{
  acknowledgedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  acknowledgedBy?: Resolver<Maybe<ResolversTypes['ID']>, ParentType, ContextType>;
  detectedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  kind?: Resolver<ResolversTypes['SnapshotAnomalyKind'], ParentType, ContextType>;
  reason?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  share?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  typicalShare?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
}>;

export type SnapshotChangesResolvers<ContextType = SourcesContext, ParentType extends ResolversParentTypes['SnapshotChanges'] = ResolversParentTypes['SnapshotChanges']> = ResolversObject<{
  added?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  changed?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  deleted?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  previousItems?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
}>;

export type SnapshotConnectionResolvers<ContextType = SourcesContext, ParentType extends ResolversParentTypes['SnapshotConnection'] = ResolversParentTypes['SnapshotConnection']> = ResolversObject<{
  edges?: Resolver<Array<ResolversTypes['SnapshotEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
}>;

export type SnapshotEdgeResolvers<ContextType = SourcesContext, ParentType extends ResolversParentTypes['SnapshotEdge'] = ResolversParentTypes['SnapshotEdge']> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Snapshot'], ParentType, ContextType>;
}>;

export type SnapshotItemResolvers<ContextType = SourcesContext, ParentType extends ResolversParentTypes['SnapshotItem'] = ResolversParentTypes['SnapshotItem']> = ResolversObject<{
  contentType?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  modifiedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  path?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  resource?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  size?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
}>;

export type SnapshotItemConnectionResolvers<ContextType = SourcesContext, ParentType extends ResolversParentTypes['SnapshotItemConnection'] = ResolversParentTypes['SnapshotItemConnection']> = ResolversObject<{
  edges?: Resolver<Array<ResolversTypes['SnapshotItemEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
}>;

export type SnapshotItemEdgeResolvers<ContextType = SourcesContext, ParentType extends ResolversParentTypes['SnapshotItemEdge'] = ResolversParentTypes['SnapshotItemEdge']> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['SnapshotItem'], ParentType, ContextType>;
}>;

export type SourceResolvers<ContextType = SourcesContext, ParentType extends ResolversParentTypes['Source'] = ResolversParentTypes['Source'], FederationReferenceType extends FederationReferenceTypes['Source'] = FederationReferenceTypes['Source']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Source']> | FederationReferenceType, FederationReferenceType, ContextType>;
  account?: Resolver<ResolversTypes['Account'], ParentType, ContextType>;
  connection?: Resolver<ResolversTypes['Connection'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  deletedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  nextRunAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  paused?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  resources?: Resolver<Array<ResolversTypes['String']>, ParentType, ContextType>;
  retention?: Resolver<ResolversTypes['Retention'], ParentType, ContextType>;
  schedule?: Resolver<ResolversTypes['Schedule'], ParentType, ContextType>;
  snapshots?: Resolver<ResolversTypes['SnapshotConnection'], ParentType, ContextType, RequireFields<SourceSnapshotsArgs, 'first'>>;
  updatedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
}>;

export type SourceConnectionResolvers<ContextType = SourcesContext, ParentType extends ResolversParentTypes['SourceConnection'] = ResolversParentTypes['SourceConnection']> = ResolversObject<{
  edges?: Resolver<Array<ResolversTypes['SourceEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
}>;

export type SourceEdgeResolvers<ContextType = SourcesContext, ParentType extends ResolversParentTypes['SourceEdge'] = ResolversParentTypes['SourceEdge']> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Source'], ParentType, ContextType>;
}>;

export type Resolvers<ContextType = SourcesContext> = ResolversObject<{
  Account?: AccountResolvers<ContextType>;
  Connection?: ConnectionResolvers<ContextType>;
  DateTime?: GraphQLScalarType;
  Job?: JobResolvers<ContextType>;
  Mutation?: MutationResolvers<ContextType>;
  PageInfo?: PageInfoResolvers<ContextType>;
  Query?: QueryResolvers<ContextType>;
  Retention?: RetentionResolvers<ContextType>;
  Schedule?: ScheduleResolvers<ContextType>;
  Snapshot?: SnapshotResolvers<ContextType>;
  SnapshotAnomaly?: SnapshotAnomalyResolvers<ContextType>;
  SnapshotChanges?: SnapshotChangesResolvers<ContextType>;
  SnapshotConnection?: SnapshotConnectionResolvers<ContextType>;
  SnapshotEdge?: SnapshotEdgeResolvers<ContextType>;
  SnapshotItem?: SnapshotItemResolvers<ContextType>;
  SnapshotItemConnection?: SnapshotItemConnectionResolvers<ContextType>;
  SnapshotItemEdge?: SnapshotItemEdgeResolvers<ContextType>;
  Source?: SourceResolvers<ContextType>;
  SourceConnection?: SourceConnectionResolvers<ContextType>;
  SourceEdge?: SourceEdgeResolvers<ContextType>;
}>;

