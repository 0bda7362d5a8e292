import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { throttleClock } from '../src/services/login-throttle.ts';
import {
  ANON,
  GOOD_PASSWORD,
  LOG_IN,
  errorOf,
  ok,
  rows,
  tableCounts,
  uniqueEmail,
  uniqueIp,
  type AuthPayload,
  useIdentityHarness,
} from './identity-support.ts';

// The throttle reads `throttleClock`; the subgraph runs in this process, so the tests move the
// clock instead of waiting (and never depend on how fast a request is).
let now = Date.now();
const realNow = throttleClock.now;
const advance = (ms: number) => {
  now += ms;
};

const api = useIdentityHarness();

beforeAll(() => {
  throttleClock.now = () => now;
});
afterEach(() => {
  now = Date.now();
});
afterAll(async () => {
  throttleClock.now = realNow;
});

const signUp = (email: string) => api.signUp('Throttled', email);

function logIn(email: string, password: string, ip?: string) {
  return api.gql<{ logIn: AuthPayload }>(ANON, LOG_IN, { input: { email, password } }, { ip });
}

async function failTimes(times: number, email: string, ip?: string): Promise<void> {
  for (let i = 0; i < times; i++) expect(errorOf(await logIn(email, 'wrong password here', ip)).code).toBe('INVALID_CREDENTIALS');
}

async function throttleRow(key: string) {
  const [row] = await rows(api.harness.orm, 'select failures, blocked_until from accounts.login_throttles where key = ?', [key]);
  return row;
}

describe('login throttling per email', () => {
  it('blocks an address after 5 failures, even for the right password, and tells how long to wait', async () => {
    const email = uniqueEmail('victim');
    await signUp(email);
    await failTimes(4, email);
    expect(ok(await logIn(email, GOOD_PASSWORD)).logIn.user.email).toBe(email); // 4 failures: still free, and success resets
    expect(await throttleRow(`email:${email}`)).toBeUndefined();

    await failTimes(5, email);
    expect(await throttleRow(`email:${email}`)).toMatchObject({ failures: 5 });
    const sessionsBefore = (await tableCounts(api.harness.orm)).sessions;
    const blocked = errorOf(await logIn(email, GOOD_PASSWORD));
    expect(blocked.code).toBe('TOO_MANY_ATTEMPTS');
    expect(blocked.extensions.retryAfterSeconds).toBe(1);
    expect(blocked.message).toMatch(/Try again in 1 second/);
    expect((await tableCounts(api.harness.orm)).sessions).toBe(sessionsBefore);

    advance(1_001);
    expect(ok(await logIn(email, GOOD_PASSWORD)).logIn.user.email).toBe(email);
    expect(await throttleRow(`email:${email}`)).toBeUndefined(); // success clears the address's count
  });

  it('doubles the block with each further failure, up to 15 minutes', async () => {
    const email = uniqueEmail('hammered');
    await failTimes(5, email); // unknown addresses are throttled exactly like known ones
    let block = 1;
    for (const seconds of [2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]) {
      advance(block * 1_000 + 1); // wait the block out, then fail again
      await failTimes(1, email);
      block = seconds;
      const error = errorOf(await logIn(email, 'anything at all'));
      expect(error.code).toBe('TOO_MANY_ATTEMPTS');
      expect(error.extensions.retryAfterSeconds).toBe(seconds);
    }
  });

  it('forgets failures older than 15 minutes', async () => {
    const email = uniqueEmail('forgetful');
    await signUp(email);
    await failTimes(4, email);
    advance(15 * 60_000 + 1);
    await failTimes(1, email); // counts as the first of a new window
    expect(await throttleRow(`email:${email}`)).toMatchObject({ failures: 1, blocked_until: null });
    expect(ok(await logIn(email, GOOD_PASSWORD)).logIn.user.email).toBe(email);
  });

  it('blocks one address without touching another', async () => {
    const blockedEmail = uniqueEmail('blocked');
    const otherEmail = uniqueEmail('other');
    await signUp(otherEmail);
    await failTimes(5, blockedEmail);
    expect(errorOf(await logIn(blockedEmail, GOOD_PASSWORD)).code).toBe('TOO_MANY_ATTEMPTS');
    expect(ok(await logIn(otherEmail, GOOD_PASSWORD)).logIn.user.email).toBe(otherEmail);
  });
});

describe('login throttling per client IP', () => {
  it('blocks an IP guessing across many addresses after 20 failures, other IPs unaffected', async () => {
    const attacker = uniqueIp();
    const email = uniqueEmail('target');
    await signUp(email);
    for (let i = 0; i < 20; i++) await failTimes(1, uniqueEmail(`guess${i}`), attacker);
    expect(await throttleRow(`ip:${attacker}`)).toMatchObject({ failures: 20 });

    const blocked = errorOf(await logIn(email, GOOD_PASSWORD, attacker));
    expect(blocked).toMatchObject({ code: 'TOO_MANY_ATTEMPTS', extensions: { retryAfterSeconds: 1 } });
    expect(ok(await logIn(email, GOOD_PASSWORD, uniqueIp())).logIn.user.email).toBe(email);
  });

  it('is not reset by a successful login from that IP', async () => {
    const ip = uniqueIp();
    const email = uniqueEmail('own');
    await signUp(email);
    await failTimes(3, uniqueEmail('someone-else'), ip);
    ok(await logIn(email, GOOD_PASSWORD, ip));
    expect(await throttleRow(`ip:${ip}`)).toMatchObject({ failures: 3 });
  });
});
