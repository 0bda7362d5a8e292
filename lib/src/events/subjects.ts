import { EVENT_SUBJECT_PREFIX } from './envelope.ts';

/**
 * Checks a subscription pattern: NATS syntax (`*` = one token, `>` = one or more trailing tokens),
 * and it must lie inside the event namespace `lb.evt.`.
 */
export function assertEventPattern(pattern: string): void {
  const tokens = pattern.split('.');
  const valid =
    pattern.startsWith(`${EVENT_SUBJECT_PREFIX}.`) &&
    tokens.length > 2 &&
    tokens.every((token, index) => {
      if (token === '>') return index === tokens.length - 1;
      return token === '*' || /^[^*>\s]+$/.test(token);
    });
  if (!valid) {
    throw new TypeError(`Invalid event pattern "${pattern}": expected e.g. "${EVENT_SUBJECT_PREFIX}.<accountId>.>"`);
  }
}

/** NATS subject matching: `*` matches exactly one token, `>` matches one or more trailing tokens. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const want = pattern.split('.');
  const have = subject.split('.');
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '>') return have.length > i;
    if (i >= have.length) return false;
    if (want[i] !== '*' && want[i] !== have[i]) return false;
  }
  return want.length === have.length;
}

/**
 * Replaces the logical `lb.evt` prefix of a subject or pattern with a physical one, so one NATS
 * server can host several isolated namespaces (test runs, environments) under the same API.
 */
export function withPrefix(subjectOrPattern: string, prefix: string): string {
  return prefix + subjectOrPattern.slice(EVENT_SUBJECT_PREFIX.length);
}
