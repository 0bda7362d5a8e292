import type { ApolloServerPlugin } from '@apollo/server';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import type { GraphQLArmorRejectCallback } from '@escape.tech/graphql-armor-types';
import type { DocumentNode, GraphQLFormattedError, GraphQLNamedType, GraphQLSchema, SelectionSetNode, ValidationContext, ValidationRule } from 'graphql';
import { getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';
import { z } from 'zod';
import type { GatewayContext } from './context.ts';
import { graphql } from './subscriptions/graphql.ts';

const { getNamedType, getNullableType, GraphQLError, isInterfaceType, isListType, isObjectType, Kind, Lexer, Source, TokenKind } = graphql;

/**
 * What one request to the gateway may ask for. The defaults are graphql-armor's, tuned so that every
 * query the product documents and tests passes (docs/limits.md).
 */
export interface QueryLimits {
  /** Nesting of selection sets (fragments followed). */
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  /** Lexical tokens of the document. */
  maxTokens: number;
  /** Cost on the supergraph: one per field, times the page size of each list below it. */
  maxCost: number;
  /** Operations in one batched (JSON array) request. */
  maxBatch: number;
  maxBodyBytes: number;
  /** Nesting of `variables` (objects and arrays) and of brackets in the document. */
  maxNesting: number;
  /** Schema introspection (`__schema`, `__type`). */
  introspection: boolean;
  /** "Did you mean …" hints in validation errors. */
  fieldSuggestions: boolean;
}

const production = process.env.NODE_ENV === 'production';

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxDepth: 8,
  maxAliases: 15,
  maxDirectives: 50,
  maxTokens: 1_000,
  maxCost: 5_000,
  maxBatch: 10,
  maxBodyBytes: 1024 * 1024,
  maxNesting: 32,
  introspection: !production,
  fieldSuggestions: !production,
};

/** The stable code of each refusal (docs/limits.md). */
export const LIMIT_CODES = {
  depth: 'QUERY_DEPTH_LIMIT',
  aliases: 'QUERY_ALIAS_LIMIT',
  directives: 'QUERY_DIRECTIVE_LIMIT',
  tokens: 'QUERY_TOKEN_LIMIT',
  cost: 'QUERY_COST_LIMIT',
  batch: 'BATCH_LIMIT',
  body: 'BODY_TOO_LARGE',
  nesting: 'NESTING_LIMIT',
} as const;

const LIMIT_CODE_SET = new Set<string>(Object.values(LIMIT_CODES));

/** Environment variables that set the limits of one deployment (gateway/src/main.ts). */
export const limitsEnv = {
  QUERY_MAX_DEPTH: z.coerce.number().int().min(1).default(DEFAULT_QUERY_LIMITS.maxDepth),
  QUERY_MAX_ALIASES: z.coerce.number().int().min(0).default(DEFAULT_QUERY_LIMITS.maxAliases),
  QUERY_MAX_DIRECTIVES: z.coerce.number().int().min(0).default(DEFAULT_QUERY_LIMITS.maxDirectives),
  QUERY_MAX_TOKENS: z.coerce.number().int().min(10).default(DEFAULT_QUERY_LIMITS.maxTokens),
  QUERY_MAX_COST: z.coerce.number().int().min(1).default(DEFAULT_QUERY_LIMITS.maxCost),
  QUERY_MAX_BATCH: z.coerce.number().int().min(1).default(DEFAULT_QUERY_LIMITS.maxBatch),
  REQUEST_MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(DEFAULT_QUERY_LIMITS.maxBodyBytes),
  REQUEST_MAX_NESTING: z.coerce.number().int().min(4).max(1_000).default(DEFAULT_QUERY_LIMITS.maxNesting),
  GRAPHQL_INTROSPECTION: z.stringbool().default(DEFAULT_QUERY_LIMITS.introspection),
  GRAPHQL_FIELD_SUGGESTIONS: z.stringbool().default(DEFAULT_QUERY_LIMITS.fieldSuggestions),
};

export function limitsFromEnv(config: { [K in keyof typeof limitsEnv]: z.infer<(typeof limitsEnv)[K]> }): QueryLimits {
  return {
    maxDepth: config.QUERY_MAX_DEPTH,
    maxAliases: config.QUERY_MAX_ALIASES,
    maxDirectives: config.QUERY_MAX_DIRECTIVES,
    maxTokens: config.QUERY_MAX_TOKENS,
    maxCost: config.QUERY_MAX_COST,
    maxBatch: config.QUERY_MAX_BATCH,
    maxBodyBytes: config.REQUEST_MAX_BODY_BYTES,
    maxNesting: config.REQUEST_MAX_NESTING,
    introspection: config.GRAPHQL_INTROSPECTION,
    fieldSuggestions: config.GRAPHQL_FIELD_SUGGESTIONS,
  };
}

/** A request refused by a limit (or as untrusted, trusted-documents.ts) before it reaches GraphQL execution. */
export class LimitError extends graphql.GraphQLError {
  readonly status: number;
  constructor(code: string, message: string, status = 400) {
    super(message, { extensions: { code } });
    this.status = status;
  }
  toBody(): unknown {
    return { errors: [{ message: this.message, extensions: { code: this.extensions.code } }] };
  }
}

/** Reports an armor rejection as a validation error whose code names the limit. */
const reportAs =
  (code: string): GraphQLArmorRejectCallback =>
  (context, error) => {
    context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { nodes: [], extensions: { code } }));
  };

/**
 * A connection's wrapper fields: `edges` and `pageInfo` of a `…Connection` type, `node` of a
 * `…Edge` type. Paging a list wraps its items in them without nesting the data any deeper, so they
 * add no level to the depth (the cost limit counts what a page fans out to).
 */
function isConnectionWrapper(parent: GraphQLNamedType | undefined, field: string): boolean {
  if (!parent || !isObjectType(parent)) return false;
  if (field === 'node') return parent.name.endsWith('Edge');
  return (field === 'edges' || field === 'pageInfo') && parent.name.endsWith('Connection') && 'edges' in parent.getFields();
}

/**
 * Nesting of an operation's fields, fragments followed without a level of their own, connection
 * wrappers not counted, introspection (`__schema`) left to its own switch. Each fragment's depth is
 * taken once, so fragments spread many times cost no more to check; a cycle (refused by
 * graphql's own rule) counts nothing.
 */
function maxDepthRule(maxDepth: number): ValidationRule {
  return (context: ValidationContext) => {
    const schema = context.getSchema();
    const fragments = new Map<string, number>();
    const depthOf = (selectionSet: SelectionSetNode, type: GraphQLNamedType | undefined): number => {
      let deepest = 0;
      for (const selection of selectionSet.selections) {
        let depth = 0;
        if (selection.kind === Kind.FIELD) {
          const name = selection.name.value;
          if (name === '__schema') continue;
          const field = type && (isObjectType(type) || isInterfaceType(type)) ? type.getFields()[name] : undefined;
          const below = selection.selectionSet ? depthOf(selection.selectionSet, field && getNamedType(field.type)) : 0;
          depth = (isConnectionWrapper(type, name) ? 0 : 1) + below;
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          depth = depthOf(selection.selectionSet, selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type);
        } else {
          const name = selection.name.value;
          if (!fragments.has(name)) {
            fragments.set(name, 0);
            const fragment = context.getFragment(name);
            if (fragment) fragments.set(name, depthOf(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value)));
          }
          depth = fragments.get(name)!;
        }
        deepest = Math.max(deepest, depth);
      }
      return deepest;
    };
    return {
      OperationDefinition(operation) {
        const depth = depthOf(operation.selectionSet, schema.getRootType(operation.operation) ?? undefined);
        if (depth > maxDepth) {
          context.reportError(new GraphQLError(`Query depth limit of ${maxDepth} exceeded, found ${depth}.`, { nodes: [], extensions: { code: LIMIT_CODES.depth } }));
        }
      },
    };
  };
}

/** The depth limit, and graphql-armor's alias and directive limits, as validation rules of the gateway's schema. */
export function limitRules(limits: QueryLimits): ValidationRule[] {
  const common = { exposeLimits: true, propagateOnRejection: false };
  return [
    maxDepthRule(limits.maxDepth),
    maxAliasesRule({ ...common, n: limits.maxAliases, onReject: [reportAs(LIMIT_CODES.aliases)] }),
    maxDirectivesRule({ ...common, n: limits.maxDirectives, onReject: [reportAs(LIMIT_CODES.directives)] }),
  ];
}

/**
 * Counts the document's tokens and bracket nesting with graphql's own lexer, stopping as soon as
 * either is over its limit: a 10,000-deep list literal is refused here, before a recursive parser
 * sees it. Lexical errors are left to the parser, which reports them with their position. A client
 * sends the same few documents again and again, so each verdict is remembered (bounded).
 */
export function checkDocument(query: string, limits: Pick<QueryLimits, 'maxTokens' | 'maxNesting'>): LimitError | undefined {
  let verdicts = documentVerdicts.get(limits);
  if (!verdicts) documentVerdicts.set(limits, (verdicts = new Map()));
  const known = verdicts.get(query);
  if (known !== undefined) return known ?? undefined;
  const verdict = lexDocument(query, limits);
  if (query.length <= MEMO_MAX_KEY_LENGTH) remember(verdicts, query, verdict ?? null);
  return verdict;
}

const documentVerdicts = new WeakMap<object, Map<string, LimitError | null>>();
/** Documents and variables longer than this are checked every time rather than kept as keys. */
const MEMO_MAX_KEY_LENGTH = 16 * 1024;
const MEMO_MAX_ENTRIES = 1000;

function remember<V>(memo: Map<string, V>, key: string, value: V): void {
  if (memo.size >= MEMO_MAX_ENTRIES) memo.clear();
  memo.set(key, value);
}

function lexDocument(query: string, limits: Pick<QueryLimits, 'maxTokens' | 'maxNesting'>): LimitError | undefined {
  const lexer = new Lexer(new Source(query));
  let tokens = 0;
  let nesting = 0;
  try {
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      if (++tokens > limits.maxTokens) return new LimitError(LIMIT_CODES.tokens, `The document has more than ${limits.maxTokens} tokens, the limit`);
      if (token.kind === TokenKind.BRACE_L || token.kind === TokenKind.BRACKET_L || token.kind === TokenKind.PAREN_L) {
        if (++nesting > limits.maxNesting) return new LimitError(LIMIT_CODES.nesting, `The document nests brackets more than ${limits.maxNesting} deep, the limit`);
      } else if (token.kind === TokenKind.BRACE_R || token.kind === TokenKind.BRACKET_R || token.kind === TokenKind.PAREN_R) {
        nesting--;
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** How deep a JSON value nests, counted without recursion and stopping past `limit`. */
export function jsonNesting(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (child !== null && typeof child === 'object') stack.push([child, level]);
    }
  }
  return deepest;
}

/** Checks one operation of a request body (`{ query, variables, ... }`) before Apollo sees it. */
export function checkOperation(operation: unknown, limits: QueryLimits): LimitError | undefined {
  if (operation === null || typeof operation !== 'object') return undefined;
  const { query, variables, extensions } = operation as { query?: unknown; variables?: unknown; extensions?: unknown };
  if (typeof query === 'string') {
    const refused = checkDocument(query, limits);
    if (refused) return refused;
  }
  for (const value of [variables, extensions]) {
    if (jsonNesting(value, limits.maxNesting) > limits.maxNesting) {
      return new LimitError(LIMIT_CODES.nesting, `Variables and extensions may nest at most ${limits.maxNesting} deep`);
    }
  }
  return undefined;
}

/** Page sizes the cost assumes for a list field: its `first`/`limit` argument, else that argument's default. */
const DEFAULT_LIST_SIZE = 5;
const MAX_LIST_SIZE = 100;

const listSizeEstimator: ComplexityEstimator = ({ type: parent, field, args, childComplexity }) => {
  // A connection's edges are its page: counted once, at the connection.
  if (field.name === 'edges' && parent.name.endsWith('Connection')) return 1 + childComplexity;
  const type = getNullableType(field.type);
  const named = getNamedType(field.type);
  const isConnection = isObjectType(named) && named.name.endsWith('Connection') && 'edges' in named.getFields();
  if (!isListType(type) && !isConnection) return undefined;
  const requested = [args.first, args.limit].find((value) => typeof value === 'number');
  const size = typeof requested === 'number' && Number.isFinite(requested) ? Math.min(Math.max(requested, 1), MAX_LIST_SIZE) : DEFAULT_LIST_SIZE;
  return 1 + size * Math.max(childComplexity, 1);
};

const ESTIMATORS = [listSizeEstimator, simpleEstimator({ defaultComplexity: 1 })];

/**
 * The cost of an operation on the gateway's API schema, or undefined when its variables do not
 * coerce. Apollo hands every request of the same query string the same parsed document, so the
 * cost is remembered per schema, document, operation and variables (bounded).
 */
export function operationCost(schema: GraphQLSchema, query: DocumentNode, variables?: Record<string, unknown>, operationName?: string): number | undefined {
  const key = `${operationName ?? ''}\n${JSON.stringify(variables ?? {})}`;
  let documents = costs.get(schema);
  if (!documents) costs.set(schema, (documents = new WeakMap()));
  let known = documents.get(query);
  if (!known) documents.set(query, (known = new Map()));
  const cost = known.get(key);
  if (cost !== undefined) return cost ?? undefined;
  const computed = complexityOf(schema, query, variables, operationName);
  if (key.length <= MEMO_MAX_KEY_LENGTH) remember(known, key, computed ?? null);
  return computed;
}

const costs = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, number | null>>>();

function complexityOf(schema: GraphQLSchema, query: DocumentNode, variables?: Record<string, unknown>, operationName?: string): number | undefined {
  try {
    return getComplexity({ schema, query, variables, operationName, estimators: ESTIMATORS });
  } catch {
    return undefined;
  }
}

/** The cost limit, checked once the operation and its variables are known; a document whose operation cannot be chosen is a 400. */
export function costLimitPlugin(limits: QueryLimits): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, request, operation, operationName }) {
          // Without this the executor throws a plain error ("Must provide operation name"), masked as a 500.
          if (!operation) {
            throw new GraphQLError(
              request.operationName ? `The document has no operation named "${request.operationName}"` : 'The document has several operations: name the one to run in "operationName"',
              { extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } } },
            );
          }
          const cost = operationCost(schema, document, request.variables, operationName ?? undefined);
          if (cost !== undefined && cost > limits.maxCost) {
            throw new GraphQLError(`The operation costs ${cost}, more than the limit of ${limits.maxCost}; ask for smaller pages or fewer fields`, {
              extensions: { code: LIMIT_CODES.cost, cost, maxCost: limits.maxCost, http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}

/** A validation error raised by a limit rule keeps the limit's code (Apollo rewrites it to GRAPHQL_VALIDATION_FAILED). */
export function limitCodeOf(error: unknown): string | undefined {
  const original = (error as { originalError?: { extensions?: { code?: unknown } } } | undefined)?.originalError;
  const code = original?.extensions?.code;
  return typeof code === 'string' && LIMIT_CODE_SET.has(code) ? code : undefined;
}

export function withLimitCode(formatted: GraphQLFormattedError, code: string): GraphQLFormattedError {
  return { ...formatted, extensions: { ...formatted.extensions, code } };
}

export function isLimitCode(code: unknown): boolean {
  return typeof code === 'string' && LIMIT_CODE_SET.has(code);
}
