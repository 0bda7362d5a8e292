import type { GraphQLResolveInfo, GraphQLScalarType, GraphQLScalarTypeConfig } from 'graphql';
import type { User as UserEntity } from '../entities/user.ts';
import type { Account as AccountEntity } from '../entities/account.ts';
import type { Membership as MembershipEntity } from '../entities/membership.ts';
import type { MembershipPage as MembershipPageEntity } from '../services/membership-service.ts';
import type { AccountPage as AccountPageEntity } from '../services/account-service.ts';
import type { ApiKey as ApiKeyEntity } from '../entities/api-key.ts';
import type { AuditEntry as AuditEntryEntity } from '../entities/audit-entry.ts';
import type { NotificationEndpoint as NotificationEndpointEntity } from '../entities/notification-endpoint.ts';
import type { Delivery as DeliveryEntity, DeliveryAttempt as DeliveryAttemptEntity } from '../entities/notification-delivery.ts';
import type { InboxItem as InboxItemEntity } from '../entities/notification.ts';
import type { AccountsContext } from '../context.ts';
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
  /** Any JSON value. */
  JSON: { input: unknown; output: unknown; }
  _FieldSet: { input: unknown; output: unknown; }
};

/**
 * An organisation, client or department whose SaaS data is backed up. Accounts form a tree: a role
 * held on an account applies to all of its descendants.
 */
export type Account = {
  __typename?: 'Account';
  /** Every account above this one, nearest first, that the caller can see. */
  ancestors: Array<Account>;
  /** API keys for programmatic access to this account and its sub-accounts. */
  apiKeys: Array<ApiKey>;
  /**
   * What happened in this account, newest first: every change and security event, with who did it
   * and from where. Needs a role with `audit:read` (admin or owner).
   */
  auditLog: AuditEntryConnection;
  /**
   * Recomputes the log's hash chain: whether every entry kept is as it was recorded, none is missing
   * and none moved. Needs `audit:read`.
   */
  auditLogVerification: AuditLogVerification;
  /**
   * Direct sub-accounts, by name. `first` is 1 to 100 (default 20); `after` is a
   * page's `endCursor`. Errors (BAD_USER_INPUT, with `extensions.reason`): BAD_PAGE_SIZE, BAD_CURSOR.
   */
  children: AccountConnection;
  createdAt: Scalars['DateTime']['output'];
  /** When an owner deleted the account itself. */
  deletedAt?: Maybe<Scalars['DateTime']['output']>;
  id: Scalars['ID']['output'];
  /**
   * People with a role granted directly on this account, oldest first. `first` is 1 to 100 (default
   * 20); `after` is a page's `endCursor`. Errors (BAD_USER_INPUT, with
   * `extensions.reason`): BAD_PAGE_SIZE, BAD_CURSOR.
   */
  members: MembershipConnection;
  /** The caller's role here, held directly or inherited from an ancestor. */
  myRole: Role;
  name: Scalars['String']['output'];
  /** Deliveries given up on (every channel), newest first. Needs `notifications:manage`. */
  notificationDeadLetters: NotificationDeliveryConnection;
  /** The account's webhook and Slack endpoints. Needs `notifications:manage` (admin or owner). */
  notificationEndpoints: Array<NotificationEndpoint>;
  /** Which channels the account uses for each kind of notification. */
  notificationRules: Array<NotificationRule>;
  /** The account this one belongs to, if any (null when the caller cannot see the parent). */
  parent?: Maybe<Account>;
  /** When a deleted account and all its data are purged for good, unless restored before. */
  purgeAfter?: Maybe<Scalars['DateTime']['output']>;
  /**
   * ACTIVE, SUSPENDED (reads work; what costs resources answers ACCOUNT_SUSPENDED) or DELETED
   * (waiting out its recovery window: reads work, `restoreAccount` undoes it). Inherited from an
   * ancestor that is suspended or deleted.
   */
  status: AccountStatus;
  /** Since when the account itself is suspended. */
  suspendedAt?: Maybe<Scalars['DateTime']['output']>;
  /** Why it is suspended (for example a payment overdue). */
  suspensionReason?: Maybe<Scalars['String']['output']>;
};


/**
 * An organisation, client or department whose SaaS data is backed up. Accounts form a tree: a role
 * held on an account applies to all of its descendants.
 */
export type AccountAuditLogArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<AuditLogFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


/**
 * An organisation, client or department whose SaaS data is backed up. Accounts form a tree: a role
 * held on an account applies to all of its descendants.
 */
export type AccountChildrenArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


/**
 * An organisation, client or department whose SaaS data is backed up. Accounts form a tree: a role
 * held on an account applies to all of its descendants.
 */
export type AccountMembersArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


/**
 * An organisation, client or department whose SaaS data is backed up. Accounts form a tree: a role
 * held on an account applies to all of its descendants.
 */
export type AccountNotificationDeadLettersArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** A page of accounts. */
export type AccountConnection = {
  __typename?: 'AccountConnection';
  edges: Array<AccountEdge>;
  pageInfo: PageInfo;
  /** How many accounts the whole list holds. */
  totalCount: Scalars['Int']['output'];
};

export type AccountEdge = {
  __typename?: 'AccountEdge';
  cursor: Scalars['String']['output'];
  node: Account;
};

/** An account's standing. */
export type AccountStatus =
  | 'ACTIVE'
  /** Deleted by an owner: reads work and `restoreAccount` undoes it until `purgeAfter`; then it is purged with its data. */
  | 'DELETED'
  /** Reads work; backups, changes and new resources are refused (ACCOUNT_SUSPENDED) until it is resumed. */
  | 'SUSPENDED';

export type AddMemberInput = {
  accountId: Scalars['ID']['input'];
  /** An existing user gets the role at once; any other address gets a pending invitation. */
  email: Scalars['String']['input'];
  role: Role;
};

/** A credential for programmatic access: `Authorization: Bearer <secret>` at the gateway. */
export type ApiKey = {
  __typename?: 'ApiKey';
  account: Account;
  createdAt: Scalars['DateTime']['output'];
  id: Scalars['ID']['output'];
  lastUsedAt?: Maybe<Scalars['DateTime']['output']>;
  name: Scalars['String']['output'];
  /** The first characters of the secret, to tell keys apart. */
  prefix: Scalars['String']['output'];
  revokedAt?: Maybe<Scalars['DateTime']['output']>;
  /** What this key may do. */
  scopes: Array<ApiKeyScope>;
};

/**
 * What an API key may do: one action of a role each (`JOBS_RUN` is the action `jobs:run`). A key acts
 * as an admin at most, so owner-only actions (deleting the account, managing billing) are not scopes.
 */
export type ApiKeyScope =
  /** `account:create-child`: Create sub-accounts. */
  | 'ACCOUNT_CREATE_CHILD'
  /** `account:read`: Read the account, its sub-accounts and settings. */
  | 'ACCOUNT_READ'
  /** `account:update`: Rename the account and change its settings. */
  | 'ACCOUNT_UPDATE'
  /** `apikeys:manage`: Create and revoke API keys (with at most the scopes the key creating them holds). */
  | 'APIKEYS_MANAGE'
  /** `apikeys:read`: List API keys. */
  | 'APIKEYS_READ'
  /** `audit:read`: Read and export the audit log. */
  | 'AUDIT_READ'
  /** `billing:read`: Read the plan, usage and invoices. */
  | 'BILLING_READ'
  /** `connections:manage`: Connect, test and revoke connections. */
  | 'CONNECTIONS_MANAGE'
  /** `connections:read`: List connections and their status. */
  | 'CONNECTIONS_READ'
  /** `jobs:read`: Read jobs, their progress and logs. */
  | 'JOBS_READ'
  /** `jobs:run`: Start backups, exports, restores and verifications; cancel jobs. */
  | 'JOBS_RUN'
  /** `members:manage`: Invite, remove and change the role of members. */
  | 'MEMBERS_MANAGE'
  /** `members:read`: List members and invitations. */
  | 'MEMBERS_READ'
  /** `notifications:manage`: Manage notification rules and endpoints. */
  | 'NOTIFICATIONS_MANAGE'
  /** `sources:manage`: Create, change and delete sources. */
  | 'SOURCES_MANAGE'
  /** `sources:read`: Read sources, snapshots and their items. */
  | 'SOURCES_READ';

/** Who did it, and from where. */
export type AuditActor = {
  __typename?: 'AuditActor';
  /** The user or API key id, or the service for SYSTEM; null for ANONYMOUS. */
  id?: Maybe<Scalars['String']['output']>;
  /** The client's IP address, when a request caused it. */
  ip?: Maybe<Scalars['String']['output']>;
  kind: AuditActorKind;
  /** The client's User-Agent, when a request caused it. */
  userAgent?: Maybe<Scalars['String']['output']>;
};

/** The kinds of actor. */
export type AuditActorKind =
  /** A caller not signed in (a failed sign-in, a password reset request). */
  | 'ANONYMOUS'
  /** An API key. */
  | 'API_KEY'
  /** ListBackup itself: the scheduler, a worker, billing. */
  | 'SYSTEM'
  /** A signed-in person. */
  | 'USER';

/** One entry of an account's audit log. Entries are never changed or removed, except by retention. */
export type AuditEntry = {
  __typename?: 'AuditEntry';
  /** What happened: the event type, for example `job.created`, `user.login` or `member.role_changed`. */
  action: Scalars['String']['output'];
  actor: AuditActor;
  /** The values after the change, where a change has them. */
  after?: Maybe<Scalars['JSON']['output']>;
  /** The values before the change, where a change has them. */
  before?: Maybe<Scalars['JSON']['output']>;
  /** The event's other details as recorded. */
  details: Scalars['JSON']['output'];
  /** SHA-256 (hex) of the previous entry's hash and this entry's content. */
  hash: Scalars['String']['output'];
  id: Scalars['ID']['output'];
  occurredAt: Scalars['DateTime']['output'];
  /** Position in the account's log, from 1. */
  sequence: Scalars['Int']['output'];
  /** What it happened to; null for events about nothing in particular. */
  target?: Maybe<AuditTarget>;
};

/** A page of audit entries. */
export type AuditEntryConnection = {
  __typename?: 'AuditEntryConnection';
  edges: Array<AuditEntryEdge>;
  pageInfo: PageInfo;
};

/** An audit entry and its cursor. */
export type AuditEntryEdge = {
  __typename?: 'AuditEntryEdge';
  cursor: Scalars['String']['output'];
  node: AuditEntry;
};

/** A download link for an export of the audit log. */
export type AuditExport = {
  __typename?: 'AuditExport';
  expiresAt: Scalars['DateTime']['output'];
  /** Follow it with the same `Authorization` header within 15 minutes. */
  url: Scalars['String']['output'];
};

/** The formats of an audit log export. */
export type AuditExportFormat =
  /** Comma-separated, with a header row (nested values as JSON). */
  | 'CSV'
  /** One JSON object per line. */
  | 'NDJSON';

/** Narrows the log; all given conditions apply. */
export type AuditLogFilter = {
  /** Event types, exact (`job.created`) or a whole family (`job.*`); at most 50. */
  actions?: InputMaybe<Array<Scalars['String']['input']>>;
  /** Only what this user or API key did. */
  actorId?: InputMaybe<Scalars['String']['input']>;
  actorKind?: InputMaybe<AuditActorKind>;
  /** From this time on (inclusive). */
  from?: InputMaybe<Scalars['DateTime']['input']>;
  targetId?: InputMaybe<Scalars['String']['input']>;
  targetType?: InputMaybe<Scalars['String']['input']>;
  /** Before this time. */
  to?: InputMaybe<Scalars['DateTime']['input']>;
};

/** The result of recomputing an account's audit chain. */
export type AuditLogVerification = {
  __typename?: 'AuditLogVerification';
  entriesChecked: Scalars['Int']['output'];
  /** The first entry that does not check out (changed, missing or out of place). */
  firstInvalidSequence?: Maybe<Scalars['Int']['output']>;
  /** The newest entry's hash: note it, and a later verification proves nothing before it changed. */
  headHash: Scalars['String']['output'];
  headSequence: Scalars['Int']['output'];
  /** What is wrong, when something is. */
  reason?: Maybe<Scalars['String']['output']>;
  /** True when every kept entry follows from the one before it and the newest matches the chain's head. */
  valid: Scalars['Boolean']['output'];
};

/** The entity an entry is about. */
export type AuditTarget = {
  __typename?: 'AuditTarget';
  id: Scalars['String']['output'];
  /** `User`, `Account`, `Membership`, `ApiKey`, `Connection`, `Source`, `Job` or `NotificationEndpoint`. */
  type: Scalars['String']['output'];
};

/** A signed-in session. */
export type AuthPayload = {
  __typename?: 'AuthPayload';
  /** An EdDSA JWT valid for 15 minutes: `Authorization: Bearer <accessToken>`. */
  accessToken: Scalars['String']['output'];
  accessTokenExpiresAt: Scalars['DateTime']['output'];
  /** Exchange it with `refreshSession` for a new pair; each refresh token works once. */
  refreshToken: Scalars['String']['output'];
  user: User;
};

export type CreateAccountInput = {
  name: Scalars['String']['input'];
  /** Create it as a sub-account of this account (needs ADMIN there). */
  parentId?: InputMaybe<Scalars['ID']['input']>;
};

export type CreateApiKeyInput = {
  accountId: Scalars['ID']['input'];
  name: Scalars['String']['input'];
  /** What the key may do; each scope must be allowed to the caller's own role (and held by a key creating it). */
  scopes: Array<ApiKeyScope>;
};

export type CreateNotificationEndpointInput = {
  accountId: Scalars['ID']['input'];
  events: Array<NotificationEvent>;
  kind: NotificationEndpointKind;
  name: Scalars['String']['input'];
  /** Where to send: https:// (http:// is refused in production). A test message must reach it (and Slack must accept it). */
  url: Scalars['String']['input'];
};

/** A new API key. The secret is shown this once and never again. */
export type CreatedApiKey = {
  __typename?: 'CreatedApiKey';
  apiKey: ApiKey;
  secret: Scalars['String']['output'];
};

export type LogInInput = {
  email: Scalars['String']['input'];
  password: Scalars['String']['input'];
  /** A TOTP code, or a recovery code, when the user has TOTP enabled. */
  totp?: InputMaybe<Scalars['String']['input']>;
};

/** A role granted to a person (or an invited email address) on an account. */
export type Membership = {
  __typename?: 'Membership';
  account: Account;
  createdAt: Scalars['DateTime']['output'];
  /** The address the membership was granted to. */
  email: Scalars['String']['output'];
  id: Scalars['ID']['output'];
  /** True until the invited person signs up. */
  pending: Scalars['Boolean']['output'];
  role: Role;
  /** The member; null while an invitation to an address with no user yet is pending. */
  user?: Maybe<User>;
};

/** A page of memberships, oldest first. */
export type MembershipConnection = {
  __typename?: 'MembershipConnection';
  edges: Array<MembershipEdge>;
  pageInfo: PageInfo;
  /** How many memberships the whole list holds. */
  totalCount: Scalars['Int']['output'];
};

export type MembershipEdge = {
  __typename?: 'MembershipEdge';
  cursor: Scalars['String']['output'];
  node: Membership;
};

export type Mutation = {
  __typename?: 'Mutation';
  addMember: Membership;
  /** Emails a verification link to a new address; it becomes the user's when the link is followed. */
  changeEmail: Scalars['Boolean']['output'];
  changeMemberRole: Membership;
  /** Changes the password and ends every other session of the user. */
  changePassword: Scalars['Boolean']['output'];
  confirmTotp: TotpConfirmation;
  createAccount: Account;
  createApiKey: CreatedApiKey;
  /** Adds a webhook or Slack endpoint once a test message reached it; a webhook's secret is shown this once. */
  createNotificationEndpoint: NotificationEndpointWithSecret;
  /**
   * Deletes the account and its sub-accounts (owner only), confirmed by its exact name. Its data is
   * kept for 30 days (`purgeAfter`), during which `restoreAccount` undoes it; then its connections,
   * sources, snapshots, jobs and stored backups are purged.
   */
  deleteAccount: Account;
  /**
   * Erases the signed-in user for good, confirmed by their password (INVALID_CREDENTIALS otherwise):
   * their sessions, the API keys they made, memberships, notification settings and profile go, and
   * the address is free again. An account left without an owner (none on it or above it) is deleted
   * with them, without a recovery window: it and its sub-accounts are purged with their connections,
   * sources, jobs and backups by the next purge pass.
   */
  deleteMe: Scalars['Boolean']['output'];
  deleteNotificationEndpoint: Scalars['Boolean']['output'];
  /** Turns TOTP off; needs a current code or a recovery code. */
  disableTotp: Scalars['Boolean']['output'];
  /** Starts TOTP enrolment; it takes effect after `confirmTotp`. */
  enrollTotp: TotpEnrollment;
  /** A link to download the account's audit log (filtered like `Account.auditLog`) as NDJSON or CSV. Needs `audit:read`. */
  exportAuditLog: AuditExport;
  logIn: AuthPayload;
  /** Ends the current session (its refresh token stops working). */
  logOut: Scalars['Boolean']['output'];
  /**
   * Marks the caller's notifications read (or unread): those named (at most 100), else all (of one
   * account when given). Returns how many changed. NOT_FOUND, and nothing changes, when a named id is
   * not one of the caller's notifications.
   */
  markNotificationsRead: Scalars['Int']['output'];
  /** Sends a delivery again now (a dead letter included), with the same id. */
  redeliverNotification: NotificationDelivery;
  /** Rotates the refresh token. Reusing a rotated token revokes the whole session. */
  refreshSession: AuthPayload;
  /** Removes a member. The last owner of an account cannot be removed. */
  removeMember: Scalars['Boolean']['output'];
  renameAccount: Account;
  /** Emails a password reset link (30 minutes, single use) if a user has this address; the answer is the same either way. */
  requestPasswordReset: Scalars['Boolean']['output'];
  /** Emails a new verification link to the signed-in user's address. */
  resendVerificationEmail: Scalars['Boolean']['output'];
  /** Sets a new password with a reset token and ends every session of the user. */
  resetPassword: Scalars['Boolean']['output'];
  /** Undoes `deleteAccount` before `purgeAfter` (owner only). */
  restoreAccount: Account;
  revokeApiKey: ApiKey;
  /** A new signing secret, shown this once; the old one keeps signing beside it for 24 hours. */
  rotateNotificationEndpointSecret: NotificationEndpointWithSecret;
  /** The signed-in person opts in or out of a channel for one kind of notification. */
  setNotificationPreference: NotificationPreference;
  /** Chooses the channels of one kind of notification for the account. Needs `notifications:manage`. */
  setNotificationRule: NotificationRule;
  /** Creates a user and a personal account owned by them, and signs them in. */
  signUp: AuthPayload;
  updateNotificationEndpoint: NotificationEndpoint;
  /** Changes the signed-in user's profile and preferences; a field left out stays as it is, null clears it. */
  updateProfile: User;
  /** Proves an address with the token of the link emailed to it (single use, 48 hours). */
  verifyEmail: User;
};


export type MutationAddMemberArgs = {
  input: AddMemberInput;
};


export type MutationChangeEmailArgs = {
  currentPassword: Scalars['String']['input'];
  newEmail: Scalars['String']['input'];
};


export type MutationChangeMemberRoleArgs = {
  membershipId: Scalars['ID']['input'];
  role: Role;
};


export type MutationChangePasswordArgs = {
  currentPassword: Scalars['String']['input'];
  newPassword: Scalars['String']['input'];
};


export type MutationConfirmTotpArgs = {
  code: Scalars['String']['input'];
};


export type MutationCreateAccountArgs = {
  input: CreateAccountInput;
};


export type MutationCreateApiKeyArgs = {
  input: CreateApiKeyInput;
};


export type MutationCreateNotificationEndpointArgs = {
  input: CreateNotificationEndpointInput;
};


export type MutationDeleteAccountArgs = {
  confirmName: Scalars['String']['input'];
  id: Scalars['ID']['input'];
};


export type MutationDeleteMeArgs = {
  currentPassword: Scalars['String']['input'];
};


export type MutationDeleteNotificationEndpointArgs = {
  id: Scalars['ID']['input'];
};


export type MutationDisableTotpArgs = {
  code: Scalars['String']['input'];
};


export type MutationExportAuditLogArgs = {
  accountId: Scalars['ID']['input'];
  filter?: InputMaybe<AuditLogFilter>;
  format: AuditExportFormat;
};


export type MutationLogInArgs = {
  input: LogInInput;
};


export type MutationMarkNotificationsReadArgs = {
  accountId?: InputMaybe<Scalars['ID']['input']>;
  ids?: InputMaybe<Array<Scalars['ID']['input']>>;
  read?: InputMaybe<Scalars['Boolean']['input']>;
};


export type MutationRedeliverNotificationArgs = {
  deliveryId: Scalars['ID']['input'];
};


export type MutationRefreshSessionArgs = {
  refreshToken: Scalars['String']['input'];
};


export type MutationRemoveMemberArgs = {
  membershipId: Scalars['ID']['input'];
};


export type MutationRenameAccountArgs = {
  id: Scalars['ID']['input'];
  name: Scalars['String']['input'];
};


export type MutationRequestPasswordResetArgs = {
  email: Scalars['String']['input'];
};


export type MutationResetPasswordArgs = {
  newPassword: Scalars['String']['input'];
  token: Scalars['String']['input'];
};


export type MutationRestoreAccountArgs = {
  id: Scalars['ID']['input'];
};


export type MutationRevokeApiKeyArgs = {
  id: Scalars['ID']['input'];
};


export type MutationRotateNotificationEndpointSecretArgs = {
  id: Scalars['ID']['input'];
};


export type MutationSetNotificationPreferenceArgs = {
  preference: NotificationChannelsInput;
};


export type MutationSetNotificationRuleArgs = {
  accountId: Scalars['ID']['input'];
  rule: NotificationChannelsInput;
};


export type MutationSignUpArgs = {
  input: SignUpInput;
};


export type MutationUpdateNotificationEndpointArgs = {
  id: Scalars['ID']['input'];
  input: UpdateNotificationEndpointInput;
};


export type MutationUpdateProfileArgs = {
  input: UpdateProfileInput;
};


export type MutationVerifyEmailArgs = {
  token: Scalars['String']['input'];
};

/** A notification in the signed-in person's in-app list. */
export type Notification = {
  __typename?: 'Notification';
  account: Account;
  body: Scalars['String']['output'];
  createdAt: Scalars['DateTime']['output'];
  event: NotificationEvent;
  id: Scalars['ID']['output'];
  read: Scalars['Boolean']['output'];
  readAt?: Maybe<Scalars['DateTime']['output']>;
  title: Scalars['String']['output'];
};

/** How a delivery travels. */
export type NotificationChannel =
  | 'EMAIL'
  | 'SLACK'
  | 'WEBHOOK';

export type NotificationChannelsInput = {
  email: Scalars['Boolean']['input'];
  event: NotificationEvent;
  inApp: Scalars['Boolean']['input'];
};

/** A page of in-app notifications. */
export type NotificationConnection = {
  __typename?: 'NotificationConnection';
  edges: Array<NotificationEdge>;
  pageInfo: PageInfo;
};

/** One notification on its way to one recipient. */
export type NotificationDelivery = {
  __typename?: 'NotificationDelivery';
  /** Every attempt so far, oldest first. */
  attemptLog: Array<NotificationDeliveryAttempt>;
  attempts: Scalars['Int']['output'];
  channel: NotificationChannel;
  createdAt: Scalars['DateTime']['output'];
  deliveredAt?: Maybe<Scalars['DateTime']['output']>;
  /** What it carries; null for a message of its own (an address verification, a password reset). */
  event?: Maybe<NotificationEvent>;
  /** Also the `webhook-id` header and the email's Message-ID: the same on every attempt. */
  id: Scalars['ID']['output'];
  lastError?: Maybe<Scalars['String']['output']>;
  /** The HTTP status (or SMTP reply code) of the last attempt. */
  lastResponseCode?: Maybe<Scalars['Int']['output']>;
  nextAttemptAt?: Maybe<Scalars['DateTime']['output']>;
  /** The address or URL it goes to. */
  recipient: Scalars['String']['output'];
  status: NotificationDeliveryStatus;
  title: Scalars['String']['output'];
};

/** One attempt of a delivery. */
export type NotificationDeliveryAttempt = {
  __typename?: 'NotificationDeliveryAttempt';
  at: Scalars['DateTime']['output'];
  error?: Maybe<Scalars['String']['output']>;
  /** How long the receiver took to answer. */
  latencyMs: Scalars['Int']['output'];
  responseCode?: Maybe<Scalars['Int']['output']>;
  succeeded: Scalars['Boolean']['output'];
};

/** A page of deliveries. */
export type NotificationDeliveryConnection = {
  __typename?: 'NotificationDeliveryConnection';
  edges: Array<NotificationDeliveryEdge>;
  pageInfo: PageInfo;
};

/** A delivery and its cursor. */
export type NotificationDeliveryEdge = {
  __typename?: 'NotificationDeliveryEdge';
  cursor: Scalars['String']['output'];
  node: NotificationDelivery;
};

/** The state of a delivery. */
export type NotificationDeliveryStatus =
  /** Given up on: the dead letter. `redeliverNotification` sends it again. */
  | 'DEAD'
  | 'DELIVERED'
  /** Waiting for its first attempt. */
  | 'PENDING'
  /** An attempt failed; another is due (backing off over about a day). */
  | 'RETRYING';

/** An in-app notification and its cursor. */
export type NotificationEdge = {
  __typename?: 'NotificationEdge';
  cursor: Scalars['String']['output'];
  node: Notification;
};

/** An account's webhook or Slack endpoint, and the notifications it receives. */
export type NotificationEndpoint = {
  __typename?: 'NotificationEndpoint';
  account: Account;
  /** Failed attempts in a row (back to 0 after a success). */
  consecutiveFailures: Scalars['Int']['output'];
  createdAt: Scalars['DateTime']['output'];
  /** What was sent to it, newest first, with each attempt. */
  deliveries: NotificationDeliveryConnection;
  disabledAt?: Maybe<Scalars['DateTime']['output']>;
  /** Why it was turned off. */
  disabledReason?: Maybe<Scalars['String']['output']>;
  /** False once turned off, by a member or because it kept failing. */
  enabled: Scalars['Boolean']['output'];
  events: Array<NotificationEvent>;
  id: Scalars['ID']['output'];
  kind: NotificationEndpointKind;
  name: Scalars['String']['output'];
  url: Scalars['String']['output'];
};


/** An account's webhook or Slack endpoint, and the notifications it receives. */
export type NotificationEndpointDeliveriesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  status?: InputMaybe<Array<NotificationDeliveryStatus>>;
};

/** Where an endpoint sends. */
export type NotificationEndpointKind =
  /** A Slack (or compatible) incoming webhook. */
  | 'SLACK'
  /** A signed webhook (Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` v1 HMAC-SHA256). */
  | 'WEBHOOK';

/** A new endpoint or a new secret. A webhook's secret is shown this once. */
export type NotificationEndpointWithSecret = {
  __typename?: 'NotificationEndpointWithSecret';
  endpoint: NotificationEndpoint;
  /** `whsec_…`, to verify the `webhook-signature` header; null for Slack. */
  secret?: Maybe<Scalars['String']['output']>;
};

/** What a notification is about; rules, endpoints and preferences choose among these. */
export type NotificationEvent =
  /** A backup deleted or changed far more than the source's history would suggest. */
  | 'ANOMALY_DETECTED'
  /** A connection stopped working or needs to be authorized again. */
  | 'CONNECTION_FAILED'
  /** A webhook or Slack endpoint kept failing and was turned off (sent to owners and admins). */
  | 'ENDPOINT_DISABLED'
  /** A backup, export, restore or verification failed for good (no retry left). */
  | 'JOB_FAILED'
  /** A job succeeded but skipped some items. */
  | 'JOB_PARTIALLY_SUCCEEDED'
  /** A source's backup succeeded after its previous one had failed. */
  | 'JOB_RECOVERED'
  /** An invoice's payment failed its retries; the account is suspended unless it pays (sent to owners). */
  | 'PAYMENT_FAILED'
  /** The account stores all its plan includes. */
  | 'QUOTA_REACHED'
  /** The account stores 80% of what its plan includes. */
  | 'QUOTA_WARNING'
  /** A connection's authorization expires within days (the platform said when, or refreshing it keeps failing): authorize it again before its backups fail. */
  | 'TOKEN_EXPIRING';

/** A person's own choice for one kind of notification, in every account. */
export type NotificationPreference = {
  __typename?: 'NotificationPreference';
  email: Scalars['Boolean']['output'];
  event: NotificationEvent;
  inApp: Scalars['Boolean']['output'];
};

/** Which channels an account uses for one kind of notification. */
export type NotificationRule = {
  __typename?: 'NotificationRule';
  /** Email to the account's members (to verified addresses, unless they opted out). */
  email: Scalars['Boolean']['output'];
  event: NotificationEvent;
  /** In the app, for each member (unless they opted out). */
  inApp: Scalars['Boolean']['output'];
};

/** Where a list goes on. */
export type PageInfo = {
  __typename?: 'PageInfo';
  endCursor?: Maybe<Scalars['String']['output']>;
  hasNextPage: Scalars['Boolean']['output'];
};

export type Query = {
  __typename?: 'Query';
  /** An account the caller can see. */
  account: Account;
  /**
   * Every account the caller can see: those with a role and all their descendants, the top of the
   * tree first, then by name. `first` is 1 to 100 (default 20); `after` is a
   * page's `endCursor`. Errors (BAD_USER_INPUT, with `extensions.reason`): BAD_PAGE_SIZE, BAD_CURSOR.
   */
  accounts: AccountConnection;
  /** The signed-in user. */
  me: User;
};


export type QueryAccountArgs = {
  id: Scalars['ID']['input'];
};


export type QueryAccountsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** What a member may do. Each role includes everything of the roles below it. */
export type Role =
  /** Manages members, API keys, connections and sub-accounts. */
  | 'ADMIN'
  /** Runs backups and manages sources. */
  | 'OPERATOR'
  /** Everything, including billing and deleting the account. */
  | 'OWNER'
  /** Reads everything, changes nothing. */
  | 'VIEWER';

export type SignUpInput = {
  email: Scalars['String']['input'];
  name: Scalars['String']['input'];
  /** At least 10 characters and not a common password. */
  password: Scalars['String']['input'];
};

export type Subscription = {
  __typename?: 'Subscription';
  /** The signed-in person's new in-app notifications of an account, as they arrive. */
  notificationAdded: Notification;
};


export type SubscriptionNotificationAddedArgs = {
  accountId: Scalars['ID']['input'];
};

/** TOTP is now required at login. The recovery codes are shown this once. */
export type TotpConfirmation = {
  __typename?: 'TotpConfirmation';
  recoveryCodes: Array<Scalars['String']['output']>;
};

/** A TOTP secret to add to an authenticator app, pending confirmation with a code. */
export type TotpEnrollment = {
  __typename?: 'TotpEnrollment';
  /** An otpauth:// URI, for a QR code. */
  otpauthUri: Scalars['String']['output'];
  secret: Scalars['String']['output'];
};

export type UpdateNotificationEndpointInput = {
  /** True turns a disabled endpoint on again. */
  enabled?: InputMaybe<Scalars['Boolean']['input']>;
  events?: InputMaybe<Array<NotificationEvent>>;
  name?: InputMaybe<Scalars['String']['input']>;
};

export type UpdateProfileInput = {
  /** An https:// URL. */
  avatarUrl?: InputMaybe<Scalars['String']['input']>;
  defaultScheduleTimeZone?: InputMaybe<Scalars['String']['input']>;
  locale?: InputMaybe<Scalars['String']['input']>;
  name?: InputMaybe<Scalars['String']['input']>;
  timeZone?: InputMaybe<Scalars['String']['input']>;
};

/** A person who signs in to ListBackup. */
export type User = {
  __typename?: 'User';
  /** An https:// URL of the person's picture. */
  avatarUrl?: Maybe<Scalars['String']['output']>;
  createdAt: Scalars['DateTime']['output'];
  /** The time zone new schedules start in. */
  defaultScheduleTimeZone?: Maybe<Scalars['String']['output']>;
  /** The address the user signs in with; unique, stored lower-case. */
  email: Scalars['String']['output'];
  /** Whether the owner of the address proved it. Invitations are claimed, and notifications emailed, only once it is. */
  emailVerified: Scalars['Boolean']['output'];
  id: Scalars['ID']['output'];
  /** BCP 47 language tag, e.g. `fr-FR`. */
  locale?: Maybe<Scalars['String']['output']>;
  /**
   * The accounts where this user holds a role directly (roles also apply to their sub-accounts),
   * oldest first: all of them to the user themself, to anyone else only those on accounts whose
   * members they may read. `first` is 1 to 100 (default 20); `after` is a page's
   * `endCursor`. Errors (BAD_USER_INPUT, with `extensions.reason`): BAD_PAGE_SIZE, BAD_CURSOR.
   */
  memberships: MembershipConnection;
  name: Scalars['String']['output'];
  /** The person's choice of channels per kind of notification, in every account. */
  notificationPreferences: Array<NotificationPreference>;
  /** The signed-in person's in-app notifications, newest first (of one account when given). */
  notifications: NotificationConnection;
  /** IANA time zone, e.g. `Europe/Paris`. */
  timeZone?: Maybe<Scalars['String']['output']>;
  /** Whether a TOTP code is required at login. */
  totpEnabled: Scalars['Boolean']['output'];
  unreadNotificationCount: Scalars['Int']['output'];
};


/** A person who signs in to ListBackup. */
export type UserMembershipsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


/** A person who signs in to ListBackup. */
export type UserNotificationsArgs = {
  accountId?: InputMaybe<Scalars['ID']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  unreadOnly?: InputMaybe<Scalars['Boolean']['input']>;
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
  Notification: Notification;
  User: User;
}>;

/** Mapping of federation reference types */
export type FederationReferenceTypes = ResolversObject<{
  Account:
    ( { __typename: 'Account' }
    & GraphQLRecursivePick<FederationTypes['Account'], {"id":true}> );
  Notification:
    ( { __typename: 'Notification' }
    & GraphQLRecursivePick<FederationTypes['Notification'], {"id":true}> );
  User:
    ( { __typename: 'User' }
    & GraphQLRecursivePick<FederationTypes['User'], {"id":true}> );
}>;



/** Mapping between all available schema types and the resolvers types */
export type ResolversTypes = ResolversObject<{
  Account: ResolverTypeWrapper<AccountEntity>;
  String: ResolverTypeWrapper<Scalars['String']['output']>;
  Int: ResolverTypeWrapper<Scalars['Int']['output']>;
  ID: ResolverTypeWrapper<Scalars['ID']['output']>;
  AccountConnection: ResolverTypeWrapper<AccountPageEntity>;
  AccountEdge: ResolverTypeWrapper<Omit<AccountEdge, 'node'> & { node: ResolversTypes['Account'] }>;
  AccountStatus: AccountStatus;
  AddMemberInput: AddMemberInput;
  ApiKey: ResolverTypeWrapper<ApiKeyEntity>;
  ApiKeyScope: ApiKeyScope;
  AuditActor: ResolverTypeWrapper<AuditActor>;
  AuditActorKind: AuditActorKind;
  AuditEntry: ResolverTypeWrapper<AuditEntryEntity>;
  AuditEntryConnection: ResolverTypeWrapper<Omit<AuditEntryConnection, 'edges'> & { edges: Array<ResolversTypes['AuditEntryEdge']> }>;
  AuditEntryEdge: ResolverTypeWrapper<Omit<AuditEntryEdge, 'node'> & { node: ResolversTypes['AuditEntry'] }>;
  AuditExport: ResolverTypeWrapper<AuditExport>;
  AuditExportFormat: AuditExportFormat;
  AuditLogFilter: AuditLogFilter;
  AuditLogVerification: ResolverTypeWrapper<AuditLogVerification>;
  Boolean: ResolverTypeWrapper<Scalars['Boolean']['output']>;
  AuditTarget: ResolverTypeWrapper<AuditTarget>;
  AuthPayload: ResolverTypeWrapper<Omit<AuthPayload, 'user'> & { user: ResolversTypes['User'] }>;
  CreateAccountInput: CreateAccountInput;
  CreateApiKeyInput: CreateApiKeyInput;
  CreateNotificationEndpointInput: CreateNotificationEndpointInput;
  CreatedApiKey: ResolverTypeWrapper<Omit<CreatedApiKey, 'apiKey'> & { apiKey: ResolversTypes['ApiKey'] }>;
  DateTime: ResolverTypeWrapper<Scalars['DateTime']['output']>;
  JSON: ResolverTypeWrapper<Scalars['JSON']['output']>;
  LogInInput: LogInInput;
  Membership: ResolverTypeWrapper<MembershipEntity>;
  MembershipConnection: ResolverTypeWrapper<MembershipPageEntity>;
  MembershipEdge: ResolverTypeWrapper<Omit<MembershipEdge, 'node'> & { node: ResolversTypes['Membership'] }>;
  Mutation: ResolverTypeWrapper<Record<PropertyKey, never>>;
  Notification: ResolverTypeWrapper<InboxItemEntity>;
  NotificationChannel: NotificationChannel;
  NotificationChannelsInput: NotificationChannelsInput;
  NotificationConnection: ResolverTypeWrapper<Omit<NotificationConnection, 'edges'> & { edges: Array<ResolversTypes['NotificationEdge']> }>;
  NotificationDelivery: ResolverTypeWrapper<DeliveryEntity>;
  NotificationDeliveryAttempt: ResolverTypeWrapper<DeliveryAttemptEntity>;
  NotificationDeliveryConnection: ResolverTypeWrapper<Omit<NotificationDeliveryConnection, 'edges'> & { edges: Array<ResolversTypes['NotificationDeliveryEdge']> }>;
  NotificationDeliveryEdge: ResolverTypeWrapper<Omit<NotificationDeliveryEdge, 'node'> & { node: ResolversTypes['NotificationDelivery'] }>;
  NotificationDeliveryStatus: NotificationDeliveryStatus;
  NotificationEdge: ResolverTypeWrapper<Omit<NotificationEdge, 'node'> & { node: ResolversTypes['Notification'] }>;
  NotificationEndpoint: ResolverTypeWrapper<NotificationEndpointEntity>;
  NotificationEndpointKind: NotificationEndpointKind;
  NotificationEndpointWithSecret: ResolverTypeWrapper<Omit<NotificationEndpointWithSecret, 'endpoint'> & { endpoint: ResolversTypes['NotificationEndpoint'] }>;
  NotificationEvent: NotificationEvent;
  NotificationPreference: ResolverTypeWrapper<NotificationPreference>;
  NotificationRule: ResolverTypeWrapper<NotificationRule>;
  PageInfo: ResolverTypeWrapper<PageInfo>;
  Query: ResolverTypeWrapper<Record<PropertyKey, never>>;
  Role: Role;
  SignUpInput: SignUpInput;
  Subscription: ResolverTypeWrapper<Record<PropertyKey, never>>;
  TotpConfirmation: ResolverTypeWrapper<TotpConfirmation>;
  TotpEnrollment: ResolverTypeWrapper<TotpEnrollment>;
  UpdateNotificationEndpointInput: UpdateNotificationEndpointInput;
  UpdateProfileInput: UpdateProfileInput;
  User: ResolverTypeWrapper<UserEntity>;
}>;

/** Mapping between all available schema types and the resolvers parents */
export type ResolversParentTypes = ResolversObject<{
  Account: AccountEntity;
  String: Scalars['String']['output'];
  Int: Scalars['Int']['output'];
  ID: Scalars['ID']['output'];
  AccountConnection: AccountPageEntity;
  AccountEdge: Omit<AccountEdge, 'node'> & { node: ResolversParentTypes['Account'] };
  AddMemberInput: AddMemberInput;
  ApiKey: ApiKeyEntity;
  AuditActor: AuditActor;
  AuditEntry: AuditEntryEntity;
  AuditEntryConnection: Omit<AuditEntryConnection, 'edges'> & { edges: Array<ResolversParentTypes['AuditEntryEdge']> };
  AuditEntryEdge: Omit<AuditEntryEdge, 'node'> & { node: ResolversParentTypes['AuditEntry'] };
  AuditExport: AuditExport;
  AuditLogFilter: AuditLogFilter;
  AuditLogVerification: AuditLogVerification;
  Boolean: Scalars['Boolean']['output'];
  AuditTarget: AuditTarget;
  AuthPayload: Omit<AuthPayload, 'user'> & { user: ResolversParentTypes['User'] };
  CreateAccountInput: CreateAccountInput;
  CreateApiKeyInput: CreateApiKeyInput;
  CreateNotificationEndpointInput: CreateNotificationEndpointInput;
  CreatedApiKey: Omit<CreatedApiKey, 'apiKey'> & { apiKey: ResolversParentTypes['ApiKey'] };
  DateTime: Scalars['DateTime']['output'];
  JSON: Scalars['JSON']['output'];
  LogInInput: LogInInput;
  Membership: MembershipEntity;
  MembershipConnection: MembershipPageEntity;
  MembershipEdge: Omit<MembershipEdge, 'node'> & { node: ResolversParentTypes['Membership'] };
  Mutation: Record<PropertyKey, never>;
  Notification: InboxItemEntity;
  NotificationChannelsInput: NotificationChannelsInput;
  NotificationConnection: Omit<NotificationConnection, 'edges'> & { edges: Array<ResolversParentTypes['NotificationEdge']> };
  NotificationDelivery: DeliveryEntity;
  NotificationDeliveryAttempt: DeliveryAttemptEntity;
  NotificationDeliveryConnection: Omit<NotificationDeliveryConnection, 'edges'> & { edges: Array<ResolversParentTypes['NotificationDeliveryEdge']> };
  NotificationDeliveryEdge: Omit<NotificationDeliveryEdge, 'node'> & { node: ResolversParentTypes['NotificationDelivery'] };
  NotificationEdge: Omit<NotificationEdge, 'node'> & { node: ResolversParentTypes['Notification'] };
  NotificationEndpoint: NotificationEndpointEntity;
  NotificationEndpointWithSecret: Omit<NotificationEndpointWithSecret, 'endpoint'> & { endpoint: ResolversParentTypes['NotificationEndpoint'] };
  NotificationPreference: NotificationPreference;
  NotificationRule: NotificationRule;
  PageInfo: PageInfo;
  Query: Record<PropertyKey, never>;
  SignUpInput: SignUpInput;
  Subscription: Record<PropertyKey, never>;
  TotpConfirmation: TotpConfirmation;
  TotpEnrollment: TotpEnrollment;
  UpdateNotificationEndpointInput: UpdateNotificationEndpointInput;
  UpdateProfileInput: UpdateProfileInput;
  User: UserEntity;
}>;

export type AccountResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['Account'] = ResolversParentTypes['Account'], FederationReferenceType extends FederationReferenceTypes['Account'] = FederationReferenceTypes['Account']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Account']> | FederationReferenceType, FederationReferenceType, ContextType>;
  ancestors?: Resolver<Array<ResolversTypes['Account']>, ParentType, ContextType>;
  apiKeys?: Resolver<Array<ResolversTypes['ApiKey']>, ParentType, ContextType>;
  auditLog?: Resolver<ResolversTypes['AuditEntryConnection'], ParentType, ContextType, Partial<AccountAuditLogArgs>>;
  auditLogVerification?: Resolver<ResolversTypes['AuditLogVerification'], ParentType, ContextType>;
  children?: Resolver<ResolversTypes['AccountConnection'], ParentType, ContextType, RequireFields<AccountChildrenArgs, 'first'>>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  deletedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  members?: Resolver<ResolversTypes['MembershipConnection'], ParentType, ContextType, RequireFields<AccountMembersArgs, 'first'>>;
  myRole?: Resolver<ResolversTypes['Role'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  notificationDeadLetters?: Resolver<ResolversTypes['NotificationDeliveryConnection'], ParentType, ContextType, Partial<AccountNotificationDeadLettersArgs>>;
  notificationEndpoints?: Resolver<Array<ResolversTypes['NotificationEndpoint']>, ParentType, ContextType>;
  notificationRules?: Resolver<Array<ResolversTypes['NotificationRule']>, ParentType, ContextType>;
  parent?: Resolver<Maybe<ResolversTypes['Account']>, ParentType, ContextType>;
  purgeAfter?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  status?: Resolver<ResolversTypes['AccountStatus'], ParentType, ContextType>;
  suspendedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  suspensionReason?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type AccountConnectionResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['AccountConnection'] = ResolversParentTypes['AccountConnection']> = ResolversObject<{
  edges?: Resolver<Array<ResolversTypes['AccountEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
  totalCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type AccountEdgeResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['AccountEdge'] = ResolversParentTypes['AccountEdge']> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Account'], ParentType, ContextType>;
}>;

export type ApiKeyResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['ApiKey'] = ResolversParentTypes['ApiKey']> = ResolversObject<{
  account?: Resolver<ResolversTypes['Account'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  lastUsedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  prefix?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  revokedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  scopes?: Resolver<Array<ResolversTypes['ApiKeyScope']>, ParentType, ContextType>;
}>;

export type AuditActorResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['AuditActor'] = ResolversParentTypes['AuditActor']> = ResolversObject<{
  id?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  ip?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  kind?: Resolver<ResolversTypes['AuditActorKind'], ParentType, ContextType>;
  userAgent?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type AuditEntryResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['AuditEntry'] = ResolversParentTypes['AuditEntry']> = ResolversObject<{
  action?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  actor?: Resolver<ResolversTypes['AuditActor'], ParentType, ContextType>;
  after?: Resolver<Maybe<ResolversTypes['JSON']>, ParentType, ContextType>;
  before?: Resolver<Maybe<ResolversTypes['JSON']>, ParentType, ContextType>;
  details?: Resolver<ResolversTypes['JSON'], ParentType, ContextType>;
  hash?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  occurredAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  sequence?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  target?: Resolver<Maybe<ResolversTypes['AuditTarget']>, ParentType, ContextType>;
}>;

export type AuditEntryConnectionResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['AuditEntryConnection'] = ResolversParentTypes['AuditEntryConnection']> = ResolversObject<{
  edges?: Resolver<Array<ResolversTypes['AuditEntryEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
}>;

export type AuditEntryEdgeResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['AuditEntryEdge'] = ResolversParentTypes['AuditEntryEdge']> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['AuditEntry'], ParentType, ContextType>;
}>;

export type AuditExportResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['AuditExport'] = ResolversParentTypes['AuditExport']> = ResolversObject<{
  expiresAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  url?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type AuditLogVerificationResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['AuditLogVerification'] = ResolversParentTypes['AuditLogVerification']> = ResolversObject<{
  entriesChecked?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  firstInvalidSequence?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  headHash?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  headSequence?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  reason?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  valid?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
}>;

export type AuditTargetResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['AuditTarget'] = ResolversParentTypes['AuditTarget']> = ResolversObject<{
  id?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  type?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type AuthPayloadResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['AuthPayload'] = ResolversParentTypes['AuthPayload']> = ResolversObject<{
  accessToken?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  accessTokenExpiresAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  refreshToken?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  user?: Resolver<ResolversTypes['User'], ParentType, ContextType>;
}>;

export type CreatedApiKeyResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['CreatedApiKey'] = ResolversParentTypes['CreatedApiKey']> = ResolversObject<{
  apiKey?: Resolver<ResolversTypes['ApiKey'], ParentType, ContextType>;
  secret?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export interface DateTimeScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['DateTime'], any> {
  name: 'DateTime';
}

export interface JsonScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['JSON'], any> {
  name: 'JSON';
}

export type MembershipResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['Membership'] = ResolversParentTypes['Membership']> = ResolversObject<{
  account?: Resolver<ResolversTypes['Account'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  email?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  pending?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  role?: Resolver<ResolversTypes['Role'], ParentType, ContextType>;
  user?: Resolver<Maybe<ResolversTypes['User']>, ParentType, ContextType>;
}>;

export type MembershipConnectionResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['MembershipConnection'] = ResolversParentTypes['MembershipConnection']> = ResolversObject<{
  edges?: Resolver<Array<ResolversTypes['MembershipEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
  totalCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type MembershipEdgeResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['MembershipEdge'] = ResolversParentTypes['MembershipEdge']> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Membership'], ParentType, ContextType>;
}>;

export type MutationResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['Mutation'] = ResolversParentTypes['Mutation']> = ResolversObject<{
  addMember?: Resolver<ResolversTypes['Membership'], ParentType, ContextType, RequireFields<MutationAddMemberArgs, 'input'>>;
  changeEmail?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType, RequireFields<MutationChangeEmailArgs, 'currentPassword' | 'newEmail'>>;
  changeMemberRole?: Resolver<ResolversTypes['Membership'], ParentType, ContextType, RequireFields<MutationChangeMemberRoleArgs, 'membershipId' | 'role'>>;
  changePassword?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType, RequireFields<MutationChangePasswordArgs, 'currentPassword' | 'newPassword'>>;
  confirmTotp?: Resolver<ResolversTypes['TotpConfirmation'], ParentType, ContextType, RequireFields<MutationConfirmTotpArgs, 'code'>>;
  createAccount?: Resolver<ResolversTypes['Account'], ParentType, ContextType, RequireFields<MutationCreateAccountArgs, 'input'>>;
  createApiKey?: Resolver<ResolversTypes['CreatedApiKey'], ParentType, ContextType, RequireFields<MutationCreateApiKeyArgs, 'input'>>;
  createNotificationEndpoint?: Resolver<ResolversTypes['NotificationEndpointWithSecret'], ParentType, ContextType, RequireFields<MutationCreateNotificationEndpointArgs, 'input'>>;
  deleteAccount?: Resolver<ResolversTypes['Account'], ParentType, ContextType, RequireFields<MutationDeleteAccountArgs, 'confirmName' | 'id'>>;
  deleteMe?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType, RequireFields<MutationDeleteMeArgs, 'currentPassword'>>;
  deleteNotificationEndpoint?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType, RequireFields<MutationDeleteNotificationEndpointArgs, 'id'>>;
  disableTotp?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType, RequireFields<MutationDisableTotpArgs, 'code'>>;
  enrollTotp?: Resolver<ResolversTypes['TotpEnrollment'], ParentType, ContextType>;
  exportAuditLog?: Resolver<ResolversTypes['AuditExport'], ParentType, ContextType, RequireFields<MutationExportAuditLogArgs, 'accountId' | 'format'>>;
  logIn?: Resolver<ResolversTypes['AuthPayload'], ParentType, ContextType, RequireFields<MutationLogInArgs, 'input'>>;
  logOut?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  markNotificationsRead?: Resolver<ResolversTypes['Int'], ParentType, ContextType, Partial<MutationMarkNotificationsReadArgs>>;
  redeliverNotification?: Resolver<ResolversTypes['NotificationDelivery'], ParentType, ContextType, RequireFields<MutationRedeliverNotificationArgs, 'deliveryId'>>;
  refreshSession?: Resolver<ResolversTypes['AuthPayload'], ParentType, ContextType, RequireFields<MutationRefreshSessionArgs, 'refreshToken'>>;
  removeMember?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType, RequireFields<MutationRemoveMemberArgs, 'membershipId'>>;
  renameAccount?: Resolver<ResolversTypes['Account'], ParentType, ContextType, RequireFields<MutationRenameAccountArgs, 'id' | 'name'>>;
  requestPasswordReset?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType, RequireFields<MutationRequestPasswordResetArgs, 'email'>>;
  resendVerificationEmail?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  resetPassword?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType, RequireFields<MutationResetPasswordArgs, 'newPassword' | 'token'>>;
  restoreAccount?: Resolver<ResolversTypes['Account'], ParentType, ContextType, RequireFields<MutationRestoreAccountArgs, 'id'>>;
  revokeApiKey?: Resolver<ResolversTypes['ApiKey'], ParentType, ContextType, RequireFields<MutationRevokeApiKeyArgs, 'id'>>;
  rotateNotificationEndpointSecret?: Resolver<ResolversTypes['NotificationEndpointWithSecret'], ParentType, ContextType, RequireFields<MutationRotateNotificationEndpointSecretArgs, 'id'>>;
  setNotificationPreference?: Resolver<ResolversTypes['NotificationPreference'], ParentType, ContextType, RequireFields<MutationSetNotificationPreferenceArgs, 'preference'>>;
  setNotificationRule?: Resolver<ResolversTypes['NotificationRule'], ParentType, ContextType, RequireFields<MutationSetNotificationRuleArgs, 'accountId' | 'rule'>>;
  signUp?: Resolver<ResolversTypes['AuthPayload'], ParentType, ContextType, RequireFields<MutationSignUpArgs, 'input'>>;
  updateNotificationEndpoint?: Resolver<ResolversTypes['NotificationEndpoint'], ParentType, ContextType, RequireFields<MutationUpdateNotificationEndpointArgs, 'id' | 'input'>>;
  updateProfile?: Resolver<ResolversTypes['User'], ParentType, ContextType, RequireFields<MutationUpdateProfileArgs, 'input'>>;
  verifyEmail?: Resolver<ResolversTypes['User'], ParentType, ContextType, RequireFields<MutationVerifyEmailArgs, 'token'>>;
}>;

export type NotificationResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['Notification'] = ResolversParentTypes['Notification'], FederationReferenceType extends FederationReferenceTypes['Notification'] = FederationReferenceTypes['Notification']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Notification']> | FederationReferenceType, FederationReferenceType, ContextType>;
  account?: Resolver<ResolversTypes['Account'], ParentType, ContextType>;
  body?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  event?: Resolver<ResolversTypes['NotificationEvent'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  read?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  readAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  title?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type NotificationConnectionResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['NotificationConnection'] = ResolversParentTypes['NotificationConnection']> = ResolversObject<{
  edges?: Resolver<Array<ResolversTypes['NotificationEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
}>;

export type NotificationDeliveryResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['NotificationDelivery'] = ResolversParentTypes['NotificationDelivery']> = ResolversObject<{
  attemptLog?: Resolver<Array<ResolversTypes['NotificationDeliveryAttempt']>, ParentType, ContextType>;
  attempts?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  channel?: Resolver<ResolversTypes['NotificationChannel'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  deliveredAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  event?: Resolver<Maybe<ResolversTypes['NotificationEvent']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  lastError?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  lastResponseCode?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  nextAttemptAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  recipient?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  status?: Resolver<ResolversTypes['NotificationDeliveryStatus'], ParentType, ContextType>;
  title?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type NotificationDeliveryAttemptResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['NotificationDeliveryAttempt'] = ResolversParentTypes['NotificationDeliveryAttempt']> = ResolversObject<{
  at?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  error?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  latencyMs?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  responseCode?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  succeeded?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
}>;

export type NotificationDeliveryConnectionResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['NotificationDeliveryConnection'] = ResolversParentTypes['NotificationDeliveryConnection']> = ResolversObject<{
  edges?: Resolver<Array<ResolversTypes['NotificationDeliveryEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
}>;

export type NotificationDeliveryEdgeResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['NotificationDeliveryEdge'] = ResolversParentTypes['NotificationDeliveryEdge']> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['NotificationDelivery'], ParentType, ContextType>;
}>;

export type NotificationEdgeResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['NotificationEdge'] = ResolversParentTypes['NotificationEdge']> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Notification'], ParentType, ContextType>;
}>;

export type NotificationEndpointResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['NotificationEndpoint'] = ResolversParentTypes['NotificationEndpoint']> = ResolversObject<{
  account?: Resolver<ResolversTypes['Account'], ParentType, ContextType>;
  consecutiveFailures?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  deliveries?: Resolver<ResolversTypes['NotificationDeliveryConnection'], ParentType, ContextType, Partial<NotificationEndpointDeliveriesArgs>>;
  disabledAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  disabledReason?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  enabled?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  events?: Resolver<Array<ResolversTypes['NotificationEvent']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  kind?: Resolver<ResolversTypes['NotificationEndpointKind'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  url?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type NotificationEndpointWithSecretResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['NotificationEndpointWithSecret'] = ResolversParentTypes['NotificationEndpointWithSecret']> = ResolversObject<{
  endpoint?: Resolver<ResolversTypes['NotificationEndpoint'], ParentType, ContextType>;
  secret?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type NotificationPreferenceResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['NotificationPreference'] = ResolversParentTypes['NotificationPreference']> = ResolversObject<{
  email?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  event?: Resolver<ResolversTypes['NotificationEvent'], ParentType, ContextType>;
  inApp?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
}>;

export type NotificationRuleResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['NotificationRule'] = ResolversParentTypes['NotificationRule']> = ResolversObject<{
  email?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  event?: Resolver<ResolversTypes['NotificationEvent'], ParentType, ContextType>;
  inApp?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
}>;

export type PageInfoResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['PageInfo'] = ResolversParentTypes['PageInfo']> = ResolversObject<{
  endCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  hasNextPage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
}>;

export type QueryResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['Query'] = ResolversParentTypes['Query']> = ResolversObject<{
  account?: Resolver<ResolversTypes['Account'], ParentType, ContextType, RequireFields<QueryAccountArgs, 'id'>>;
  accounts?: Resolver<ResolversTypes['AccountConnection'], ParentType, ContextType, RequireFields<QueryAccountsArgs, 'first'>>;
  me?: Resolver<ResolversTypes['User'], ParentType, ContextType>;
}>;

export type SubscriptionResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['Subscription'] = ResolversParentTypes['Subscription']> = ResolversObject<{
  notificationAdded?: SubscriptionResolver<ResolversTypes['Notification'], "notificationAdded", ParentType, ContextType, RequireFields<SubscriptionNotificationAddedArgs, 'accountId'>>;
}>;

export type TotpConfirmationResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['TotpConfirmation'] = ResolversParentTypes['TotpConfirmation']> = ResolversObject<{
  recoveryCodes?: Resolver<Array<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type TotpEnrollmentResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['TotpEnrollment'] = ResolversParentTypes['TotpEnrollment']> = ResolversObject<{
  otpauthUri?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  secret?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type UserResolvers<ContextType = AccountsContext, ParentType extends ResolversParentTypes['User'] = ResolversParentTypes['User'], FederationReferenceType extends FederationReferenceTypes['User'] = FederationReferenceTypes['User']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['User']> | FederationReferenceType, FederationReferenceType, ContextType>;
  avatarUrl?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  defaultScheduleTimeZone?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  email?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  emailVerified?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  locale?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  memberships?: Resolver<ResolversTypes['MembershipConnection'], ParentType, ContextType, RequireFields<UserMembershipsArgs, 'first'>>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  notificationPreferences?: Resolver<Array<ResolversTypes['NotificationPreference']>, ParentType, ContextType>;
  notifications?: Resolver<ResolversTypes['NotificationConnection'], ParentType, ContextType, Partial<UserNotificationsArgs>>;
  timeZone?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  totpEnabled?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  unreadNotificationCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type Resolvers<ContextType = AccountsContext> = ResolversObject<{
  Account?: AccountResolvers<ContextType>;
  AccountConnection?: AccountConnectionResolvers<ContextType>;
  AccountEdge?: AccountEdgeResolvers<ContextType>;
  ApiKey?: ApiKeyResolvers<ContextType>;
  AuditActor?: AuditActorResolvers<ContextType>;
  AuditEntry?: AuditEntryResolvers<ContextType>;
  AuditEntryConnection?: AuditEntryConnectionResolvers<ContextType>;
  AuditEntryEdge?: AuditEntryEdgeResolvers<ContextType>;
  AuditExport?: AuditExportResolvers<ContextType>;
  AuditLogVerification?: AuditLogVerificationResolvers<ContextType>;
  AuditTarget?: AuditTargetResolvers<ContextType>;
  AuthPayload?: AuthPayloadResolvers<ContextType>;
  CreatedApiKey?: CreatedApiKeyResolvers<ContextType>;
  DateTime?: GraphQLScalarType;
  JSON?: GraphQLScalarType;
  Membership?: MembershipResolvers<ContextType>;
  MembershipConnection?: MembershipConnectionResolvers<ContextType>;
  MembershipEdge?: MembershipEdgeResolvers<ContextType>;
  Mutation?: MutationResolvers<ContextType>;
  Notification?: NotificationResolvers<ContextType>;
  NotificationConnection?: NotificationConnectionResolvers<ContextType>;
  NotificationDelivery?: NotificationDeliveryResolvers<ContextType>;
  NotificationDeliveryAttempt?: NotificationDeliveryAttemptResolvers<ContextType>;
  NotificationDeliveryConnection?: NotificationDeliveryConnectionResolvers<ContextType>;
  NotificationDeliveryEdge?: NotificationDeliveryEdgeResolvers<ContextType>;
  NotificationEdge?: NotificationEdgeResolvers<ContextType>;
  NotificationEndpoint?: NotificationEndpointResolvers<ContextType>;
  NotificationEndpointWithSecret?: NotificationEndpointWithSecretResolvers<ContextType>;
  NotificationPreference?: NotificationPreferenceResolvers<ContextType>;
  NotificationRule?: NotificationRuleResolvers<ContextType>;
  PageInfo?: PageInfoResolvers<ContextType>;
  Query?: QueryResolvers<ContextType>;
  Subscription?: SubscriptionResolvers<ContextType>;
  TotpConfirmation?: TotpConfirmationResolvers<ContextType>;
  TotpEnrollment?: TotpEnrollmentResolvers<ContextType>;
  User?: UserResolvers<ContextType>;
}>;

