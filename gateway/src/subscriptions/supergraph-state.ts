import { createHash } from 'node:crypto';
import type { DocumentNode, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import { operationFromDocument, Supergraph, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type FetchNode, type PlanNode, type QueryPlan } from '@apollo/query-planner';
import { buildOperationContext } from '@apollo/gateway';

/** What `buildOperationContext` returns (the gateway does not export the type). */
export type OperationContext = ReturnType<typeof buildOperationContext>;

/** A planned subscription: the primary fetch, fed by events, and the rest, run per event like a query. */
export interface SubscriptionPlan {
  /** The primary fetch as the planner wrote it (its subgraph answers the state the event lacks). */
  primary: FetchNode;
  /** The query plan executed for each event: the primary re-addressed to the event source, then `rest`. */
  perEvent: QueryPlan;
  /** True when the plan needs no other subgraph: the event's state may answer the whole selection. */
  primaryOnly: boolean;
  operationContext: OperationContext;
}

/** The data source name the primary fetch is re-addressed to inside `perEvent`. */
export const LIVE_SERVICE = '__live_event__';

const MAX_CACHED_PLANS = 2_000;

/**
 * One loaded supergraph: its schemas and query planner, as the gateway built them from the same
 * SDL, and the subscription plans made against it. A new supergraph is a new state.
 */
export class SupergraphState {
  /** Changes with every loaded supergraph, so plans and shared subscriptions never mix two of them. */
  readonly id: string;
  /** The API schema clients validate against (graphql-js, as the gateway serves it). */
  readonly apiSchema: GraphQLSchema;
  readonly supergraphSchema: GraphQLSchema;
  readonly apiSchemaInternal: Schema;
  readonly #planner: QueryPlanner;
  readonly #plans = new Map<string, SubscriptionPlan>();

  constructor(apiSchema: GraphQLSchema, coreSupergraphSdl: string) {
    this.id = createHash('sha256').update(coreSupergraphSdl).digest('base64url').slice(0, 16);
    const supergraph = Supergraph.build(coreSupergraphSdl);
    this.apiSchema = apiSchema;
    this.supergraphSchema = supergraph.schema.toGraphQLJSSchema();
    this.apiSchemaInternal = supergraph.apiSchema();
    this.#planner = new QueryPlanner(supergraph);
  }

  /** Plans a validated subscription document (cached by its printed text and operation name). */
  plan(key: string, document: DocumentNode, operation: OperationDefinitionNode): SubscriptionPlan {
    const cached = this.#plans.get(key);
    if (cached) return cached;
    const operationName = operation.name?.value;
    const queryPlan = this.#planner.buildQueryPlan(operationFromDocument(this.apiSchemaInternal, document, { operationName }));
    const node = queryPlan.node;
    if (node?.kind !== 'Subscription') throw new Error(`Expected a subscription plan, got ${node?.kind ?? 'an empty plan'}`);
    const primary: FetchNode = { ...node.primary, serviceName: LIVE_SERVICE };
    const root: PlanNode = node.rest ? { kind: 'Sequence', nodes: [primary, node.rest] } : primary;
    const plan: SubscriptionPlan = {
      primary: node.primary,
      perEvent: { kind: 'QueryPlan', node: root },
      primaryOnly: !node.rest,
      operationContext: buildOperationContext({ schema: this.apiSchema, operationDocument: document, operationName }),
    };
    if (this.#plans.size >= MAX_CACHED_PLANS) this.#plans.delete(this.#plans.keys().next().value!);
    this.#plans.set(key, plan);
    return plan;
  }
}
