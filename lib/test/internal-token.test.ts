import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { InternalKeyring, InternalTokenError, internalKeyring, keyringProblem } from '../src/internal-token.ts';
import type { Principal } from '../src/principal.ts';

const secret = () => randomBytes(32).toString('base64url');
const user: Principal = { kind: 'user', userId: 'u-1', sessionId: 's-1' };
const claims = { principal: user, requestId: 'req-1' };
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The same bytes spelled differently: a 32-byte value in base64url has 2 unused low bits in its last character. */
function otherSpelling(signature: string): string {
  const last = BASE64URL.indexOf(signature.at(-1)!);
  const other = `${signature.slice(0, -1)}${BASE64URL[last ^ 1]}`;
  expect(Buffer.from(other, 'base64url').equals(Buffer.from(signature, 'base64url'))).toBe(true);
  return other;
}

describe('internal tokens', () => {
  it('carry the caller to the audience they were signed for, and nowhere else', () => {
    const keyring = new InternalKeyring([secret()]);
    const token = keyring.sign('sources', claims);
    expect(token.split('.')).toHaveLength(3);
    expect(keyring.verify('sources', token)).toEqual(claims);
    expect(() => keyring.verify('jobs', token)).toThrow(/wrong audience/);
  });

  it('expire after a minute (with a few seconds of leeway for clock skew)', () => {
    const keyring = new InternalKeyring([secret()]);
    const signedAt = Date.parse('2026-01-01T00:00:00Z');
    const token = keyring.sign('jobs', claims, signedAt);
    expect(keyring.verify('jobs', token, signedAt + 59_000).principal).toEqual(user);
    expect(() => keyring.verify('jobs', token, signedAt + 66_000)).toThrow(/expired/);
    expect(() => keyring.verify('jobs', token, signedAt - 60_000)).toThrow(/future/);
  });

  it('refuse a changed payload, another key, another spelling of the signature, and garbage', () => {
    const keyring = new InternalKeyring([secret()]);
    const token = keyring.sign('billing', claims);
    const [header, payload, signature] = token.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), principal: { kind: 'user', userId: 'admin', sessionId: 's' } })).toString('base64url');
    const refused = [
      `${header}.${forgedPayload}.${signature}`,
      new InternalKeyring([secret()]).sign('billing', claims),
      // The last character of a 32-byte base64url signature has two spare bits: another spelling of the same bytes.
      `${header}.${payload}.${otherSpelling(signature)}`,
      `${header}.${payload}`,
      `${header}.${payload}.`,
      'not-a-token',
      '',
    ];
    for (const candidate of refused) expect(() => keyring.verify('billing', candidate)).toThrow(InternalTokenError);
    expect(() => keyring.verify('billing', undefined)).toThrow(/missing/);
  });

  it('refuse an HS256 JWT signed with the right secret but without our key id (another signer, no alg confusion)', async () => {
    const value = secret();
    const foreign = await new SignJWT({ principal: user, rid: 'r' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('listbackup-gateway')
      .setAudience('accounts')
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(value));
    expect(() => new InternalKeyring([value]).verify('accounts', foreign)).toThrow(/unknown key/);
  });

  it('rotate with a keyring: the newest secret signs, every secret verifies, a dropped one no longer does', () => {
    const [older, newer] = [secret(), secret()];
    const before = internalKeyring(older);
    const during = internalKeyring(`${newer},${older}`);
    const after = internalKeyring(newer);

    const fromOldProcess = before.sign('accounts', claims);
    const fromNewProcess = during.sign('accounts', claims);
    // While the restart rolls, old and new processes accept each other's tokens.
    expect(during.verify('accounts', fromOldProcess)).toEqual(claims);
    expect(() => before.verify('accounts', fromNewProcess)).toThrow(/unknown key/);
    expect(after.verify('accounts', fromNewProcess)).toEqual(claims);
    expect(() => after.verify('accounts', fromOldProcess)).toThrow(/unknown key/);
    expect(during.signingKeyId).toBe(after.signingKeyId);
  });

  it('rotate under a rolling restart without one refused call: add the new secret, then sign with it, then drop the old one', () => {
    const [older, newer] = [secret(), secret()];
    // The fleet moves through these configurations one process at a time; at any moment two neighbours run side by side.
    const steps = [older, `${older},${newer}`, `${newer},${older}`, newer];
    for (let step = 0; step + 1 < steps.length; step++) {
      const running = [internalKeyring(steps[step]), internalKeyring(steps[step + 1])];
      for (const signer of running) {
        for (const verifier of running) {
          for (const audience of ['accounts', 'jobs']) expect(verifier.verify(audience, signer.sign(audience, claims))).toEqual(claims);
        }
      }
    }
    // Skipping the middle step is what fails: a process still on the old secret cannot read the new one's tokens.
    expect(() => internalKeyring(older).verify('accounts', internalKeyring(`${newer},${older}`).sign('accounts', claims))).toThrow(/unknown key/);
  });

  it('need secrets of at least 32 characters each', () => {
    expect(keyringProblem('')).toMatch(/at least one/);
    expect(keyringProblem(`${secret()},short`)).toMatch(/at least 32/);
    expect(keyringProblem(`${secret()}, ${secret()}`)).toBeNull();
    expect(() => internalKeyring('short')).toThrow(/INTERNAL_TOKEN_SECRET/);
  });
});
