import type { GraphQLResolveInfo, GraphQLScalarType, GraphQLScalarTypeConfig } from 'graphql';
import type { Plan as PlanEntity } from '../entities/plan.ts';
import type { PlanSubscription as PlanSubscriptionEntity } from '../entities/plan-subscription.ts';
import type { PlanChange as PlanChangeEntity } from '../entities/plan-change.ts';
import type { PlanChangeResult as PlanChangeResultEntity } from '../services/plan-change-service.ts';
import type { StorageUsageView as StorageUsageViewEntity, SourceRef as SourceRefEntity, SourceStorageView as SourceStorageViewEntity } from '../services/storage-usage-service.ts';
import type { StorageQuotaView as StorageQuotaViewEntity } from '../services/storage-quota.ts';
import type { Invoice as InvoiceEntity } from '../entities/invoice.ts';
import type { InvoicePage as InvoicePageEntity, BillingProfileView as BillingProfileViewEntity } from '../services/invoice-service.ts';
import type { EntityRef as EntityRefEntity } from '@listbackup/lib/federation';
import type { BillingContext } from '../context.ts';
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
  /** The account as a paying customer: its currency and whether it can be charged (billing:read). */
  billingProfile: BillingProfile;
  id: Scalars['ID']['output'];
  /**
   * The account's finalized invoices, newest first (billing:read). An invoice is finalized once its
   * month is over and never changes afterwards, but for the record of its payment.
   */
  invoices: InvoiceConnection;
  /** Where the account stands against its plan's included storage, and whether backups run (billing:read). */
  storageQuota: StorageQuota;
  /** What the account stores, metered from its backups, retention and garbage collection. */
  storageUsage: StorageUsage;
  /** The account's current subscription; every account starts on the Free plan. */
  subscription?: Maybe<PlanSubscription>;
};


export type AccountInvoicesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};

export type BillingProfile = {
  __typename?: 'BillingProfile';
  /** The currency of the account's invoices (USD until changed). */
  currency: Currency;
  /** Whether a payment method was set up (through `setupPaymentMethod`). */
  hasPaymentMethod: Scalars['Boolean']['output'];
  /** Whether payments are on in this deployment (Stripe is configured). */
  paymentsEnabled: Scalars['Boolean']['output'];
};

export type ChangePlanPayload = {
  __typename?: 'ChangePlanPayload';
  change: PlanChange;
  subscription: PlanSubscription;
};

/** ISO 4217 codes of the currencies invoices can be in; each plan has its own prices in each (`Plan.prices`). */
export type Currency =
  | 'EUR'
  | 'GBP'
  | 'USD';

/** A monthly invoice. Amounts are in cents (the minor unit) of `currency`. */
export type Invoice = {
  __typename?: 'Invoice';
  currency: Currency;
  /** A link (valid 15 minutes) to the invoice as an HTML page; whoever follows it needs billing:read on the account. */
  htmlUrl: Scalars['String']['output'];
  id: Scalars['ID']['output'];
  /** When the invoice was finalized. */
  issuedAt: Scalars['DateTime']['output'];
  lines: Array<InvoiceLine>;
  /** Gapless per issuer and year, e.g. `LB-2026-000123`. */
  number: Scalars['String']['output'];
  paidAt?: Maybe<Scalars['DateTime']['output']>;
  /** The same as a PDF document. */
  pdfUrl: Scalars['String']['output'];
  /** The calendar month (UTC) it bills: [start, end). */
  period: InvoicePeriod;
  status: InvoiceStatus;
  /** The sum of the lines' amounts, in cents. */
  totalCents: Scalars['Int']['output'];
};

/** A page of invoices. */
export type InvoiceConnection = {
  __typename?: 'InvoiceConnection';
  edges: Array<InvoiceEdge>;
  pageInfo: PageInfo;
};

export type InvoiceEdge = {
  __typename?: 'InvoiceEdge';
  cursor: Scalars['String']['output'];
  node: Invoice;
};

export type InvoiceLine = {
  __typename?: 'InvoiceLine';
  amountCents: Scalars['Int']['output'];
  description: Scalars['String']['output'];
  /** STORAGE: the GB-months the plan includes over the period; null for BASE. */
  includedQuantity?: Maybe<Scalars['Float']['output']>;
  kind: InvoiceLineKind;
  periodEnd: Scalars['DateTime']['output'];
  periodStart: Scalars['DateTime']['output'];
  /** The code of the plan the line's period was on. */
  plan: Scalars['String']['output'];
  /** BASE: months billed (a share of the month); STORAGE: GB-months stored over the period, integrated exactly. */
  quantity: Scalars['Float']['output'];
  /** Per month (BASE) or per GB-month above the included ones (STORAGE), in cents. */
  unitPriceCents: Scalars['Int']['output'];
};

export type InvoiceLineKind =
  /** The plan's monthly price for the share of the month spent on it (trial days are free). */
  | 'BASE'
  /** Storage: GB-months stored over the period, those above the plan's included storage charged. */
  | 'STORAGE';

export type InvoicePeriod = {
  __typename?: 'InvoicePeriod';
  end: Scalars['DateTime']['output'];
  start: Scalars['DateTime']['output'];
};

export type InvoiceStatus =
  /** Finalized and waiting for its payment. */
  | 'OPEN'
  | 'PAID';

export type Mutation = {
  __typename?: 'Mutation';
  /**
   * Moves the account to another plan (`plan` is its code), now; owners only (billing:manage).
   * Errors: BAD_USER_INPUT with `extensions.reason` UNKNOWN_PLAN or SAME_PLAN; PLAN_LIMIT when the
   * account uses more than the plan allows, with `extensions.limit` naming the first limit it is over
   * (SOURCES, CONNECTIONS, MEMBERS, API_KEYS, BACKUP_INTERVAL_MINUTES, RETENTION_DAYS as in
   * `PlanLimits`, or STORAGE_BYTES: on a plan without overage, its included storage against the stored
   * bytes), `usage`, `allowed` and `plan`. Nothing changes on error.
   * Publishes `account.upgraded`, for a downgrade too.
   */
  changePlan: ChangePlanPayload;
  /**
   * Starts collecting a payment method (billing:manage, allowed while suspended): a Stripe SetupIntent
   * for the account's Stripe customer. Once the browser confirms it, Stripe's webhook makes the method
   * the one invoices are charged to, and unpaid invoices are tried again. Errors: PAYMENTS_DISABLED when
   * Stripe is not configured; PAYMENT_PROVIDER_ERROR when Stripe refuses or cannot be reached.
   */
  setupPaymentMethod: PaymentMethodSetup;
  /**
   * Sets the currency of the account's next invoices; owners only (billing:manage). Refused with
   * BAD_USER_INPUT (`reason` CURRENCY_LOCKED) while an invoice in another currency is unpaid.
   */
  updateBillingProfile: BillingProfile;
};


export type MutationChangePlanArgs = {
  accountId: Scalars['ID']['input'];
  plan: Scalars['String']['input'];
};


export type MutationSetupPaymentMethodArgs = {
  accountId: Scalars['ID']['input'];
};


export type MutationUpdateBillingProfileArgs = {
  accountId: Scalars['ID']['input'];
  currency: Currency;
};

/** Where a list goes on. */
export type PageInfo = {
  __typename?: 'PageInfo';
  endCursor?: Maybe<Scalars['String']['output']>;
  hasNextPage: Scalars['Boolean']['output'];
};

/** What the browser hands Stripe.js to collect a card (or other method) for later payments. */
export type PaymentMethodSetup = {
  __typename?: 'PaymentMethodSetup';
  /** The SetupIntent's client secret, for `stripe.confirmSetup`. */
  clientSecret: Scalars['String']['output'];
  setupIntentId: Scalars['String']['output'];
};

/** A price plan. Billing is by stored bytes. */
export type Plan = {
  __typename?: 'Plan';
  /** How long the account's audit log is kept on this plan, in days. */
  auditLogRetentionDays: Scalars['Int']['output'];
  /** A stable code, for example `free`. */
  code: Scalars['String']['output'];
  /**
   * Price in US cents of each GB-month stored above the included storage. On a plan with overage that is
   * its overage price; on one without, what the storage written during the grace costs.
   */
  extraGbMonthPriceCents: Scalars['Int']['output'];
  id: Scalars['ID']['output'];
  /**
   * Stored bytes the plan includes. Without overage they are a quota that backups stop at (after the
   * grace below); with overage, what is stored above them is billed by the GB-month.
   */
  includedStorageBytes: Scalars['Float']['output'];
  /** What the plan allows; going past a limit is refused with PLAN_LIMIT naming it. */
  limits: PlanLimits;
  /** Price per month in US cents, before usage above the included storage; a change of plan is prorated. `prices` has each currency's. */
  monthlyPriceCents: Scalars['Int']['output'];
  name: Scalars['String']['output'];
  /**
   * The plan's prices in each currency invoices can be in, set per currency (not converted): an
   * account's invoices use its currency's (`BillingProfile.currency`).
   */
  prices: Array<PlanPrice>;
  /** Plans without overage: how far above the included storage backups still run during the grace, in bytes; null with overage. */
  storageGraceBytes?: Maybe<Scalars['Float']['output']>;
  /** Plans without overage: the days backups still run once the account is over the included storage; null with overage. */
  storageGraceDays?: Maybe<Scalars['Int']['output']>;
  /**
   * Whether storage above the included bytes is billed by the GB-month (overage). With it, backups are
   * never refused for storage. Without it: moving to the plan is refused while the account stores more
   * than the included bytes (PLAN_LIMIT, limit STORAGE_BYTES); an account that goes over them is told
   * (`billing.quota_reached`) and backs up for `storageGraceDays` more, or until it stores more than
   * `storageGraceBytes` above them, whichever comes first; then each backup fails before it stores
   * anything (QUOTA_EXCEEDED) until data is deleted or the plan is upgraded (see `Account.storageQuota`).
   */
  storageOverage: Scalars['Boolean']['output'];
  /** Days free the first time an account moves to this plan (an account gets one trial); null: no trial. */
  trialDays?: Maybe<Scalars['Int']['output']>;
};

/** A change of an account's plan and its proration. */
export type PlanChange = {
  __typename?: 'PlanChange';
  changedAt: Scalars['DateTime']['output'];
  fromPlan: Plan;
  id: Scalars['ID']['output'];
  periodEnd: Scalars['DateTime']['output'];
  /**
   * The new plan's price for the rest of the month (UTC) less the old plan's, in cents of the account's currency, not counting
   * trial days; negative: a credit. It is due with the invoice of the month that ends at `periodEnd`.
   */
  prorationCents: Scalars['Int']['output'];
  toPlan: Plan;
};

/**
 * A plan's limits. Each is checked where the thing is made, and a refusal is a PLAN_LIMIT error whose
 * `extensions` give `limit` (the name in brackets below), `usage`, `allowed` and `plan` (its code).
 */
export type PlanLimits = {
  __typename?: 'PlanLimits';
  /** API keys of the account that are not revoked (API_KEYS). */
  apiKeys: Scalars['Int']['output'];
  /** Connections of the account that are not revoked, pending OAuth ones included (CONNECTIONS). */
  connections: Scalars['Int']['output'];
  /**
   * The longest a source's retention may keep a snapshot, in days (RETENTION_DAYS): the most of
   * keepDaily days, keepWeekly weeks and keepMonthly months of 365/12 days.
   */
  maxRetentionDays: Scalars['Int']['output'];
  /** Members of the account, pending invitations included (MEMBERS). */
  members: Scalars['Int']['output'];
  /** The shortest time between two scheduled backups of a source, in minutes (BACKUP_INTERVAL_MINUTES). */
  minBackupIntervalMinutes: Scalars['Int']['output'];
  /** Live sources of the account (SOURCES). */
  sources: Scalars['Int']['output'];
};

/** A plan's prices in one currency, in its cents (the minor unit). */
export type PlanPrice = {
  __typename?: 'PlanPrice';
  currency: Currency;
  /** Per GB-month stored above the included storage. */
  extraGbMonthPriceCents: Scalars['Int']['output'];
  /** Per month. */
  monthlyPriceCents: Scalars['Int']['output'];
};

/** The plan an account is on. */
export type PlanSubscription = {
  __typename?: 'PlanSubscription';
  id: Scalars['ID']['output'];
  plan: Plan;
  startedAt: Scalars['DateTime']['output'];
  status: SubscriptionStatus;
  /** When the plan's trial ends; null when the account is not on a trial. */
  trialEndsAt?: Maybe<Scalars['DateTime']['output']>;
};

export type Query = {
  __typename?: 'Query';
  /** The plans on offer. */
  plans: Array<Plan>;
};

/** A source, as billing meters it. */
export type Source = {
  __typename?: 'Source';
  /** The account that owns the source (the sources subgraph answers it). */
  account: Account;
  id: Scalars['ID']['output'];
  /**
   * What the source's retained snapshots store, metered from its backups and retention, now and over
   * time (billing:read on its account). The bytes of its deleted snapshots not yet freed by garbage
   * collection are the account's, not the source's (`StorageUsage`).
   */
  storageUsage: SourceStorageUsage;
};

/** One source's share of an account's storage. */
export type SourceStorage = {
  __typename?: 'SourceStorage';
  logicalBytes: Scalars['Float']['output'];
  sourceId: Scalars['ID']['output'];
  storedBytes: Scalars['Float']['output'];
};

/** One source's metered storage. */
export type SourceStorageUsage = {
  __typename?: 'SourceStorageUsage';
  /** Logical over stored bytes; null while it stores nothing. */
  dedupRatio?: Maybe<Scalars['Float']['output']>;
  /** The source's stored and logical bytes at the end of each UTC day of [from, to). At most 400 days. */
  history: Array<StoragePoint>;
  /** The logical size of its retained snapshots. */
  logicalBytes: Scalars['Float']['output'];
  /** The bytes its retained snapshots wrote (after deduplication and compression). */
  storedBytes: Scalars['Float']['output'];
};


/** One source's metered storage. */
export type SourceStorageUsageHistoryArgs = {
  from: Scalars['DateTime']['input'];
  to: Scalars['DateTime']['input'];
};

/** The storage of an account at one instant. */
export type StoragePoint = {
  __typename?: 'StoragePoint';
  at: Scalars['DateTime']['output'];
  logicalBytes: Scalars['Float']['output'];
  storedBytes: Scalars['Float']['output'];
};

/** An account's standing against its plan's included storage. */
export type StorageQuota = {
  __typename?: 'StorageQuota';
  /**
   * On a plan without overage, once over: when backups are refused, the end of the grace days or the
   * moment the stored bytes passed the grace bytes, whichever came first; null while within.
   */
  backupsBlockedFrom?: Maybe<Scalars['DateTime']['output']>;
  /** The plan's included storage, in bytes. */
  includedBytes: Scalars['Float']['output'];
  /** On a plan without overage: since when the account stores more than its plan includes; null while within. */
  overSince?: Maybe<Scalars['DateTime']['output']>;
  /** The code of the account's plan. */
  plan: Scalars['String']['output'];
  state: StorageQuotaState;
  /** Stored bytes now (as `StorageUsage.storedBytes`). */
  storedBytes: Scalars['Float']['output'];
};

export type StorageQuotaState =
  /** Past the grace: each backup fails before it stores anything (QUOTA_EXCEEDED) until data is deleted or the plan is upgraded. */
  | 'BLOCKED'
  /** Over the included storage on a plan without overage, within the grace: backups run until `backupsBlockedFrom`. */
  | 'GRACE'
  /** Over the included storage on a plan with overage: the extra is billed, backups run. */
  | 'OVERAGE'
  /** Stored bytes within the plan's included storage. */
  | 'WITHIN';

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
  Invoice: Invoice;
  Source: Source;
}>;

/** Mapping of federation reference types */
export type FederationReferenceTypes = ResolversObject<{
  Account:
    ( { __typename: 'Account' }
    & GraphQLRecursivePick<FederationTypes['Account'], {"id":true}> );
  Invoice:
    ( { __typename: 'Invoice' }
    & GraphQLRecursivePick<FederationTypes['Invoice'], {"id":true}> );
  Source:
    ( { __typename: 'Source' }
    & GraphQLRecursivePick<FederationTypes['Source'], {"id":true}>
    & ( Record<PropertyKey, never>
        | GraphQLRecursivePick<FederationTypes['Source'], {"account":{"id":true}}> ) );
}>;



/** Mapping between all available schema types and the resolvers types */
export type ResolversTypes = ResolversObject<{
  Account: ResolverTypeWrapper<EntityRefEntity>;
  ID: ResolverTypeWrapper<Scalars['ID']['output']>;
  String: ResolverTypeWrapper<Scalars['String']['output']>;
  Int: ResolverTypeWrapper<Scalars['Int']['output']>;
  BillingProfile: ResolverTypeWrapper<BillingProfileViewEntity>;
  Boolean: ResolverTypeWrapper<Scalars['Boolean']['output']>;
  ChangePlanPayload: ResolverTypeWrapper<PlanChangeResultEntity>;
  Currency: Currency;
  DateTime: ResolverTypeWrapper<Scalars['DateTime']['output']>;
  Invoice: ResolverTypeWrapper<InvoiceEntity>;
  InvoiceConnection: ResolverTypeWrapper<InvoicePageEntity>;
  InvoiceEdge: ResolverTypeWrapper<Omit<InvoiceEdge, 'node'> & { node: ResolversTypes['Invoice'] }>;
  InvoiceLine: ResolverTypeWrapper<InvoiceLine>;
  Float: ResolverTypeWrapper<Scalars['Float']['output']>;
  InvoiceLineKind: InvoiceLineKind;
  InvoicePeriod: ResolverTypeWrapper<InvoicePeriod>;
  InvoiceStatus: InvoiceStatus;
  Mutation: ResolverTypeWrapper<Record<PropertyKey, never>>;
  PageInfo: ResolverTypeWrapper<PageInfo>;
  PaymentMethodSetup: ResolverTypeWrapper<PaymentMethodSetup>;
  Plan: ResolverTypeWrapper<PlanEntity>;
  PlanChange: ResolverTypeWrapper<PlanChangeEntity>;
  PlanLimits: ResolverTypeWrapper<PlanLimits>;
  PlanPrice: ResolverTypeWrapper<PlanPrice>;
  PlanSubscription: ResolverTypeWrapper<PlanSubscriptionEntity>;
  Query: ResolverTypeWrapper<Record<PropertyKey, never>>;
  Source: ResolverTypeWrapper<SourceRefEntity>;
  SourceStorage: ResolverTypeWrapper<SourceStorage>;
  SourceStorageUsage: ResolverTypeWrapper<SourceStorageViewEntity>;
  StoragePoint: ResolverTypeWrapper<StoragePoint>;
  StorageQuota: ResolverTypeWrapper<StorageQuotaViewEntity>;
  StorageQuotaState: StorageQuotaState;
  StorageUsage: ResolverTypeWrapper<StorageUsageViewEntity>;
  SubscriptionStatus: SubscriptionStatus;
}>;

/** Mapping between all available schema types and the resolvers parents */
export type ResolversParentTypes = ResolversObject<{
  Account: EntityRefEntity;
  ID: Scalars['ID']['output'];
  String: Scalars['String']['output'];
  Int: Scalars['Int']['output'];
  BillingProfile: BillingProfileViewEntity;
  Boolean: Scalars['Boolean']['output'];
  ChangePlanPayload: PlanChangeResultEntity;
  DateTime: Scalars['DateTime']['output'];
  Invoice: InvoiceEntity;
  InvoiceConnection: InvoicePageEntity;
  InvoiceEdge: Omit<InvoiceEdge, 'node'> & { node: ResolversParentTypes['Invoice'] };
  InvoiceLine: InvoiceLine;
  Float: Scalars['Float']['output'];
  InvoicePeriod: InvoicePeriod;
  Mutation: Record<PropertyKey, never>;
  PageInfo: PageInfo;
  PaymentMethodSetup: PaymentMethodSetup;
  Plan: PlanEntity;
  PlanChange: PlanChangeEntity;
  PlanLimits: PlanLimits;
  PlanPrice: PlanPrice;
  PlanSubscription: PlanSubscriptionEntity;
  Query: Record<PropertyKey, never>;
  Source: SourceRefEntity;
  SourceStorage: SourceStorage;
  SourceStorageUsage: SourceStorageViewEntity;
  StoragePoint: StoragePoint;
  StorageQuota: StorageQuotaViewEntity;
  StorageUsage: StorageUsageViewEntity;
}>;

export type AccountResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['Account'] = ResolversParentTypes['Account'], FederationReferenceType extends FederationReferenceTypes['Account'] = FederationReferenceTypes['Account']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Account']> | FederationReferenceType, FederationReferenceType, ContextType>;
  billingProfile?: Resolver<ResolversTypes['BillingProfile'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  invoices?: Resolver<ResolversTypes['InvoiceConnection'], ParentType, ContextType, Partial<AccountInvoicesArgs>>;
  storageQuota?: Resolver<ResolversTypes['StorageQuota'], ParentType, ContextType>;
  storageUsage?: Resolver<ResolversTypes['StorageUsage'], ParentType, ContextType>;
  subscription?: Resolver<Maybe<ResolversTypes['PlanSubscription']>, ParentType, ContextType>;
}>;

export type BillingProfileResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['BillingProfile'] = ResolversParentTypes['BillingProfile']> = ResolversObject<{
  currency?: Resolver<ResolversTypes['Currency'], ParentType, ContextType>;
  hasPaymentMethod?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  paymentsEnabled?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
}>;

export type ChangePlanPayloadResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['ChangePlanPayload'] = ResolversParentTypes['ChangePlanPayload']> = ResolversObject<{
  change?: Resolver<ResolversTypes['PlanChange'], ParentType, ContextType>;
  subscription?: Resolver<ResolversTypes['PlanSubscription'], ParentType, ContextType>;
}>;

export interface DateTimeScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['DateTime'], any> {
  name: 'DateTime';
}

export type InvoiceResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['Invoice'] = ResolversParentTypes['Invoice'], FederationReferenceType extends FederationReferenceTypes['Invoice'] = FederationReferenceTypes['Invoice']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Invoice']> | FederationReferenceType, FederationReferenceType, ContextType>;
  currency?: Resolver<ResolversTypes['Currency'], ParentType, ContextType>;
  htmlUrl?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  issuedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  lines?: Resolver<Array<ResolversTypes['InvoiceLine']>, ParentType, ContextType>;
  number?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  paidAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  pdfUrl?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  period?: Resolver<ResolversTypes['InvoicePeriod'], ParentType, ContextType>;
  status?: Resolver<ResolversTypes['InvoiceStatus'], ParentType, ContextType>;
  totalCents?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type InvoiceConnectionResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['InvoiceConnection'] = ResolversParentTypes['InvoiceConnection']> = ResolversObject<{
  edges?: Resolver<Array<ResolversTypes['InvoiceEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
}>;

export type InvoiceEdgeResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['InvoiceEdge'] = ResolversParentTypes['InvoiceEdge']> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Invoice'], ParentType, ContextType>;
}>;

export type InvoiceLineResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['InvoiceLine'] = ResolversParentTypes['InvoiceLine']> = ResolversObject<{
  amountCents?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  description?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  includedQuantity?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  kind?: Resolver<ResolversTypes['InvoiceLineKind'], ParentType, ContextType>;
  periodEnd?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  periodStart?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  plan?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  quantity?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  unitPriceCents?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type InvoicePeriodResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['InvoicePeriod'] = ResolversParentTypes['InvoicePeriod']> = ResolversObject<{
  end?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  start?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
}>;

export type MutationResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['Mutation'] = ResolversParentTypes['Mutation']> = ResolversObject<{
  changePlan?: Resolver<ResolversTypes['ChangePlanPayload'], ParentType, ContextType, RequireFields<MutationChangePlanArgs, 'accountId' | 'plan'>>;
  setupPaymentMethod?: Resolver<ResolversTypes['PaymentMethodSetup'], ParentType, ContextType, RequireFields<MutationSetupPaymentMethodArgs, 'accountId'>>;
  updateBillingProfile?: Resolver<ResolversTypes['BillingProfile'], ParentType, ContextType, RequireFields<MutationUpdateBillingProfileArgs, 'accountId' | 'currency'>>;
}>;

export type PageInfoResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['PageInfo'] = ResolversParentTypes['PageInfo']> = ResolversObject<{
  endCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  hasNextPage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
}>;

export type PaymentMethodSetupResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['PaymentMethodSetup'] = ResolversParentTypes['PaymentMethodSetup']> = ResolversObject<{
  clientSecret?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  setupIntentId?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type PlanResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['Plan'] = ResolversParentTypes['Plan']> = ResolversObject<{
  auditLogRetentionDays?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  code?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  extraGbMonthPriceCents?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  includedStorageBytes?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  limits?: Resolver<ResolversTypes['PlanLimits'], ParentType, ContextType>;
  monthlyPriceCents?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  prices?: Resolver<Array<ResolversTypes['PlanPrice']>, ParentType, ContextType>;
  storageGraceBytes?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  storageGraceDays?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  storageOverage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  trialDays?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
}>;

export type PlanChangeResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['PlanChange'] = ResolversParentTypes['PlanChange']> = ResolversObject<{
  changedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  fromPlan?: Resolver<ResolversTypes['Plan'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  periodEnd?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  prorationCents?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  toPlan?: Resolver<ResolversTypes['Plan'], ParentType, ContextType>;
}>;

export type PlanLimitsResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['PlanLimits'] = ResolversParentTypes['PlanLimits']> = ResolversObject<{
  apiKeys?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  connections?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  maxRetentionDays?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  members?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  minBackupIntervalMinutes?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  sources?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type PlanPriceResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['PlanPrice'] = ResolversParentTypes['PlanPrice']> = ResolversObject<{
  currency?: Resolver<ResolversTypes['Currency'], ParentType, ContextType>;
  extraGbMonthPriceCents?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  monthlyPriceCents?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type PlanSubscriptionResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['PlanSubscription'] = ResolversParentTypes['PlanSubscription']> = ResolversObject<{
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  plan?: Resolver<ResolversTypes['Plan'], ParentType, ContextType>;
  startedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  status?: Resolver<ResolversTypes['SubscriptionStatus'], ParentType, ContextType>;
  trialEndsAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
}>;

export type QueryResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['Query'] = ResolversParentTypes['Query']> = ResolversObject<{
  plans?: Resolver<Array<ResolversTypes['Plan']>, ParentType, ContextType>;
}>;

export type SourceResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['Source'] = ResolversParentTypes['Source'], FederationReferenceType extends FederationReferenceTypes['Source'] = FederationReferenceTypes['Source']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Source']> | FederationReferenceType, FederationReferenceType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  storageUsage?: Resolver<ResolversTypes['SourceStorageUsage'], ParentType, ContextType>;
}>;

export type SourceStorageResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['SourceStorage'] = ResolversParentTypes['SourceStorage']> = ResolversObject<{
  logicalBytes?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  sourceId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  storedBytes?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
}>;

export type SourceStorageUsageResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['SourceStorageUsage'] = ResolversParentTypes['SourceStorageUsage']> = ResolversObject<{
  dedupRatio?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  history?: Resolver<Array<ResolversTypes['StoragePoint']>, ParentType, ContextType, RequireFields<SourceStorageUsageHistoryArgs, 'from' | 'to'>>;
  logicalBytes?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  storedBytes?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
}>;

export type StoragePointResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['StoragePoint'] = ResolversParentTypes['StoragePoint']> = ResolversObject<{
  at?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  logicalBytes?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  storedBytes?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
}>;

export type StorageQuotaResolvers<ContextType = BillingContext, ParentType extends ResolversParentTypes['StorageQuota'] = ResolversParentTypes['StorageQuota']> = ResolversObject<{
  backupsBlockedFrom?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  includedBytes?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  overSince?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  plan?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  state?: Resolver<ResolversTypes['StorageQuotaState'], ParentType, ContextType>;
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
  BillingProfile?: BillingProfileResolvers<ContextType>;
  ChangePlanPayload?: ChangePlanPayloadResolvers<ContextType>;
  DateTime?: GraphQLScalarType;
  Invoice?: InvoiceResolvers<ContextType>;
  InvoiceConnection?: InvoiceConnectionResolvers<ContextType>;
  InvoiceEdge?: InvoiceEdgeResolvers<ContextType>;
  InvoiceLine?: InvoiceLineResolvers<ContextType>;
  InvoicePeriod?: InvoicePeriodResolvers<ContextType>;
  Mutation?: MutationResolvers<ContextType>;
  PageInfo?: PageInfoResolvers<ContextType>;
  PaymentMethodSetup?: PaymentMethodSetupResolvers<ContextType>;
  Plan?: PlanResolvers<ContextType>;
  PlanChange?: PlanChangeResolvers<ContextType>;
  PlanLimits?: PlanLimitsResolvers<ContextType>;
  PlanPrice?: PlanPriceResolvers<ContextType>;
  PlanSubscription?: PlanSubscriptionResolvers<ContextType>;
  Query?: QueryResolvers<ContextType>;
  Source?: SourceResolvers<ContextType>;
  SourceStorage?: SourceStorageResolvers<ContextType>;
  SourceStorageUsage?: SourceStorageUsageResolvers<ContextType>;
  StoragePoint?: StoragePointResolvers<ContextType>;
  StorageQuota?: StorageQuotaResolvers<ContextType>;
  StorageUsage?: StorageUsageResolvers<ContextType>;
}>;

