import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AccessChecker, authorize, subtreeAccounts, type AccessResolver } from '../src/access.ts';
import { MAX_CARRIED_ACCOUNTS, accessChangeOf, boundedCarriedAccess, type VisibleFact } from '../src/access-facts.ts';
import { InternalKeyring, InternalTokenError } from '../src/internal-token.ts';
import type { Principal } from '../src/principal.ts';

const user: Principal = { kind: 'user', userId: randomUUID(), sessionId: randomUUID() };
const [root, child, grandchild, foreign, hidden, below] = Array.from({ length: 6 }, () => randomUUID());
const facts: VisibleFact[] = [
  { accountId: root, role: 'owner', status: 'active', path: [root] },
  { accountId: grandchild, role: 'owner', status: 'suspended', path: [root, child, grandchild] },
  { accountId: child, role: 'owner', status: 'suspended', path: [root, child] },
  // A membership below an account the caller cannot see: its ancestors travel as ids.
  { accountId: below, role: 'viewer', status: 'active', path: [hidden, below] },
];

/** A resolver that records being asked, and knows nothing. */
function askedResolver(): AccessResolver & { asked: number } {
  const resolver = {
    asked: 0,
    async rolesOn(_principal: Principal, ids: readonly string[]) {
      resolver.asked++;
      return ids.map(() => null);
    },
    async visibleAccounts() {
      resolver.asked++;
      return [];
    },
  };
  return resolver;
}

describe('carried access facts', () => {
  it('travel signed in the internal token, and a changed role breaks the signature', () => {
    const keyring = new InternalKeyring([randomBytes(32).toString('base64url')]);
    const token = keyring.sign('jobs', { principal: user, requestId: 'r', facts: { live: true, accounts: facts } });
    expect(keyring.verify('jobs', token).facts).toEqual({ live: true, accounts: facts });
    // Paths are not repeated: a carried parent is named by its index.
    const carried = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).acc.accounts;
    expect(carried.map((entry: unknown[]) => entry[3])).toEqual([[], 2, 0, [hidden]]);

    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    claims.acc.accounts.push([foreign, 'owner', 'active', [foreign]]);
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    expect(() => keyring.verify('jobs', forged)).toThrow(InternalTokenError);
  });

  it('answer authorize without asking accounts: a role, a status, and not found outside them', async () => {
    const resolver = askedResolver();
    const ctx = { access: new AccessChecker(user, resolver, { live: true, accounts: facts }) };
    expect(await authorize(ctx, 'sources:manage', root)).toBe('owner');
    await expect(authorize(ctx, 'sources:manage', child)).rejects.toMatchObject({ extensions: { code: 'ACCOUNT_SUSPENDED' } });
    await expect(authorize(ctx, 'sources:read', foreign)).rejects.toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    expect(await subtreeAccounts(ctx, 'sources:read', root)).toEqual([root, grandchild, child]);
    expect(await authorize(ctx, 'sources:read', below)).toBe('viewer');
    await expect(authorize(ctx, 'sources:read', hidden)).rejects.toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    expect(ctx.access.vouchedLive).toBe(true);
    expect(resolver.asked).toBe(0);
  });

  it('without accounts (too many to carry) or after the request changed access, accounts is asked as before', async () => {
    const many = Array.from({ length: MAX_CARRIED_ACCOUNTS + 1 }, (): VisibleFact => {
      const id = randomUUID();
      return { accountId: id, role: 'viewer', status: 'active', path: [id] };
    });
    expect(boundedCarriedAccess(many)).toEqual({ live: true });
    const deep = [{ accountId: root, role: 'viewer' as const, status: 'active' as const, path: Array.from({ length: 60 }, () => randomUUID()) }, ...facts];
    expect(boundedCarriedAccess(deep.concat(deep, deep))).toEqual({ live: true });
    expect(boundedCarriedAccess(facts)).toEqual({ live: true, accounts: facts });

    const resolver = askedResolver();
    const liveOnly = new AccessChecker(user, resolver, { live: true });
    expect(liveOnly.vouchedLive).toBe(true);
    expect(await liveOnly.roleOn(root)).toBeNull();
    expect(resolver.asked).toBe(1);

    const changed = new AccessChecker(user, resolver, { live: true, accounts: facts });
    changed.clear();
    expect(await changed.roleOn(root)).toBeNull();
    expect(resolver.asked).toBe(2);
    expect(changed.changes).toEqual({ userIds: [(user as { userId: string }).userId] });
  });

  it('an anonymous caller is vouched for nothing, whatever a token says', async () => {
    const checker = new AccessChecker({ kind: 'anonymous' }, askedResolver(), { live: true, accounts: facts });
    expect(checker.vouchedLive).toBe(false);
    expect(await checker.roleOn(root)).toBeNull();
  });

  it('events name whose facts they make stale', () => {
    const userId = randomUUID();
    const sessionId = randomUUID();
    expect(accessChangeOf({ type: 'user.logout', data: { userId, sessionId } })).toEqual({ sessionIds: [sessionId] });
    expect(accessChangeOf({ type: 'user.password_changed', data: { userId, method: 'change' } })).toEqual({ userIds: [userId] });
    expect(accessChangeOf({ type: 'member.removed', data: { userId, accountId: root } })).toEqual({ userIds: [userId] });
    expect(accessChangeOf({ type: 'member.invited', data: { userId: null, accountId: root } })).toBeNull();
    expect(accessChangeOf({ type: 'member.added', data: { userId: null, accountId: root } })).toBeNull();
    expect(accessChangeOf({ type: 'account.suspended', data: { accountId: root, accountIds: [root, child] } })).toEqual({ accountIds: [root, child] });
    expect(accessChangeOf({ type: 'account.created', data: { parentId: root }, actor: { kind: 'user', id: userId } })).toEqual({ accountIds: [root], userIds: [userId] });
    expect(accessChangeOf({ type: 'account.updated', data: { accountId: root } })).toBeNull();
  });
});
