import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { linkKeys, signLink, verifyLink } from '../src/signed-links.ts';

describe('signed links across a rotation of INTERNAL_TOKEN_SECRET', () => {
  const [oldSecret, newSecret] = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')];
  const claims = { a: 'account', e: 1 };

  it('a link signed before, during or after the rolling restart verifies on every neighbouring configuration', () => {
    const steps = [oldSecret, `${oldSecret},${newSecret}`, `${newSecret},${oldSecret}`, newSecret];
    for (let i = 0; i < steps.length; i++) {
      const link = signLink(linkKeys(steps[i], 'test')[0], claims);
      for (const neighbour of steps.slice(Math.max(0, i - 1), i + 2)) expect(verifyLink(linkKeys(neighbour, 'test'), link), `${i} → ${neighbour}`).toEqual(claims);
    }
  });

  it('refuses a link of another purpose, and one whose secret has been dropped', () => {
    const link = signLink(linkKeys(oldSecret, 'test')[0], claims);
    expect(verifyLink(linkKeys(`${newSecret},${oldSecret}`, 'other'), link)).toBeNull();
    expect(verifyLink(linkKeys(newSecret, 'test'), link)).toBeNull();
  });
});
