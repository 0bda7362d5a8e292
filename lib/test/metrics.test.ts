import { describe, expect, it } from 'vitest';
import { metrics, operationLabel, SampledGauge, startMetricsServer } from '../src/metrics.ts';
import { scrape } from '../../test/support/metrics.ts';

describe('metrics', () => {
  it('bounds operation names: 64 characters, at most 200 distinct, then "other"', () => {
    expect(operationLabel(undefined)).toBe('anonymous');
    expect(operationLabel('x'.repeat(100))).toBe('x'.repeat(64));
    for (let i = 0; i < 300; i++) operationLabel(`Operation${i}`);
    expect(operationLabel('Operation5')).toBe('Operation5');
    expect(operationLabel('NeverSeenBefore')).toBe('other');
  });

  it('reads sampled gauges at scrape time: sources of one key count once, samples with the same labels add up, a failing source is left out', async () => {
    const gauge = new SampledGauge('test_sampled', 'A gauge of this test.', ['name']);
    const server = await startMetricsServer(0, { host: '127.0.0.1' });
    try {
      let depth = 3;
      const stopFirst = gauge.add(() => [{ labels: { name: 'shared' }, value: depth }], 'one queue');
      const stopSecond = gauge.add(() => [{ labels: { name: 'shared' }, value: 100 }], 'one queue');
      gauge.add(() => [{ labels: { name: 'sum' }, value: 1 }]);
      gauge.add(() => [{ labels: { name: 'sum' }, value: 2 }]);
      gauge.add(() => Promise.reject(new Error('database down')));
      expect((await scrape(server.url)).value('listbackup_test_sampled', { name: 'shared' })).toBe(3);
      depth = 7;
      const later = await scrape(server.url);
      expect(later.value('listbackup_test_sampled', { name: 'shared' })).toBe(7);
      expect(later.value('listbackup_test_sampled', { name: 'sum' })).toBe(3);
      stopFirst();
      expect((await scrape(server.url)).value('listbackup_test_sampled', { name: 'shared' })).toBe(100);
      stopSecond();
      expect((await scrape(server.url)).value('listbackup_test_sampled', { name: 'shared' })).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('serves counters of the process registry', async () => {
    const server = await startMetricsServer(0, { host: '127.0.0.1' });
    try {
      metrics.jobItems.inc({ kind: 'TEST' }, 5);
      expect((await scrape(server.url)).value('listbackup_job_items_total', { kind: 'TEST' })).toBe(5);
      expect((await fetch(server.url.replace('/metrics', '/healthz'))).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
