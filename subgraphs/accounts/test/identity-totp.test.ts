import { describe, expect, it } from 'vitest';
import { totpCode } from '@listbackup/lib/totp';
import {
  ANON,
  GOOD_PASSWORD,
  LOG_IN,
  awayFromStepBoundary,
  errorOf,
  ok,
  principalOf,
  rows,
  tableCounts,
  uniqueEmail,
  type AuthPayload,
  useIdentityHarness,
} from './identity-support.ts';

const api = useIdentityHarness();

const ENROLL = 'mutation { enrollTotp { secret otpauthUri } }';
const CONFIRM = 'mutation ($code: String!) { confirmTotp(code: $code) { recoveryCodes } }';
const DISABLE = 'mutation ($code: String!) { disableTotp(code: $code) }';
const STEP = 30_000;

/** The code of the time step `offset` steps from now (the server accepts one step either side). */
const codeAt = (secret: string, offset: number) => totpCode(secret, Date.now() + offset * STEP);

/** A well-formed code that matches none of the steps the server accepts now. */
function wrongCode(secret: string): string {
  const valid = new Set([-1, 0, 1].map((offset) => codeAt(secret, offset)));
  return ['123456', '654321', '000000', '999999'].find((code) => !valid.has(code))!;
}

interface Enrolled {
  email: string;
  principal: ReturnType<typeof principalOf>;
  secret: string;
  recoveryCodes: string[];
}

const signUp = (email: string) => api.signUp('Two Factor', email);

function logIn(email: string, totp?: string) {
  return api.gql<{ logIn: AuthPayload }>(ANON, LOG_IN, { input: { email, password: GOOD_PASSWORD, totp } });
}

/** Signs up and turns TOTP on, confirming with the previous step's code (so later steps stay usable). */
async function enrolled(): Promise<Enrolled> {
  await awayFromStepBoundary();
  const email = uniqueEmail('mfa');
  const principal = principalOf((await signUp(email)).accessToken);
  const { secret } = ok(await api.gql(principal, ENROLL)).enrollTotp;
  const { recoveryCodes } = ok(await api.gql(principal, CONFIRM, { code: codeAt(secret, -1) })).confirmTotp;
  return { email, principal, secret, recoveryCodes };
}

describe('TOTP enrolment', () => {
  it('gives a secret and an otpauth URI, and requires nothing until confirmed', async () => {
    await awayFromStepBoundary();
    const email = uniqueEmail('enrol');
    const principal = principalOf((await signUp(email)).accessToken);
    const { secret, otpauthUri } = ok(await api.gql(principal, ENROLL)).enrollTotp;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(otpauthUri.startsWith(`otpauth://totp/ListBackup:${encodeURIComponent(email)}?`)).toBe(true);
    const uri = new URL(otpauthUri);
    expect(uri.searchParams.get('secret')).toBe(secret);
    expect(uri.searchParams.get('issuer')).toBe('ListBackup');

    expect(ok(await api.gql(principal, '{ me { totpEnabled } }')).me.totpEnabled).toBe(false);
    expect(ok(await logIn(email)).logIn.user.totpEnabled).toBe(false); // no code needed yet

    const before = await tableCounts(api.harness.orm);
    expect(errorOf(await api.gql(principal, CONFIRM, { code: wrongCode(secret) })).code).toBe('INVALID_TOTP');
    expect(errorOf(await api.gql(principal, CONFIRM, { code: 'abc' })).code).toBe('INVALID_TOTP');
    expect(await tableCounts(api.harness.orm)).toEqual(before);
    expect(ok(await api.gql(principal, '{ me { totpEnabled } }')).me.totpEnabled).toBe(false);

    const { recoveryCodes } = ok(await api.gql(principal, CONFIRM, { code: codeAt(secret, 0) })).confirmTotp;
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect(ok(await api.gql(principal, '{ me { totpEnabled } }')).me.totpEnabled).toBe(true);

    // stored hashed: no code appears in the table
    const stored = await rows(api.harness.orm, 'select code_hash from accounts.recovery_codes where user_id = ?', [principal.userId]);
    expect(stored).toHaveLength(10);
    const normalized = (recoveryCodes as string[]).map((code) => code.replace(/-/g, ''));
    for (const { code_hash } of stored) for (const code of [...recoveryCodes, ...normalized]) expect(code_hash).not.toContain(code);
  });

  it('refuses to confirm before enrolling, and to enrol or confirm twice', async () => {
    const principal = principalOf((await signUp(uniqueEmail('order'))).accessToken);
    expect(errorOf(await api.gql(principal, CONFIRM, { code: '123456' })).code).toBe('TOTP_NOT_ENROLLED');
    expect(errorOf(await api.gql(principal, DISABLE, { code: '123456' })).code).toBe('TOTP_NOT_ENABLED');

    const { principal: on, secret } = await enrolled();
    expect(errorOf(await api.gql(on, ENROLL)).code).toBe('TOTP_ALREADY_ENABLED');
    expect(errorOf(await api.gql(on, CONFIRM, { code: codeAt(secret, 1) })).code).toBe('TOTP_ALREADY_ENABLED');
  });

  it('is for signed-in users only', async () => {
    expect(errorOf(await api.gql(ANON, ENROLL)).code).toBe('UNAUTHENTICATED');
  });
});

describe('logIn with TOTP on', () => {
  it('requires a code: none → TOTP_REQUIRED, wrong → INVALID_TOTP, current → signed in; no session for the refusals', async () => {
    const { email, secret } = await enrolled();
    const before = await tableCounts(api.harness.orm);
    expect(errorOf(await logIn(email)).code).toBe('TOTP_REQUIRED');
    expect(errorOf(await logIn(email, '   ')).code).toBe('TOTP_REQUIRED');
    expect(errorOf(await logIn(email, wrongCode(secret)))).toMatchObject({ code: 'INVALID_TOTP', message: 'The code is incorrect or has already been used.' });
    expect(errorOf(await logIn(email, codeAt(secret, 5))).code).toBe('INVALID_TOTP'); // far outside the window
    expect((await tableCounts(api.harness.orm)).sessions).toBe(before.sessions);

    const payload = ok(await logIn(email, codeAt(secret, 0))).logIn;
    expect(payload.user.totpEnabled).toBe(true);
    const [login] = await rows(api.harness.orm, `select data from accounts.outbox_events where type = 'user.login' and subject = ?`, [payload.user.id]);
    expect(login.data.method).toBe('password+totp');
  });

  it('still answers INVALID_CREDENTIALS for a wrong password, before asking for a code', async () => {
    const { email } = await enrolled();
    const error = errorOf(await api.gql(ANON, LOG_IN, { input: { email, password: 'not the password', totp: '123456' } }));
    expect(error.code).toBe('INVALID_CREDENTIALS');
  });

  it('accepts each code once: the same time step cannot be replayed', async () => {
    const { email, secret } = await enrolled(); // enrolment used the previous step
    const code = codeAt(secret, 0);
    ok(await logIn(email, code));
    expect(errorOf(await logIn(email, code)).code).toBe('INVALID_TOTP');
    expect(errorOf(await logIn(email, codeAt(secret, -1))).code).toBe('INVALID_TOTP'); // older than the last one used
    ok(await logIn(email, codeAt(secret, 1))); // a later step is fine
  });

  it('accepts a recovery code once, in any case and with or without hyphens', async () => {
    const { email, recoveryCodes } = await enrolled();
    const [first, second] = recoveryCodes;
    const payload = ok(await logIn(email, first.toUpperCase())).logIn;
    expect(errorOf(await logIn(email, first)).code).toBe('INVALID_TOTP');
    ok(await logIn(email, second.replace(/-/g, ' ')));
    const used = await rows(api.harness.orm, 'select count(*) as n from accounts.recovery_codes where user_id = ? and used_at is not null', [payload.user.id]);
    expect(Number(used[0].n)).toBe(2);
  });

  it("refuses another user's recovery code", async () => {
    const alice = await enrolled();
    const bob = await enrolled();
    expect(errorOf(await logIn(alice.email, bob.recoveryCodes[0])).code).toBe('INVALID_TOTP');
    ok(await logIn(bob.email, bob.recoveryCodes[0]));
  });

  it('counts wrong codes as failed logins, so guessing codes is throttled too', async () => {
    const { email } = await enrolled();
    for (let i = 0; i < 5; i++) expect(errorOf(await logIn(email, 'aaaa-bbbb-cccc-dddd')).code).toBe('INVALID_TOTP');
    expect(errorOf(await logIn(email, 'aaaa-bbbb-cccc-dddd')).code).toBe('TOO_MANY_ATTEMPTS');
  });
});

describe('disableTotp', () => {
  it('needs a valid code; then login needs none and the recovery codes are gone', async () => {
    const { email, principal, secret, recoveryCodes } = await enrolled();
    const before = await tableCounts(api.harness.orm);
    expect(errorOf(await api.gql(principal, DISABLE, { code: wrongCode(secret) })).code).toBe('INVALID_TOTP');
    expect(errorOf(await api.gql(principal, DISABLE, { code: '99999' })).code).toBe('INVALID_TOTP');
    expect(errorOf(await api.gql(principal, DISABLE, { code: codeAt(secret, -1) })).code).toBe('INVALID_TOTP'); // already used to confirm
    expect(await tableCounts(api.harness.orm)).toEqual(before);
    expect(ok(await api.gql(principal, '{ me { totpEnabled } }')).me.totpEnabled).toBe(true);

    expect(ok(await api.gql(principal, DISABLE, { code: codeAt(secret, 0) })).disableTotp).toBe(true);
    expect(ok(await api.gql(principal, '{ me { totpEnabled } }')).me.totpEnabled).toBe(false);
    expect((await tableCounts(api.harness.orm)).recovery_codes).toBe(before.recovery_codes - recoveryCodes.length);
    expect(ok(await logIn(email)).logIn.user.totpEnabled).toBe(false);
  });

  it('accepts a recovery code instead of a TOTP code', async () => {
    const { principal, recoveryCodes } = await enrolled();
    expect(ok(await api.gql(principal, DISABLE, { code: recoveryCodes[3] })).disableTotp).toBe(true);
  });
});
