/**
 * Tracing off by default (no SDK, no spans, nothing carried), and on with an OTLP endpoint: spans
 * reach a local OTLP/HTTP receiver, log lines carry the trace id, events carry the trace context
 * and a durable consumer continues it.
 */
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { trace } from '@opentelemetry/api';
import { createEvent } from '../src/events/contract.ts';
import { parseEvent } from '../src/events/envelope.ts';
import { InProcessEventBus } from '../src/events/memory-bus.ts';
import { createLogger } from '../src/logger.ts';
import { contextFrom, currentTraceparent, otlpTracesUrl, startTracing, traceFields, tracingEnabled, withSpan, type Tracing } from '../src/tracing.ts';
import { SPAN_KIND, startOtlpReceiver, type OtlpReceiver } from '../../test/support/otlp-receiver.ts';

/** A logger writing its JSON lines into an array. */
function capturedLogger(): { lines: Record<string, unknown>[]; log: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, log: createLogger('test', 'info', sink) };
}

const ACCOUNT = '01a23c2f-fbad-71c5-b54e-5b70d4aea821';
const USER = '01a23c2f-fbad-71c5-b54e-5b70d4aea822';

describe('tracing', () => {
  let receiver: OtlpReceiver | undefined;
  let tracing: Tracing | undefined;
  afterAll(async () => {
    await tracing?.shutdown();
    await receiver?.close();
  });

  it('reads the endpoint as the OpenTelemetry variables say, an empty value meaning unset', () => {
    expect(otlpTracesUrl({})).toBeUndefined();
    expect(otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toBeUndefined();
    expect(otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318/' })).toBe('http://localhost:4318/v1/traces');
    expect(otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:9999/traces' })).toBe('http://b:9999/traces');
  });

  it('is off without an endpoint: nothing starts, spans are not made, nothing is carried or logged', async () => {
    expect(await startTracing('test', {})).toBeUndefined();
    expect(tracingEnabled()).toBe(false);
    const { lines, log } = capturedLogger();
    const seen = await withSpan('unused', {}, async (span) => {
      log.info('inside');
      return { span, traceparent: currentTraceparent(), active: trace.getActiveSpan() };
    });
    expect(seen).toEqual({ span: undefined, traceparent: undefined, active: undefined });
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(traceFields()).toEqual({});
    expect(createEvent('user.created', ACCOUNT, USER, { userId: USER, email: 'a@example.com', name: 'A', personalAccountId: ACCOUNT })).not.toHaveProperty('traceparent');
  });

  it('with an endpoint exports spans over OTLP/HTTP, puts the trace id in log lines and the trace context in events', async () => {
    receiver = await startOtlpReceiver();
    tracing = await startTracing('tracing-test', { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    expect(tracing).toBeDefined();
    const { lines, log } = capturedLogger();
    const bus = new InProcessEventBus();
    const handled: { event: string; traceId?: string }[] = [];
    await bus.subscribe(
      'lb.evt.*.user.created',
      (event) => {
        const span = trace.getActiveSpan();
        handled.push({ event: event.id, traceId: span?.spanContext().traceId });
      },
      { durable: 'tracing-test' },
    );

    const made = await withSpan('make a user', {}, async (span) => {
      log.info('making a user');
      const event = createEvent('user.created', ACCOUNT, USER, { userId: USER, email: 'a@example.com', name: 'A', personalAccountId: ACCOUNT });
      await bus.publish(event);
      return { ids: span!.spanContext(), event };
    });
    expect(lines[0]).toMatchObject({ msg: 'making a user', trace_id: made.ids.traceId, span_id: made.ids.spanId });
    expect(made.event.traceparent).toBe(`00-${made.ids.traceId}-${made.ids.spanId}-01`);
    // The envelope keeps it on the wire.
    expect(parseEvent(JSON.stringify(made.event)).traceparent).toBe(made.event.traceparent);

    await expect.poll(() => handled.length, { timeout: 30_000 }).toBe(1);
    expect(handled[0]).toEqual({ event: made.event.id, traceId: made.ids.traceId });
    await bus.close();

    await expect
      .poll(
        async () => {
          await tracing!.flush();
          return receiver!.trace(made.ids.traceId).map((span) => span.name).sort();
        },
        { timeout: 30_000 },
      )
      .toEqual(['make a user', 'process user.created']);
    const spans = receiver.trace(made.ids.traceId);
    const consumer = spans.find((span) => span.name === 'process user.created')!;
    expect(consumer).toMatchObject({ kind: SPAN_KIND.consumer, parentSpanId: made.ids.spanId, service: 'tracing-test' });
    expect(consumer.attributes).toMatchObject({ 'messaging.consumer.group.name': 'tracing-test', 'messaging.message.id': made.event.id });
    expect(receiver.rejected).toEqual([]);
  });

  it('starts a new trace for a missing or malformed traceparent, and refuses one that is not a string', async () => {
    for (const carried of [undefined, '', 'not-a-traceparent', '00-00000000000000000000000000000000-0000000000000000-01']) {
      await withSpan('fresh', { parent: contextFrom(carried) }, async (span) => {
        expect(span!.spanContext().traceId).toMatch(/^(?!0{32})[0-9a-f]{32}$/);
        expect(trace.getSpan(contextFrom(carried))).toBeUndefined();
      });
    }
    const envelope = { id: 'e', type: 'user.created', accountId: ACCOUNT, subject: USER, time: new Date().toISOString(), data: {} };
    expect(() => parseEvent(JSON.stringify({ ...envelope, traceparent: 7 }))).toThrow(/Malformed event envelope/);
  });
});
