/** The service logger with tracing off: every line is written, with its own fields and no trace ids. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.ts';

describe('createLogger', () => {
  it('writes lines with fields, one after another, and adds no trace ids outside a span', () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const log = createLogger('logger-test', 'info', sink);
    log.info({ storage: 'fs' }, 'first');
    log.warn({ jobId: 'j1' }, 'second');
    log.info('third');
    expect(lines.map((line) => line.msg)).toEqual(['first', 'second', 'third']);
    expect(lines[0]).toMatchObject({ service: 'logger-test', storage: 'fs' });
    expect(lines[1]).toMatchObject({ jobId: 'j1' });
    expect(lines[1]).not.toHaveProperty('storage');
    for (const line of lines) expect(line).not.toHaveProperty('trace_id');
  });
});
