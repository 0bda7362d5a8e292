/**
 * OpenTelemetry traces. Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set: then `startTracing` registers a tracer provider
 * that exports over OTLP/HTTP, and every helper here starts spans. While it is off the SDK is never
 * loaded and each helper returns at its first line, so tracing costs nothing.
 *
 * What is traced, one trace per request: the gateway's HTTP request and Apollo's own gateway spans
 * (plan, fetch per subgraph), each internal call (internal-client.ts) and the subgraph request it
 * reaches, a job's enqueue and its attempt in a worker (the W3C `traceparent` travels in the queue
 * message), a platform's HTTP calls (undici's diagnostics channels, through
 * @opentelemetry/instrumentation-undici), PostgreSQL statements inside any of these
 * (@opentelemetry/instrumentation-pg), and events: an event carries the `traceparent` of the
 * code that created it, through the outbox and the bus, and a durable consumer handles it in a span
 * of that trace.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { context, isSpanContextValid, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span } from '@opentelemetry/api';
import { INTERNAL_TOKEN_HEADER } from './internal-token.ts';

const TRACER = 'listbackup';
let enabled = false;
let started: Tracing | undefined;

/** True once `startTracing` registered an exporter in this process. */
export function tracingEnabled(): boolean {
  return enabled;
}

export interface Tracing {
  /** Exports the spans ended so far. */
  flush(): Promise<void>;
  /** Exports what is left and stops. */
  shutdown(): Promise<void>;
}

/**
 * Where spans go, from the environment as OpenTelemetry's specification reads it: the traces
 * endpoint as given, or the base endpoint with `/v1/traces` added; undefined (tracing off) when
 * neither is set. An empty value is unset.
 */
export function otlpTracesUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) return `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  return undefined;
}

/**
 * Starts exporting this process's spans over OTLP/HTTP (JSON) to the endpoint in the environment,
 * as `serviceName` (`OTEL_SERVICE_NAME` overrides it). Undefined, and nothing loaded, when no
 * endpoint is set. Once per process: a second call answers the first one's handle.
 */
export async function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Promise<Tracing | undefined> {
  const url = otlpTracesUrl(env);
  if (!url) return undefined;
  if (started) return started;
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }, { UndiciInstrumentation }, { PgInstrumentation }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/instrumentation-undici'),
    import('@opentelemetry/instrumentation-pg'),
  ]);
  // Headers and timeout come from the standard OTEL_EXPORTER_OTLP_* variables, as the exporter reads them.
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }), { scheduledDelayMillis: 1_000 })],
  });
  // An AsyncLocalStorage context manager and the W3C trace-context propagator.
  provider.register();
  const undici = new UndiciInstrumentation({
    // Calls between services get their span from the internal client, which names the service.
    ignoreRequestHook: (request) => hasHeader(request.headers, INTERNAL_TOKEN_HEADER),
  });
  // Statements only inside a traced request, job or event: the pools' and the queue's own polling would bury them.
  const postgres = new PgInstrumentation({ requireParentSpan: true });
  const unpatchPostgres = patchLoadedPostgresClients(postgres);
  enabled = true;
  started = {
    flush: () => provider.forceFlush(),
    async shutdown() {
      enabled = false;
      started = undefined;
      undici.disable();
      unpatchPostgres();
      postgres.disable();
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
  return started;
}

/**
 * Patches the copies of `pg` this process has loaded (the ORM's, and pg-boss's own where its range
 * needs another one) with the instrumentation's patch. They are imported as ES modules before
 * tracing starts, which the instrumentation's require hook does not see. Returns the undo.
 */
function patchLoadedPostgresClients(instrumentation: { getModuleDefinitions(): { name: string; patch?: (exports: unknown) => unknown; unpatch?: (exports: unknown) => unknown }[] }): () => void {
  const definition = instrumentation.getModuleDefinitions().find((module) => module.name === 'pg');
  if (!definition?.patch) return () => {};
  const copies = new Set<unknown>();
  for (const from of [import.meta.url, import.meta.resolve('pg-boss')]) copies.add(createRequire(from)('pg'));
  for (const copy of copies) definition.patch(copy);
  return () => {
    for (const copy of copies) definition.unpatch?.(copy);
  };
}

function hasHeader(headers: string | (string | string[])[], name: string): boolean {
  if (typeof headers === 'string') return headers.toLowerCase().includes(`${name}:`);
  for (let i = 0; i < headers.length; i += 2) if (String(headers[i]).toLowerCase() === name) return true;
  return false;
}

const tracer = () => trace.getTracer(TRACER);

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The context to start in; default the active one. */
  parent?: Context;
}

/** Runs `fn` in a new span (ended when `fn` settles, marked as an error when it throws); just `fn` while tracing is off. */
export function withSpan<T>(name: string, options: SpanOptions, fn: (span?: Span) => Promise<T>): Promise<T> {
  if (!enabled) return fn();
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes }, parent);
  return context.with(trace.setSpan(parent, span), async () => {
    try {
      return await fn(span);
    } catch (error) {
      failed(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

function failed(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/** The W3C `traceparent` of the active span, to carry in a queue message or an event; undefined while tracing is off. */
export function currentTraceparent(): string | undefined {
  if (!enabled) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** The context a carried `traceparent` continues (the root context when there is none or it is malformed). */
export function contextFrom(traceparent: string | undefined | null): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

/** Adds the active trace context to outgoing headers. */
export function injectTraceHeaders(headers: Record<string, string>): void {
  if (enabled) propagation.inject(context.active(), headers);
}

/** Probes and scrapes are not traced: they would bury the requests. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export interface TraceRequestOptions {
  /**
   * Whether this request's caller may put it in its own trace. Default: no one may. Then a
   * `traceparent` does not make the request's span its child nor decide whether it is sampled: the
   * request starts a new trace, and the caller's span is only a link of it.
   */
  trustCaller?: (req: IncomingMessage) => boolean;
}

/**
 * Runs a service's handler of one HTTP request in a server span; just the handler while tracing is
 * off. A trusted caller's `traceparent` (and `tracestate`) is continued; anyone else's starts a
 * new trace that links to it, so an outside caller cannot join, or force the sampling of, our
 * traces. The span ends when the response is finished or the connection closes.
 */
export function traceRequest(service: string, req: IncomingMessage, res: ServerResponse, handle: () => Promise<void>, options: TraceRequestOptions = {}): Promise<void> {
  if (!enabled) return handle();
  const path = (req.url ?? '/').split('?', 1)[0]!;
  if (UNTRACED_PATHS.has(path)) return handle();
  const carried = propagation.extract(ROOT_CONTEXT, req.headers);
  const caller = trace.getSpanContext(carried);
  const trusted = caller !== undefined && isSpanContextValid(caller) && (options.trustCaller?.(req) ?? false);
  const parent = trusted ? carried : ROOT_CONTEXT;
  const links: Link[] = !trusted && caller && isSpanContextValid(caller) ? [{ context: caller, attributes: { 'listbackup.link': 'untrusted caller' } }] : [];
  const method = req.method ?? 'GET';
  const span = tracer().startSpan(
    `${service} ${method} ${path}`,
    { kind: SpanKind.SERVER, attributes: { 'listbackup.service': service, 'http.request.method': method, 'url.path': path }, links },
    parent,
  );
  res.once('close', () => {
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  return context.with(trace.setSpan(parent, span), handle);
}

/**
 * The active span's ids for a log line (`trace_id`, `span_id`), or nothing. Always a new object:
 * pino merges the line's own fields into what a mixin returns.
 */
export function traceFields(): Record<string, string> {
  const span = enabled ? trace.getActiveSpan() : undefined;
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

export { SpanKind };
