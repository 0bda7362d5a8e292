import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import type { ApolloGateway, GraphQLDataSource } from '@apollo/gateway';
import type { ValidationRule } from 'graphql';
import { WebSocketServer } from 'ws';
import type { EventBus } from '@listbackup/lib/events/bus';
import type { Logger } from '@listbackup/lib/logger';
import { metrics } from '@listbackup/lib/metrics';
import type { Authenticator } from '../auth.ts';
import type { GatewayContext } from '../context.ts';
import type { QueryLimits } from '../limits.ts';
import type { RateLimiter } from '../rate-limits.ts';
import type { TrustedDocuments } from '../trusted-documents.ts';
import { ConnectionCaps } from './caps.ts';
import { SubscriptionEngine, type SubscriptionLimits } from './engine.ts';
import type { LiveResult } from './subscriber.ts';
import { LEGACY_PROTOCOL, serveLegacyGraphqlWs } from './transport-legacy.ts';
import { serveGraphqlTransportWs } from './transport-ws.ts';
import { graphql } from './graphql.ts';

const { GraphQLError } = graphql;

export { SubscriptionEngine, type SubscriptionLimits } from './engine.ts';

export interface SubscriptionOptions {
  /** Where job events arrive (NATS or the in-process bus). Without it, subscriptions are refused with a clear error. */
  bus?: EventBus;
  limits?: Partial<SubscriptionLimits>;
  /** How often a websocket checks its credential again when no event said it changed (a lost event). Default 60 s. */
  apiKeyRecheckMs?: number;
  /** Keep-alive of the legacy protocol ("ka" messages). Default 12 s. */
  keepAliveMs?: number;
}

export interface SubscriptionServerDeps extends SubscriptionOptions {
  gateway: ApolloGateway;
  authenticator: Authenticator;
  log: Logger;
  dataSources: Record<string, GraphQLDataSource<GatewayContext>>;
  /** The gateway's query limits and their validation rules, applied to operations sent over the websocket too. */
  queryLimits: QueryLimits;
  validationRules: readonly ValidationRule[];
  /** Counts websocket connects and subscription starts (rate-limits.ts); without it, only the caps apply. */
  rateLimiter?: RateLimiter;
  /** When given, only the operations registered in them run over the websocket too. */
  trustedDocuments?: TrustedDocuments;
}

export interface SubscriptionServer {
  engine: SubscriptionEngine;
  /** Refuses subscriptions sent over plain HTTP with a pointer to the websocket. */
  httpPlugin: ApolloServerPlugin<GatewayContext>;
  /** Serves both websocket protocols on `path` of the gateway's HTTP server. */
  attach(options: { httpServer: http.Server; apollo: ApolloServer<GatewayContext>; path: string; clientIp(request: http.IncomingMessage): string | undefined }): void;
  close(): Promise<void>;
}

/**
 * Subscriptions of the supergraph, executed by the gateway ("Live job status" in docs/architecture.md). Create it before
 * `apollo.start()` so it sees the first supergraph load; attach it once the HTTP server exists.
 */
export function createSubscriptionServer(deps: SubscriptionServerDeps): SubscriptionServer {
  const log = deps.log.child({ component: 'subscriptions' });
  let apollo: ApolloServer<GatewayContext> | undefined;
  const engine: SubscriptionEngine = new SubscriptionEngine({
    bus: deps.bus,
    log,
    dataSources: deps.dataSources,
    limits: deps.limits,
    queryLimits: deps.queryLimits,
    validationRules: deps.validationRules,
    trustedDocuments: deps.trustedDocuments,
    admitSubscription: (principal) => caps.admitSubscription(principal),
    async executeOperation(request, context) {
      if (!apollo) throw new Error('The gateway is not started');
      const response = await apollo.executeOperation(request, { contextValue: context });
      if (response.body.kind !== 'single') return { errors: [{ message: 'Incremental delivery is not supported over the websocket', extensions: { code: 'BAD_REQUEST' } }] };
      return response.body.singleResult as LiveResult;
    },
  });
  const caps = new ConnectionCaps({ socketsPerPrincipal: engine.limits.socketsPerPrincipal, rateLimiter: deps.rateLimiter });
  // A member removed or an account gone ends the subscriptions that no longer pass their authorization.
  const stopHearingAccess = deps.authenticator.onAccessChange((change) => engine.accessChanged(change));
  deps.gateway.onSchemaLoadOrUpdate(({ apiSchema, coreSupergraphSdl }) => engine.onSchema(apiSchema, coreSupergraphSdl));

  const transportWss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const legacyWss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024, handleProtocols: () => LEGACY_PROTOCOL });
  const unwatch = [
    metrics.websocketConnections.add(() => [
      { labels: { protocol: 'graphql-transport-ws' }, value: transportWss.clients.size },
      { labels: { protocol: LEGACY_PROTOCOL }, value: legacyWss.clients.size },
    ]),
    metrics.subscriptions.add(() => [{ labels: {}, value: engine.stats().subscribers }]),
  ];
  let disposeTransport: (() => unknown) | undefined;
  let httpServer: http.Server | undefined;
  let onUpgrade: ((request: http.IncomingMessage, socket: Duplex, head: Buffer) => void) | undefined;

  return {
    engine,
    httpPlugin: {
      async requestDidStart() {
        return {
          async didResolveOperation({ operation, request }) {
            if (operation?.operation !== 'subscription') return;
            const host = request.http?.headers.get('host') ?? 'localhost:4000';
            const secure = request.http?.headers.get('x-forwarded-proto') === 'https';
            throw new GraphQLError(
              `Subscriptions are served over the websocket: connect to ${secure ? 'wss' : 'ws'}://${host}/graphql with the graphql-transport-ws (or legacy graphql-ws) subprotocol and send your access token in connection_init`,
              { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } },
            );
          },
        };
      },
    },
    attach(options) {
      apollo = options.apollo;
      httpServer = options.httpServer;
      const transportDeps = {
        engine,
        log,
        caps,
        clientIp: options.clientIp,
        watch: { authenticator: deps.authenticator, recheckMs: deps.apiKeyRecheckMs ?? 60_000 },
      };
      const transport = serveGraphqlTransportWs(transportWss, transportDeps);
      disposeTransport = () => transport.dispose();
      serveLegacyGraphqlWs(legacyWss, transportDeps, { keepAliveMs: deps.keepAliveMs ?? 12_000, initTimeoutMs: 10_000 });
      onUpgrade = (request, socket, head) => {
        const pathname = new URL(request.url ?? '/', 'http://gateway').pathname;
        if (pathname !== options.path) {
          socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
          return;
        }
        const protocols = String(request.headers['sec-websocket-protocol'] ?? '')
          .split(',')
          .map((protocol) => protocol.trim());
        // graphql-transport-ws wins when a client offers both; graphql-ws's server closes 4406 on anything else.
        const wss = !protocols.includes('graphql-transport-ws') && protocols.includes(LEGACY_PROTOCOL) ? legacyWss : transportWss;
        caps.admitUpgrade(socket, options.clientIp(request)).then(
          (admitted) => {
            if (admitted) wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
          },
          (error: unknown) => {
            log.error({ err: error }, 'websocket admission failed');
            socket.destroy();
          },
        );
      };
      httpServer.on('upgrade', onUpgrade);
    },
    async close() {
      for (const stop of unwatch) stop();
      stopHearingAccess();
      engine.close();
      if (onUpgrade) httpServer?.off('upgrade', onUpgrade);
      for (const client of legacyWss.clients) client.close(1001, 'Going away');
      await disposeTransport?.();
      await new Promise<void>((resolve) => legacyWss.close(() => resolve()));
      for (const client of [...transportWss.clients, ...legacyWss.clients]) client.terminate();
    },
  };
}
