import { DDSketch } from '@datadog/sketches-js';

/**
 * Job durations as DDSketch bins: a bucket key per duration, with a relative accuracy of 1%. The
 * read model stores the bins per source and day (key → count); bins of any rows add up key by key
 * (the sketch is mergeable), so p50 and p95 over any range, source set or platform come from one
 * SQL sum, and are within 1% of the exact percentile of the same durations.
 */
export const DURATION_RELATIVE_ACCURACY = 0.01;

const mapping = new DDSketch({ relativeAccuracy: DURATION_RELATIVE_ACCURACY }).mapping;

/** The bin of a duration in milliseconds (anything under 1 ms counts as 1 ms). */
export function durationBin(ms: number): string {
  return String(mapping.key(Math.max(1, ms)));
}

export interface DurationQuantiles {
  p50Seconds: number | null;
  p95Seconds: number | null;
}

/** p50 and p95 in seconds of the durations binned in `bins`; null when there are none. */
export function durationQuantiles(bins: ReadonlyMap<string, number>): DurationQuantiles {
  const sketch = new DDSketch({ relativeAccuracy: DURATION_RELATIVE_ACCURACY });
  for (const [key, count] of bins) if (count > 0) sketch.accept(mapping.value(Number(key)), count);
  if (sketch.count === 0) return { p50Seconds: null, p95Seconds: null };
  return { p50Seconds: sketch.getValueAtQuantile(0.5) / 1000, p95Seconds: sketch.getValueAtQuantile(0.95) / 1000 };
}
