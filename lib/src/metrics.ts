import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import client from 'prom-client';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { callerVerified, createServer, processTls, serverScheme, type TlsSettings } from './tls.ts';
import { runReadiness, sendReadiness, type ReadinessCheck } from './readiness.ts';

/**
 * The process's Prometheus metrics, in one registry: every service a process runs (all of them
 * under `npm start`) records into it, and any of their `/metrics` routes serves all of it. Every
 * metric is defined here, once, so the list below is the list of what can be scraped.
 */
export const registry = client.register;
client.collectDefaultMetrics({ register: registry });

const PREFIX = 'listbackup_';
const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** A sample of a gauge read when Prometheus scrapes. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}
export type SampleSource = () => Promise<Sample[]> | Sample[];

/**
 * A gauge whose value is read from its sources at scrape time (a pool's counts, a queue's depth).
 * Samples with the same labels add up. Sources added with the same key count once, so two
 * services of one process watching the same queue do not double it.
 */
export class SampledGauge {
  readonly gauge: client.Gauge;
  /** Per key, the sources watching it; the first one answers. */
  readonly #sources = new Map<unknown, SampleSource[]>();

  constructor(name: string, help: string, labelNames: string[]) {
    const sources = this.#sources;
    this.gauge = new client.Gauge({
      name: PREFIX + name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        const results = await Promise.allSettled([...sources.values()].map((watching) => watching[0]()));
        for (const result of results) {
          // A source that cannot answer now (database down) leaves its series out of this scrape.
          if (result.status !== 'fulfilled') continue;
          for (const sample of result.value) this.inc(sample.labels, sample.value);
        }
      },
    });
  }

  /** Watches `source` until the returned function is called. */
  add(source: SampleSource, key: unknown = Symbol()): () => void {
    const watching = this.#sources.get(key) ?? [];
    watching.push(source);
    this.#sources.set(key, watching);
    return () => {
      const index = watching.indexOf(source);
      if (index < 0) return;
      watching.splice(index, 1);
      if (watching.length === 0 && this.#sources.get(key) === watching) this.#sources.delete(key);
    };
  }
}

const counter = (name: string, help: string, labelNames: string[]) => new client.Counter({ name: PREFIX + name, help, labelNames, registers: [registry] });
const histogram = (name: string, help: string, labelNames: string[], buckets = SECONDS) =>
  new client.Histogram({ name: PREFIX + name, help, labelNames, buckets, registers: [registry] });

export const metrics = {
  graphqlRequests: counter('graphql_requests_total', 'GraphQL operations served, by service, operation name and outcome (ok or error).', ['service', 'operation', 'outcome']),
  graphqlDuration: histogram('graphql_request_duration_seconds', 'Time to answer a GraphQL operation, by service and operation name.', ['service', 'operation']),
  subgraphFetches: counter('graphql_subgraph_fetches_total', "The gateway's query-plan fetches, by subgraph and outcome (ok, error: an answer with errors, failed: no answer).", ['subgraph', 'outcome']),
  subgraphFetchDuration: histogram('graphql_subgraph_fetch_duration_seconds', "Time of the gateway's query-plan fetches, by subgraph.", ['subgraph']),
  internalCalls: counter('internal_requests_total', 'Service-to-service calls (each attempt), by target service, method and HTTP status (or "error" without an answer).', ['service', 'method', 'status']),
  internalCallDuration: histogram('internal_request_duration_seconds', 'Time to the response headers of service-to-service calls, by target service.', ['service']),
  dbPool: new SampledGauge('db_pool_connections', 'PostgreSQL pool connections, by pool (schema) and state (total, idle, waiting: callers waiting for one).', ['pool', 'state']),
  queueDepth: new SampledGauge('queue_jobs', 'pg-boss messages waiting, by queue and state (ready: may start now, deferred: waits for its start time, active: held by a worker).', ['queue', 'state']),
  queueOldest: new SampledGauge('queue_oldest_ready_age_seconds', 'Age of the oldest pg-boss message that may start now and has not, by queue.', ['queue']),
  jobAttempts: counter('job_attempts_total', 'Job attempts settled by a worker, by kind, outcome (succeeded, failed, retrying, deferred, cancelled, requeued) and failure type.', ['kind', 'outcome', 'failure_type']),
  jobsFinished: counter('jobs_finished_total', 'Jobs that reached a final status, by kind, status and failure type.', ['kind', 'status', 'failure_type']),
  jobItems: counter('job_items_total', 'Items processed by jobs (backed up, exported, restored, verified), by kind.', ['kind']),
  jobBytes: counter('job_bytes_total', 'Bytes processed by jobs, by kind.', ['kind']),
  circuitTransitions: counter('connector_circuit_transitions_total', 'State changes of the circuit breakers around connector HTTP, by platform, scope (platform, connection) and state entered (open, half_open, closed).', ['platform', 'scope', 'state']),
  jobThroughput: histogram('job_attempt_throughput_bytes_per_second', 'Average throughput of a finished job attempt that moved bytes, by kind.', ['kind'], [1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9]),
  outboxUnsent: new SampledGauge('outbox_unsent_events', 'Outbox events written but not yet published, by service (schema).', ['service']),
  outboxLag: new SampledGauge('outbox_lag_seconds', 'Age of the oldest outbox event not yet published, by service (schema); 0 when none waits.', ['service']),
  consumerPending: new SampledGauge('event_consumer_pending_messages', 'Durable NATS consumer lag: events in the stream not yet delivered to the consumer.', ['consumer']),
  consumerAckPending: new SampledGauge('event_consumer_ack_pending_messages', 'Events delivered to a durable NATS consumer and not yet acknowledged.', ['consumer']),
  consumerEvents: counter('event_consumer_events_total', 'Events handled by durable consumers, by consumer and outcome (ok, failed: delivered again later, dead: set aside as a dead letter).', ['consumer', 'outcome']),
  websocketConnections: new SampledGauge('websocket_connections', 'Open websocket connections on the gateway, by subprotocol.', ['protocol']),
  subscriptions: new SampledGauge('subscriptions_active', 'Open GraphQL subscriptions on the gateway.', []),
  notificationDeliveries: counter('notification_deliveries_total', 'Notification delivery attempts, by channel and outcome (delivered, retrying, dead).', ['channel', 'outcome']),
  notificationDeliveryDuration: histogram('notification_delivery_duration_seconds', 'Time of a notification delivery attempt, by channel.', ['channel']),
};

const MAX_OPERATION_NAMES = 200;
const seenOperations = new Set<string>();

/**
 * The label for a GraphQL operation name. Names come from clients, so they are bounded: at most
 * 200 distinct names per process (later ones count as `other`), 64 characters each.
 */
export function operationLabel(name: string | null | undefined): string {
  if (!name) return 'anonymous';
  const label = name.slice(0, 64);
  if (seenOperations.has(label)) return label;
  if (seenOperations.size >= MAX_OPERATION_NAMES) return 'other';
  seenOperations.add(label);
  return label;
}

/** RED metrics of every GraphQL operation a server answers. */
export function graphqlMetricsPlugin<Ctx extends BaseContext>(service: string): ApolloServerPlugin<Ctx> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ request, operationName, response, errors }) {
          const operation = operationLabel(operationName ?? request.operationName);
          const failed = (errors?.length ?? 0) > 0 || (response.body.kind === 'single' && (response.body.singleResult.errors?.length ?? 0) > 0);
          metrics.graphqlRequests.inc({ service, operation, outcome: failed ? 'error' : 'ok' });
          metrics.graphqlDuration.observe({ service, operation }, (performance.now() - started) / 1000);
        },
      };
    },
  };
}

/** A pg Pool's counts for `db_pool_connections`, until the pool ends. */
export function watchPool(name: string, pool: { totalCount: number; idleCount: number; waitingCount: number; ended: boolean }): void {
  const unwatch = metrics.dbPool.add(
    () => {
      if (pool.ended) {
        unwatch();
        return [];
      }
      return [
      { labels: { pool: name, state: 'total' }, value: pool.totalCount },
      { labels: { pool: name, state: 'idle' }, value: pool.idleCount },
      { labels: { pool: name, state: 'waiting' }, value: pool.waitingCount },
      ];
    },
    pool,
  );
}

/** Answers a scrape with the whole registry. */
export async function serveMetrics(res: http.ServerResponse): Promise<void> {
  const body = await registry.metrics();
  res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

export interface MetricsServerOptions {
  /** Default 0.0.0.0. */
  host?: string;
  /** Default: the process's (lib/src/tls.ts). */
  tls?: TlsSettings;
  /** With these, `/readyz` answers whether the process can work (its database, NATS, the queue, the store). */
  readiness?: Record<string, ReadinessCheck>;
}

/**
 * A process with no HTTP server of its own (a worker) serves `/metrics`, `/healthz` and, given its
 * checks, `/readyz` on `port`. With the process's TLS settings (lib/src/tls.ts) it serves them over
 * TLS 1.3 as a subgraph does: the probes to anyone (the kubelet shows no certificate), `/metrics`
 * only to callers with a certificate from the services' CA.
 */
export async function startMetricsServer(port: number, options: MetricsServerOptions = {}): Promise<MetricsServer> {
  const { host = '0.0.0.0', tls = processTls(), readiness } = options;
  const server = createServer(
    tls,
    (req, res) => {
      const path = new URL(req.url ?? '/', 'http://metrics').pathname;
      if (path === '/readyz' && readiness) {
        runReadiness(readiness).then(
          (report) => sendReadiness(res, report),
          () => res.writeHead(500).end(),
        );
        return;
      }
      if (path === '/metrics' && callerVerified(tls, req)) {
        serveMetrics(res).catch(() => {
          if (!res.headersSent) res.writeHead(500);
          res.end();
        });
        return;
      }
      const [status, body] = path === '/healthz' ? [200, { status: 'ok' }] : path === '/metrics' ? [403, { error: 'a certificate from the services CA is required' }] : [404, { error: 'not found' }];
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    },
    { requireCallerCertificate: true },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `${serverScheme(tls)}://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actual}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
