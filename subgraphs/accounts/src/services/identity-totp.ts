import { createHash, randomBytes } from 'node:crypto';
import type { Em } from '@listbackup/lib/db';
import { AppError } from '@listbackup/lib/errors';
import { base32Encode, verifyTotp } from '@listbackup/lib/totp';
import { uuidv7 } from '@listbackup/lib/events/envelope';
import { RecoveryCode } from '../entities/recovery-code.ts';
import { User } from '../entities/user.ts';

export const TOTP_ISSUER = 'ListBackup';
export const RECOVERY_CODE_COUNT = 10;
/** One step either side of now, for clocks that drift and codes typed just as they change. */
const TOTP_WINDOW = 1;

export class InvalidTotpError extends AppError {
  constructor() {
    super('INVALID_TOTP', 'The code is incorrect or has already been used.', { field: 'totp' });
  }
}

/** 80 random bits as 16 base32 characters in groups of four: `k7qm-2xpa-…`. */
function newRecoveryCode(): string {
  return base32Encode(randomBytes(10)).toLowerCase().match(/.{4}/g)!.join('-');
}

/** Case, spaces and hyphens do not matter when a code is typed back. */
function normalizeRecoveryCode(code: string): string {
  return code.replace(/[\s-]/g, '').toLowerCase();
}

/** 80-bit codes need no slow hash; the user id salts it so equal codes of two users differ. */
function hashRecoveryCode(userId: string, code: string): string {
  return createHash('sha256').update(`${userId}:${normalizeRecoveryCode(code)}`).digest('base64url');
}

/** Replaces the user's recovery codes with new ones (in the caller's unit of work) and returns them in clear, once. */
export async function issueRecoveryCodes(em: Em, userId: string): Promise<string[]> {
  await em.nativeDelete(RecoveryCode, { userId });
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  const now = new Date();
  for (const code of codes) em.create(RecoveryCode, { id: uuidv7(), userId, codeHash: hashRecoveryCode(userId, code), usedAt: null, createdAt: now });
  return codes;
}

export type SecondFactor = 'totp' | 'recovery_code';

/**
 * Accepts a current TOTP code (each time step once: a code seen before is refused) or an unused
 * recovery code (then used up). Each is consumed with one conditional UPDATE, so two requests
 * racing with the same code cannot both succeed. Returns which kind matched, or null.
 */
export async function consumeSecondFactor(em: Em, user: Pick<User, 'id'>, secret: string, code: string): Promise<SecondFactor | null> {
  const given = String(code ?? '').replace(/\s/g, '');
  if (/^[0-9]{6}$/.test(given)) {
    const step = verifyTotp(secret, given, { window: TOTP_WINDOW });
    if (step === null) return null;
    const updated = await em.nativeUpdate(
      User,
      { id: user.id, $or: [{ totpLastStep: null }, { totpLastStep: { $lt: step } }] },
      { totpLastStep: step },
    );
    return updated === 1 ? 'totp' : null;
  }
  if (normalizeRecoveryCode(given).length !== 16) return null;
  const used = await em.nativeUpdate(
    RecoveryCode,
    { userId: user.id, codeHash: hashRecoveryCode(user.id, given), usedAt: null },
    { usedAt: new Date() },
  );
  return used === 1 ? 'recovery_code' : null;
}

/** The time step a code matches, for confirming enrolment (no reuse check yet: nothing was accepted before). */
export function matchTotp(secret: string, code: string): number | null {
  return verifyTotp(secret, String(code ?? '').replace(/\s/g, ''), { window: TOTP_WINDOW });
}
