import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import { authorize, can, type Role } from '@listbackup/lib/access';
import type { Em } from '@listbackup/lib/db';
import { AppError, ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError } from '@listbackup/lib/errors';
import type { AccountsContext } from '../context.ts';
import { Membership } from '../entities/membership.ts';
import { User } from '../entities/user.ts';
import { normalizeEmail } from './account-service.ts';
import { recordEvent } from './account-events.ts';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export class AlreadyMemberError extends AppError {
  constructor() {
    super('ALREADY_MEMBER', 'This person is already a member of the account');
  }
}

export class LastOwnerError extends AppError {
  constructor() {
    super('LAST_OWNER', 'An account must keep at least one owner: make someone else owner first');
  }
}

/** People with a role granted directly on the account (inherited roles show on the ancestor). */
export async function listMembers(ctx: AccountsContext, accountId: string): Promise<Membership[]> {
  await authorize(ctx, 'members:read', accountId);
  return ctx.loaders.membershipsOfAccount.load(accountId);
}

/**
 * A user's memberships: all of them for the user themself; for anyone else only those on
 * accounts whose members the caller may read.
 */
export async function membershipsOfUser(ctx: AccountsContext, userId: string): Promise<Membership[]> {
  const memberships = await ctx.loaders.membershipsOfUser.load(userId);
  if (ctx.principal.kind === 'user' && ctx.principal.userId === userId) return memberships;
  const allowed = await Promise.all(memberships.map((m) => can(ctx, 'members:read', m.accountId)));
  return memberships.filter((_, i) => allowed[i]);
}

async function loadMembership(ctx: AccountsContext, id: string): Promise<Membership> {
  // Before the look-up, so an anonymous caller cannot tell existing ids from missing ones.
  if (ctx.principal.kind === 'anonymous') throw new UnauthenticatedError();
  const membership = await ctx.loaders.membership.load(id);
  if (!membership) throw new NotFoundError('Membership');
  return membership;
}

function assertMayTouchOwner(callerRole: Role, ...roles: Role[]): void {
  if (roles.includes('owner') && callerRole !== 'owner') throw new ForbiddenError('Only an owner can grant, change or remove the owner role');
}

/**
 * Fails with LAST_OWNER unless the account keeps an active owner besides `leaving`: a direct one
 * or one of an ancestor (whose role applies here too). Locks those owner memberships first, so two
 * owners demoting each other at once cannot both succeed.
 */
async function assertAnotherOwner(ctx: AccountsContext, tx: Em, leaving: Membership): Promise<void> {
  if (leaving.role !== 'owner' || leaving.userId === null) return;
  const account = await ctx.loaders.account.load(leaving.accountId);
  if (!account) throw new NotFoundError('Membership');
  const owners = await tx.find(
    Membership,
    { accountId: { $in: account.path }, role: 'owner', userId: { $ne: null } },
    { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
  );
  if (!owners.some((owner) => owner.id !== leaving.id)) throw new LastOwnerError();
}

const memberData = (membership: Membership) => ({
  membershipId: membership.id,
  accountId: membership.accountId,
  email: membership.email,
  userId: membership.userId ?? null,
  role: membership.role,
});

function forgetMemberships(ctx: AccountsContext, membership: Membership): void {
  ctx.loaders.membershipsOfAccount.clear(membership.accountId);
  if (membership.userId) ctx.loaders.membershipsOfUser.clear(membership.userId);
  ctx.access.clear();
}

export interface NewMember {
  accountId: string;
  email: string;
  role: Role;
}

/**
 * Grants a role by email (`members:manage`; only an owner grants OWNER). An existing user gets it
 * at once; any other address gets a pending invitation that becomes theirs when they sign up.
 */
export async function addMember(ctx: AccountsContext, input: NewMember): Promise<Membership> {
  const email = normalizeEmail(input.email);
  if (!EMAIL.test(email) || email.length > 254) throw new ValidationError('Enter a valid email address', 'email');
  const callerRole = await authorize(ctx, 'members:manage', input.accountId);
  assertMayTouchOwner(callerRole, input.role);

  const user = await ctx.em.findOne(User, { email });
  const existing = await ctx.em.count(Membership, {
    accountId: input.accountId,
    $or: [{ email }, ...(user ? [{ userId: user.id }] : [])],
  });
  if (existing > 0) throw new AlreadyMemberError();

  const membership = ctx.em.create(Membership, {
    accountId: input.accountId,
    userId: user?.id ?? null,
    email,
    role: input.role,
    invitedBy: ctx.principal.kind === 'user' ? ctx.principal.userId : null,
  });
  recordEvent(ctx.em, ctx, membership.userId ? 'member.added' : 'member.invited', membership.accountId, membership.id, memberData(membership));
  try {
    await ctx.em.flush();
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) {
      ctx.em.clear();
      throw new AlreadyMemberError();
    }
    throw error;
  }
  forgetMemberships(ctx, membership);
  return membership;
}

/** `members:manage`; only an owner grants or takes away OWNER, and the last owner stays one. */
export async function changeMemberRole(ctx: AccountsContext, membershipId: string, role: Role): Promise<Membership> {
  const membership = await loadMembership(ctx, membershipId);
  const callerRole = await authorize(ctx, 'members:manage', membership.accountId, 'Membership');
  assertMayTouchOwner(callerRole, membership.role, role);
  if (membership.role === role) return membership;
  const before = membership.role;
  await ctx.em.transactional(async (tx) => {
    if (role !== 'owner') await assertAnotherOwner(ctx, tx, membership);
    membership.role = role;
    recordEvent(tx, ctx, 'member.role_changed', membership.accountId, membership.id, { ...memberData(membership), before: { role: before }, after: { role } });
  });
  forgetMemberships(ctx, membership);
  return membership;
}

/**
 * `members:manage`, or anyone leaving an account themself. Only an owner removes another owner,
 * and never the last one.
 */
export async function removeMember(ctx: AccountsContext, membershipId: string): Promise<boolean> {
  const membership = await loadMembership(ctx, membershipId);
  const principal = ctx.principal;
  const leavingThemself = principal.kind === 'user' && membership.userId === principal.userId;
  if (leavingThemself) {
    await authorize(ctx, 'account:read', membership.accountId, 'Membership');
  } else {
    const callerRole = await authorize(ctx, 'members:manage', membership.accountId, 'Membership');
    assertMayTouchOwner(callerRole, membership.role);
  }
  await ctx.em.transactional(async (tx) => {
    await assertAnotherOwner(ctx, tx, membership);
    tx.remove(membership);
    recordEvent(tx, ctx, 'member.removed', membership.accountId, membership.id, memberData(membership));
  });
  forgetMemberships(ctx, membership);
  ctx.loaders.membership.clear(membershipId);
  return true;
}
