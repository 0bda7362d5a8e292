import type { GraphQLResolveInfo, GraphQLScalarType, GraphQLScalarTypeConfig } from 'graphql';
import type { Platform as PlatformEntity } from '../entities/platform.ts';
import type { Connection as ConnectionEntity } from '../entities/connection.ts';
import type { EntityRef as EntityRefEntity } from '@listbackup/lib/federation';
import type { PlatformsContext } from '../context.ts';
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
  /**
   * The platforms this account has connected, oldest first. `first` is 1 to 100 (default 20); `after`
   * is a page's `endCursor`. Errors (BAD_USER_INPUT, with `extensions.reason`): BAD_PAGE_SIZE,
   * BAD_CURSOR.
   */
  connections: ConnectionConnection;
  id: Scalars['ID']['output'];
};


export type AccountConnectionsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** The API key a platform takes. */
export type ApiKeySpec = {
  __typename?: 'ApiKeySpec';
  docsUrl: Scalars['String']['output'];
  /** The header the key is sent in. */
  header: Scalars['String']['output'];
  /** Where to find a key and what it looks like. */
  hint: Scalars['String']['output'];
  /** What the platform calls it, for example "Personal access token". */
  label: Scalars['String']['output'];
  /** A regular expression a well-formed key matches. */
  pattern: Scalars['String']['output'];
};

/** How a connection authenticates to its platform. */
export type AuthType =
  /** A key or token the user creates in the platform and pastes. */
  | 'API_KEY'
  /** OAuth 2 authorization code flow: the user approves access in the platform's own page. */
  | 'OAUTH2';

export type CompleteOAuthConnectionInput = {
  /** The query parameters of the redirect back from the platform (`code`, `state`, `error`, `realmId`, ...). */
  params: Array<ConnectionParamInput>;
};

/** The link between one account and one platform. Its credentials are never returned. */
export type Connection = {
  __typename?: 'Connection';
  account: Account;
  /** Null for connections created before auth types were recorded. */
  authType?: Maybe<AuthType>;
  authorizedAt?: Maybe<Scalars['DateTime']['output']>;
  createdAt: Scalars['DateTime']['output'];
  /** The account on the platform the credentials belong to, once known. */
  externalAccountId?: Maybe<Scalars['String']['output']>;
  externalAccountName?: Maybe<Scalars['String']['output']>;
  id: Scalars['ID']['output'];
  /** Why the last attempt (authorization, test, refresh) failed. */
  lastError?: Maybe<Scalars['String']['output']>;
  lastErrorAt?: Maybe<Scalars['DateTime']['output']>;
  /** A stable code for `lastError`, for example `OAUTH_ACCESS_DENIED` or `TOKEN_REFRESH_REFUSED`. */
  lastErrorCode?: Maybe<Scalars['String']['output']>;
  lastTestedAt?: Maybe<Scalars['DateTime']['output']>;
  name: Scalars['String']['output'];
  /** Non-secret values the platform needs: shop domain, company id, instance URL, data center. */
  params: Array<ConnectionParam>;
  platform: Platform;
  /**
   * What a source on this connection can back up: the platform's resources, or for a REST API the
   * resources its definition names.
   */
  resources: Array<PlatformResource>;
  revokedAt?: Maybe<Scalars['DateTime']['output']>;
  /** The scopes the platform granted. */
  scopes: Array<Scalars['String']['output']>;
  status: ConnectionStatus;
  updatedAt?: Maybe<Scalars['DateTime']['output']>;
};

/** A page of connections, oldest first. */
export type ConnectionConnection = {
  __typename?: 'ConnectionConnection';
  edges: Array<ConnectionEdge>;
  pageInfo: PageInfo;
};

export type ConnectionEdge = {
  __typename?: 'ConnectionEdge';
  cursor: Scalars['String']['output'];
  node: Connection;
};

export type ConnectionParam = {
  __typename?: 'ConnectionParam';
  name: Scalars['String']['output'];
  value: Scalars['String']['output'];
};

export type ConnectionParamInput = {
  name: Scalars['String']['input'];
  value: Scalars['String']['input'];
};

export type ConnectionStatus =
  /** Credentials stored and working. */
  | 'AUTHORIZED'
  /** The platform refused to refresh the access: authorize again. */
  | 'EXPIRED'
  /** The authorization or the last test failed; see `lastError`. */
  | 'FAILED'
  /** Waiting for the user to approve access at the platform. */
  | 'PENDING'
  /** Revoked by a user; the credentials are erased. */
  | 'REVOKED';

/** The outcome of `testConnection`: the platform's identity endpoint answered, or why not. */
export type ConnectionTestResult = {
  __typename?: 'ConnectionTestResult';
  connection: Connection;
  /** A stable code when not ok, for example `CREDENTIALS_REFUSED` or `PLATFORM_UNAVAILABLE`. */
  errorCode?: Maybe<Scalars['String']['output']>;
  message: Scalars['String']['output'];
  ok: Scalars['Boolean']['output'];
};

export type CreateApiKeyConnectionInput = {
  accountId: Scalars['ID']['input'];
  /** Stored encrypted; never returned. */
  apiKey: Scalars['String']['input'];
  name?: InputMaybe<Scalars['String']['input']>;
  params?: InputMaybe<Array<ConnectionParamInput>>;
  platformId?: InputMaybe<Scalars['ID']['input']>;
  platformSlug?: InputMaybe<Scalars['String']['input']>;
};

export type Mutation = {
  __typename?: 'Mutation';
  /**
   * Completes an OAuth connection from a web app that received the platform's redirect itself. The
   * caller must be allowed to manage connections of the account the flow was started for.
   */
  completeOAuthConnection: Connection;
  /** Connects a platform with an API key, after checking it with the platform. */
  createApiKeyConnection: Connection;
  renameConnection: Connection;
  /**
   * Replaces the API key of an API-key connection, as when a platform rolls a key (Stripe's "Roll
   * key"): the new key is checked with the platform and must belong to the same account there. The
   * connection keeps its id, its sources and their snapshots; backups that start afterwards use the new
   * key. Errors (`extensions.code`): WRONG_AUTH_TYPE (an OAuth connection), INVALID_API_KEY_FORMAT,
   * API_KEY_REJECTED, API_KEY_OTHER_ACCOUNT, PLATFORM_UNAVAILABLE, CONNECTION_REVOKED. Nothing is
   * stored on error.
   */
  replaceConnectionApiKey: Connection;
  /** Revokes the credentials at the platform where it allows, then erases them. */
  revokeConnection: RevokeConnectionResult;
  /** Starts an OAuth connection: returns the URL to send the user to. The connection is PENDING until the callback. */
  startOAuthConnection: OAuthStart;
  /** Calls the platform's identity endpoint with the stored credentials and records the result. */
  testConnection: ConnectionTestResult;
};


export type MutationCompleteOAuthConnectionArgs = {
  input: CompleteOAuthConnectionInput;
};


export type MutationCreateApiKeyConnectionArgs = {
  input: CreateApiKeyConnectionInput;
};


export type MutationRenameConnectionArgs = {
  id: Scalars['ID']['input'];
  name: Scalars['String']['input'];
};


export type MutationReplaceConnectionApiKeyArgs = {
  apiKey: Scalars['String']['input'];
  id: Scalars['ID']['input'];
};


export type MutationRevokeConnectionArgs = {
  id: Scalars['ID']['input'];
};


export type MutationStartOAuthConnectionArgs = {
  input: StartOAuthConnectionInput;
};


export type MutationTestConnectionArgs = {
  id: Scalars['ID']['input'];
};

/** The OAuth 2 facts of a platform. */
export type OAuthSpec = {
  __typename?: 'OAuthSpec';
  /** May contain `{placeholders}` filled from connect parameters (for example `{shop}`). */
  authorizeUrl: Scalars['String']['output'];
  /** Parameters the platform adds to the redirect back (for example QuickBooks `realmId`). */
  callbackParams: Array<Scalars['String']['output']>;
  /** Whether this ListBackup deployment has OAuth client credentials for the platform. */
  configured: Scalars['Boolean']['output'];
  docsUrl: Scalars['String']['output'];
  /** Whether a PKCE (S256) challenge is sent. */
  pkce: Scalars['Boolean']['output'];
  /** Whether access tokens expire and are refreshed. */
  refreshTokens: Scalars['Boolean']['output'];
  /** Null when the platform offers no way to revoke a token through its API. */
  revokeUrl?: Maybe<Scalars['String']['output']>;
  /** Whether each refresh returns a new refresh token. */
  rotatesRefreshTokens: Scalars['Boolean']['output'];
  /** The scopes ListBackup asks for. */
  scopes: Array<Scalars['String']['output']>;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  /** Token response fields kept with the connection (for example Salesforce `instance_url`). */
  tokenResponseParams: Array<Scalars['String']['output']>;
  tokenUrl: Scalars['String']['output'];
};

/** Send the user's browser to `authorizationUrl`; the platform sends it back to ListBackup's callback. */
export type OAuthStart = {
  __typename?: 'OAuthStart';
  authorizationUrl: Scalars['String']['output'];
  connection: Connection;
  /** The authorization link works once, until then. */
  expiresAt: Scalars['DateTime']['output'];
};

/** Relay-style page information: pass `endCursor` as `after` for the next page. */
export type PageInfo = {
  __typename?: 'PageInfo';
  endCursor?: Maybe<Scalars['String']['output']>;
  hasNextPage: Scalars['Boolean']['output'];
};

/** A value the user gives, or the platform sends, when connecting. */
export type ParameterSpec = {
  __typename?: 'ParameterSpec';
  description: Scalars['String']['output'];
  label: Scalars['String']['output'];
  name: Scalars['String']['output'];
  /** A regular expression the value must match. */
  pattern: Scalars['String']['output'];
};

/** A SaaS platform ListBackup can back up, with the authentication facts it documents. */
export type Platform = {
  __typename?: 'Platform';
  /** The API key this platform takes; null when it does not take one. */
  apiKey?: Maybe<ApiKeySpec>;
  /** The ways to connect it. */
  authTypes: Array<AuthType>;
  category: PlatformCategory;
  /** What the user must give before connecting (for example the Shopify shop domain). */
  connectParams: Array<ParameterSpec>;
  description: Scalars['String']['output'];
  id: Scalars['ID']['output'];
  name: Scalars['String']['output'];
  /** How OAuth 2 works with this platform; null when it does not offer OAuth. */
  oauth?: Maybe<OAuthSpec>;
  /** The platform's documented rate limits, which backups respect. */
  rateLimits: Array<RateLimit>;
  /** What can be backed up: the resources its connector implements (none until it has one). */
  resources: Array<PlatformResource>;
  /** A stable short name, for example `stripe`. */
  slug: Scalars['String']['output'];
  websiteUrl?: Maybe<Scalars['String']['output']>;
};

export type PlatformCategory =
  | 'ACCOUNTING'
  | 'COMMERCE'
  | 'COMMUNICATION'
  | 'CRM'
  | 'DATABASE'
  | 'DEVELOPER'
  | 'FILES'
  | 'MARKETING'
  | 'OTHER'
  | 'PAYMENTS'
  | 'PRODUCTIVITY'
  | 'SUPPORT';

/**
 * Something that can be backed up from a platform: what its connector implements. A source names
 * resources by `name`; `createSource` refuses any other.
 */
export type PlatformResource = {
  __typename?: 'PlatformResource';
  /** Whether its items are files whose bytes are backed up (rather than JSON records). */
  binaryContent: Scalars['Boolean']['output'];
  /** How changes are found, when incremental. */
  cursor?: Maybe<Scalars['String']['output']>;
  /** What a backup of it holds. */
  description: Scalars['String']['output'];
  /** Whether a backup fetches only what changed since the previous one (and carries the rest over). */
  incremental: Scalars['Boolean']['output'];
  /** The stable name a source uses, for example `customers`. */
  name: Scalars['String']['output'];
  /** Whether a snapshot of it can be restored to the platform (`restoreSnapshot(target: PLATFORM)`); any snapshot can be downloaded. */
  restorable: Scalars['Boolean']['output'];
  /** Whether the platform's webhooks start an incremental backup of it when its data changes. */
  webhookTriggered: Scalars['Boolean']['output'];
};

export type Query = {
  __typename?: 'Query';
  /** A connection of an account the caller can see. */
  connection: Connection;
  /** One platform, by id or by slug. */
  platform: Platform;
  /** The catalogue of platforms, optionally of one category or matching a search (name, slug, description). */
  platforms: Array<Platform>;
};


export type QueryConnectionArgs = {
  id: Scalars['ID']['input'];
};


export type QueryPlatformArgs = {
  id?: InputMaybe<Scalars['ID']['input']>;
  slug?: InputMaybe<Scalars['String']['input']>;
};


export type QueryPlatformsArgs = {
  category?: InputMaybe<PlatformCategory>;
  search?: InputMaybe<Scalars['String']['input']>;
};

/** A documented rate limit. */
export type RateLimit = {
  __typename?: 'RateLimit';
  description: Scalars['String']['output'];
  /** Requests (or points) allowed, when the platform publishes a number. */
  limit?: Maybe<Scalars['Int']['output']>;
  /** What the limit applies to, for example "per account". */
  scope: Scalars['String']['output'];
  windowSeconds?: Maybe<Scalars['Int']['output']>;
};

export type RevokeConnectionResult = {
  __typename?: 'RevokeConnectionResult';
  connection: Connection;
  message: Scalars['String']['output'];
  /** Whether the platform confirmed the revocation. When false, remove the app or key in the platform too. */
  revokedAtPlatform: Scalars['Boolean']['output'];
};

export type StartOAuthConnectionInput = {
  accountId: Scalars['ID']['input'];
  /** Authorize an existing connection again (after EXPIRED or FAILED) instead of creating one. */
  connectionId?: InputMaybe<Scalars['ID']['input']>;
  /** Defaults to the platform's name. */
  name?: InputMaybe<Scalars['String']['input']>;
  /** The platform's connect parameters, for example `shop` for Shopify. */
  params?: InputMaybe<Array<ConnectionParamInput>>;
  /** The platform, by id or by `platformSlug`. */
  platformId?: InputMaybe<Scalars['ID']['input']>;
  platformSlug?: InputMaybe<Scalars['String']['input']>;
};

/** How the client authenticates at the platform's token endpoint (RFC 7591 names). */
export type TokenEndpointAuthMethod =
  | 'CLIENT_SECRET_BASIC'
  | 'CLIENT_SECRET_POST';

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
  Connection: Connection;
  Platform: Platform;
}>;

/** Mapping of federation reference types */
export type FederationReferenceTypes = ResolversObject<{
  Account:
    ( { __typename: 'Account' }
    & GraphQLRecursivePick<FederationTypes['Account'], {"id":true}> );
  Connection:
    ( { __typename: 'Connection' }
    & GraphQLRecursivePick<FederationTypes['Connection'], {"id":true}> );
  Platform:
    ( { __typename: 'Platform' }
    & GraphQLRecursivePick<FederationTypes['Platform'], {"id":true}> );
}>;



/** Mapping between all available schema types and the resolvers types */
export type ResolversTypes = ResolversObject<{
  Account: ResolverTypeWrapper<EntityRefEntity>;
  String: ResolverTypeWrapper<Scalars['String']['output']>;
  Int: ResolverTypeWrapper<Scalars['Int']['output']>;
  ID: ResolverTypeWrapper<Scalars['ID']['output']>;
  ApiKeySpec: ResolverTypeWrapper<ApiKeySpec>;
  AuthType: AuthType;
  CompleteOAuthConnectionInput: CompleteOAuthConnectionInput;
  Connection: ResolverTypeWrapper<ConnectionEntity>;
  ConnectionConnection: ResolverTypeWrapper<Omit<ConnectionConnection, 'edges'> & { edges: Array<ResolversTypes['ConnectionEdge']> }>;
  ConnectionEdge: ResolverTypeWrapper<Omit<ConnectionEdge, 'node'> & { node: ResolversTypes['Connection'] }>;
  ConnectionParam: ResolverTypeWrapper<ConnectionParam>;
  ConnectionParamInput: ConnectionParamInput;
  ConnectionStatus: ConnectionStatus;
  ConnectionTestResult: ResolverTypeWrapper<Omit<ConnectionTestResult, 'connection'> & { connection: ResolversTypes['Connection'] }>;
  Boolean: ResolverTypeWrapper<Scalars['Boolean']['output']>;
  CreateApiKeyConnectionInput: CreateApiKeyConnectionInput;
  DateTime: ResolverTypeWrapper<Scalars['DateTime']['output']>;
  Mutation: ResolverTypeWrapper<Record<PropertyKey, never>>;
  OAuthSpec: ResolverTypeWrapper<OAuthSpec>;
  OAuthStart: ResolverTypeWrapper<Omit<OAuthStart, 'connection'> & { connection: ResolversTypes['Connection'] }>;
  PageInfo: ResolverTypeWrapper<PageInfo>;
  ParameterSpec: ResolverTypeWrapper<ParameterSpec>;
  Platform: ResolverTypeWrapper<PlatformEntity>;
  PlatformCategory: PlatformCategory;
  PlatformResource: ResolverTypeWrapper<PlatformResource>;
  Query: ResolverTypeWrapper<Record<PropertyKey, never>>;
  RateLimit: ResolverTypeWrapper<RateLimit>;
  RevokeConnectionResult: ResolverTypeWrapper<Omit<RevokeConnectionResult, 'connection'> & { connection: ResolversTypes['Connection'] }>;
  StartOAuthConnectionInput: StartOAuthConnectionInput;
  TokenEndpointAuthMethod: TokenEndpointAuthMethod;
}>;

/** Mapping between all available schema types and the resolvers parents */
export type ResolversParentTypes = ResolversObject<{
  Account: EntityRefEntity;
  String: Scalars['String']['output'];
  Int: Scalars['Int']['output'];
  ID: Scalars['ID']['output'];
  ApiKeySpec: ApiKeySpec;
  CompleteOAuthConnectionInput: CompleteOAuthConnectionInput;
  Connection: ConnectionEntity;
  ConnectionConnection: Omit<ConnectionConnection, 'edges'> & { edges: Array<ResolversParentTypes['ConnectionEdge']> };
  ConnectionEdge: Omit<ConnectionEdge, 'node'> & { node: ResolversParentTypes['Connection'] };
  ConnectionParam: ConnectionParam;
  ConnectionParamInput: ConnectionParamInput;
  ConnectionTestResult: Omit<ConnectionTestResult, 'connection'> & { connection: ResolversParentTypes['Connection'] };
  Boolean: Scalars['Boolean']['output'];
  CreateApiKeyConnectionInput: CreateApiKeyConnectionInput;
  DateTime: Scalars['DateTime']['output'];
  Mutation: Record<PropertyKey, never>;
  OAuthSpec: OAuthSpec;
  OAuthStart: Omit<OAuthStart, 'connection'> & { connection: ResolversParentTypes['Connection'] };
  PageInfo: PageInfo;
  ParameterSpec: ParameterSpec;
  Platform: PlatformEntity;
  PlatformResource: PlatformResource;
  Query: Record<PropertyKey, never>;
  RateLimit: RateLimit;
  RevokeConnectionResult: Omit<RevokeConnectionResult, 'connection'> & { connection: ResolversParentTypes['Connection'] };
  StartOAuthConnectionInput: StartOAuthConnectionInput;
}>;

export type AccountResolvers<ContextType = PlatformsContext, ParentType extends ResolversParentTypes['Account'] = ResolversParentTypes['Account'], FederationReferenceType extends FederationReferenceTypes['Account'] = FederationReferenceTypes['Account']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Account']> | FederationReferenceType, FederationReferenceType, ContextType>;
  connections?: Resolver<ResolversTypes['ConnectionConnection'], ParentType, ContextType, RequireFields<AccountConnectionsArgs, 'first'>>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
}>;

export type ApiKeySpecResolvers<ContextType = PlatformsContext, ParentType extends ResolversParentTypes['ApiKeySpec'] = ResolversParentTypes['ApiKeySpec']> = ResolversObject<{
  docsUrl?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  header?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  hint?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  label?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  pattern?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type ConnectionResolvers<ContextType = PlatformsContext, ParentType extends ResolversParentTypes['Connection'] = ResolversParentTypes['Connection'], FederationReferenceType extends FederationReferenceTypes['Connection'] = FederationReferenceTypes['Connection']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Connection']> | FederationReferenceType, FederationReferenceType, ContextType>;
  account?: Resolver<ResolversTypes['Account'], ParentType, ContextType>;
  authType?: Resolver<Maybe<ResolversTypes['AuthType']>, ParentType, ContextType>;
  authorizedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  externalAccountId?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  externalAccountName?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  lastError?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  lastErrorAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  lastErrorCode?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  lastTestedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  params?: Resolver<Array<ResolversTypes['ConnectionParam']>, ParentType, ContextType>;
  platform?: Resolver<ResolversTypes['Platform'], ParentType, ContextType>;
  resources?: Resolver<Array<ResolversTypes['PlatformResource']>, ParentType, ContextType>;
  revokedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  scopes?: Resolver<Array<ResolversTypes['String']>, ParentType, ContextType>;
  status?: Resolver<ResolversTypes['ConnectionStatus'], ParentType, ContextType>;
  updatedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
}>;

export type ConnectionConnectionResolvers<ContextType = PlatformsContext, ParentType extends ResolversParentTypes['ConnectionConnection'] = ResolversParentTypes['ConnectionConnection']> = ResolversObject<{
  edges?: Resolver<Array<ResolversTypes['ConnectionEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
}>;

export type ConnectionEdgeResolvers<ContextType = PlatformsContext, ParentType extends ResolversParentTypes['ConnectionEdge'] = ResolversParentTypes['ConnectionEdge']> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Connection'], ParentType, ContextType>;
}>;

export type ConnectionParamResolvers<ContextType = PlatformsContext, ParentType extends ResolversParentTypes['ConnectionParam'] = ResolversParentTypes['ConnectionParam']> = ResolversObject<{
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  value?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type ConnectionTestResultResolvers<ContextType = PlatformsContext, ParentType extends ResolversParentTypes['ConnectionTestResult'] = ResolversParentTypes['ConnectionTestResult']> = ResolversObject<{
  connection?: Resolver<ResolversTypes['Connection'], ParentType, ContextType>;
  errorCode?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  message?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  ok?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
}>;

export interface DateTimeScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['DateTime'], any> {
  name: 'DateTime';
}

export type MutationResolvers<ContextType = PlatformsContext, ParentType extends ResolversParentTypes['Mutation'] = ResolversParentTypes['Mutation']> = ResolversObject<{
  completeOAuthConnection?: Resolver<ResolversTypes['Connection'], ParentType, ContextType, RequireFields<MutationCompleteOAuthConnectionArgs, 'input'>>;
  createApiKeyConnection?: Resolver<ResolversTypes['Connection'], ParentType, ContextType, RequireFields<MutationCreateApiKeyConnectionArgs, 'input'>>;
  renameConnection?: Resolver<ResolversTypes['Connection'], ParentType, ContextType, RequireFields<MutationRenameConnectionArgs, 'id' | 'name'>>;
  replaceConnectionApiKey?: Resolver<ResolversTypes['Connection'], ParentType, ContextType, RequireFields<MutationReplaceConnectionApiKeyArgs, 'apiKey' | 'id'>>;
  revokeConnection?: Resolver<ResolversTypes['RevokeConnectionResult'], ParentType, ContextType, RequireFields<MutationRevokeConnectionArgs, 'id'>>;
  startOAuthConnection?: Resolver<ResolversTypes['OAuthStart'], ParentType, ContextType, RequireFields<MutationStartOAuthConnectionArgs, 'input'>>;
  testConnection?: Resolver<ResolversTypes['ConnectionTestResult'], ParentType, ContextType, RequireFields<MutationTestConnectionArgs, 'id'>>;
}>;

export type OAuthSpecResolvers<ContextType = PlatformsContext, ParentType extends ResolversParentTypes['OAuthSpec'] = ResolversParentTypes['OAuthSpec']> = ResolversObject<{
  authorizeUrl?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  callbackParams?: Resolver<Array<ResolversTypes['String']>, ParentType, ContextType>;
  configured?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  docsUrl?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  pkce?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  refreshTokens?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  revokeUrl?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  rotatesRefreshTokens?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  scopes?: Resolver<Array<ResolversTypes['String']>, ParentType, ContextType>;
  tokenEndpointAuthMethod?: Resolver<ResolversTypes['TokenEndpointAuthMethod'], ParentType, ContextType>;
  tokenResponseParams?: Resolver<Array<ResolversTypes['String']>, ParentType, ContextType>;
  tokenUrl?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type OAuthStartResolvers<ContextType = PlatformsContext, ParentType extends ResolversParentTypes['OAuthStart'] = ResolversParentTypes['OAuthStart']> = ResolversObject<{
  authorizationUrl?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  connection?: Resolver<ResolversTypes['Connection'], ParentType, ContextType>;
  expiresAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
}>;

export type PageInfoResolvers<ContextType = PlatformsContext, ParentType extends ResolversParentTypes['PageInfo'] = ResolversParentTypes['PageInfo']> = ResolversObject<{
  endCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  hasNextPage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
}>;

export type ParameterSpecResolvers<ContextType = PlatformsContext, ParentType extends ResolversParentTypes['ParameterSpec'] = ResolversParentTypes['ParameterSpec']> = ResolversObject<{
  description?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  label?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  pattern?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type PlatformResolvers<ContextType = PlatformsContext, ParentType extends ResolversParentTypes['Platform'] = ResolversParentTypes['Platform'], FederationReferenceType extends FederationReferenceTypes['Platform'] = FederationReferenceTypes['Platform']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Platform']> | FederationReferenceType, FederationReferenceType, ContextType>;
  apiKey?: Resolver<Maybe<ResolversTypes['ApiKeySpec']>, ParentType, ContextType>;
  authTypes?: Resolver<Array<ResolversTypes['AuthType']>, ParentType, ContextType>;
  category?: Resolver<ResolversTypes['PlatformCategory'], ParentType, ContextType>;
  connectParams?: Resolver<Array<ResolversTypes['ParameterSpec']>, ParentType, ContextType>;
  description?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  oauth?: Resolver<Maybe<ResolversTypes['OAuthSpec']>, ParentType, ContextType>;
  rateLimits?: Resolver<Array<ResolversTypes['RateLimit']>, ParentType, ContextType>;
  resources?: Resolver<Array<ResolversTypes['PlatformResource']>, ParentType, ContextType>;
  slug?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  websiteUrl?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type PlatformResourceResolvers<ContextType = PlatformsContext, ParentType extends ResolversParentTypes['PlatformResource'] = ResolversParentTypes['PlatformResource']> = ResolversObject<{
  binaryContent?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  cursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  description?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  incremental?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  restorable?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  webhookTriggered?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
}>;

export type QueryResolvers<ContextType = PlatformsContext, ParentType extends ResolversParentTypes['Query'] = ResolversParentTypes['Query']> = ResolversObject<{
  connection?: Resolver<ResolversTypes['Connection'], ParentType, ContextType, RequireFields<QueryConnectionArgs, 'id'>>;
  platform?: Resolver<ResolversTypes['Platform'], ParentType, ContextType, Partial<QueryPlatformArgs>>;
  platforms?: Resolver<Array<ResolversTypes['Platform']>, ParentType, ContextType, Partial<QueryPlatformsArgs>>;
}>;

export type RateLimitResolvers<ContextType = PlatformsContext, ParentType extends ResolversParentTypes['RateLimit'] = ResolversParentTypes['RateLimit']> = ResolversObject<{
  description?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  limit?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  scope?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  windowSeconds?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
}>;

export type RevokeConnectionResultResolvers<ContextType = PlatformsContext, ParentType extends ResolversParentTypes['RevokeConnectionResult'] = ResolversParentTypes['RevokeConnectionResult']> = ResolversObject<{
  connection?: Resolver<ResolversTypes['Connection'], ParentType, ContextType>;
  message?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  revokedAtPlatform?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
}>;

export type Resolvers<ContextType = PlatformsContext> = ResolversObject<{
  Account?: AccountResolvers<ContextType>;
  ApiKeySpec?: ApiKeySpecResolvers<ContextType>;
  Connection?: ConnectionResolvers<ContextType>;
  ConnectionConnection?: ConnectionConnectionResolvers<ContextType>;
  ConnectionEdge?: ConnectionEdgeResolvers<ContextType>;
  ConnectionParam?: ConnectionParamResolvers<ContextType>;
  ConnectionTestResult?: ConnectionTestResultResolvers<ContextType>;
  DateTime?: GraphQLScalarType;
  Mutation?: MutationResolvers<ContextType>;
  OAuthSpec?: OAuthSpecResolvers<ContextType>;
  OAuthStart?: OAuthStartResolvers<ContextType>;
  PageInfo?: PageInfoResolvers<ContextType>;
  ParameterSpec?: ParameterSpecResolvers<ContextType>;
  Platform?: PlatformResolvers<ContextType>;
  PlatformResource?: PlatformResourceResolvers<ContextType>;
  Query?: QueryResolvers<ContextType>;
  RateLimit?: RateLimitResolvers<ContextType>;
  RevokeConnectionResult?: RevokeConnectionResultResolvers<ContextType>;
}>;

