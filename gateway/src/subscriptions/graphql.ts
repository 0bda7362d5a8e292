import { createRequire } from 'node:module';
import type * as GraphQL from 'graphql';

/**
 * graphql-js as @apollo/gateway, Apollo Server and graphql-ws load it (its CommonJS build). A bundler
 * that prefers graphql's `.mjs` twin (vitest does) would otherwise hand our code a second copy, whose
 * schemas and GraphQLError classes fail the other copy's `instanceof` checks.
 */
export const graphql: typeof GraphQL = createRequire(import.meta.url)('graphql');
