import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ApolloServer, HeaderMap, type BaseContext } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse, type DocumentNode } from 'graphql';
import type { Orm, Em } from './db.ts';
import type { Logger } from './logger.ts';
import type { Principal } from './principal.ts';
import { AccessChecker, type AccessResolver, type AuthContext } from './access.ts';
import { ACCESS_CHANGED_HEADER } from './access-facts.ts';
import { INTERNAL_TOKEN_HEADER, InternalTokenError, verifyInternalToken, type InternalClaims } from './internal-token.ts';
import { graphqlErrorBody, graphqlStatus, readBody, sendJson } from './http.ts';
import { CLIENT_IP_HEADER, USER_AGENT_HEADER } from './internal-client.ts';
import { isAppError } from './errors.ts';
import { useCursorSecrets } from './pagination.ts';
import { graphqlMetricsPlugin, serveMetrics } from './metrics.ts';
import { callerVerified, createServer, processTls, serverScheme } from './tls.ts';
import { traceRequest } from './tracing.ts';
import { databaseCheck, runReadiness, sendReadiness, type ReadinessCheck } from './readiness.ts';

/** What every resolver of every subgraph receives. */
export interface SubgraphContext extends AuthContext {
  requestId: string;
  principal: Principal;
  log: Logger;
  /** A fork of the subgraph's entity manager, private to this request. */
  em: Em;
  /** The caller's IP as the gateway saw it (for throttling and audit). */
  clientIp?: string;
  /** The caller's User-Agent as the gateway saw it (for audit). */
  userAgent?: string;
}

export { CLIENT_IP_HEADER, USER_AGENT_HEADER } from './internal-client.ts';
/** The longest user agent forwarded and recorded. */
export const MAX_USER_AGENT_LENGTH = 512;

export type InternalRoute = (req: http.IncomingMessage, res: http.ServerResponse, claims: InternalClaims) => Promise<void>;

export interface SubgraphOptions<Ctx extends SubgraphContext> {
  name: string;
  typeDefs: DocumentNode | string;
  /** The codegen'd `Resolvers` map of the subgraph. */
  resolvers: object;
  orm: Orm;
  access: AccessResolver;
  internalTokenSecret: string;
  log: Logger;
  /** Adds the subgraph's own per-request state (data loaders) to the base context. */
  extendContext: (base: SubgraphContext) => Ctx;
  /** Routes that, like /graphql, only the gateway or a sibling service holding an internal token may call. */
  internalRoutes?: Record<string, InternalRoute>;
  /** What /readyz checks besides the database: the event bus, the queue, the object store, as the subgraph uses them. */
  readiness?: Record<string, ReadinessCheck>;
}

export interface RunningSubgraph {
  url: string;
  port: number;
  close(): Promise<void>;
}

const EXPOSED_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

export async function startSubgraph<Ctx extends SubgraphContext>(options: SubgraphOptions<Ctx>, port: number, host = '127.0.0.1'): Promise<RunningSubgraph> {
  const { name, log } = options;
  useCursorSecrets(options.internalTokenSecret);
  const typeDefs = typeof options.typeDefs === 'string' ? parse(options.typeDefs) : options.typeDefs;
  const server = new ApolloServer<Ctx & BaseContext>({
    schema: buildSubgraphSchema({ typeDefs, resolvers: options.resolvers } as Parameters<typeof buildSubgraphSchema>[0]),
    // The process decides its own shutdown order (lib/src/process.ts).
    stopOnTerminationSignals: false,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // No schema sets cache hints, and the cache-control plugin's hook on every resolved field cost
    // some 1.5% of the subgraphs' CPU on the five-subgraph query (docs/benchmarks.md).
    plugins: [ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginCacheControlDisabled(), graphqlMetricsPlugin(name)],
    formatError(formatted, error) {
      const original = unwrapResolverError(error);
      if (isAppError(original) || EXPOSED_CODES.has(String(formatted.extensions?.code))) return formatted;
      log.error({ err: original, path: formatted.path }, 'unexpected error');
      return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    },
  });
  await server.start();
  const tls = processTls();
  const readiness = { database: databaseCheck(options.orm), ...options.readiness };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://subgraph');
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok', service: name });
    // Probes come without a certificate (the kubelet shows none); everything else needs one from the services' CA.
    if (url.pathname !== '/readyz' && !callerVerified(tls, req)) {
      log.warn({ path: url.pathname, reason: (req.socket as TLSSocket).authorizationError }, 'rejected a caller without a certificate from the services CA');
      return sendJson(res, 403, graphqlErrorBody('FORBIDDEN', 'This service only answers callers with a certificate from its CA'), { connection: 'close' });
    }
    // Like the probes, for the private network only: the process's whole registry (lib/src/metrics.ts).
    if (url.pathname === '/metrics') return serveMetrics(res);
    if (url.pathname === '/readyz') return sendReadiness(res, await runReadiness(readiness), { service: name });
    const route = options.internalRoutes?.[url.pathname];
    if (url.pathname !== '/graphql' && !route) return sendJson(res, 404, graphqlErrorBody('NOT_FOUND', 'No such route'));

    let claims: InternalClaims;
    try {
      claims = verifyInternalToken(options.internalTokenSecret, name, header(req, INTERNAL_TOKEN_HEADER));
    } catch (error) {
      if (!(error instanceof InternalTokenError)) throw error;
      log.warn({ reason: error.message, path: url.pathname }, 'rejected request without a valid gateway token');
      return sendJson(res, 401, graphqlErrorBody('UNAUTHENTICATED', 'This service only answers the ListBackup gateway'));
    }
    if (route) return route(req, res, claims);

    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const raw = req.method === 'POST' ? await readBody(req) : '';
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      return sendJson(res, 400, graphqlErrorBody('BAD_REQUEST', 'Request body is not valid JSON'));
    }
    let context: Ctx | undefined;
    const result = await server.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
      context: async () => (context = createContext(options, claims, header(req, CLIENT_IP_HEADER), header(req, USER_AGENT_HEADER))),
    });
    for (const [key, value] of result.headers) res.setHeader(key, value);
    // The gateway that sent this request drops the changed callers' facts before anyone sees the answer.
    const changes = context?.access.changes;
    if (changes) res.setHeader(ACCESS_CHANGED_HEADER, JSON.stringify(changes));
    res.statusCode = graphqlStatus(result);
    if (result.body.kind === 'complete') {
      res.end(result.body.string);
    } else {
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    }
  };

  // Only a caller with a valid internal token (the gateway, a service, a worker) continues its trace here.
  const gatewayCaller = (req: http.IncomingMessage) => {
    try {
      verifyInternalToken(options.internalTokenSecret, name, header(req, INTERNAL_TOKEN_HEADER));
      return true;
    } catch {
      return false;
    }
  };
  const httpServer = createServer(tls, (req, res) => {
    traceRequest(name, req, res, () => handle(req, res), { trustCaller: gatewayCaller }).catch((error) => {
      const status = (error as { status?: number }).status ?? 500;
      if (status === 500) log.error({ err: error }, 'request failed');
      if (!res.headersSent) sendJson(res, status, graphqlErrorBody(status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST', status === 500 ? 'Internal server error' : (error as Error).message));
      else res.end();
    });
  }, { requireCallerCertificate: true });
  httpServer.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => resolve());
  });
  const actualPort = (httpServer.address() as AddressInfo).port;
  log.info({ port: actualPort, tls: Boolean(tls?.cert) }, `${name} subgraph listening`);
  return {
    url: `${serverScheme(tls)}://${host}:${actualPort}/graphql`,
    port: actualPort,
    async close() {
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await server.stop();
    },
  };
}

function createContext<Ctx extends SubgraphContext>(options: SubgraphOptions<Ctx>, claims: InternalClaims, clientIp: string | undefined, userAgent: string | undefined): Ctx {
  const { principal, requestId } = claims;
  const base: SubgraphContext = {
    requestId: requestId || randomUUID(),
    principal,
    log: options.log.child({ requestId, ...principalFields(principal) }),
    em: options.orm.em.fork(),
    access: new AccessChecker(principal, options.access, claims.facts),
    clientIp,
    userAgent: userAgent?.slice(0, MAX_USER_AGENT_LENGTH),
  };
  return options.extendContext(base);
}

export function principalFields(principal: Principal): Record<string, string> {
  switch (principal.kind) {
    case 'user':
      return { userId: principal.userId };
    case 'apiKey':
      return { apiKeyId: principal.apiKeyId, accountId: principal.accountId };
    default:
      return {};
  }
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
