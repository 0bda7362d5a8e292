import { createHash, randomUUID } from 'node:crypto';
import type { GraphQLError as GraphQLErrorType, DocumentNode, FieldNode, FragmentDefinitionNode, GraphQLFormattedError, GraphQLSchema, ValidationRule } from 'graphql';
import { executeQueryPlan, type GraphQLDataSource, type ServiceMap } from '@apollo/gateway';
import type { AccessChange } from '@listbackup/lib/access-facts';
import type { EventBus } from '@listbackup/lib/events/bus';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import type { Logger } from '@listbackup/lib/logger';
import type { Principal } from '@listbackup/lib/principal';
import type { GatewayContext } from '../context.ts';
import { formatGatewayError, isExposed } from '../errors.ts';
import { checkOperation, DEFAULT_QUERY_LIMITS, LIMIT_CODES, LimitError, operationCost, type QueryLimits } from '../limits.ts';
import type { TrustedDocuments } from '../trusted-documents.ts';
import { StartGate } from './start-gate.ts';
import { EventRouter } from './event-router.ts';
import { LiveDataSource, type LiveExecutionContext } from './live-data-source.ts';
import { LIVE_FIELDS, type AskGateway, type LiveField, type LiveTopic } from './live-fields.ts';
import { project, type State } from './projection.ts';
import { LiveEndError, Subscriber, type LiveResult } from './subscriber.ts';
import { LIVE_SERVICE, SupergraphState, type SubscriptionPlan } from './supergraph-state.ts';
import { graphql } from './graphql.ts';

const { getArgumentValues, getOperationAST, getVariableValues, GraphQLError, Kind, parse, print, specifiedRules, validate } = graphql;

/** A GraphQL request as the websocket protocols carry it. */
export interface OperationPayload {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
  extensions?: unknown;
}

export interface SubscriptionLimits {
  /** Open subscriptions on one websocket. Default 100. */
  perSocket: number;
  /** Open subscriptions on the events of one account, across the sockets of this gateway. Default 1,000. */
  perAccount: number;
  /** Open subscriptions of one user or API key, across the sockets of this gateway. Default 500. */
  perPrincipal: number;
  /** Open websockets of one user or API key at this gateway. Default 50. */
  socketsPerPrincipal: number;
  /** Subscription starts (authorization, current state) running at once; the others wait. Default 16. */
  startConcurrency: number;
  /** Payloads held for one slow client (one per job: the latest state wins). Default 64. */
  buffered: number;
}

export const DEFAULT_LIMITS: SubscriptionLimits = { perSocket: 100, perAccount: 1_000, perPrincipal: 500, socketsPerPrincipal: 50, startConcurrency: 16, buffered: 64 };

export interface SubscriptionEngineOptions {
  /** Where job events arrive; without it subscriptions are refused with a clear error. */
  bus?: EventBus;
  log: Logger;
  /** The data source of each subgraph (signed as the caller), as the gateway's own executor uses. */
  dataSources: Record<string, GraphQLDataSource<GatewayContext>>;
  /** Runs a query or mutation through the gateway's normal pipeline (plan, fetch, error masking). */
  executeOperation(request: { query: string; variables?: Record<string, unknown>; operationName?: string }, context: GatewayContext): Promise<LiveResult>;
  limits?: Partial<SubscriptionLimits>;
  /** The gateway's query limits (tokens, nesting, cost) and its limit validation rules (depth, aliases, directives). */
  queryLimits?: QueryLimits;
  validationRules?: readonly ValidationRule[];
  /** When given, only the operations registered in them run (a subscribe names one by hash, or sends its text). */
  trustedDocuments?: TrustedDocuments;
  /** Counts a subscription start against the caller's rate (caps.ts); its refusal is the subscription's error. */
  admitSubscription?(principal: Principal): Promise<GraphQLFormattedError | undefined>;
}

/** Who opened the websocket, as verified at connection_init. */
export interface LiveCaller {
  principal: Principal;
  clientIp?: string;
  log: Logger;
  /** The protocol's id of the operation, for the logs. */
  operationId?: string;
}

/** A subscription that passed validation and authorization, ready to start. */
export interface PreparedSubscription {
  readonly kind: 'subscription';
  readonly document: DocumentNode;
  readonly state: SupergraphState;
  readonly groupKey: string;
  readonly topic: LiveTopic;
  /** The field and its arguments, to authorize again when the caller's access changes. */
  readonly field: LiveField;
  readonly args: Record<string, unknown>;
  /** The engine's access epoch when its authorization began: a change since then means it is checked again. */
  readonly accessEpoch: number;
  readonly plan: SubscriptionPlan;
  readonly rootField: FieldNode;
  readonly fragments: Record<string, FragmentDefinitionNode>;
  readonly variables: Record<string, unknown>;
  readonly context: GatewayContext;
}

/** A query or mutation sent over the websocket: run once through the gateway. */
export interface PreparedOperation {
  readonly kind: 'operation';
  readonly document: DocumentNode;
  readonly request: { query: string; variables?: Record<string, unknown>; operationName?: string };
  readonly context: GatewayContext;
}

export type Prepared = PreparedSubscription | PreparedOperation;

const internalError: GraphQLFormattedError = { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
/** Answers of an authorization that mean the caller may no longer read what it subscribed to. */
const DENIED = new Set(['NOT_FOUND', 'FORBIDDEN']);
const REAUTHORIZE_ATTEMPTS = 3;

/**
 * Executes the supergraph's subscriptions in the gateway ("Live job status" in docs/architecture.md): validates and plans them
 * with the query planner, authorizes them with a query as the caller, feeds the plan's primary fetch
 * from bus events and runs the rest of the plan through `executeQueryPlan` per event. Identical
 * subscriptions (operation, variables, caller) share one group: one bus listener, one execution
 * per event, fanned out to every subscriber.
 */
export class SubscriptionEngine {
  readonly #options: SubscriptionEngineOptions;
  readonly #limits: SubscriptionLimits;
  readonly #router?: EventRouter;
  readonly #groups = new Map<string, LiveGroup>();
  readonly #perAccount = new Map<string, number>();
  readonly #perPrincipal = new Map<string, number>();
  readonly #serviceMap: ServiceMap;
  readonly #gate: StartGate;
  /** Authorizations in flight, by caller, field and arguments: a burst of identical subscriptions asks once. */
  readonly #authorizing = new Map<string, Promise<LiveTopic | { errors: readonly GraphQLFormattedError[] }>>();
  /** Counts the access changes heard (accessChanged). */
  #accessEpoch = 0;
  #reauthorized = 0;
  #state?: SupergraphState;
  #closed = false;

  constructor(options: SubscriptionEngineOptions) {
    this.#options = options;
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#router = options.bus ? new EventRouter(options.bus) : undefined;
    this.#gate = new StartGate(this.#limits.startConcurrency);
    this.#serviceMap = Object.assign(Object.create(null), options.dataSources, {
      [LIVE_SERVICE]: new LiveDataSource((name) => options.dataSources[name]),
    });
  }

  get limits(): SubscriptionLimits {
    return this.#limits;
  }

  /** Counts for tests, metrics and the benchmark. */
  stats(): { groups: number; subscribers: number; busSubscriptions: number; reauthorized: number } {
    let subscribers = 0;
    for (const group of this.#groups.values()) subscribers += group.size;
    return { groups: this.#groups.size, subscribers, busSubscriptions: this.#router?.openSubscriptions ?? 0, reauthorized: this.#reauthorized };
  }

  /**
   * The gateway loaded a supergraph (`ApolloGateway.onSchemaLoadOrUpdate`). On a change, every open
   * subscription ends with SUPERGRAPH_CHANGED: its plan and selection may no longer hold.
   */
  onSchema(apiSchema: GraphQLSchema, coreSupergraphSdl: string): void {
    const next = new SupergraphState(apiSchema, coreSupergraphSdl);
    const previous = this.#state;
    this.#state = next;
    if (previous && previous.id !== next.id) {
      this.#options.log.info({ from: previous.id, to: next.id, groups: this.#groups.size }, 'supergraph changed: ending open subscriptions');
      this.#endAll(new LiveEndError('The supergraph changed while this subscription was open; subscribe again', 'SUPERGRAPH_CHANGED'));
    }
  }

  /** Parses, validates, plans and authorizes one operation; errors are the protocol's `error` payload. */
  async prepare(caller: LiveCaller, received: OperationPayload, requestId: string = randomUUID()): Promise<Prepared | { errors: readonly GraphQLFormattedError[] }> {
    const state = this.#state;
    if (!state || this.#closed) return { errors: [{ message: 'The gateway is not ready; try again shortly', extensions: { code: 'SERVICE_UNAVAILABLE' } }] };
    let payload = received;
    if (this.#options.trustedDocuments) {
      const trusted = this.#options.trustedDocuments.resolve(received);
      if (trusted instanceof LimitError) return { errors: [{ message: trusted.message, extensions: { code: trusted.extensions.code } }] };
      payload = trusted;
    }
    if (typeof payload.query !== 'string' || !payload.query.trim()) return requestError('The operation must have a "query" string', 'BAD_REQUEST');
    if (payload.variables != null && (typeof payload.variables !== 'object' || Array.isArray(payload.variables))) return requestError('"variables" must be an object', 'BAD_REQUEST');
    if (payload.operationName != null && typeof payload.operationName !== 'string') return requestError('"operationName" must be a string', 'BAD_REQUEST');
    const rawVariables = (payload.variables ?? {}) as Record<string, unknown>;
    const operationName = (payload.operationName ?? undefined) as string | undefined;
    const context: GatewayContext = { requestId, principal: caller.principal, clientIp: caller.clientIp, log: caller.log.child({ requestId, operationId: caller.operationId }) };

    const queryLimits = this.#options.queryLimits ?? DEFAULT_QUERY_LIMITS;
    const refused = checkOperation(payload, queryLimits);
    if (refused) return { errors: [{ message: refused.message, extensions: { code: refused.extensions.code } }] };

    let document: DocumentNode;
    try {
      document = this.#parse(payload.query);
    } catch (error) {
      return requestError((error as GraphQLErrorType).message, 'GRAPHQL_PARSE_FAILED', error as GraphQLErrorType);
    }
    const operation = getOperationAST(document, operationName);
    if (!operation) {
      return requestError(operationName ? `Unknown operation named "${operationName}"` : 'The document must contain exactly one operation, or name the one to run', 'OPERATION_RESOLUTION_FAILURE');
    }
    if (operation.operation !== 'subscription') {
      return { kind: 'operation', document, request: { query: payload.query, variables: rawVariables, operationName }, context };
    }

    const validationErrors = validate(state.apiSchema, document, [...specifiedRules, ...(this.#options.validationRules ?? [])]);
    if (validationErrors.length) return { errors: validationErrors.map((error) => withCode(error, (error.extensions.code as string | undefined) ?? 'GRAPHQL_VALIDATION_FAILED')) };
    const coerced = getVariableValues(state.apiSchema, operation.variableDefinitions ?? [], rawVariables);
    if (coerced.errors) return { errors: coerced.errors.map((error) => withCode(error, 'BAD_USER_INPUT')) };
    const cost = operationCost(state.apiSchema, document, rawVariables, operationName);
    if (cost !== undefined && cost > queryLimits.maxCost) {
      return requestError(`The operation costs ${cost}, more than the limit of ${queryLimits.maxCost}; ask for fewer fields`, LIMIT_CODES.cost);
    }

    const rootField = operation.selectionSet.selections[0] as FieldNode;
    const fieldName = rootField.name.value;
    const live = LIVE_FIELDS[fieldName];
    const fieldDef = state.apiSchema.getSubscriptionType()?.getFields()[fieldName];
    if (!live || !fieldDef || rootField.kind !== Kind.FIELD) return requestError(`Subscription.${fieldName} is not served by this gateway`, 'BAD_REQUEST');
    if (!this.#router) {
      return requestError('Live subscriptions are not available: this gateway has no event bus (start it with NATS_URL)', 'SERVICE_UNAVAILABLE');
    }

    const principal = principalScope(caller.principal);
    if ((this.#perPrincipal.get(principal) ?? 0) >= this.#limits.perPrincipal) {
      return requestError(`Too many open subscriptions for this user or API key (at most ${this.#limits.perPrincipal}); complete some first`, 'TOO_MANY_SUBSCRIPTIONS');
    }
    const rateLimited = await this.#options.admitSubscription?.(caller.principal);
    if (rateLimited) return { errors: [rateLimited] };

    const args = getArgumentValues(fieldDef, rootField, coerced.coerced);
    const accessEpoch = this.#accessEpoch;
    const ask = this.#ask(context);
    let topic: LiveTopic | { errors: readonly GraphQLFormattedError[] };
    try {
      topic = await this.#authorize(fieldName, live, args, caller.principal, ask);
    } catch (error) {
      context.log.error({ err: error }, 'subscription authorization failed');
      return { errors: [internalError] };
    }
    if ('errors' in topic) return topic;
    if ((this.#perAccount.get(topic.accountId) ?? 0) >= this.#limits.perAccount) {
      return requestError(`Too many open subscriptions on this account (at most ${this.#limits.perAccount}); close some first`, 'TOO_MANY_SUBSCRIPTIONS');
    }

    const printed = print(document);
    const planKey = createHash('sha256').update(printed).update('\0').update(operationName ?? '').digest('base64url');
    let plan: SubscriptionPlan;
    try {
      plan = state.plan(planKey, document, operation);
    } catch (error) {
      if (error instanceof GraphQLError) return { errors: [withCode(error, 'GRAPHQL_VALIDATION_FAILED')] };
      context.log.error({ err: error }, 'subscription planning failed');
      return { errors: [internalError] };
    }
    const fragments = Object.fromEntries(
      document.definitions.filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION).map((fragment) => [fragment.name.value, fragment]),
    );
    const groupKey = [state.id, planKey, principalScope(caller.principal), stableJson(coerced.coerced)].join('|');
    return { kind: 'subscription', document, state, groupKey, topic, field: live, args, accessEpoch, plan, rootField, fragments, variables: rawVariables, context };
  }

  /** Starts a prepared subscription: joins its group (creating it) and returns the client's iterator. */
  subscribe(prepared: PreparedSubscription): Subscriber {
    const accountId = prepared.topic.accountId;
    const principal = principalScope(prepared.context.principal);
    increment(this.#perAccount, accountId);
    increment(this.#perPrincipal, principal);
    let group: LiveGroup | undefined;
    const subscriber = new Subscriber(this.#limits.buffered, (released) => {
      decrement(this.#perAccount, accountId);
      decrement(this.#perPrincipal, principal);
      group?.remove(released);
    });
    if (this.#closed || prepared.state !== this.#state) {
      subscriber.end(new LiveEndError('The supergraph changed while this subscription was starting; subscribe again', 'SUPERGRAPH_CHANGED'));
      return subscriber;
    }
    group = this.#groups.get(prepared.groupKey);
    if (!group) {
      group = new LiveGroup(prepared, this);
      this.#groups.set(prepared.groupKey, group);
      group.start();
    }
    group.add(subscriber);
    // Authorized before an access change that this group's check may not have seen: check it now.
    if (prepared.accessEpoch !== this.#accessEpoch) void this.#reauthorize(group);
    return subscriber;
  }

  /**
   * Someone's access changed (a member removed or their role changed, an account deleted): every
   * open subscription of a caller it touches, or on an account it names, is authorized again as at
   * its start, and the ones that no longer pass end with that authorization's errors (NOT_FOUND,
   * FORBIDDEN). The caller's other subscriptions, and the socket, go on.
   */
  accessChanged(change: AccessChange): void {
    this.#accessEpoch++;
    // An authorization in flight may have read the access before the change: later starts ask afresh.
    this.#authorizing.clear();
    for (const group of this.#groups.values()) if (touches(change, group.prepared)) void this.#reauthorize(group);
  }

  /** Runs a query or mutation sent over the websocket. */
  async execute(prepared: PreparedOperation): Promise<LiveResult> {
    return this.#options.executeOperation(prepared.request, prepared.context);
  }

  /** Ends every subscription (gateway shutting down). */
  close(): void {
    this.#closed = true;
    this.#endAll(new LiveEndError('The gateway is shutting down; reconnect', 'SHUTTING_DOWN'));
  }

  // --- used by LiveGroup ---

  /** @internal */
  groupEnded(group: LiveGroup): void {
    if (this.#groups.get(group.key) === group) this.#groups.delete(group.key);
  }

  /** @internal */
  listen(topic: LiveTopic, listener: (event: EventEnvelope) => void): Promise<() => void> {
    return this.#router!.listen(topic.accountId, topic.family, listener, topic.subject);
  }

  /** @internal */
  gated<T>(task: () => Promise<T>): Promise<T> {
    return this.#gate.run(task);
  }

  /** @internal */
  ask(context: GatewayContext): AskGateway {
    return this.#ask(context);
  }

  /** @internal One execution of a subscription for one entity state. */
  async run(prepared: PreparedSubscription, state: State, requestId: string): Promise<LiveResult> {
    const { plan, rootField } = prepared;
    const rootKey = rootField.alias?.value ?? rootField.name.value;
    if (plan.primaryOnly) {
      const fast = project(rootField.selectionSet!, state, prepared.fragments, prepared.variables);
      if (fast.complete) return { data: { [rootKey]: fast.data } };
    }
    const context: LiveExecutionContext = { ...prepared.context, requestId, liveState: state, liveOwner: plan.primary.serviceName };
    try {
      const result = await executeQueryPlan(
        plan.perEvent,
        this.#serviceMap,
        {
          request: { query: '', variables: prepared.variables, operationName: plan.operationContext.operation.name?.value },
          context,
          logger: context.log,
          metrics: {},
          cache: undefined,
          operationName: plan.operationContext.operation.name?.value ?? null,
          document: undefined,
          source: undefined,
          schema: prepared.state.apiSchema,
          overallCachePolicy: undefined,
        } as unknown as Parameters<typeof executeQueryPlan>[2],
        plan.operationContext,
        prepared.state.supergraphSchema,
        prepared.state.apiSchemaInternal,
      );
      const errors = result.errors?.map((error) => {
        if (!isExposed(error)) context.log.error({ err: (error as GraphQLErrorType).originalError ?? error, path: error.path }, 'unexpected error in a subscription (masked to the client)');
        return formatGatewayError(error instanceof GraphQLError ? error.toJSON() : { message: String((error as Error).message) }, error);
      });
      return { data: (result.data as Record<string, unknown> | null | undefined) ?? null, ...(errors?.length ? { errors } : {}) };
    } catch (error) {
      context.log.error({ err: error }, 'subscription execution failed');
      return { data: null, errors: [internalError] };
    }
  }

  /** Documents by query text: thousands of clients sending the same operation share one AST. */
  readonly #documents = new Map<string, DocumentNode>();

  #parse(query: string): DocumentNode {
    let document = this.#documents.get(query);
    if (!document) {
      document = parse(query, { maxTokens: 10_000 });
      if (this.#documents.size >= 1_000) this.#documents.delete(this.#documents.keys().next().value!);
      this.#documents.set(query, document);
    }
    return document;
  }

  #authorize(fieldName: string, live: LiveField, args: Record<string, unknown>, principal: Principal, ask: AskGateway): Promise<LiveTopic | { errors: readonly GraphQLFormattedError[] }> {
    // Only while in flight: a subscription started later is authorized afresh.
    const key = `${fieldName}|${stableJson(principal)}|${stableJson(args)}`;
    let pending = this.#authorizing.get(key);
    if (!pending) {
      const started = this.#gate.run(() => live.authorize(args, ask));
      pending = started.finally(() => {
        if (this.#authorizing.get(key) === pending) this.#authorizing.delete(key);
      });
      this.#authorizing.set(key, pending);
    }
    return pending;
  }

  /**
   * Authorizes an open group again (counted in `stats().reauthorized`) and ends it with the errors a
   * new start would get (NOT_FOUND, FORBIDDEN). A check that could not be made (a subgraph away, the
   * credential just ended and its socket closing with 4403) is tried again a few times first, and a
   * denial once.
   */
  async #reauthorize(group: LiveGroup, attempt = 1): Promise<void> {
    const { field, args, topic, context } = group.prepared;
    let verdict: LiveTopic | { errors: readonly GraphQLFormattedError[] };
    try {
      verdict = await this.#gate.run(() => field.authorize(args, this.#ask({ ...context, requestId: `${context.requestId}:reauthorize:${attempt}` })));
    } catch (error) {
      context.log.error({ err: error }, 'subscription re-authorization failed');
      verdict = { errors: [{ message: 'Your access changed and could not be checked again; subscribe again', extensions: { code: 'SERVICE_UNAVAILABLE' } }] };
    }
    this.#reauthorized++;
    if (group.ended || !('errors' in verdict)) return;
    const denied = verdict.errors.some((error) => DENIED.has(String(error.extensions?.code)));
    // A denial is confirmed once, a second later: when it comes from the caller's session ending,
    // their socket closes meanwhile with 4403, which tells them more than NOT_FOUND would.
    if (attempt < (denied ? 2 : REAUTHORIZE_ATTEMPTS)) {
      setTimeout(() => void this.#reauthorize(group, attempt + 1), attempt * 1_000).unref();
      return;
    }
    context.log.info({ accountId: topic.accountId, codes: verdict.errors.map((error) => error.extensions?.code) }, 'access changed: ending a subscription');
    group.end(LiveEndError.of(verdict.errors));
  }

  #ask(context: GatewayContext): AskGateway {
    return async (query, variables) => this.#options.executeOperation({ query, variables }, context);
  }

  #endAll(error: LiveEndError): void {
    const groups = [...this.#groups.values()];
    this.#groups.clear();
    for (const group of groups) group.end(error);
  }
}

/**
 * The subscribers of one identical subscription. Listens to the bus once, keeps at most one pending
 * state per entity (a newer event replaces an older one not yet executed), executes one at a time and
 * hands each result to every subscriber.
 */
class LiveGroup {
  readonly key: string;
  readonly prepared: PreparedSubscription;
  readonly #engine: SubscriptionEngine;
  readonly #subscribers = new Set<Subscriber>();
  /** The last result per entity, for subscribers who join later (their "current state"). */
  readonly #latest = new Map<string, LiveResult>();
  readonly #pending = new Map<string, { state: State; final: boolean }>();
  readonly #lastTime = new Map<string, string>();
  readonly #finished = new Set<string>();
  readonly #id = randomUUID().slice(0, 8);
  #sequence = 0;
  #running = false;
  #ended = false;
  #stopListening?: () => void;

  constructor(prepared: PreparedSubscription, engine: SubscriptionEngine) {
    this.key = prepared.groupKey;
    this.prepared = prepared;
    this.#engine = engine;
  }

  get size(): number {
    return this.#subscribers.size;
  }

  get ended(): boolean {
    return this.#ended;
  }

  add(subscriber: Subscriber): void {
    this.#subscribers.add(subscriber);
    for (const [key, result] of this.#latest) subscriber.push(key, result);
  }

  remove(subscriber: Subscriber): void {
    this.#subscribers.delete(subscriber);
    if (this.#subscribers.size === 0 && !this.#ended) this.#close();
  }

  start(): void {
    const topic = this.prepared.topic;
    const log = this.prepared.context.log;
    void (async () => {
      try {
        const stop = await this.#engine.listen(topic, (event) => this.#onEvent(event));
        if (this.#ended) return stop();
        this.#stopListening = stop;
        const current = await this.#engine.gated(() => topic.current(this.#engine.ask({ ...this.prepared.context, requestId: `${this.prepared.context.requestId}:current` })));
        if (this.#ended) return;
        for (const entity of current) {
          // An event that arrived meanwhile is newer than "current": keep it.
          if (!this.#pending.has(entity.key) && !this.#lastTime.has(entity.key)) this.#pending.set(entity.key, { state: entity.state, final: entity.final });
        }
        void this.#drain();
      } catch (error) {
        log.error({ err: error }, 'could not start a subscription');
        this.end(new LiveEndError('The subscription could not be started; try again shortly', 'SERVICE_UNAVAILABLE'));
      }
    })();
  }

  end(error?: Error): void {
    if (this.#ended) return;
    this.#close();
    for (const subscriber of [...this.#subscribers]) subscriber.end(error);
    this.#subscribers.clear();
  }

  #close(): void {
    this.#ended = true;
    this.#pending.clear();
    this.#stopListening?.();
    this.#stopListening = undefined;
    this.#engine.groupEnded(this);
  }

  #onEvent(event: EventEnvelope): void {
    if (this.#ended) return;
    const topic = this.prepared.topic;
    const key = topic.keyOf(event);
    if (key === null || this.#finished.has(key)) return;
    // Durable events travel through the outbox, ephemeral ones directly: drop whatever is older than what we have.
    const previous = this.#lastTime.get(key);
    if (previous !== undefined && event.time < previous) return;
    this.#lastTime.set(key, event.time);
    const state = topic.stateOf(event);
    const final = topic.isFinal(state);
    if (final) {
      this.#finished.add(key);
      this.#lastTime.delete(key);
      if (this.#finished.size > 10_000) this.#finished.delete(this.#finished.values().next().value!);
    }
    this.#pending.set(key, { state, final });
    void this.#drain();
  }

  async #drain(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (!this.#ended && this.#pending.size > 0) {
        const [key, item] = this.#pending.entries().next().value!;
        this.#pending.delete(key);
        const result = await this.#engine.run(this.prepared, item.state, `${this.prepared.context.requestId}:${this.#id}:${++this.#sequence}`);
        if (this.#ended) return;
        if (item.final) this.#latest.delete(key);
        else this.#latest.set(key, result);
        for (const subscriber of this.#subscribers) subscriber.push(key, result);
        if (item.final && this.prepared.topic.completesWhenFinal) {
          this.end();
          return;
        }
      }
    } finally {
      this.#running = false;
    }
  }
}

function requestError(message: string, code: string, cause?: GraphQLErrorType): { errors: GraphQLFormattedError[] } {
  return { errors: [{ message, ...(cause?.locations ? { locations: cause.locations } : {}), extensions: { code } }] };
}

function withCode(error: GraphQLErrorType, code: string): GraphQLFormattedError {
  const formatted = error.toJSON();
  return { ...formatted, extensions: { ...formatted.extensions, code } };
}

/**
 * Whether an access change concerns a subscription: its user (memberships), or the account it
 * listens to. A signed-out session or a revoked key ends the whole socket instead (connection-auth.ts).
 */
function touches(change: AccessChange, prepared: PreparedSubscription): boolean {
  const principal = prepared.context.principal;
  if (change.accountIds?.includes(prepared.topic.accountId)) return true;
  return principal.kind === 'user' && Boolean(change.userIds?.includes(principal.userId));
}

function principalScope(principal: Principal): string {
  switch (principal.kind) {
    case 'user':
      return `user:${principal.userId}`;
    case 'apiKey':
      return `key:${principal.apiKeyId}`;
    default:
      return 'anonymous';
  }
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function decrement(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1;
  if (left > 0) counts.set(key, left);
  else counts.delete(key);
}

function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableJson(item)}`).join(',')}}`;
}

