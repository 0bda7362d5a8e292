import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { Em, Orm } from '@listbackup/lib/db';
import { AppError, UnauthenticatedError, ValidationError } from '@listbackup/lib/errors';
import { uuidv7 } from '@listbackup/lib/events/envelope';
import { actorOf } from '@listbackup/lib/events/contract';
import { checkPasswordPolicy, hashPassword, verifyPassword } from '@listbackup/lib/passwords';
import type { InternalRoute } from '@listbackup/lib/subgraph';
import { CLIENT_IP_HEADER, USER_AGENT_HEADER } from '@listbackup/lib/subgraph';
import type { AccountsContext } from '../context.ts';
import { Membership } from '../entities/membership.ts';
import { Delivery } from '../entities/notification-delivery.ts';
import { Session } from '../entities/session.ts';
import { User } from '../entities/user.ts';
import { UserToken, type TokenPurpose } from '../entities/user-token.ts';
import { recordEvent, userTenant } from './account-events.ts';
import { parseEmail } from './identity-email.ts';

const VERIFY_LIFETIME_MS = 48 * 60 * 60_000;
const RESET_LIFETIME_MS = 30 * 60_000;
export const VERIFY_EMAIL_ROUTE = '/internal/verify-email';
export const PUBLIC_VERIFY_EMAIL_PATH = '/verify-email';

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * A single-use token for `purpose`, stored hashed, and the email that carries it, queued for the
 * notifications worker in the same transaction.
 */
async function sendToken(tx: Em, publicUrl: string, user: User, purpose: TokenPurpose, email: string): Promise<void> {
  const token = `lbt_${randomBytes(32).toString('base64url')}`;
  const now = new Date();
  tx.create(UserToken, {
    id: uuidv7(),
    userId: user.id,
    purpose,
    tokenHash: hashToken(token),
    email,
    expiresAt: new Date(now.getTime() + (purpose === 'RESET_PASSWORD' ? RESET_LIFETIME_MS : VERIFY_LIFETIME_MS)),
    usedAt: null,
    createdAt: now,
  });
  const link = new URL(`${PUBLIC_VERIFY_EMAIL_PATH}?token=${token}`, publicUrl).toString();
  const message =
    purpose === 'VERIFY_EMAIL'
      ? {
          subject: '[ListBackup] Confirm your email address',
          text: `Hello ${user.name},\n\nConfirm that ${email} is yours by opening this link within 48 hours:\n\n${link}\n\n(or run the mutation verifyEmail(token: "${token}")).\nUntil then, invitations to this address wait, and no notification is emailed to it.\n`,
        }
      : {
          subject: '[ListBackup] Reset your password',
          text: `Hello ${user.name},\n\nSomeone asked to reset the password of ${email}. If it was you, run the mutation\n\n  resetPassword(token: "${token}", newPassword: "…")\n\nwithin 30 minutes. It signs you out everywhere. If it was not you, ignore this message.\n`,
        };
  const accountId = await userTenant(tx, user.id);
  tx.create(Delivery, {
    id: uuidv7(),
    notificationId: null,
    accountId,
    channel: 'EMAIL',
    endpointId: null,
    userId: user.id,
    recipient: email,
    subject: message.subject,
    text: message.text,
    status: 'PENDING',
    attempts: 0,
    nextAttemptAt: now,
    lockedUntil: null,
    lastResponseCode: null,
    lastError: null,
    deliveredAt: null,
    createdAt: now,
  });
}

/** Queues the verification of a new user's address (called inside sign-up's transaction). */
export function sendVerification(tx: Em, ctx: AccountsContext, user: User): Promise<void> {
  return sendToken(tx, ctx.auditLinks.publicUrl, user, 'VERIFY_EMAIL', user.email);
}

/** A new verification email for the signed-in user's address (the old links keep working until they expire). */
export async function resendVerification(ctx: AccountsContext): Promise<boolean> {
  const principal = ctx.principal;
  if (principal.kind !== 'user') throw new UnauthenticatedError();
  await ctx.em.fork().transactional(async (tx) => {
    const user = await tx.findOneOrFail(User, principal.userId);
    if (user.emailVerifiedAt) throw new AppError('EMAIL_ALREADY_VERIFIED', 'This address is verified already');
    await sendToken(tx, ctx.auditLinks.publicUrl, user, 'VERIFY_EMAIL', user.email);
  });
  return true;
}

async function takeToken(tx: Em, token: string, purpose: TokenPurpose): Promise<UserToken> {
  const found = typeof token === 'string' && token.startsWith('lbt_') ? await tx.findOne(UserToken, { tokenHash: hashToken(token), purpose }, { lockMode: LockMode.PESSIMISTIC_WRITE }) : null;
  if (!found || found.usedAt || found.expiresAt.getTime() <= Date.now()) {
    throw new AppError('INVALID_TOKEN', 'This link is invalid, expired or was already used. Ask for a new one.');
  }
  found.usedAt = new Date();
  return found;
}

/**
 * Proves the address the link was sent to: the user's own (then invitations to it become the
 * user's memberships) or, after `changeEmail`, the new one (which then becomes the user's).
 */
export async function verifyEmail(em: Em, token: string, actorOfRequest: Parameters<typeof actorOf>[0]): Promise<User> {
  try {
    return await em.fork().transactional(async (tx) => {
      const used = await takeToken(tx, token, 'VERIFY_EMAIL');
      const user = await tx.findOneOrFail(User, used.userId, { lockMode: LockMode.PESSIMISTIC_WRITE });
      const actor = actorOf({ ...actorOfRequest, principal: { kind: 'user', userId: user.id, sessionId: '' } });
      const tenant = await userTenant(tx, user.id);
      const before = { email: user.email, emailVerified: user.emailVerifiedAt != null };
      if (used.email !== user.email) {
        user.email = used.email;
        await tx.nativeUpdate(Membership, { userId: user.id }, { email: used.email });
      }
      user.emailVerifiedAt = new Date();
      user.updatedAt = new Date();
      await tx.flush();
      const claimed = await tx.find(Membership, { email: user.email, userId: null });
      for (const membership of claimed) {
        membership.userId = user.id;
        recordEvent(tx, { actor }, 'member.added', membership.accountId, membership.id, { membershipId: membership.id, accountId: membership.accountId, email: membership.email, userId: user.id, role: membership.role });
      }
      recordEvent(tx, { actor }, 'user.updated', tenant, user.id, { userId: user.id, changed: before.email === user.email ? ['emailVerified'] : ['email', 'emailVerified'], before, after: { email: user.email, emailVerified: true } });
      return user;
    });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw new AppError('EMAIL_TAKEN', 'Another account uses this address now.', { field: 'email' });
    throw error;
  }
}

/** `GET /verify-email?token=…` through the gateway: the link in the email, answered with a short page. */
export function verifyEmailRoute(orm: Orm): InternalRoute {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const token = new URL(req.url ?? '/', 'http://accounts').searchParams.get('token') ?? '';
    const header = (name: string) => [req.headers[name]].flat()[0];
    const page = (status: number, message: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(`<!doctype html><meta charset="utf-8"><title>ListBackup</title><p>${message}</p>`);
    };
    try {
      await verifyEmail(orm.em, token, { principal: { kind: 'anonymous' }, clientIp: header(CLIENT_IP_HEADER), userAgent: header(USER_AGENT_HEADER) });
      page(200, 'Your email address is verified. You can close this page.');
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      page(error.extensions.code === 'INVALID_TOKEN' ? 410 : 409, error.message);
    }
  };
}

/** Always true, so the answer does not tell which addresses have users; a user gets a 30-minute link. */
export async function requestPasswordReset(ctx: AccountsContext, email: string): Promise<boolean> {
  const address = parseEmail(email);
  await ctx.em.fork().transactional(async (tx) => {
    const user = await tx.findOne(User, { email: address });
    if (user) await sendToken(tx, ctx.auditLinks.publicUrl, user, 'RESET_PASSWORD', user.email);
  });
  return true;
}

/** Sets a new password with a reset link and ends every session of the user, everywhere. */
export async function resetPassword(ctx: AccountsContext, token: string, newPassword: string): Promise<boolean> {
  const passwordHash = await hashPassword(String(newPassword ?? ''));
  await ctx.em.fork().transactional(async (tx) => {
    const used = await takeToken(tx, token, 'RESET_PASSWORD');
    const user = await tx.findOneOrFail(User, used.userId);
    const problems = checkPasswordPolicy(String(newPassword ?? ''), { email: user.email, name: user.name });
    if (problems.length) throw new AppError('WEAK_PASSWORD', `Choose a stronger password: ${problems.map((p) => p.message).join(' ')}`, { field: 'newPassword' });
    await tx.nativeUpdate(User, { id: user.id }, { passwordHash, updatedAt: new Date() });
    await tx.nativeUpdate(Session, { userId: user.id, revokedAt: null }, { revokedAt: new Date(), revokedReason: 'password_reset' });
    recordEvent(tx, ctx, 'user.password_changed', await userTenant(tx, user.id), user.id, { userId: user.id, method: 'reset' });
  });
  return true;
}

/** Sends a link to the new address; the change happens when it is followed. Needs the current password. */
export async function changeEmail(ctx: AccountsContext, newEmail: string, currentPassword: string): Promise<boolean> {
  const principal = ctx.principal;
  if (principal.kind !== 'user') throw new UnauthenticatedError();
  const email = parseEmail(newEmail, 'newEmail');
  const user = await ctx.em.fork().findOneOrFail(User, principal.userId, { populate: ['passwordHash'] });
  if (!(await verifyPassword(user.passwordHash, String(currentPassword ?? '')))) throw new AppError('INVALID_CREDENTIALS', 'The current password is incorrect.');
  if (email === user.email) throw new ValidationError('That is your address already', 'newEmail');
  if ((await ctx.em.fork().count(User, { email })) > 0) throw new AppError('EMAIL_TAKEN', 'An account with this email already exists.', { field: 'newEmail' });
  await ctx.em.fork().transactional(async (tx) => sendToken(tx, ctx.auditLinks.publicUrl, user, 'VERIFY_EMAIL', email));
  return true;
}

export interface ProfileInput {
  name?: string | null;
  avatarUrl?: string | null;
  timeZone?: string | null;
  locale?: string | null;
  defaultScheduleTimeZone?: string | null;
}

const PROFILE_FIELDS = ['name', 'avatarUrl', 'timeZone', 'locale', 'defaultScheduleTimeZone'] as const;

function validTimeZone(value: string, field: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return value;
  } catch {
    throw new ValidationError(`${field}: not an IANA time zone, like Europe/Paris`, field);
  }
}

/** Name, avatar URL, time zone, locale and the default time zone of new schedules; `user.updated` says what changed. */
export async function updateProfile(ctx: AccountsContext, input: ProfileInput, validName: (name: string) => string): Promise<User> {
  const principal = ctx.principal;
  if (principal.kind !== 'user') throw new UnauthenticatedError();
  const next: Partial<Record<(typeof PROFILE_FIELDS)[number], string | null>> = {};
  if (input.name != null) next.name = validName(input.name);
  if (input.avatarUrl !== undefined) {
    const url = input.avatarUrl?.trim() || null;
    if (url && (!/^https:\/\/[^\s]+$/.test(url) || url.length > 2_048)) throw new ValidationError('avatarUrl: an https:// URL of at most 2,048 characters', 'avatarUrl');
    next.avatarUrl = url;
  }
  if (input.timeZone !== undefined) next.timeZone = input.timeZone ? validTimeZone(input.timeZone, 'timeZone') : null;
  if (input.defaultScheduleTimeZone !== undefined) next.defaultScheduleTimeZone = input.defaultScheduleTimeZone ? validTimeZone(input.defaultScheduleTimeZone, 'defaultScheduleTimeZone') : null;
  if (input.locale !== undefined) {
    if (input.locale) {
      try {
        next.locale = Intl.getCanonicalLocales(input.locale)[0];
      } catch {
        throw new ValidationError('locale: a BCP 47 language tag, like fr-FR', 'locale');
      }
    } else next.locale = null;
  }
  return ctx.em.fork().transactional(async (tx) => {
    const user = await tx.findOneOrFail(User, principal.userId);
    const changed = PROFILE_FIELDS.filter((field) => field in next && (user[field] ?? null) !== next[field]);
    if (changed.length === 0) return user;
    const before = Object.fromEntries(changed.map((field) => [field, user[field] ?? null]));
    Object.assign(user, next, { updatedAt: new Date() });
    recordEvent(tx, ctx, 'user.updated', await userTenant(tx, user.id), user.id, { userId: user.id, changed, before, after: Object.fromEntries(changed.map((field) => [field, next[field]])) });
    ctx.loaders.user.clear(user.id);
    return user;
  });
}
