import { LockMode } from '@mikro-orm/core';
import { authorize, type AccountStatus } from '@listbackup/lib/access';
import type { Em, Orm } from '@listbackup/lib/db';
import { AppError, NotFoundError, ValidationError } from '@listbackup/lib/errors';
import { systemActor } from '@listbackup/lib/events/contract';
import type { Actor } from '@listbackup/lib/events/envelope';
import type { AccountsContext } from '../context.ts';
import { Account } from '../entities/account.ts';
import { recordEvent } from './account-events.ts';

/** How long a deleted account can be restored before its data is purged (as Keepit keeps it). */
export const RECOVERY_WINDOW_MS = 30 * 24 * 60 * 60_000;

export const MAX_SUSPENSION_REASON = 500;

export type SuspendedBy = 'billing' | 'operator';

/** The account and every account below it, the account first. */
async function subtreeIds(em: Em, account: Account): Promise<string[]> {
  const below = await em.find(Account, { path: { $contains: [account.id] }, id: { $ne: account.id } }, { fields: ['id'], orderBy: { id: 'asc' } });
  return [account.id, ...below.map((child) => child.id)];
}

async function lockAccount(em: Em, accountId: string): Promise<Account | null> {
  return em.findOne(Account, { id: accountId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
}

export interface SuspendOptions {
  by: SuspendedBy;
  reason?: string | null;
  actor?: Actor;
}

/**
 * Suspends the account (and so its subtree). Already suspended, it stays as it is, except that an
 * operator's suspension takes over from billing's (then only an operator resumes it). Returns
 * whether anything changed; an unknown or deleted account is NOT_FOUND.
 */
export async function suspendAccount(orm: Orm | Em, accountId: string, options: SuspendOptions): Promise<boolean> {
  const reason = options.reason?.trim() || null;
  if (reason && reason.length > MAX_SUSPENSION_REASON) throw new ValidationError(`The reason must be at most ${MAX_SUSPENSION_REASON} characters`, 'reason');
  return fork(orm).transactional(async (tx) => {
    const account = await lockAccount(tx, accountId);
    if (!account) throw new NotFoundError('Account');
    if (account.suspendedAt && (account.suspendedBy === 'operator' || options.by === 'billing')) return false;
    account.suspendedAt = account.suspendedAt ?? new Date();
    account.suspendedBy = options.by;
    account.suspendedReason = reason;
    const actor = options.actor ?? systemActor(options.by === 'billing' ? 'billing' : 'operator');
    recordEvent(tx, { actor }, 'account.suspended', account.id, account.id, { accountId: account.id, accountIds: await subtreeIds(tx, account), by: options.by, reason });
    await tx.flush();
    return true;
  });
}

/**
 * Lifts a suspension. Billing lifts only its own (a payment does not undo an operator's decision);
 * an operator lifts either. Returns whether anything changed.
 */
export async function resumeAccount(orm: Orm | Em, accountId: string, options: { by: SuspendedBy; actor?: Actor }): Promise<boolean> {
  return fork(orm).transactional(async (tx) => {
    const account = await lockAccount(tx, accountId);
    if (!account) throw new NotFoundError('Account');
    if (!account.suspendedAt || (options.by === 'billing' && account.suspendedBy !== 'billing')) return false;
    account.suspendedAt = null;
    account.suspendedBy = null;
    account.suspendedReason = null;
    const actor = options.actor ?? systemActor(options.by === 'billing' ? 'billing' : 'operator');
    recordEvent(tx, { actor }, 'account.resumed', account.id, account.id, { accountId: account.id, accountIds: await subtreeIds(tx, account), by: options.by });
    await tx.flush();
    return true;
  });
}

/** A fresh entity manager for an Orm; an Em is used as it is (inside its caller's transaction). */
function fork(orm: Orm | Em): Em {
  return 'em' in orm ? orm.em.fork() : orm;
}

/** The account's standing as the caller's access sees it: its own or inherited from an ancestor. */
export async function accountStatus(ctx: AccountsContext, account: Account): Promise<AccountStatus> {
  const fact = await ctx.access.factOn(account.id);
  if (!fact) throw new NotFoundError('Account');
  return fact.status;
}

/**
 * Deletes the account and everything below it, owner only, confirmed by typing its name: from now
 * on it only reads or is restored, and after the recovery window it is purged with all its data.
 * Deleting it again changes nothing.
 */
export async function deleteAccount(ctx: AccountsContext, accountId: string, confirmName: string, now: Date = new Date()): Promise<Account> {
  await authorize(ctx, 'account:delete', accountId);
  const account = await ctx.em.transactional(async (tx) => {
    const account = await lockAccount(tx, accountId);
    if (!account) throw new NotFoundError('Account');
    if (confirmName.trim() !== account.name) {
      throw new AppError('CONFIRMATION_MISMATCH', 'Type the account’s name exactly to confirm its deletion', { field: 'confirmName' });
    }
    if (account.deletedAt) return account;
    account.deletedAt = now;
    account.deletedBy = ctx.principal.kind === 'user' ? ctx.principal.userId : null;
    account.purgeAfter = new Date(now.getTime() + RECOVERY_WINDOW_MS);
    recordEvent(tx, ctx, 'account.deleted', account.id, account.id, {
      accountId: account.id,
      accountIds: await subtreeIds(tx, account),
      name: account.name,
      purgeAfter: account.purgeAfter.toISOString(),
    });
    await tx.flush();
    return account;
  });
  ctx.access.clear();
  ctx.loaders.account.clear(account.id).prime(account.id, account);
  return account;
}

/** Undoes a deletion within the recovery window. Restoring an account that is not deleted changes nothing. */
export async function restoreAccount(ctx: AccountsContext, accountId: string): Promise<Account> {
  await authorize(ctx, 'account:delete', accountId);
  const account = await ctx.em.transactional(async (tx) => {
    const account = await lockAccount(tx, accountId);
    if (!account) throw new NotFoundError('Account');
    if (!account.deletedAt) {
      const deletedAbove = await tx.count(Account, { id: { $in: account.path.slice(0, -1) }, deletedAt: { $ne: null } });
      if (deletedAbove > 0) throw new AppError('ACCOUNT_DELETED', 'An account above this one is deleted: restore that one');
      return account;
    }
    account.deletedAt = null;
    account.deletedBy = null;
    account.purgeAfter = null;
    recordEvent(tx, ctx, 'account.restored', account.id, account.id, { accountId: account.id, accountIds: await subtreeIds(tx, account) });
    await tx.flush();
    return account;
  });
  ctx.access.clear();
  ctx.loaders.account.clear(account.id).prime(account.id, account);
  return account;
}

/**
 * Deletes, for the next purge pass and without a recovery window, every account that `userId`
 * owns and that has no other owner on it or above it: nobody would be left to restore or run it.
 * Part of the user's erasure (`deleteMe`), in its transaction. Returns the accounts deleted.
 */
export async function deleteAccountsLeftWithoutOwner(tx: Em, ctx: AccountsContext, userId: string, now: Date): Promise<string[]> {
  const owned = await tx.execute<{ id: string }[]>(
    `select a.id from "accounts"."accounts" a join "accounts"."memberships" m on m.account_id = a.id
      where m.user_id = ? and m.role = 'owner' and (a.purge_after is null or a.purge_after > ?)
        and not exists (select 1 from "accounts"."memberships" o where o.account_id::text = any(a.path) and o.role = 'owner' and o.user_id is not null and o.user_id <> ?)
      order by cardinality(a.path)`,
    [userId, now, userId],
  );
  const deleted: string[] = [];
  for (const { id } of owned) {
    const account = await lockAccount(tx, id);
    if (!account || deleted.includes(account.id)) continue;
    const ids = await subtreeIds(tx, account);
    account.deletedAt ??= now;
    account.deletedBy = userId;
    account.purgeAfter = now;
    recordEvent(tx, ctx, 'account.deleted', account.id, account.id, { accountId: account.id, accountIds: ids, name: account.name, purgeAfter: now.toISOString() });
    deleted.push(...ids);
  }
  await tx.flush();
  return deleted;
}

const PURGED_TABLES = [
  'memberships',
  'api_keys',
  'notification_rules',
  'notification_endpoints',
  'notification_inbox',
  'notification_deliveries',
  'notification_delivery_attempts',
  'notification_source_outcomes',
  'notifications',
  'account_plans',
] as const;

/**
 * Purges every account whose recovery window ended by `now`, with its subtree: `account.purged`
 * (the other subgraphs remove their data of these accounts on it) and the accounts' rows go in one
 * transaction. The audit log stays: it is append-only, and retention prunes it. Safe with several
 * processes running it (rows claimed with SKIP LOCKED). Returns the ids purged.
 */
export async function purgeDeletedAccounts(orm: Orm, now: Date = new Date(), batch = 20): Promise<string[]> {
  const purged: string[] = [];
  const schema = orm.config.get('schema');
  const table = (name: string) => (schema ? `"${schema}"."${name}"` : `"${name}"`);
  for (;;) {
    const done = await orm.em.fork().transactional(async (tx) => {
      const due = await tx.find(Account, { purgeAfter: { $lte: now } }, { limit: batch, orderBy: { purgeAfter: 'asc' }, lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE });
      for (const account of due) {
        const ids = await subtreeIds(tx, account);
        recordEvent(tx, { actor: systemActor('accounts') }, 'account.purged', account.id, account.id, { accountId: account.id, accountIds: ids });
        await tx.flush();
        const array = `{${ids.join(',')}}`;
        for (const name of PURGED_TABLES) await tx.execute(`delete from ${table(name)} where account_id = any(?::uuid[])`, [array]);
        await tx.execute(`delete from ${table('accounts')} where id = any(?::uuid[])`, [array]);
        purged.push(...ids);
      }
      return due.length < batch;
    });
    if (done) return purged;
  }
}
