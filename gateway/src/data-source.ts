import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ANONYMOUS } from '@listbackup/lib/principal';
import { INTERNAL_TOKEN_HEADER, signInternalToken } from '@listbackup/lib/internal-token';
import { CLIENT_IP_HEADER, USER_AGENT_HEADER } from '@listbackup/lib/subgraph';
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
}

/**
 * Sends query-plan fetches to one subgraph, each with a fresh internal token addressed to that
 * subgraph (so a token captured from one subgraph is useless at another) carrying the caller.
 */
export class SignedDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  readonly #name: string;
  readonly #secret: string;
  readonly #onRequest?: (request: SubgraphRequest) => void;

  constructor(options: SignedDataSourceOptions) {
    // Node's own fetch keeps connections alive; the default fetcher opens a socket per request.
    super({ url: options.url, fetcher: globalThis.fetch as unknown as RemoteGraphQLDataSource['fetcher'] });
    this.#name = options.name;
    this.#secret = options.internalTokenSecret;
    this.#onRequest = options.onRequest;
  }

  override async willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    const { request } = options;
    const context: Partial<GatewayContext> = 'incomingRequestContext' in options ? options.context : {};
    const principal = context.principal ?? ANONYMOUS;
    const requestId = context.requestId ?? 'gateway';
    const headers = request.http!.headers;
    headers.set(INTERNAL_TOKEN_HEADER, await signInternalToken(this.#secret, this.#name, { principal, requestId }));
    headers.set('x-request-id', requestId);
    if (context.clientIp) headers.set(CLIENT_IP_HEADER, context.clientIp);
    if (context.userAgent) headers.set(USER_AGENT_HEADER, context.userAgent);
    this.#onRequest?.({ subgraph: this.#name, query: request.query ?? '', operationName: request.operationName, variables: request.variables, requestId });
  }
}
