import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

function toDate(value: unknown): Date {
  const date = value instanceof Date ? value : typeof value === 'string' || typeof value === 'number' ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 date and time', { extensions: { code: 'BAD_USER_INPUT' } });
  return date;
}

export const DateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An ISO-8601 date and time in UTC.',
  serialize: (value) => toDate(value).toISOString(),
  parseValue: (value) => toDate(value),
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be a string', { extensions: { code: 'BAD_USER_INPUT' } });
    return toDate(ast.value);
  },
});

/** Any JSON value, passed through as it is. */
export const JSONScalar = new GraphQLScalarType<unknown, unknown>({
  name: 'JSON',
  description: 'Any JSON value.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: () => {
    throw new GraphQLError('JSON values are accepted as variables only', { extensions: { code: 'BAD_USER_INPUT' } });
  },
});

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

function toDay(value: unknown): string {
  const date = typeof value === 'string' && DAY_PATTERN.test(value) ? new Date(`${value}T00:00:00Z`) : null;
  // A day that does not exist (2026-02-30) either fails to parse or rolls over to another day.
  if (!date || Number.isNaN(date.getTime()) || !date.toISOString().startsWith(value as string)) {
    throw new GraphQLError('Date must be a calendar day, YYYY-MM-DD', { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return value as string;
}

/** A calendar day as `YYYY-MM-DD` (UTC days in analytics). */
export const DateScalar = new GraphQLScalarType<string, string>({
  name: 'Date',
  description: 'A calendar day, `YYYY-MM-DD`.',
  serialize: (value) => (value instanceof Date ? value.toISOString().slice(0, 10) : toDay(value)),
  parseValue: (value) => toDay(value),
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('Date must be a string', { extensions: { code: 'BAD_USER_INPUT' } });
    return toDay(ast.value);
  },
});
