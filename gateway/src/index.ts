import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloGateway } from '@apollo/gateway';
import type { Logger } from '@listbackup/lib/logger';
import type { EventBus } from '@listbackup/lib/events/bus';
import type { Principal } from '@listbackup/lib/principal';
import { graphqlErrorBody, graphqlStatus, readBody, sendJson } from '@listbackup/lib/http';
import { MAX_USER_AGENT_LENGTH, principalFields } from '@listbackup/lib/subgraph';
import { internalClient } from '@listbackup/lib/internal-client';
import { graphqlMetricsPlugin, serveMetrics } from '@listbackup/lib/metrics';
import { createServer, processTls, serverScheme } from '@listbackup/lib/tls';
import { traceRequest } from '@listbackup/lib/tracing';
import { AuthenticationError, AuthenticationUnavailableError, Authenticator, type AuthenticatorOptions } from './auth.ts';
import { SignedDataSource, type SubgraphRequest } from './data-source.ts';
import { formatGatewayError, logMaskedErrors } from './errors.ts';
import { gatewayReadiness } from './readiness.ts';
import { runReadiness, sendReadiness } from '@listbackup/lib/readiness';
import { finiteNumbersRule } from './input-rules.ts';
import { DOWNLOAD_ROUTES, proxyDownload } from './downloads.ts';
import { OAUTH_CALLBACK_PATH, proxyOAuthCallback } from './oauth-callback.ts';
import { STRIPE_WEBHOOK_PATH, proxyStripeWebhook } from './stripe-webhook.ts';
import { PLATFORM_WEBHOOK_PREFIX, platformWebhookRoute, proxyPlatformWebhook } from './platform-webhooks.ts';
import type { GatewayContext } from './context.ts';
import { createSubscriptionServer, type SubscriptionEngine, type SubscriptionOptions } from './subscriptions/index.ts';
import { serveIde } from './ide/index.ts';
import { checkOperation, costLimitPlugin, DEFAULT_QUERY_LIMITS, LIMIT_CODES, LimitError, limitRules, type QueryLimits } from './limits.ts';
import { RateLimiter, rateLimitPlugin, type RateLimits } from './rate-limits.ts';
import type { OperationRequest, TrustedDocuments } from './trusted-documents.ts';

export type { GatewayContext } from './context.ts';
export type { SubgraphRequest } from './data-source.ts';
export { Authenticator, AuthenticationError } from './auth.ts';
export { DEFAULT_QUERY_LIMITS, type QueryLimits } from './limits.ts';
export { DEFAULT_RATE_LIMITS, type RateLimits } from './rate-limits.ts';
export { TrustedDocuments } from './trusted-documents.ts';

export interface GatewayOptions {
  port: number;
  host?: string;
  /** The composed supergraph (schema/supergraph.graphql). The gateway never introspects subgraphs. */
  supergraphSdl: string;
  /** Where each subgraph of the supergraph answers GraphQL; overrides the URLs written in the supergraph. */
  subgraphUrls: Record<string, string>;
  /** The accounts subgraph (any URL of it), for the JWKS and API key verification. */
  accountsUrl: string;
  internalTokenSecret: string;
  log: Logger;
  /** When given, /readyz also checks this database. */
  databaseUrl?: string;
  /** Take the client IP from the last X-Forwarded-For hop (set when a proxy in front of the gateway adds it). */
  trustProxy?: boolean;
  /**
   * Continue the trace of a caller's `traceparent` (a front end of yours that traces). Off by
   * default: each request starts a new trace, linked to the caller's span (TRUST_TRACEPARENT).
   */
  trustTraceparent?: boolean;
  /** Called for every request sent to a subgraph (tests count them). */
  onSubgraphRequest?: (request: SubgraphRequest) => void;
  /** Cache settings of the authenticator (tests use a fake clock). */
  auth?: Pick<AuthenticatorOptions, 'apiKeyCacheMs' | 'jwksRefetchCooldownMs' | 'jwksMaxAgeMs' | 'accessFactsTtlMs' | 'now'>;
  /**
   * Where the events that change access arrive (sign-outs, revoked keys, removed members), so every
   * gateway drops its cached access facts at once. Without it only this gateway's own requests and
   * the facts' TTL (`auth.accessFactsTtlMs`) do.
   */
  accessEvents?: EventBus;
  /** Live subscriptions over the websocket on /graphql: the event bus they listen to, and limits. */
  subscriptions?: SubscriptionOptions;
  /** Query limits of this deployment (docs/limits.md); each one not given keeps its default. */
  limits?: Partial<QueryLimits>;
  /**
   * Rate limits of this deployment (docs/limits.md), counted in `databaseUrl` when given so that
   * every gateway shares them. The entry points pass them from the environment; without them there are none.
   */
  rateLimits?: RateLimits | false;
  /** With these, only operations registered in them run, over HTTP and the websocket (TRUSTED_DOCUMENTS, docs/limits.md). */
  trustedDocuments?: TrustedDocuments;
  /**
   * For bench/requests.ts only, which measures what the checks cost: leaves out the query limits
   * and the input rules (pass `rateLimits: false` too). No entry point sets it and no variable reads it.
   */
  benchWithoutChecks?: boolean;
}

export interface RunningGateway {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql. */
  url: string;
  port: number;
  /** The node server, so the websocket server for subscriptions can attach to the same port. */
  httpServer: http.Server;
  authenticator: Authenticator;
  apollo: ApolloServer<GatewayContext>;
  /** The subscriptions the gateway executes itself (counts for tests and metrics). */
  subscriptions: SubscriptionEngine;
  /** Loads another supergraph without a restart; open subscriptions end with SUPERGRAPH_CHANGED. */
  updateSupergraph(supergraphSdl: string): void;
  close(): Promise<void>;
}

/** What the access log line of a request says about it once known. */
interface RequestState {
  requestId: string;
  log: Logger;
  principal?: Principal;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { log, subgraphUrls } = options;
  const host = options.host ?? '127.0.0.1';
  const authenticator = new Authenticator({
    accountsUrl: options.accountsUrl,
    internalTokenSecret: options.internalTokenSecret,
    log,
    ...options.auth,
  });

  const internal = internalClient(options.internalTokenSecret);
  const readiness = gatewayReadiness(
    Object.fromEntries(Object.entries(subgraphUrls).map(([name, url]) => [name, internal.service(name, url)])),
    options.databaseUrl,
    options.subscriptions?.bus ?? options.accessEvents,
  );
  const dataSources = Object.fromEntries(
    Object.entries(subgraphUrls).map(([name, url]) => [name, new SignedDataSource({
        name,
        url,
        internalTokenSecret: options.internalTokenSecret,
        onRequest: options.onSubgraphRequest,
        onAccessChanged: (change) => authenticator.accessChanged(change),
      })]),
  );
  let updateSupergraph: ((supergraphSdl: string) => void) | undefined;
  // Unless told otherwise, @apollo/gateway reports usage to Apollo and first probes every cloud's
  // metadata address (169.254.169.254) to describe the host: nothing of ours leaves unasked.
  process.env.APOLLO_TELEMETRY_DISABLED ??= 'true';
  const gateway = new ApolloGateway({
    supergraphSdl: async ({ update }) => {
      updateSupergraph = update;
      return { supergraphSdl: options.supergraphSdl };
    },
    logger: log,
    buildService: ({ name }) => {
      const dataSource = dataSources[name];
      if (!dataSource) throw new Error(`No URL configured for subgraph "${name}" of the supergraph`);
      return dataSource;
    },
  });
  const limits: QueryLimits = { ...DEFAULT_QUERY_LIMITS, ...options.limits };
  const checks = !options.benchWithoutChecks;
  const validationRules = checks ? [...limitRules(limits), finiteNumbersRule] : [];
  const rateLimiter = options.rateLimits ? await RateLimiter.open(options.rateLimits, { databaseUrl: options.databaseUrl, log }) : undefined;
  const stopListening = options.accessEvents ? await authenticator.listen(options.accessEvents) : undefined;
  const trusted = options.trustedDocuments;
  if (trusted) log.info({ documents: trusted.size }, 'trusted documents only');
  const subscriptions = createSubscriptionServer({ ...options.subscriptions, gateway, authenticator, log, dataSources, queryLimits: limits, validationRules, rateLimiter, trustedDocuments: trusted });
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    // The process decides its own shutdown order (lib/src/process.ts).
    stopOnTerminationSignals: false,
    introspection: limits.introspection,
    hideSchemaDetailsFromClientErrors: !limits.fieldSuggestions,
    csrfPrevention: true,
    // Trusted documents are resolved before Apollo sees the request; its own cache must not register others.
    ...(trusted ? { persistedQueries: false as const } : {}),
    includeStacktraceInErrorResponses: false,
    // Batches are checked against QUERY_MAX_BATCH before they reach Apollo.
    allowBatchedHttpRequests: true,
    validationRules,
    parseOptions: checks ? { maxTokens: limits.maxTokens } : {},
    formatError: formatGatewayError,
    plugins: [ApolloServerPluginLandingPageDisabled(), graphqlMetricsPlugin('gateway'), logMaskedErrors, ...(checks ? [costLimitPlugin(limits)] : []), ...(rateLimiter ? [rateLimitPlugin(rateLimiter)] : []), subscriptions.httpPlugin],
  });
  await apollo.start();

  const graphql = async (req: http.IncomingMessage, res: http.ServerResponse, requestUrl: URL, state: RequestState) => {
    let url = requestUrl;
    const { requestId } = state;
    if (req.method !== 'GET' && req.method !== 'POST') {
      return sendJson(res, 405, graphqlErrorBody('BAD_REQUEST', 'Use GET or POST'), { allow: 'GET, POST' });
    }
    const { principal, facts } = await authenticator.authenticateRequest(header(req, 'authorization'), requestId);
    const context: GatewayContext = {
      requestId,
      principal,
      facts,
      clientIp: clientIp(req, options.trustProxy ?? false),
      userAgent: userAgent(req),
      log: state.log.child(principalFields(principal)),
    };
    state.principal = principal;

    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    let body: unknown;
    if (req.method === 'POST') {
      const raw = await readBody(req, limits.maxBodyBytes);
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        return sendJson(res, 400, graphqlErrorBody('BAD_REQUEST', 'Request body is not valid JSON'));
      }
    }
    if (trusted) {
      const resolved = req.method === 'POST' ? resolveTrusted(body, trusted) : trustedGet(url, trusted);
      if (resolved instanceof LimitError) return sendJson(res, resolved.status, resolved.toBody());
      if (req.method === 'POST') body = resolved;
      else url = resolved as URL;
    }
    const refused = checks ? checkRequest(req.method === 'POST' ? body : getOperation(url), limits) : undefined;
    if (refused) return sendJson(res, refused.status, refused.toBody());
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method, headers, search: url.search, body },
      context: async () => context,
    });
    for (const [key, value] of result.headers) res.setHeader(key, value);
    res.statusCode = graphqlStatus(result);
    if (result.body.kind === 'complete') {
      res.end(result.body.string);
    } else {
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    }
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, state: RequestState) => {
    const { requestId, log: requestLog } = state;
    const url = new URL(req.url ?? '/', 'http://gateway');
    switch (url.pathname) {
      case '/graphql':
        return graphql(req, res, url, state);
      case '/healthz':
        return sendJson(res, 200, { status: 'ok' });
      case '/metrics':
        // Operation names are bounded labels and no series names a tenant (lib/src/metrics.ts).
        return serveMetrics(res);
      case '/readyz': {
        const report = await runReadiness(readiness);
        if (!report.ready) requestLog.warn({ checks: report.checks }, 'not ready');
        return sendReadiness(res, report);
      }
      case OAUTH_CALLBACK_PATH:
        return proxyOAuthCallback(req, res, internal.service('platforms', subgraphUrls.platforms), { requestId, clientIp: clientIp(req, options.trustProxy ?? false), userAgent: userAgent(req) });
      case STRIPE_WEBHOOK_PATH:
        if (!subgraphUrls.billing) return sendJson(res, 404, graphqlErrorBody('NOT_FOUND', 'No such route'));
        return proxyStripeWebhook(req, res, internal.service('billing', subgraphUrls.billing), requestId);
      case '/.well-known/jwks.json':
        return sendJson(res, 200, await authenticator.publicJwks(requestId), { 'cache-control': 'public, max-age=300' });
      default: {
        const webhook = url.pathname.startsWith(PLATFORM_WEBHOOK_PREFIX) ? platformWebhookRoute(url.pathname) : null;
        if (webhook && subgraphUrls.platforms) {
          return proxyPlatformWebhook(req, res, internal.service('platforms', subgraphUrls.platforms), webhook, {
            requestId,
            publicUrl: publicUrl(req, options.trustProxy ?? false, serverScheme(tls)),
            clientIp: clientIp(req, options.trustProxy ?? false),
          });
        }
        const download = Object.hasOwn(DOWNLOAD_ROUTES, url.pathname) ? DOWNLOAD_ROUTES[url.pathname] : undefined;
        if (download && subgraphUrls[download.subgraph]) {
          const principal = (state.principal = await authenticator.authenticate(header(req, 'authorization'), requestId));
          return proxyDownload(req, res, internal.service(download.subgraph, subgraphUrls[download.subgraph]), download.path, {
            principal,
            requestId,
            clientIp: clientIp(req, options.trustProxy ?? false),
            userAgent: userAgent(req),
          });
        }
        if (await serveIde(req, res, url)) return;
        return sendJson(res, 404, graphqlErrorBody('NOT_FOUND', 'No such route'));
      }
    }
  };

  const tls = processTls();
  const httpServer = createServer(tls, (req, res) => {
    const started = performance.now();
    const incoming = header(req, 'x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const requestLog = log.child({ requestId });
    const state: RequestState = { requestId, log: requestLog };
    res.setHeader('x-request-id', requestId);
    res.once('finish', () => {
      const fields = { method: req.method, path: req.url?.split('?')[0], status: res.statusCode, ms: Math.round(performance.now() - started), ...(state.principal ? principalFields(state.principal) : {}) };
      if (fields.path === '/healthz' || fields.path === '/readyz' || fields.path === '/metrics') requestLog.debug(fields, 'request');
      else requestLog.info(fields, 'request');
    });
    traceRequest('gateway', req, res, () => handle(req, res, state), { trustCaller: () => options.trustTraceparent === true }).catch((error: unknown) => {
      if (res.headersSent) {
        requestLog.error({ err: error }, 'request failed after the response started');
        res.end();
        return;
      }
      if (error instanceof AuthenticationError) {
        requestLog.info({ reason: error.message }, 'rejected credentials');
        sendJson(res, 401, graphqlErrorBody('UNAUTHENTICATED', error.message), {
          'www-authenticate': `Bearer error="invalid_token", error_description="${error.message.replaceAll('"', "'")}"`,
        });
      } else if (error instanceof AuthenticationUnavailableError) {
        requestLog.error({ err: error }, 'cannot authenticate');
        sendJson(res, 503, graphqlErrorBody('SERVICE_UNAVAILABLE', 'Authentication is temporarily unavailable; try again shortly'), { 'retry-after': '5' });
      } else if ((error as { status?: number }).status === 413) {
        sendJson(res, 413, graphqlErrorBody(LIMIT_CODES.body, (error as Error).message), { connection: 'close' });
      } else if ((error as { status?: number }).status === 400) {
        sendJson(res, 400, graphqlErrorBody('BAD_REQUEST', (error as Error).message));
      } else {
        requestLog.error({ err: error }, 'request failed');
        sendJson(res, 500, graphqlErrorBody('INTERNAL_SERVER_ERROR', 'Internal server error'));
      }
    });
  });
  httpServer.keepAliveTimeout = 65_000;
  subscriptions.attach({ httpServer, apollo, path: '/graphql', clientIp: (req) => clientIp(req, options.trustProxy ?? false) });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port, host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const port = (httpServer.address() as AddressInfo).port;
  const url = `${serverScheme(tls)}://${publicHost(host)}:${port}/graphql`;
  log.info({ port, subgraphs: Object.keys(subgraphUrls) }, 'gateway listening');

  return {
    url,
    port,
    httpServer,
    authenticator,
    apollo,
    subscriptions: subscriptions.engine,
    updateSupergraph(supergraphSdl) {
      updateSupergraph!(supergraphSdl);
    },
    async close() {
      await stopListening?.();
      await subscriptions.close();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await apollo.stop();
      await rateLimiter?.close();
    },
  };
}

/** The limits checked on the raw request: batch size, then each operation's tokens and nesting. */
function checkRequest(body: unknown, limits: QueryLimits): LimitError | undefined {
  if (Array.isArray(body)) {
    if (body.length > limits.maxBatch) return new LimitError(LIMIT_CODES.batch, `A batch may hold at most ${limits.maxBatch} operations; this one has ${body.length}`);
    for (const operation of body) {
      const refused = checkOperation(operation, limits);
      if (refused) return refused;
    }
    return undefined;
  }
  return checkOperation(body, limits);
}

/** A body's operations as the trusted documents say to run them (each one of a batch), or the first refusal. */
function resolveTrusted(body: unknown, trusted: TrustedDocuments): unknown {
  const resolve = (operation: unknown) => (operation !== null && typeof operation === 'object' && !Array.isArray(operation) ? trusted.resolve(operation as OperationRequest) : operation);
  if (!Array.isArray(body)) return resolve(body);
  const resolved = body.map(resolve);
  return resolved.find((operation) => operation instanceof LimitError) ?? resolved;
}

/** A GET request rewritten to carry the trusted document's text in `query`, or its refusal. */
function trustedGet(url: URL, trusted: TrustedDocuments): URL | LimitError {
  const params = url.searchParams;
  let extensions: unknown = params.get('extensions') ?? undefined;
  if (typeof extensions === 'string') {
    try {
      extensions = JSON.parse(extensions);
    } catch {
      return new LimitError('BAD_REQUEST', 'The "extensions" parameter is not valid JSON');
    }
  }
  const resolved = trusted.resolve({ query: params.get('query') ?? undefined, documentId: params.get('documentId') ?? undefined, extensions });
  if (resolved instanceof LimitError) return resolved;
  const next = new URL(url);
  next.searchParams.delete('documentId');
  if (typeof resolved.query === 'string') next.searchParams.set('query', resolved.query);
  if (resolved.extensions === undefined) next.searchParams.delete('extensions');
  else next.searchParams.set('extensions', JSON.stringify(resolved.extensions));
  return next;
}

/** A GET request's operation, as far as the limits need it (Apollo parses the parameters itself). */
function getOperation(url: URL): unknown {
  const variables = url.searchParams.get('variables');
  const extensions = url.searchParams.get('extensions');
  const json = (text: string | null) => {
    if (text === null) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  };
  return { query: url.searchParams.get('query') ?? undefined, variables: json(variables), extensions: json(extensions) };
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function clientIp(req: http.IncomingMessage, trustProxy: boolean): string | undefined {
  if (trustProxy) {
    const hops = header(req, 'x-forwarded-for')?.split(',').map((hop) => hop.trim()).filter(Boolean);
    if (hops?.length) return hops[hops.length - 1];
  }
  return req.socket.remoteAddress;
}

/** The URL the caller used, as far as the request tells (a platform signs it in some schemes, HubSpot's v3). */
function publicUrl(req: http.IncomingMessage, trustProxy: boolean, scheme: string): string {
  const forwarded = (name: string) => (trustProxy ? header(req, name)?.split(',').map((hop) => hop.trim()).filter(Boolean).at(-1) : undefined);
  return `${forwarded('x-forwarded-proto') ?? scheme}://${forwarded('x-forwarded-host') ?? header(req, 'host') ?? 'localhost'}${req.url ?? '/'}`;
}

function userAgent(req: http.IncomingMessage): string | undefined {
  return header(req, 'user-agent')?.slice(0, MAX_USER_AGENT_LENGTH);
}

function publicHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}
