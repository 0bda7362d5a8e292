import type { GraphQLResolveInfo, GraphQLScalarType, GraphQLScalarTypeConfig } from 'graphql';
import type { Plan as PlanEntity } from '../entities/plan.ts';
import type { PlanSubscription as PlanSubscriptionEntity } from '../entities/plan-subscription.ts';
import type { StorageUsageView as StorageUsageViewEntity } from '../services/storage-usage-service.ts';
import type { EntityRef as EntityRefEntity } from '@listbackup/lib/federation';
import type { BillingContext } from '../context.ts';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
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
  /** What the account stores, metered from its backups, retention and garbage collection. */
  storageUsage: StorageUsage;
  /** The account's current subscription; every account starts on the Free plan. */
  subscription?: Maybe<PlanSubscription>;
};

/** A price plan. Billing is by stored bytes. */
export type Plan = {
  __typename?: 'Plan';
  /** A stable code, for example `free`. */
  code: Scalars['String']['output'];
  id: Scalars['ID']['output'];
  /** Stored bytes included each month. */
  includedStorageBytes: Scalars['Float']['output'];
  /** Price per month in cents, before usage above the included storage. */
  monthlyPriceCents: Scalars['Int']['output'];
  name: Scalars['String']['output'];
};

/** The plan an account is on. */
export type PlanSubscription = {
  __typename?: 'PlanSubscription';
  id: Scalars['ID']['output'];
  plan: Plan;
  startedAt: Scalars['DateTime']['output'];
  status: SubscriptionStatus;
};

export type Query = {
  __typename?: 'Query';
  /** The plans on offer. */
  plans: Array<Plan>;
};

/** One source's share of an account's storage. */
export type SourceStorage = {
  __typename?: 'SourceStorage';
  logicalBytes: Scalars['Float']['output'];
  sourceId: Scalars['ID']['output'];
  storedBytes: Scalars['Float']['output'];
};

/** The storage of an account at one instant. */
export type StoragePoint = {
  __typename?: 'StoragePoint';
  at: Scalars['DateTime']['output'];
  logicalBytes: Scalars['Float']['output'];
  storedBytes: Scalars['Float']['output'];
};

/**
 * An account's metered storage. Stored bytes are what the backup store really holds after
 * deduplication and compression (what the account is billed for); logical bytes are the size of the
 * data in its retained snapshots. A GB is 2^30 bytes, as the plans count.
 */
export type StorageUsage = {
  __typename?: 'StorageUsage';
  /** Logical over stored bytes; null while nothing is stored. */
  dedupRatio?: Maybe<Scalars['Float']['output']>;
  /**
   * GB-months of stored bytes over [from, to), integrated exactly over time: each calendar month (UTC)
   * counts against its own length, so 1 GB kept a whole month is 1 GB-month. At most 400 days.
   */
  gbMonths: Scalars['Float']['output'];
  /** The stored and logical bytes at the end of each UTC day of [from, to). At most 400 days. */
  history: Array<StoragePoint>;
  /** Logical bytes of the retained snapshots now. */
  logicalBytes: Scalars['Float']['output'];
  /** When the totals were last checked against the backup store's own figures. */
  reconciledAt?: Maybe<Scalars['DateTime']['output']>;
  /** Per source: the bytes its retained snapshots wrote and their logical size. */
  sources: Array<SourceStorage>;
  /** Stored bytes now. */
  storedBytes: Scalars['Float']['output'];
};


/**
 * An account's metered storage. Stored bytes are what the backup store really holds after
 * deduplication and compression (what the account is billed for); logical bytes are the size of the
 * data in its retained snapshots. A GB is 2^30 bytes, as the plans count.
 */
export type StorageUsageGbMonthsArgs = {
  from: Scalars['DateTime']['input'];
  to: Scalars['DateTime']['input'];
};


/**
 * An account's metered storage. Stored bytes are what the backup store really holds after
 * deduplication and compression (what the account is billed for); logical bytes are the size of the
 * data in its retained snapshots. A GB is 2^30 bytes, as the plans count.
 */
export type StorageUsageHistoryArgs = {
  from: Scalars['DateTime']['input'];
  to: Scalars['DateTime']['input'];
};

export type SubscriptionStatus =
  | 'ACTIVE'
  | 'CANCELLED'
  | 'PAST_DUE';

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
}>;

/** Mapping of federation reference types */
export type FederationReferenceTypes = ResolversObject<{
  Account:
    ( { __typename: 'Account' }
    & GraphQLRecursivePick<FederationTypes['Account'], {"id":true}> );
}>;



/** Mapping between all available schema types and the resolvers types */
export type ResolversTypes = ResolversObject<{
  Account: ResolverTypeWrapper<EntityRefEntity>;
  ID: ResolverTypeWrapper<Scalars['ID']['output']>;
  DateTime: ResolverTypeWrapper<Scalars['DateTime']['output']>;
  Plan: ResolverTypeWrapper<PlanEntity>;
  String: ResolverTypeWrapper<Scalars['String']['output']>;
  Float: ResolverTypeWrapper<Scalars['Float']['output']>;
  Int: ResolverTypeWrapper<Scalars['Int']['output']>;
  PlanSubscription: ResolverTypeWrapper<PlanSubscriptionEntity>;
  Query: ResolverTypeWrapper<Record<PropertyKey, never>>;
  SourceStorage: ResolverTypeWrapper<SourceStorage>;
  StoragePoint: ResolverTypeWrapper<StoragePoint>;
  StorageUsage: ResolverTypeWrapper<StorageUsageViewEntity>;
  SubscriptionStatus: SubscriptionStatus;
  Boolean: ResolverTypeWrapper<Scalars['Boolean']['output']>;
}>;

/** Mapping between all available schema types and the resolvers parents */
export type ResolversParentTypes = ResolversObject<{
  Account: EntityRefEntity;
  ID: Scalars['ID']['output'];
  DateTime: Scalars['DateTime']['output'];
  Plan: PlanEntity;
  String: Scalars['String']['output'];
  Float: Scalars['Float']['output'];
  Int: Scalars['Int']['output'];
  PlanSubscription: PlanSubscriptionEntity;
  Query: Record<PropertyKey, never>;
  SourceStorage: SourceStorage;
  StoragePoint: StoragePoint;
  StorageUsage: StorageUsageViewEntity;
  Boolean: Scalars['Boolean']['output'];
}>;

export type AccountResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['Account'] = ResolversParentTypes['Account'], FederationReferenceType extends FederationReferenceTypes['Account'] = FederationReferenceTypes['Account']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Account']> | FederationReferenceType, FederationReferenceType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  storageUsage?: Resolver<ResolversTypes['StorageUsage'], ParentType, ContextType>;
  subscription?: Resolver<Maybe<ResolversTypes['PlanSubscription']>, ParentType, ContextType>;
}>;

export interface DateTimeScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['DateTime'], any> {
  name: 'DateTime';
}

export type PlanResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['Plan'] = ResolversParentTypes['Plan']> = ResolversObject<{
  code?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  includedStorageBytes?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  monthlyPriceCents?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type PlanSubscriptionResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['PlanSubscription'] = ResolversParentTypes['PlanSubscription']> = ResolversObject<{
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  plan?: Resolver<ResolversTypes['Plan'], ParentType, ContextType>;
  startedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  status?: Resolver<ResolversTypes['SubscriptionStatus'], ParentType, ContextType>;
}>;

export type QueryResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['Query'] = ResolversParentTypes['Query']> = ResolversObject<{
  plans?: Resolver<Array<ResolversTypes['Plan']>, ParentType, ContextType>;
}>;

export type SourceStorageResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['SourceStorage'] = ResolversParentTypes['SourceStorage']> = ResolversObject<{
  logicalBytes?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  sourceId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  storedBytes?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
}>;

export type StoragePointResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['StoragePoint'] = ResolversParentTypes['StoragePoint']> = ResolversObject<{
  at?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  logicalBytes?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  storedBytes?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
}>;

export type StorageUsageResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['StorageUsage'] = ResolversParentTypes['StorageUsage']> = ResolversObject<{
  dedupRatio?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  gbMonths?: Resolver<ResolversTypes['Float'], ParentType, ContextType, RequireFields<StorageUsageGbMonthsArgs, 'from' | 'to'>>;
  history?: Resolver<Array<ResolversTypes['StoragePoint']>, ParentType, ContextType, RequireFields<StorageUsageHistoryArgs, 'from' | 'to'>>;
  logicalBytes?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  reconciledAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  sources?: Resolver<Array<ResolversTypes['SourceStorage']>, ParentType, ContextType>;
  storedBytes?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
}>;

export type Resolvers<ContextType = BillingContext> = ResolversObject<{
  Account?: AccountResolvers<ContextType>;
  DateTime?: GraphQLScalarType;
  Plan?: PlanResolvers<ContextType>;
  PlanSubscription?: PlanSubscriptionResolvers<ContextType>;
  Query?: QueryResolvers<ContextType>;
  SourceStorage?: SourceStorageResolvers<ContextType>;
  StoragePoint?: StoragePointResolvers<ContextType>;
  StorageUsage?: StorageUsageResolvers<ContextType>;
}>;

