import type { IncomingMessage, ServerResponse } from 'node:http';
import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import { AccessChecker, can } from '@listbackup/lib/access';
import type { Em, Orm } from '@listbackup/lib/db';
import { AppError, NotFoundError, UnauthenticatedError, ValidationError } from '@listbackup/lib/errors';
import { assertPlainText } from '@listbackup/lib/text';
import { uuidv7 } from '@listbackup/lib/events/envelope';
import { actorOf, createEvent } from '@listbackup/lib/events/contract';
import { enqueueEvent } from '@listbackup/lib/events/outbox';
import { graphqlErrorBody, sendJson } from '@listbackup/lib/http';
import { checkPasswordPolicy, hashPassword, passwordNeedsRehash, verifyPassword, type PasswordProblem } from '@listbackup/lib/passwords';
import type { Principal } from '@listbackup/lib/principal';
import type { InternalRoute } from '@listbackup/lib/subgraph';
import { generateTotpSecret, totpUri } from '@listbackup/lib/totp';
import type { AccountsContext } from '../context.ts';
import { ApiKey } from '../entities/api-key.ts';
import { Membership } from '../entities/membership.ts';
import { InboxItem, NotificationPreference } from '../entities/notification.ts';
import { Delivery } from '../entities/notification-delivery.ts';
import { RecoveryCode } from '../entities/recovery-code.ts';
import { UserToken } from '../entities/user-token.ts';
import { deleteAccountsLeftWithoutOwner } from './account-lifecycle.ts';
import { Session } from '../entities/session.ts';
import { User } from '../entities/user.ts';
import { LocalAccessResolver } from './access.ts';
import { createPersonalAccount } from './account-service.ts';
import { recordEvent, userTenant } from './account-events.ts';
import { sendVerification } from './user-lifecycle.ts';
import { isValidEmail, normalizeEmail, parseEmail } from './identity-email.ts';
import { InvalidTotpError, TOTP_ISSUER, consumeSecondFactor, issueRecoveryCodes, matchTotp, type SecondFactor } from './identity-totp.ts';
import { assertNotThrottled, clearFailures, clientAddress, recordFailure, throttleKeys } from './login-throttle.ts';
import { REFRESH_TOKEN_TTL_MS, currentJwks, hashToken, issueAccessToken, looksLikeRefreshToken, newRefreshToken } from './tokens.ts';
import { isUuid } from '@listbackup/lib/ids';

export { currentJwks } from './tokens.ts';

export const MAX_USER_NAME_LENGTH = 100;
/** Old refresh-token hashes kept per session to detect reuse; older ones are merely unknown. */
const MAX_ROTATED_HASHES = 100;

export interface AuthPayload {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  user: User;
}

// ---------------------------------------------------------------------------------------------
// Errors: each a stable code and a message a person can act on.

export class InvalidCredentialsError extends AppError {
  constructor(message = 'Email or password is incorrect.') {
    super('INVALID_CREDENTIALS', message);
  }
}

export class WeakPasswordError extends AppError {
  constructor(problems: PasswordProblem[], field = 'password') {
    super('WEAK_PASSWORD', `Choose a stronger password: ${problems.map((problem) => problem.message).join(' ')}`, {
      field,
      problems: problems.map((problem) => problem.code),
    });
  }
}

export class EmailTakenError extends AppError {
  constructor() {
    super('EMAIL_TAKEN', 'An account with this email already exists. Sign in instead.', { field: 'email' });
  }
}

export class InvalidRefreshTokenError extends AppError {
  constructor() {
    super('INVALID_REFRESH_TOKEN', 'The refresh token is invalid, expired or was already used. Sign in again.');
  }
}


// ---------------------------------------------------------------------------------------------
// Who is calling

/** The signed-in user's principal; API keys and anonymous callers are refused. */
export function requireUserPrincipal(ctx: AccountsContext): Extract<Principal, { kind: 'user' }> {
  const principal = ctx.principal;
  if (principal.kind === 'apiKey') {
    throw new UnauthenticatedError('An API key acts for an account, not a person: sign in as a user for this.');
  }
  if (principal.kind !== 'user' || !isUuid(principal.userId) || !isUuid(principal.sessionId)) throw new UnauthenticatedError();
  return principal;
}

/** `me`: the user behind the access token. */
export async function currentUser(ctx: AccountsContext): Promise<User> {
  const { userId } = await requireActiveSession(ctx);
  const user = await ctx.loaders.user.load(userId);
  if (!user) throw new UnauthenticatedError('This user no longer exists.');
  return user;
}

/**
 * A user the caller may see: itself, or a member of an account where the caller may read members.
 * Anyone else is "not found", whether or not they exist (`_entities` included).
 */
export async function getUser(ctx: AccountsContext, id: string): Promise<User> {
  if (!isUuid(id)) throw new NotFoundError('User');
  const principal = ctx.principal;
  const self = principal.kind === 'user' && principal.userId === id;
  if (!self) {
    const memberships = await ctx.loaders.membershipsOfUser.load(id);
    const visible = await Promise.all(memberships.map((membership) => can(ctx, 'members:read', membership.accountId)));
    if (!visible.includes(true)) throw new NotFoundError('User');
  }
  const user = await ctx.loaders.user.load(id);
  if (!user) throw new NotFoundError('User');
  return user;
}

/**
 * Whatever acts as the signed-in person (`me`, sensitive changes, creating a root account) needs a
 * session that is still alive, not just an unexpired access token: signing out ends it at once.
 */
export async function requireActiveSession(ctx: AccountsContext): Promise<{ userId: string; sessionId: string }> {
  const { userId, sessionId } = requireUserPrincipal(ctx);
  // The gateway checked it for this request, and drops its answer on the session's revocation event.
  if (ctx.access.vouchedLive) return { userId, sessionId };
  const session = await ctx.em.fork().findOne(Session, { id: sessionId, userId });
  if (!session || session.revokedAt || session.expiresAt.getTime() <= Date.now()) {
    throw new UnauthenticatedError('This session has ended. Sign in again.');
  }
  return { userId, sessionId };
}

/**
 * After signing in, the rest of this request (the payload's nested fields) runs as the new user,
 * so `signUp { user { memberships { edges { node { account { name } } } } } }` answers like a later `me` would.
 */
function actAs(ctx: AccountsContext, principal: Principal): void {
  const orm = { config: ctx.em.config, em: ctx.em } as unknown as Orm; // all LocalAccessResolver uses
  ctx.principal = principal;
  ctx.access = new AccessChecker(principal, new LocalAccessResolver(orm));
}

// ---------------------------------------------------------------------------------------------
// Sign-up, sign-in, sessions

export function validUserName(value: string): string {
  const name = assertPlainText(String(value ?? ''), 'name').normalize('NFKC').trim().replace(/\s+/g, ' ');
  if (name.length === 0 || name.length > MAX_USER_NAME_LENGTH || /\p{Cc}/u.test(name)) {
    throw new ValidationError(`Enter your name (1 to ${MAX_USER_NAME_LENGTH} characters).`, 'name');
  }
  return name;
}

function assertStrongPassword(password: string, context: { email: string; name: string }): void {
  const problems = checkPasswordPolicy(String(password ?? ''), context);
  if (problems.length > 0) throw new WeakPasswordError(problems);
}

interface SignedIn {
  payload: AuthPayload;
  sessionId: string;
}

/** A new session with its first refresh token, and an access token for it (in the caller's transaction). */
async function startSession(tx: Em, ctx: AccountsContext, user: User): Promise<SignedIn> {
  const now = new Date();
  const refresh = newRefreshToken();
  const session = tx.create(Session, {
    id: uuidv7(),
    userId: user.id,
    refreshTokenHash: refresh.hash,
    rotatedTokenHashes: [],
    createdAt: now,
    lastRefreshedAt: now,
    expiresAt: new Date(now.getTime() + REFRESH_TOKEN_TTL_MS),
    revokedAt: null,
    revokedReason: null,
    userAgent: null,
    ip: clientAddress(ctx.clientIp) ?? null,
  });
  const access = await issueAccessToken(tx, user.id, session.id);
  return { payload: { accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken: refresh.token, user }, sessionId: session.id };
}

function finish(ctx: AccountsContext, { payload, sessionId }: SignedIn): AuthPayload {
  actAs(ctx, { kind: 'user', userId: payload.user.id, sessionId });
  ctx.loaders.user.clear(payload.user.id).prime(payload.user.id, payload.user);
  return payload;
}

export interface SignUpInput {
  email: string;
  password: string;
  name: string;
}

/**
 * Creates the user, their personal account (owned by them) and claims invitations sent to their
 * address, with `user.created` and `account.created` in the outbox, all in one transaction; then
 * signs them in. Bad input changes nothing.
 */
export async function signUp(ctx: AccountsContext, input: SignUpInput): Promise<AuthPayload> {
  const email = parseEmail(input.email);
  const name = validUserName(input.name);
  assertStrongPassword(input.password, { email, name });
  if ((await ctx.em.fork().count(User, { email })) > 0) throw new EmailTakenError();
  const passwordHash = await hashPassword(input.password);

  let signedIn: SignedIn;
  try {
    signedIn = await ctx.em.fork().transactional(async (tx) => {
      const now = new Date();
      const user = tx.create(User, {
        id: uuidv7(),
        email,
        name,
        passwordHash,
        totpSecret: null,
        totpEnabledAt: null,
        totpLastStep: null,
        emailVerifiedAt: null,
        createdAt: now,
        updatedAt: now,
      });
      // The new user is the actor of their own sign-up.
      const actor = actorOf({ ...ctx, principal: { kind: 'user', userId: user.id, sessionId: '' } });
      const account = await createPersonalAccount(tx, user, actor);
      enqueueEvent(tx, createEvent('user.created', account.id, user.id, { userId: user.id, email, name, personalAccountId: account.id }, { actor }));
      await sendVerification(tx, ctx, user);
      return startSession(tx, ctx, user);
    });
  } catch (error) {
    // Two sign-ups with one address at the same moment: the unique index decides.
    if (error instanceof UniqueConstraintViolationException) throw new EmailTakenError();
    throw error;
  }
  ctx.log.info({ userId: signedIn.payload.user.id }, 'user signed up');
  return finish(ctx, signedIn);
}

export interface LogInInput {
  email: string;
  password: string;
  totp?: string | null;
}

/**
 * One answer for an unknown email and a wrong password (and the same argon2 work for both), so
 * the response does not tell which addresses have accounts. Failures are throttled per email and
 * per client IP.
 */
export async function logIn(ctx: AccountsContext, input: LogInInput): Promise<AuthPayload> {
  const email = normalizeEmail(input.email);
  const keys = throttleKeys(email, ctx.clientIp);
  await assertNotThrottled(ctx.em, keys);

  const user = isValidEmail(email) ? await ctx.em.fork().findOne(User, { email }, { populate: ['passwordHash', 'totpSecret'] }) : null;
  const passwordOk = await verifyPassword(user?.passwordHash ?? null, String(input.password ?? ''));
  if (!user || !passwordOk) {
    await recordFailure(ctx.em, keys);
    if (user) await recordLoginFailure(ctx, user.id, 'password');
    ctx.log.info({ known: Boolean(user) }, 'sign-in refused: bad credentials');
    throw new InvalidCredentialsError();
  }

  let secondFactor: SecondFactor | null = null;
  if (user.totpEnabledAt && user.totpSecret) {
    if (!input.totp?.trim()) {
      throw new AppError('TOTP_REQUIRED', 'Enter the 6-digit code from your authenticator app, or one of your recovery codes.', { field: 'totp' });
    }
    secondFactor = await consumeSecondFactor(ctx.em.fork(), user, user.totpSecret, input.totp);
    if (!secondFactor) {
      await recordFailure(ctx.em, keys);
      await recordLoginFailure(ctx, user.id, 'second_factor');
      throw new InvalidTotpError();
    }
  }
  await clearFailures(ctx.em, keys[0].key);

  const password = String(input.password);
  const newHash = passwordNeedsRehash(user.passwordHash) ? await hashPassword(password) : null;
  const signedIn = await ctx.em.fork().transactional(async (tx) => {
    const fresh = await tx.findOneOrFail(User, user.id);
    if (newHash) await tx.nativeUpdate(User, { id: user.id }, { passwordHash: newHash });
    const started = await startSession(tx, ctx, fresh);
    const tenant = await userTenant(tx, user.id);
    enqueueEvent(
      tx,
      createEvent(
        'user.login',
        tenant,
        user.id,
        { userId: user.id, sessionId: started.sessionId, method: secondFactor ? `password+${secondFactor}` : 'password' },
        { actor: actorOf({ ...ctx, principal: { kind: 'user', userId: user.id, sessionId: started.sessionId } }) },
      ),
    );
    return started;
  });
  ctx.log.info({ userId: user.id }, 'user signed in');
  return finish(ctx, signedIn);
}

/** `user.login_failed` for a known user, by the anonymous caller that tried. */
async function recordLoginFailure(ctx: AccountsContext, userId: string, reason: 'password' | 'second_factor'): Promise<void> {
  const em = ctx.em.fork();
  recordEvent(em, ctx, 'user.login_failed', await userTenant(em, userId), userId, { userId, reason });
  await em.flush();
}

/**
 * Exchanges a refresh token for a new pair. The session row is locked, so of two concurrent
 * refreshes with one token only the first succeeds; the second then presents a rotated token,
 * which is what a stolen token looks like, and the whole session is revoked.
 */
export async function refreshSession(ctx: AccountsContext, refreshToken: string): Promise<AuthPayload> {
  if (!looksLikeRefreshToken(refreshToken)) throw new InvalidRefreshTokenError();
  const hash = hashToken(refreshToken);
  const outcome = await ctx.em.fork().transactional(async (tx): Promise<SignedIn | { reused: Session | null }> => {
    const now = new Date();
    const session = await tx.findOne(Session, { refreshTokenHash: hash }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!session) {
      const family = await tx.findOne(Session, { rotatedTokenHashes: { $contains: [hash] } }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (family && !family.revokedAt) {
        family.revokedAt = now;
        family.revokedReason = 'refresh_token_reused';
        recordEvent(tx, ctx, 'user.session_revoked', await userTenant(tx, family.userId), family.userId, { userId: family.userId, sessionId: family.id, reason: 'refresh_token_reused' });
        return { reused: family };
      }
      return { reused: null };
    }
    if (session.revokedAt || session.expiresAt.getTime() <= now.getTime()) return { reused: null };
    const user = await tx.findOne(User, session.userId);
    if (!user) return { reused: null };
    const next = newRefreshToken();
    session.rotatedTokenHashes = [...session.rotatedTokenHashes, hash].slice(-MAX_ROTATED_HASHES);
    session.refreshTokenHash = next.hash;
    session.lastRefreshedAt = now;
    session.expiresAt = new Date(now.getTime() + REFRESH_TOKEN_TTL_MS);
    const access = await issueAccessToken(tx, user.id, session.id);
    return { payload: { accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken: next.token, user }, sessionId: session.id };
  });
  if ('reused' in outcome) {
    if (outcome.reused) ctx.log.warn({ userId: outcome.reused.userId, sessionId: outcome.reused.id }, 'rotated refresh token presented again; session revoked');
    throw new InvalidRefreshTokenError();
  }
  return finish(ctx, outcome);
}

/** Ends the caller's session: its refresh token stops working. Idempotent. */
export async function logOut(ctx: AccountsContext): Promise<boolean> {
  const { userId, sessionId } = requireUserPrincipal(ctx);
  await ctx.em.fork().transactional(async (tx) => {
    const ended = await tx.nativeUpdate(Session, { id: sessionId, userId, revokedAt: null }, { revokedAt: new Date(), revokedReason: 'logged_out' });
    if (ended > 0) recordEvent(tx, ctx, 'user.logout', await userTenant(tx, userId), userId, { userId, sessionId });
  });
  return true;
}

/** Needs the current password; ends every other session of the user. */
export async function changePassword(ctx: AccountsContext, currentPassword: string, newPassword: string): Promise<boolean> {
  const { userId, sessionId } = await requireActiveSession(ctx);
  const user = await ctx.em.fork().findOneOrFail(User, userId, { populate: ['passwordHash'] });
  assertStrongPassword(newPassword, { email: user.email, name: user.name });
  const keys = throttleKeys(user.email, ctx.clientIp);
  await assertNotThrottled(ctx.em, keys);
  if (!(await verifyPassword(user.passwordHash, String(currentPassword ?? '')))) {
    await recordFailure(ctx.em, keys);
    throw new InvalidCredentialsError('The current password is incorrect.');
  }
  const passwordHash = await hashPassword(newPassword);
  await ctx.em.fork().transactional(async (tx) => {
    await tx.nativeUpdate(User, { id: userId }, { passwordHash, updatedAt: new Date() });
    await tx.nativeUpdate(
      Session,
      { userId, id: { $ne: sessionId }, revokedAt: null },
      { revokedAt: new Date(), revokedReason: 'password_changed' },
    );
    recordEvent(tx, ctx, 'user.password_changed', await userTenant(tx, userId), userId, { userId, method: 'change' });
  });
  ctx.log.info({ userId }, 'password changed; other sessions revoked');
  return true;
}

/**
 * Erases the signed-in user (GDPR), confirmed by their password: every session, the API keys they
 * made, their memberships (each `member.removed`), tokens, recovery codes, notification settings,
 * in-app notifications and unsent email, and the profile. The accounts they leave without an
 * owner are deleted with them and purged by the next pass, with their data. `user.deleted` last.
 */
export async function deleteMe(ctx: AccountsContext, currentPassword: string): Promise<boolean> {
  const { userId } = await requireActiveSession(ctx);
  const user = await ctx.em.fork().findOneOrFail(User, userId, { populate: ['passwordHash'] });
  const keys = throttleKeys(user.email, ctx.clientIp);
  await assertNotThrottled(ctx.em, keys);
  if (!(await verifyPassword(user.passwordHash, String(currentPassword ?? '')))) {
    await recordFailure(ctx.em, keys);
    throw new InvalidCredentialsError('The password is incorrect.');
  }
  await ctx.em.fork().transactional(async (tx) => {
    const now = new Date();
    const tenant = await userTenant(tx, userId);
    const accountIds = await deleteAccountsLeftWithoutOwner(tx, ctx, userId, now);
    for (const membership of await tx.find(Membership, { userId })) {
      recordEvent(tx, ctx, 'member.removed', membership.accountId, membership.id, { membershipId: membership.id, accountId: membership.accountId, email: membership.email, userId, role: membership.role });
    }
    for (const key of await tx.find(ApiKey, { createdBy: userId, revokedAt: null })) {
      recordEvent(tx, ctx, 'apikey.revoked', key.accountId, key.id, { apiKeyId: key.id, name: key.name });
    }
    await tx.nativeDelete(ApiKey, { createdBy: userId });
    await tx.nativeDelete(Membership, { userId });
    // Invitations the user sent stay with their accounts, without naming who sent them.
    await tx.nativeUpdate(Membership, { invitedBy: userId }, { invitedBy: null });
    await tx.nativeDelete(Session, { userId });
    await tx.nativeDelete(RecoveryCode, { userId });
    await tx.nativeDelete(UserToken, { userId });
    await tx.nativeDelete(NotificationPreference, { userId });
    await tx.nativeDelete(InboxItem, { userId });
    await tx.execute(`delete from "accounts"."notification_delivery_attempts" where delivery_id in (select id from "accounts"."notification_deliveries" where user_id = ? and status <> 'DELIVERED')`, [userId]);
    await tx.nativeDelete(Delivery, { userId, status: { $ne: 'DELIVERED' } });
    await tx.nativeUpdate(Delivery, { userId }, { userId: null, recipient: 'erased' });
    await tx.nativeDelete(User, { id: userId });
    recordEvent(tx, ctx, 'user.deleted', tenant, userId, { userId, accountIds });
  });
  ctx.access.clear();
  ctx.log.info({ userId }, 'user deleted themself');
  return true;
}

// ---------------------------------------------------------------------------------------------
// TOTP

/** Starts (or restarts) enrolment with a new secret; TOTP is not required until `confirmTotp`. */
export async function enrollTotp(ctx: AccountsContext): Promise<{ secret: string; otpauthUri: string }> {
  const { userId } = await requireActiveSession(ctx);
  const em = ctx.em.fork();
  const user = await em.findOneOrFail(User, userId);
  if (user.totpEnabledAt) throw totpAlreadyEnabled();
  const secret = generateTotpSecret();
  user.totpSecret = secret;
  user.totpLastStep = null;
  await em.flush();
  return { secret, otpauthUri: totpUri({ secret, accountName: user.email, issuer: TOTP_ISSUER }) };
}

/** Turns TOTP on with a first valid code and returns the recovery codes, shown this once. */
export async function confirmTotp(ctx: AccountsContext, code: string): Promise<{ recoveryCodes: string[] }> {
  const { userId } = await requireActiveSession(ctx);
  const codes = await ctx.em.fork().transactional(async (tx) => {
    const user = await tx.findOneOrFail(User, userId, { populate: ['totpSecret'], lockMode: LockMode.PESSIMISTIC_WRITE });
    if (user.totpEnabledAt) throw totpAlreadyEnabled();
    if (!user.totpSecret) throw new AppError('TOTP_NOT_ENROLLED', 'Start with enrollTotp, add the secret to your authenticator app, then confirm with a code.');
    const step = matchTotp(user.totpSecret, code);
    if (step === null) throw new InvalidTotpError();
    user.totpEnabledAt = new Date();
    user.totpLastStep = step;
    recordEvent(tx, ctx, 'user.mfa_enabled', await userTenant(tx, userId), userId, { userId, method: 'totp' });
    return issueRecoveryCodes(tx, userId);
  });
  ctx.loaders.user.clear(userId);
  ctx.log.info({ userId }, 'TOTP enabled');
  return { recoveryCodes: codes };
}

/** Turns TOTP off; needs a current code or an unused recovery code. */
export async function disableTotp(ctx: AccountsContext, code: string): Promise<boolean> {
  const { userId } = await requireActiveSession(ctx);
  const user = await ctx.em.fork().findOneOrFail(User, userId, { populate: ['totpSecret'] });
  if (!user.totpEnabledAt || !user.totpSecret) throw new AppError('TOTP_NOT_ENABLED', 'Two-factor authentication is not turned on.');
  const keys = throttleKeys(user.email, ctx.clientIp);
  await assertNotThrottled(ctx.em, keys);
  await ctx.em.fork().transactional(async (tx) => {
    if (!(await consumeSecondFactor(tx, user, user.totpSecret!, code))) throw new InvalidTotpError();
    await tx.nativeUpdate(User, { id: userId }, { totpSecret: null, totpEnabledAt: null, totpLastStep: null, updatedAt: new Date() });
    await tx.nativeDelete(RecoveryCode, { userId });
    recordEvent(tx, ctx, 'user.mfa_disabled', await userTenant(tx, userId), userId, { userId, method: 'totp' });
  }).catch(async (error: unknown) => {
    if (error instanceof InvalidTotpError) await recordFailure(ctx.em, keys);
    throw error;
  });
  ctx.loaders.user.clear(userId);
  ctx.log.info({ userId }, 'TOTP disabled');
  return true;
}

function totpAlreadyEnabled(): AppError {
  return new AppError('TOTP_ALREADY_ENABLED', 'Two-factor authentication is already on. Turn it off first to enrol another device.');
}

// ---------------------------------------------------------------------------------------------
// Internal routes

export const JWKS_PATH = '/internal/jwks';

/** `GET /internal/jwks`: the public keys that verify access tokens, for the gateway. */
export function jwksRoute(orm: Orm): InternalRoute {
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET') return sendJson(res, 405, graphqlErrorBody('BAD_REQUEST', 'Use GET'), { allow: 'GET' });
    sendJson(res, 200, await currentJwks(orm.em.fork()), { 'cache-control': 'no-store' });
  };
}

export function identityInternalRoutes(orm: Orm): Record<string, InternalRoute> {
  return { [JWKS_PATH]: jwksRoute(orm) };
}
