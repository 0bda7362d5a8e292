/** The throttle that paces job progress events and saves, on a fake clock. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Throttle } from '../src/worker/progress.ts';

describe('Throttle', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs at once, then at most once per interval, with one trailing run for the calls in between', () => {
    const runs: number[] = [];
    const throttle = new Throttle(100, () => runs.push(Date.now()));
    throttle.schedule();
    expect(runs).toEqual([1_000_000]);
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(15);
      throttle.schedule();
    }
    expect(runs).toEqual([1_000_000, 1_000_100]);
    vi.advanceTimersByTime(200);
    expect(runs).toEqual([1_000_000, 1_000_100, 1_000_200]);
    vi.advanceTimersByTime(1_000);
    expect(runs).toHaveLength(3);
    throttle.schedule();
    expect(runs.at(-1)).toBe(1_001_350);
    for (let i = 1; i < runs.length; i++) expect(runs[i] - runs[i - 1]).toBeGreaterThanOrEqual(100);
  });

  it('runs nothing after stop, not even a trailing run already due', () => {
    const fn = vi.fn();
    const throttle = new Throttle(100, fn);
    throttle.schedule();
    throttle.schedule();
    throttle.stop();
    vi.advanceTimersByTime(500);
    throttle.schedule();
    expect(fn).toHaveBeenCalledTimes(1);
  });
});
