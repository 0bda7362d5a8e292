import type { ASTNode, DocumentNode, FieldNode, FragmentDefinitionNode, OperationDefinitionNode } from 'graphql';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayContext } from '../context.ts';
import { mergeOver, project, type State } from './projection.ts';
import { graphql } from './graphql.ts';

const { Kind, parse, print, visit } = graphql;

/** The context of one per-event execution: the caller's, plus the entity state the event carries. */
export interface LiveExecutionContext extends GatewayContext {
  /** What the event says about the entity; at least `__typename` and its key fields. */
  liveState: State;
  /** The subgraph the primary fetch was planned for: it answers what the event lacks. */
  liveOwner: string;
}

interface ParsedFetch {
  rootKey: string;
  root: FieldNode;
  fragments: Record<string, FragmentDefinitionNode>;
  /** The same selection asked of the owning subgraph through `_entities`, for what the event lacks. */
  entitiesQuery(typename: string): string;
}

type Response = Awaited<ReturnType<GraphQLDataSource['process']>>;

/**
 * Answers the subscription plan's primary fetch from the event (Cosmo-style event-driven federation):
 * the fields the event carries come from it; when the selection asks for more, the entity is read from
 * its subgraph through `_entities` as the caller, and the event's fields are laid over it (they are newer).
 */
export class LiveDataSource implements GraphQLDataSource<GatewayContext> {
  readonly #subgraph: (name: string) => GraphQLDataSource<GatewayContext> | undefined;
  readonly #parsed = new Map<string, ParsedFetch>();

  constructor(subgraph: (name: string) => GraphQLDataSource<GatewayContext> | undefined) {
    this.#subgraph = subgraph;
  }

  async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<Response> {
    if (!('incomingRequestContext' in options)) throw new Error('The live event source only answers subscription plans');
    const context = options.context as LiveExecutionContext;
    const state = context.liveState;
    const query = options.request.query!;
    const variables = options.request.variables ?? {};
    const fetch = this.#parse(query);
    const projection = project(fetch.root.selectionSet!, state, fetch.fragments, variables);
    if (projection.complete) return { data: { [fetch.rootKey]: projection.data } };

    const typename = String(state.__typename);
    const { __typename: _typename, ...representationFields } = state;
    const representation = { __typename: typename, id: representationFields.id };
    const owner = this.#subgraph(context.liveOwner);
    if (!owner) throw new Error(`No data source for subgraph "${context.liveOwner}"`);
    const response = await owner.process({
      ...options,
      request: { ...options.request, query: fetch.entitiesQuery(typename), operationName: undefined, variables: { ...variables, representations: [representation] } },
      document: undefined,
    });
    const entity = (response.data as { _entities?: unknown[] } | null | undefined)?._entities?.[0];
    if (response.errors?.length || entity == null) {
      const errors = response.errors?.map((error) => ({ ...error, path: error.path ? [fetch.rootKey, ...error.path.slice(2)] : [fetch.rootKey] }));
      return { data: { [fetch.rootKey]: null }, errors: errors ?? [{ message: `${typename} not found`, path: [fetch.rootKey], extensions: { code: 'NOT_FOUND' } }] };
    }
    return { data: { [fetch.rootKey]: mergeOver(entity, projection.data) } };
  }

  #parse(query: string): ParsedFetch {
    let parsed = this.#parsed.get(query);
    if (parsed) return parsed;
    const document = parse(query);
    const operation = document.definitions.find((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION)!;
    const root = operation.selectionSet.selections.find((selection): selection is FieldNode => selection.kind === Kind.FIELD && selection.name.value !== '__typename')!;
    const fragments = Object.fromEntries(
      document.definitions.filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION).map((fragment) => [fragment.name.value, fragment]),
    );
    parsed = { rootKey: root.alias?.value ?? root.name.value, root, fragments, entitiesQuery: memo((typename) => entitiesQuery(document, operation, root, typename)) };
    if (this.#parsed.size > 2_000) this.#parsed.delete(this.#parsed.keys().next().value!);
    this.#parsed.set(query, parsed);
    return parsed;
  }
}

function entitiesQuery(document: DocumentNode, operation: OperationDefinitionNode, root: FieldNode, typename: string): string {
  const used = new Set<string>();
  const collect = (node: ASTNode) =>
    visit(node, {
      Variable(variable) {
        used.add(variable.name.value);
      },
    });
  collect(root.selectionSet!);
  const fragments = document.definitions.filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION);
  for (const fragment of fragments) collect(fragment);
  const definitions = (operation.variableDefinitions ?? []).filter((definition) => used.has(definition.variable.name.value)).map(print);
  return [
    `query LiveEntityState(${['$representations: [_Any!]!', ...definitions].join(', ')}) {`,
    `  _entities(representations: $representations) { ... on ${typename} ${print(root.selectionSet!)} }`,
    '}',
    ...fragments.map(print),
  ].join('\n');
}

function memo(make: (typename: string) => string): (typename: string) => string {
  const cache = new Map<string, string>();
  return (typename) => {
    let value = cache.get(typename);
    if (value === undefined) cache.set(typename, (value = make(typename)));
    return value;
  };
}
