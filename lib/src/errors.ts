import { GraphQLError } from 'graphql';

/**
 * Expected failures carry a stable `extensions.code`. Anything else thrown from a resolver is
 * unexpected: it is logged and masked to the client as INTERNAL_SERVER_ERROR.
 */
export class AppError extends GraphQLError {
  constructor(code: string, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extensions, code } });
  }
}

/** One answer for "missing" and "not yours": a caller never learns that another tenant's record exists. */
export class NotFoundError extends AppError {
  constructor(what: string) {
    super('NOT_FOUND', `${what} not found`);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'You do not have permission to do this') {
    super('FORBIDDEN', message);
  }
}

export class UnauthenticatedError extends AppError {
  constructor(message = 'You must be signed in') {
    super('UNAUTHENTICATED', message);
  }
}

export class ValidationError extends AppError {
  constructor(message: string, field?: string) {
    super('BAD_USER_INPUT', message, field ? { field } : {});
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
