import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import { internalClient, readJsonBody, systemCaller, type Caller, type ServiceClient } from '@listbackup/lib/internal-client';
import { metrics } from '@listbackup/lib/metrics';
import { ACCESS_CHANGED_HEADER, type AccessChange } from '@listbackup/lib/access-facts';
import type { GatewayContext } from './context.ts';

/** Seen by the `onSubgraphRequest` hook for every request the gateway sends to a subgraph. */
export interface SubgraphRequest {
  subgraph: string;
  query: string;
  operationName?: string;
  variables?: Record<string, unknown>;
  requestId: string;
}

export interface SignedDataSourceOptions {
  name: string;
  url: string;
  internalTokenSecret: string;
  onRequest?: (request: SubgraphRequest) => void;
  /** A subgraph's answer said the request changed someone's access (sign-out, member removed). */
  onAccessChanged?: (change: AccessChange) => void;
}

type Response = Awaited<ReturnType<GraphQLDataSource['process']>>;

/** A query-plan fetch that only reads may be sent again when the connection failed. */
const READ_ONLY = /^\s*(query\b|\{)/;

/**
 * Sends query-plan fetches to one subgraph through the internal client: its keep-alive pool
 * (a burst of fetches queues for a bounded set of connections instead of opening one each), and
 * an internal token addressed to that subgraph carrying the caller — signed once per gateway
 * request and subgraph, so a token captured from one subgraph is useless at another.
 */
export class SignedDataSource implements GraphQLDataSource<GatewayContext> {
  readonly #name: string;
  readonly #path: string;
  readonly #subgraph: ServiceClient;
  readonly #onRequest?: (request: SubgraphRequest) => void;
  readonly #onAccessChanged?: (change: AccessChange) => void;

  constructor(options: SignedDataSourceOptions) {
    this.#name = options.name;
    this.#path = new URL(options.url).pathname;
    this.#subgraph = internalClient(options.internalTokenSecret).service(options.name, options.url);
    this.#onRequest = options.onRequest;
    this.#onAccessChanged = options.onAccessChanged;
  }

  async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<Response> {
    const started = performance.now();
    let outcome = 'failed';
    try {
      const body = await this.#process(options);
      outcome = body.errors?.length ? 'error' : 'ok';
      return body;
    } finally {
      metrics.subgraphFetches.inc({ subgraph: this.#name, outcome });
      metrics.subgraphFetchDuration.observe({ subgraph: this.#name }, (performance.now() - started) / 1000);
    }
  }

  async #process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<Response> {
    const { request } = options;
    const query = request.query;
    if (!query) throw new Error('Missing query');
    const caller: Caller = 'incomingRequestContext' in options && options.context.principal ? options.context : systemCaller('gateway');
    this.#onRequest?.({ subgraph: this.#name, query, operationName: request.operationName, variables: request.variables, requestId: caller.requestId });
    const response = await this.#subgraph.request({
      method: 'POST',
      path: this.#path,
      caller,
      json: { query, variables: request.variables, operationName: request.operationName, extensions: request.extensions },
      idempotent: READ_ONLY.test(query),
    });
    const changed = response.headers[ACCESS_CHANGED_HEADER];
    if (typeof changed === 'string') this.#onAccessChanged?.(parseChange(changed));
    const body = await readJsonBody(response);
    if (response.status < 200 || response.status >= 300) {
      // Carries `extensions.response`, so the gateway masks it (errors.ts): the subgraph refused the request itself.
      throw new GraphQLError(`${response.status}: subgraph ${this.#name} refused the request`, {
        extensions: {
          ...(response.status === 401 ? { code: 'UNAUTHENTICATED' } : response.status === 403 ? { code: 'FORBIDDEN' } : {}),
          response: { status: response.status, body },
        },
      });
    }
    if (!body || typeof body !== 'object') throw new Error(`Subgraph ${this.#name} answered without a JSON body`);
    return body as Response;
  }
}

/** The header as our subgraphs write it (lib/src/subgraph.ts); anything else changes nothing. */
function parseChange(header: string): AccessChange {
  try {
    const value: unknown = JSON.parse(header);
    if (value && typeof value === 'object') return value as AccessChange;
  } catch {
    // not ours
  }
  return {};
}
