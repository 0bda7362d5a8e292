import { accountsAllowing, authorize, can } from '@listbackup/lib/access';
import type { Em } from '@listbackup/lib/db';
import { ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError } from '@listbackup/lib/errors';
import { uuidv7, type Actor } from '@listbackup/lib/events/envelope';
import { actorOf, createEvent } from '@listbackup/lib/events/contract';
import { enqueueEvent } from '@listbackup/lib/events/outbox';
import { normalizeName } from '@listbackup/lib/text';
import { decodeCursor, decodeNameCursor, encodeCursor, nameCursor, pageSize, principalKey, rowReader, toPage, type CountedPage } from '@listbackup/lib/pagination';
import { isUuid } from '@listbackup/lib/ids';
import type { AccountsContext } from '../context.ts';
import { normalizeEmail } from './identity-email.ts';
import { recordEvent } from './account-events.ts';
import { requireActiveSession } from './auth-service.ts';
import { Account } from '../entities/account.ts';
import { Membership } from '../entities/membership.ts';
import type { User } from '../entities/user.ts';

export const MAX_NAME_LENGTH = 200;

/** Plain text (lib/src/text.ts), NFC, trimmed, 1..200 characters. */
export function validName(value: string, field = 'name'): string {
  const name = normalizeName(value, field);
  if (name.length === 0) throw new ValidationError(`The ${field} must not be empty`, field);
  if (name.length > MAX_NAME_LENGTH) throw new ValidationError(`The ${field} must be at most ${MAX_NAME_LENGTH} characters`, field);
  return name;
}

/** Adds a new account to the unit of work, with its `account.created` event in the outbox. */
function newAccount(em: Em, name: string, parent: Account | null, actor?: Actor): Account {
  const id = uuidv7();
  const account = em.create(Account, { id, name, parentId: parent?.id ?? null, path: [...(parent?.path ?? []), id] });
  enqueueEvent(em, createEvent('account.created', account.id, account.id, { name, parentId: account.parentId ?? null }, { actor }));
  return account;
}

/**
 * The account every user gets at sign-up, owned by them. (Invitations to the address wait until
 * the address is verified: see user-lifecycle.ts.) Meant to run in the caller's transaction (`em` inside `em.transactional`), so the user, the
 * account, its owner membership and the `account.created` event commit together.
 */
export async function createPersonalAccount(em: Em, user: Pick<User, 'id' | 'email' | 'name'>, actor?: Actor): Promise<Account> {
  // Sign-up validates the user's name by its own rules; the account name only needs to fit.
  const account = newAccount(em, user.name.trim().slice(0, MAX_NAME_LENGTH) || normalizeEmail(user.email), null, actor);
  em.create(Membership, { accountId: account.id, userId: user.id, email: normalizeEmail(user.email), role: 'owner', invitedBy: null });
  await em.flush();
  return account;
}

/** An account the caller may read; any other is "not found", whether it exists or not. */
export async function getAccount(ctx: AccountsContext, id: string): Promise<Account> {
  await authorize(ctx, 'account:read', id);
  const account = await ctx.loaders.account.load(id);
  if (!account) throw new NotFoundError('Account');
  return account;
}

/** The account, or null when it is missing or the caller may not read it (for optional fields). */
export async function findReadableAccount(ctx: AccountsContext, id: string): Promise<Account | null> {
  if (!(await can(ctx, 'account:read', id))) return null;
  return (await ctx.loaders.account.load(id)) ?? null;
}

async function readable(ctx: AccountsContext, ids: readonly string[]): Promise<Account[]> {
  const accounts = await Promise.all(ids.map((id) => findReadableAccount(ctx, id)));
  return accounts.filter((account): account is Account => account !== null);
}

/** Query.accounts's order: shallowest first, then by name (the cursor holds all three keys). */
const VISIBLE_ORDER = 'cardinality(t."path"), t."name", t."id"';

/** A page of every account the caller can see: those where it holds a role and everything below them. */
export async function listVisibleAccounts(ctx: AccountsContext, first?: number | null, after?: string | null): Promise<AccountPage> {
  const size = pageSize(first);
  const scope = { list: 'Query.accounts', owner: principalKey(ctx.principal) };
  const cursor = decodeCursor(scope, after, (k) => k.length === 3 && Number.isInteger(k[0]) && (k[0] as number) > 0 && typeof k[1] === 'string' && typeof k[2] === 'string' && isUuid(k[2]));
  // A key that may not read accounts is told so, rather than shown an empty list.
  if (ctx.principal.kind === 'apiKey' && !ctx.principal.scopes.includes('account:read')) {
    throw new ForbiddenError('This API key does not have the ACCOUNT_READ scope, which listing accounts needs');
  }
  const ids = `{${(await accountsAllowing(ctx, 'account:read')).map((account) => account.accountId).filter(isUuid).join(',')}}`;
  const rows = await ctx.em.execute<Record<string, unknown>[]>(
    `select t.* from "accounts"."accounts" t where t."id" = any(?::uuid[])${cursor ? ` and (${VISIBLE_ORDER}) > (?, ?, ?)` : ''} order by ${VISIBLE_ORDER} limit ?`,
    [ids, ...(cursor ?? []), size + 1],
  );
  const page = toPage(rows.map(rowReader(ctx.em, Account)), size, (account) => encodeCursor(scope, [account.path.length, account.name, account.id]));
  const totalCount = async () => {
    const [{ count }] = await ctx.em.execute<{ count: string }[]>('select count(*) as count from "accounts"."accounts" t where t."id" = any(?::uuid[])', [ids]);
    return Number(count);
  };
  return { ...page, totalCount };
}

export async function parentOf(ctx: AccountsContext, account: Account): Promise<Account | null> {
  return account.parentId ? findReadableAccount(ctx, account.parentId) : null;
}

export type AccountPage = CountedPage<Account>;

/** A page of the account's direct sub-accounts, by name: whoever reads an account reads what is below it. */
export async function childrenOf(ctx: AccountsContext, account: Account, first?: number | null, after?: string | null): Promise<AccountPage> {
  const size = pageSize(first);
  const scope = { list: 'Account.children', owner: account.id };
  const cursor = decodeNameCursor(scope, after);
  await authorize(ctx, 'account:read', account.id);
  const rows = await ctx.loaders.childPages.load({ parentId: account.id, limit: size + 1, after: cursor && [cursor.name, cursor.id] });
  return { ...toPage(rows, size, (child) => nameCursor(scope, child.name, child.id)), totalCount: () => ctx.loaders.childCounts.load({ parentId: account.id }) };
}

/** The accounts above this one that the caller can see, nearest first. */
export async function ancestorsOf(ctx: AccountsContext, account: Account): Promise<Account[]> {
  await authorize(ctx, 'account:read', account.id);
  return readable(ctx, account.path.slice(0, -1).reverse());
}

export async function myRoleOn(ctx: AccountsContext, account: Account) {
  const role = await ctx.access.roleOn(account.id);
  if (!role) throw new NotFoundError('Account');
  return role;
}

export interface NewAccount {
  name: string;
  parentId?: string | null;
}

/**
 * Without a parent: a new root account owned by the calling user (an API key cannot own one).
 * With a parent: a sub-account, for callers allowed `account:create-child` on the parent; roles
 * held on the parent apply to it.
 */
export async function createAccount(ctx: AccountsContext, input: NewAccount): Promise<Account> {
  const name = validName(input.name);
  const principal = ctx.principal;
  let account: Account;
  if (input.parentId) {
    await authorize(ctx, 'account:create-child', input.parentId);
    const parent = await ctx.loaders.account.load(input.parentId);
    if (!parent) throw new NotFoundError('Account');
    account = newAccount(ctx.em, name, parent, actorOf(ctx));
    await ctx.em.flush();
  } else {
    if (principal.kind === 'anonymous') throw new UnauthenticatedError();
    if (principal.kind !== 'user') throw new ForbiddenError('An API key can only create sub-accounts of its account');
    await requireActiveSession(ctx);
    const user = await ctx.loaders.user.load(principal.userId);
    if (!user) throw new UnauthenticatedError();
    account = newAccount(ctx.em, name, null, actorOf(ctx));
    ctx.em.create(Membership, { accountId: account.id, userId: user.id, email: normalizeEmail(user.email), role: 'owner', invitedBy: user.id });
    await ctx.em.flush();
  }
  ctx.access.clear();
  ctx.loaders.account.prime(account.id, account);
  ctx.loaders.childPages.clearAll();
  ctx.loaders.childCounts.clearAll();
  return account;
}

export async function renameAccount(ctx: AccountsContext, id: string, newName: string): Promise<Account> {
  const name = validName(newName);
  await authorize(ctx, 'account:update', id);
  // Through the ORM, not the loader: its rows are read-only.
  const account = isUuid(id) ? await ctx.em.findOne(Account, { id }) : null;
  if (!account) throw new NotFoundError('Account');
  if (account.name === name) return account;
  recordEvent(ctx.em, ctx, 'account.updated', account.id, account.id, { accountId: account.id, before: { name: account.name }, after: { name } });
  account.name = name;
  await ctx.em.flush();
  ctx.loaders.account.clear(account.id).prime(account.id, account);
  return account;
}
