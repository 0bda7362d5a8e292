import type { GraphQLFormattedError } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from './context.ts';
import { isLimitCode, limitCodeOf, withLimitCode } from './limits.ts';

/** Errors the gateway raises itself about the client's request; their message is meant for the client. */
const REQUEST_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'RATE_LIMITED',
]);

export const MASKED_MESSAGE = 'Internal server error';

/**
 * Whether the client may see an error as it is. A subgraph's GraphQL errors are already masked by
 * that subgraph and keep their `extensions.code` (NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, ...); so do
 * errors about the client's request (parse, validation, variables). Anything else — a subgraph that
 * is down or refused the gateway (an HTTP-level failure carries `extensions.response`), a bug in the
 * gateway — is not.
 */
export function isExposed(error: unknown): boolean {
  const extensions = (error as { extensions?: Record<string, unknown> } | undefined)?.extensions ?? {};
  const code = typeof extensions.code === 'string' ? extensions.code : '';
  if (!code) return false;
  if (isLimitCode(code)) return true;
  if (typeof extensions.serviceName === 'string') return extensions.response === undefined;
  return REQUEST_ERROR_CODES.has(code);
}

export function formatGatewayError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const limitCode = limitCodeOf(error);
  if (limitCode) return withLimitCode(formatted, limitCode);
  if (isExposed(error)) return formatted;
  return { message: MASKED_MESSAGE, ...(formatted.path ? { path: formatted.path } : {}), extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}

/** Logs what `formatGatewayError` masks, on the request's logger (so with its request id). */
export const logMaskedErrors: ApolloServerPlugin<GatewayContext> = {
  async requestDidStart() {
    return {
      async didEncounterErrors({ errors, contextValue }) {
        for (const error of errors) {
          if (!isExposed(error)) contextValue.log.error({ err: error.originalError ?? error, path: error.path }, 'unexpected error (masked to the client)');
        }
      },
    };
  },
};
