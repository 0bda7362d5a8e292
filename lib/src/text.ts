import { AppError } from './errors.ts';

/**
 * Why a string cannot be a name or an address. Each is a stable `extensions.reason`:
 * - CONTROL_CHARACTER: C0/C1 controls (NUL, line breaks, escape, …), which PostgreSQL cannot store
 *   (NUL) or which change how a name prints;
 * - LONE_SURROGATE: half of a UTF-16 pair, which no encoding can store (PostgreSQL would keep U+FFFD);
 * - BIDI_CONTROL: bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069),
 *   which make a name read differently from what it is ("Trojan Source").
 */
export type TextProblem = 'CONTROL_CHARACTER' | 'LONE_SURROGATE' | 'BIDI_CONTROL';

const CONTROL = /\p{Cc}/u;
const BIDI = /[\u202A-\u202E\u2066-\u2069]/u;

export function textProblem(value: string): TextProblem | undefined {
  if (!value.isWellFormed()) return 'LONE_SURROGATE';
  if (CONTROL.test(value)) return 'CONTROL_CHARACTER';
  if (BIDI.test(value)) return 'BIDI_CONTROL';
  return undefined;
}

const MESSAGES: Record<TextProblem, string> = {
  CONTROL_CHARACTER: 'cannot contain control characters',
  LONE_SURROGATE: 'is not valid Unicode (it holds half of a surrogate pair)',
  BIDI_CONTROL: 'cannot contain bidirectional override or isolate characters',
};

export class TextError extends AppError {
  constructor(field: string, reason: TextProblem) {
    super('BAD_USER_INPUT', `${field} ${MESSAGES[reason]}`, { reason, field });
  }
}

/** Refuses what no name or address may hold (see `TextProblem`); answers the text unchanged. */
export function assertPlainText(value: string, field: string): string {
  const problem = textProblem(value);
  if (problem) throw new TextError(field, problem);
  return value;
}

/**
 * The form every name is stored in: checked, then NFC (so "é" typed either way is one name), trimmed.
 * Lengths are the caller's rule, on the result.
 */
export function normalizeName(value: string, field = 'name'): string {
  return assertPlainText(String(value ?? ''), field).normalize('NFC').trim();
}
