import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCursor, decodeTimeCursor, encodeCursor, principalKey, timeCursor, useCursorSecrets } from '../src/pagination.ts';

const secret = () => randomBytes(32).toString('hex');
const anyKey = () => true;
const reasonOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return (error as { extensions?: { reason?: string } }).extensions?.reason;
  }
  return 'accepted';
};

describe('signed cursors', () => {
  const [oldSecret, newSecret] = [secret(), secret()];
  const account = randomUUID();
  const members = { list: 'Account.members', owner: account };

  beforeAll(() => {
    useCursorSecrets(`${oldSecret},${newSecret}`);
  });

  it('read back in the list and for the owner that gave them out, the owner’s id in any case', () => {
    const row = { createdAt: new Date('2026-01-02T03:04:05.678Z'), id: randomUUID() };
    const cursor = timeCursor(members)(row);
    expect(decodeTimeCursor(members, cursor)).toEqual(row);
    expect(decodeTimeCursor({ ...members, owner: account.toUpperCase() }, cursor)).toEqual(row);
  });

  it('are BAD_CURSOR in another list, for another owner or another caller, though well formed and signed', () => {
    const cursor = encodeCursor(members, ['2026-01-02T03:04:05.678Z', randomUUID()]);
    expect(reasonOf(() => decodeCursor({ list: 'Account.connections', owner: account }, cursor, anyKey))).toBe('BAD_CURSOR');
    expect(reasonOf(() => decodeCursor({ ...members, owner: randomUUID() }, cursor, anyKey))).toBe('BAD_CURSOR');
    const mine = { list: 'Query.accounts', owner: principalKey({ kind: 'user', userId: randomUUID(), sessionId: randomUUID() }) };
    const theirs = { list: 'Query.accounts', owner: principalKey({ kind: 'apiKey', apiKeyId: randomUUID(), accountId: account, scopes: [] }) };
    expect(reasonOf(() => decodeCursor(theirs, encodeCursor(mine, [1, 'a', randomUUID()]), anyKey))).toBe('BAD_CURSOR');
  });

  it('are BAD_CURSOR when unsigned, re-keyed under a signature, or spelled differently', () => {
    const cursor = encodeCursor(members, [5]);
    const [payload, mac] = cursor.split('.');
    const forged = [
      payload,
      `${Buffer.from('[6]').toString('base64url')}.${mac}`,
      `${payload}.${mac.slice(0, -1)}${mac.at(-1) === 'A' ? 'B' : 'A'}`,
      `${payload}.${mac}A`,
      `.${mac}`,
      Buffer.from(JSON.stringify(Array.from({ length: 1000 }, () => 1))).toString('base64url'),
    ];
    for (const after of forged) expect(reasonOf(() => decodeCursor(members, after, anyKey)), after).toBe('BAD_CURSOR');
    expect(decodeCursor(members, cursor, anyKey)).toEqual([5]);
  });

  it('outlive a rotation while the old secret is still listed', () => {
    const before = encodeCursor(members, [7]);
    // A process that lists the new secret first and the old one after it still reads it.
    useCursorSecrets(`${newSecret},${oldSecret}`);
    expect(decodeCursor(members, before, anyKey)).toEqual([7]);
  });
});
