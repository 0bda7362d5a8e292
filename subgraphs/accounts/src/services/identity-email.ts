import { AppError } from '@listbackup/lib/errors';
import { assertPlainText } from '@listbackup/lib/text';

/** The form every email is stored and compared in: plain text (lib/src/text.ts), NFKC, trimmed, lower-case. */
export function normalizeEmail(email: string, field = 'email'): string {
  return assertPlainText(String(email ?? ''), field).normalize('NFKC').trim().toLowerCase();
}

// Deliberately simple (RFC 5322 allows far more than any mail provider does): one @, a local part
// without spaces, and a domain of dot-separated labels ending in a top-level domain of letters.
const LOCAL = /^[^\s@"(),:;<>[\]\\]+$/u;
const LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;
const TLD = /^(?:\p{L}{2,63}|xn--[a-z0-9-]{1,59})$/u;

export function isValidEmail(normalized: string): boolean {
  if (normalized.length > 254) return false;
  const at = normalized.lastIndexOf('@');
  if (at <= 0 || at !== normalized.indexOf('@')) return false;
  const local = normalized.slice(0, at);
  const labels = normalized.slice(at + 1).split('.');
  if (local.length > 64 || !LOCAL.test(local) || local.startsWith('.') || local.endsWith('.') || local.includes('..')) return false;
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label))) return false;
  return TLD.test(labels[labels.length - 1]);
}

export class InvalidEmailError extends AppError {
  constructor(field = 'email') {
    super('INVALID_EMAIL', 'Enter a valid email address, like name@example.com.', { field });
  }
}

/** The normalized address, or INVALID_EMAIL. */
export function parseEmail(email: string, field = 'email'): string {
  const normalized = normalizeEmail(email, field);
  if (!isValidEmail(normalized)) throw new InvalidEmailError(field);
  return normalized;
}
