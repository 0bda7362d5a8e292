/**
 * Traces of the product as `npm start` wires it, exported over OTLP/HTTP to a local receiver: one
 * `triggerSync` through the gateway is one tree — the gateway's request, Apollo's fetch to the
 * subgraph, the internal call and the subgraph's request, the job's enqueue, the worker's attempt,
 * its calls to the Stripe fake — and the job's event, relayed from the outbox over NATS (when there
 * is one), is handled by its durable consumer in a span of the same trace; the PostgreSQL
 * statements they run are spans of it too. A caller outside is not let into our traces.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind, startTracing, withSpan, type Tracing } from '@listbackup/lib/tracing';
import { connectNatsBus, streamName } from '@listbackup/lib/events/connect';
import type { NatsEventBus } from '@listbackup/lib/events/nats-bus';
import { trace } from '@opentelemetry/api';
import { FakeStripe } from '@listbackup/catalogue/testing/fakes';
import { createLogger } from '@listbackup/lib/logger';
import { readSupergraph } from '@listbackup/lib/supergraph';
import { startGateway } from '../gateway/src/index.ts';
import { signUp, type SignedUp } from '../gateway/test/support/stack.ts';
import { type BackupStack, STRIPE_KEY, startBackupStack, startIdentity } from './support/backup-stack.ts';
import { SPAN_KIND, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.ts';

const natsUrl = process.env.NATS_URL;
if (!natsUrl && process.env.CI === 'true') throw new Error('NATS_URL must be set in CI');

describe('traces through the gateway, the jobs runtime and the events', () => {
  let receiver: OtlpReceiver;
  let tracing: Tracing | undefined;
  let stack: BackupStack;
  let stripe: FakeStripe;
  let identity: Awaited<ReturnType<typeof startIdentity>>;
  let bus: NatsEventBus | undefined;
  const namespace = `tr${randomBytes(4).toString('hex')}`;
  let alice: SignedUp;

  const gql = async <T = any>(query: string, variables: Record<string, unknown>, who: SignedUp): Promise<T> => {
    const result = await stack.graphql<T>(query, variables, who.accessToken);
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data as T;
  };

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    tracing = await startTracing('listbackup', { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    stripe = await new FakeStripe().start();
    stripe.keys.add(STRIPE_KEY);
    for (let i = 0; i < 12; i++) stripe.add('customers');
    identity = await startIdentity();
    bus = natsUrl ? await connectNatsBus(natsUrl, namespace) : undefined;
    // This gateway sits behind a front end that traces (the test's client): it continues its traces.
    stack = await startBackupStack(`${stripe.url}/v1`, identity.url, { bus, durablePrefix: namespace, trustTraceparent: true });
    alice = await signUp(stack);
  }, 180_000);

  afterAll(async () => {
    await stack?.close();
    if (bus) {
      await (await bus.connection.jetstreamManager()).streams.delete(streamName(namespace)).catch(() => {});
      await bus.close();
    }
    await stripe?.close();
    await identity?.close();
    await tracing?.shutdown();
    await receiver?.close();
  });

  /**
   * Exports what has ended until the trace is whole (every span but the root has its parent in it)
   * and holds a span `wanted` accepts; a span whose parent never arrives is a broken tree.
   */
  const waitForTree = async (traceId: string, rootSpanId: string, what: string, wanted: (span: ReceivedSpan) => boolean): Promise<ReceivedSpan[]> => {
    const deadline = Date.now() + 90_000;
    for (;;) {
      await tracing!.flush();
      const spans = receiver.trace(traceId);
      const ids = new Set(spans.map((span) => span.spanId));
      const orphans = spans.filter((span) => span.spanId !== rootSpanId && !ids.has(span.parentSpanId));
      if (orphans.length === 0 && spans.some(wanted)) return spans;
      if (Date.now() > deadline) {
        throw new Error(`trace ${traceId} has no ${what} or is not one tree; spans: ${spans.map((span) => span.name).join(', ')}; without their parent: ${orphans.map((span) => span.name).join(', ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  it('exports one tree for a triggerSync: gateway, jobs, the worker and the connector HTTP calls, and the event consumer', { timeout: 180_000 }, async () => {
    expect(tracing, 'tracing starts when OTEL_EXPORTER_OTLP_ENDPOINT is set').toBeDefined();
    const { createApiKeyConnection: connection } = await gql(
      `mutation ($input: CreateApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id } }`,
      { input: { accountId: alice.accountId, platformSlug: 'stripe', name: 'Stripe', apiKey: STRIPE_KEY } },
      alice,
    );
    const { createSource: source } = await gql(
      `mutation ($input: CreateSourceInput!) { createSource(input: $input) { id } }`,
      { input: { accountId: alice.accountId, connectionId: connection.id, name: 'Payments', resources: ['customers'], schedule: { kind: 'MANUAL' }, retention: { keepLast: 5 } } },
      alice,
    );

    // The client's own span is the root: its fetch (traced by the undici instrumentation) sends the traceparent.
    let traceId = '';
    let rootSpanId = '';
    const triggered = await withSpan('client triggerSync', { kind: SpanKind.INTERNAL }, async () => {
      const context = trace.getActiveSpan()!.spanContext();
      traceId = context.traceId;
      rootSpanId = context.spanId;
      return gql(`mutation TriggerSync($id: ID!) { triggerSync(sourceId: $id) { id } }`, { id: source.id }, alice);
    });
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    await expect
      .poll(async () => {
        const { job } = await gql(`query ($id: ID!) { job(id: $id) { status failureReason } }`, { id: triggered.triggerSync.id }, alice);
        return job.status === 'QUEUED' || job.status === 'RUNNING' ? job.status : `${job.status} ${job.failureReason ?? ''}`.trim();
      }, { timeout: 120_000, interval: 100 })
      .toBe('SUCCEEDED');

    const spans = await waitForTree(traceId, rootSpanId, 'consumer of job.completed', (span) => span.name === 'process job.completed' && span.kind === SPAN_KIND.consumer);
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    const parentOf = (span: ReceivedSpan) => byId.get(span.parentSpanId);
    const ancestors = (span: ReceivedSpan) => {
      const chain: ReceivedSpan[] = [];
      for (let at = parentOf(span); at; at = parentOf(at)) chain.push(at);
      return chain;
    };
    const one = (what: string, found: (span: ReceivedSpan) => boolean) => {
      const matching = spans.filter(found);
      expect(matching.length, `${what} in ${spans.map((span) => span.name).join(', ')}`).toBeGreaterThan(0);
      return matching[0]!;
    };

    // One tree: every span of the trace leads up to the client's span.
    expect(spans.find((span) => span.spanId === rootSpanId)?.parentSpanId).toBe('');
    for (const span of spans) {
      if (span.spanId !== rootSpanId) expect(ancestors(span).at(-1)?.spanId, `${span.name} is in the client's tree`).toBe(rootSpanId);
    }

    const gatewayRequest = one('the gateway request', (span) => span.name === 'gateway POST /graphql' && span.kind === SPAN_KIND.server);
    expect(ancestors(gatewayRequest).map((span) => span.spanId)).toContain(rootSpanId);
    const apolloRequest = one("Apollo's gateway.request", (span) => span.name === 'gateway.request' && span.attributes['graphql.operation.name'] === 'TriggerSync');
    expect(ancestors(apolloRequest)).toContain(gatewayRequest);

    // The gateway's fetch, the internal call it makes and the subgraph's request, each the parent of the next.
    const fetch = one('a gateway.fetch', (span) => span.name === 'gateway.fetch' && ancestors(span).includes(apolloRequest));
    const internalCall = one('the internal call of the fetch', (span) => span.kind === SPAN_KIND.client && parentOf(span) === fetch && span.name.startsWith('internal '));
    const subgraphRequest = one('the subgraph request', (span) => span.kind === SPAN_KIND.server && parentOf(span) === internalCall);
    expect(subgraphRequest.name).toBe(`${fetch.attributes.service} POST /graphql`);

    // The enqueue happens inside the jobs subgraph's request (reached from sources, or directly).
    const enqueue = one('the enqueue', (span) => span.name === 'enqueue BACKUP' && span.kind === SPAN_KIND.producer);
    expect(enqueue.attributes['listbackup.job.id']).toBe(triggered.triggerSync.id);
    const jobsRequest = ancestors(enqueue).find((span) => span.kind === SPAN_KIND.server)!;
    expect(jobsRequest.name).toBe('jobs POST /graphql');
    expect(ancestors(jobsRequest)).toContain(gatewayRequest);

    // PostgreSQL statements (@opentelemetry/instrumentation-pg), each under the span that ran it: the jobs subgraph's insert of the job.
    const statements = spans.filter((span) => span.kind === SPAN_KIND.client && span.attributes['db.system.name'] === 'postgresql');
    const insertsJob = statements.find((span) => ancestors(span).includes(jobsRequest) && /^insert into "jobs"\."jobs"/i.test(String(span.attributes['db.query.text'])));
    expect(insertsJob, statements.map((span) => `${span.name}: ${span.attributes['db.query.text']}`).join('\n')).toBeDefined();
    expect(insertsJob!.name).toMatch(/^pg\.query:INSERT /);
    expect(insertsJob!.attributes['db.namespace']).toBeTruthy();

    // The worker's attempt continues the enqueue's trace context, carried in the queue message.
    const attempt = one("the worker's attempt", (span) => span.name === 'job BACKUP' && span.kind === SPAN_KIND.consumer);
    expect(parentOf(attempt)).toBe(enqueue);
    expect(attempt.attributes['listbackup.job.id']).toBe(triggered.triggerSync.id);
    expect(attempt.status).not.toBe(2);

    // The connector's HTTP calls to the fake, under the attempt; the worker's internal calls too.
    const stripeOrigin = new URL(stripe.url).origin;
    const platformCalls = spans.filter((span) => span.kind === SPAN_KIND.client && String(span.attributes['url.full'] ?? '').startsWith(stripeOrigin));
    expect(platformCalls.map((span) => new URL(String(span.attributes['url.full'])).pathname)).toContain('/v1/customers');
    for (const call of platformCalls) {
      expect(ancestors(call)).toContain(attempt);
      expect(call.attributes['http.response.status_code']).toBe(200);
    }
    // The attempt's own statements (its progress and its result written to the job's row) are in its tree too.
    expect(statements.some((span) => ancestors(span).includes(attempt) && /^update "jobs"\."jobs"/i.test(String(span.attributes['db.query.text'])))).toBe(true);
    const credentials = one("the worker's call for the connection's credentials", (span) => span.name.startsWith('internal platforms ') && ancestors(span).includes(attempt));
    expect(spans.some((span) => span.kind === SPAN_KIND.server && parentOf(span) === credentials && span.name.startsWith('platforms '))).toBe(true);
    // Internal calls are the internal client's spans, not also the HTTP instrumentation's.
    const subgraphOrigins = new Set(Object.values(stack.services).map((service) => new URL(service.url).origin));
    expect(spans.filter((span) => subgraphOrigins.has(new URL(String(span.attributes['url.full'] ?? 'http://none')).origin))).toEqual([]);

    // The job's completion event went through the outbox (and NATS) and its consumer continued the trace.
    const consumed = one('the consumer of job.completed', (span) => span.name === 'process job.completed');
    expect(consumed.attributes['messaging.consumer.group.name']).toBe(`${namespace}-jobs-analytics-jobs`);
    expect(ancestors(consumed)).toContain(attempt);
    expect(receiver.rejected).toEqual([]);
  });
  /** A POST with exactly the headers given (node:http, which no instrumentation traces or adds a traceparent to). */
  const post = (url: string, body: unknown, headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const request = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (response) => {
        response.resume();
        response.once('end', () => resolve(response.statusCode ?? 0));
      });
      request.once('error', reject);
      request.end(JSON.stringify(body));
    });
  const traceparent = (flags: '00' | '01') => {
    const traceId = randomBytes(16).toString('hex');
    const spanId = randomBytes(8).toString('hex');
    return { traceId, spanId, header: `00-${traceId}-${spanId}-${flags}` };
  };
  /** Flushes until a span `wanted` accepts has arrived. */
  const waitForSpan = async (what: string, wanted: (span: ReceivedSpan) => boolean): Promise<ReceivedSpan> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      await tracing!.flush();
      const found = receiver.spans.find(wanted);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no span for ${what}; spans: ${receiver.spans.map((span) => span.name).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const linksTo = (span: ReceivedSpan, caller: { traceId: string; spanId: string }) => span.links.some((link) => link.traceId === caller.traceId && link.spanId === caller.spanId);

  it("does not let an outside caller put our spans in its trace or decide their sampling: a new trace links to the caller's span", { timeout: 180_000 }, async () => {
    // A gateway as deployed by default (TRUST_TRACEPARENT unset), on the same subgraphs.
    const gateway = await startGateway({
      port: 0,
      supergraphSdl: readSupergraph(),
      subgraphUrls: Object.fromEntries(Object.values(stack.services).map((service) => [service.name, service.url])),
      accountsUrl: stack.services.accounts.url,
      internalTokenSecret: stack.internalTokenSecret,
      log: createLogger('gateway', 'silent'),
    });
    try {
      const query = { query: 'query Me { me { id } }' };
      for (const flags of ['01', '00'] as const) {
        const caller = traceparent(flags);
        expect(await post(gateway.url, query, { traceparent: caller.header, tracestate: 'vendor=forced', authorization: `Bearer ${alice.accessToken}` })).toBe(200);
        // Traced (a caller's "not sampled" does not switch it off either), as the root of a new trace that links to the caller's span.
        const request = await waitForSpan(`the gateway request of caller ${flags}`, (span) => span.name === 'gateway POST /graphql' && linksTo(span, caller));
        expect(request.parentSpanId).toBe('');
        expect(request.traceId).not.toBe(caller.traceId);
        expect(request.links.find((link) => link.traceId === caller.traceId)?.attributes['listbackup.link']).toBe('untrusted caller');
        // The rest of the request is one tree under it: subgraphs continue the gateway's trace, shown by its internal token.
        const tree = await waitForTree(request.traceId, request.spanId, 'the accounts subgraph', (span) => span.name === 'accounts POST /graphql' && span.kind === SPAN_KIND.server);
        expect(tree.some((span) => span.name === 'gateway.request')).toBe(true);
        expect(receiver.trace(caller.traceId)).toEqual([]);
      }

      // A subgraph reached without an internal token does not continue the caller's trace either.
      const direct = traceparent('01');
      expect(await post(stack.services.accounts.url, query, { traceparent: direct.header })).toBe(401);
      const refused = await waitForSpan('the refused subgraph request', (span) => span.name === 'accounts POST /graphql' && linksTo(span, direct));
      expect(refused.parentSpanId).toBe('');
      expect(refused.traceId).not.toBe(direct.traceId);
      expect(refused.attributes['http.response.status_code']).toBe(401);

      // The gateway told to trust its callers (the stack's) continues the caller's trace: its request span is the caller's child.
      const trusted = traceparent('01');
      expect(await post(stack.gatewayUrl, query, { traceparent: trusted.header, authorization: `Bearer ${alice.accessToken}` })).toBe(200);
      const continued = await waitForSpan('the trusted gateway request', (span) => span.name === 'gateway POST /graphql' && span.traceId === trusted.traceId);
      expect(continued.parentSpanId).toBe(trusted.spanId);
      expect(continued.links).toEqual([]);
      expect(receiver.rejected).toEqual([]);
    } finally {
      await gateway.close();
    }
  });
});
