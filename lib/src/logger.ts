import pino from 'pino';
import { traceFields } from './tracing.ts';

export type Logger = pino.Logger;

/** Lines logged inside a traced span carry its `trace_id` and `span_id` (lib/src/tracing.ts). Standard output unless `destination` is given. */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? 'info', destination?: pino.DestinationStream): Logger {
  return pino({ name: service, level, base: { service }, mixin: traceFields }, destination);
}
