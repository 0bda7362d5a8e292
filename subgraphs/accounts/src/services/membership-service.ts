import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import { lockAccountPlan } from '@listbackup/lib/events/account-plans';
import { assertRoomFor } from '@listbackup/lib/plan-limits';
import { accountsAllowing, authorize, type Role } from '@listbackup/lib/access';
import type { Em } from '@listbackup/lib/db';
import { AppError, ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError } from '@listbackup/lib/errors';
import type { AccountsContext } from '../context.ts';
import { Membership } from '../entities/membership.ts';
import { User } from '../entities/user.ts';
import { normalizeEmail } from './identity-email.ts';
import { pageSize, principalKey, timeCursor, timeKey, toPage, type CountedPage } from '@listbackup/lib/pagination';
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

export type MembershipPage = CountedPage<Membership>;

/** A page of the people with a role granted directly on the account (inherited roles show on the ancestor), oldest first. */
export async function listMembers(ctx: AccountsContext, accountId: string, first?: number | null, after?: string | null): Promise<MembershipPage> {
  const size = pageSize(first);
  const scope = { list: 'Account.members', owner: accountId };
  const cursor = timeKey(scope, after);
  await authorize(ctx, 'members:read', accountId);
  const rows = await ctx.loaders.memberPages.load({ parentId: accountId, limit: size + 1, after: cursor });
  return { ...toPage(rows, size, timeCursor(scope)), totalCount: () => ctx.loaders.memberCounts.load({ parentId: accountId }) };
}

/**
 * A page of a user's memberships, oldest first: all of them for the user themself; for anyone
 * else only those on accounts whose members the caller may read.
 */
export async function membershipsOfUser(ctx: AccountsContext, userId: string, first?: number | null, after?: string | null): Promise<MembershipPage> {
  const size = pageSize(first);
  // Bound to the reader too: someone else sees only some of the user's memberships.
  const scope = { list: 'User.memberships', owner: `${userId}:${principalKey(ctx.principal)}` };
  const cursor = timeKey(scope, after);
  const self = ctx.principal.kind === 'user' && ctx.principal.userId === userId;
  const filters = self ? undefined : { account_id: (await accountsAllowing(ctx, 'members:read')).map((account) => account.accountId) };
  const rows = await ctx.loaders.userMembershipPages.load({ parentId: userId, limit: size + 1, after: cursor, filters });
  return { ...toPage(rows, size, timeCursor(scope)), totalCount: () => ctx.loaders.userMembershipCounts.load({ parentId: userId, filters }) };
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
  ctx.loaders.memberPages.clearAll();
  ctx.loaders.memberCounts.clearAll();
  if (membership.userId) ctx.loaders.membershipsOfUser.clear(membership.userId);
  ctx.loaders.userMembershipPages.clearAll();
  ctx.loaders.userMembershipCounts.clearAll();
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

  let membership: Membership;
  try {
    membership = await ctx.em.transactional(async (tx) => {
      // Pending invitations hold a place: accepting one must not take the account over its plan.
      const plan = await lockAccountPlan(tx, 'accounts', input.accountId);
      assertRoomFor(plan, 'members', await tx.count(Membership, { accountId: input.accountId }));
      const created = tx.create(Membership, {
        accountId: input.accountId,
        userId: user?.id ?? null,
        email,
        role: input.role,
        invitedBy: ctx.principal.kind === 'user' ? ctx.principal.userId : null,
      });
      recordEvent(tx, ctx, created.userId ? 'member.added' : 'member.invited', created.accountId, created.id, memberData(created));
      return created;
    });
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
