import type { StoredProgress } from '../entities/job.ts';
import type { ProgressUpdate } from './registry.ts';

/** Rates are averaged over this window, so one slow item does not swing the ETA. */
const RATE_WINDOW_MS = 10_000;

/**
 * A job's counters, with items/s and bytes/s over the last seconds. A retry counts again from its
 * checkpoint (`initial`), but what it shows never falls below what the job showed before
 * (`shown`): redoing the items after the checkpoint does not move the progress backwards.
 */
export class ProgressTracker {
  #state: StoredProgress;
  readonly #shown: { itemsDone: number; bytesDone: number };
  readonly #samples: { at: number; items: number; bytes: number }[] = [];
  readonly #now: () => number;

  constructor(initial: StoredProgress | null | undefined, shown?: StoredProgress | null, now: () => number = Date.now) {
    this.#now = now;
    const totals = initial ?? shown;
    this.#state = {
      itemsDone: initial?.itemsDone ?? 0,
      bytesDone: initial?.bytesDone ?? 0,
      itemsTotal: totals?.itemsTotal ?? null,
      bytesTotal: totals?.bytesTotal ?? null,
      totalsEstimated: totals?.totalsEstimated ?? false,
    };
    this.#shown = { itemsDone: shown?.itemsDone ?? 0, bytesDone: shown?.bytesDone ?? 0 };
    this.#samples.push({ at: now(), items: this.#state.itemsDone, bytes: this.#state.bytesDone });
  }

  update(update: ProgressUpdate): void {
    const s = this.#state;
    if (update.itemsDone !== undefined) s.itemsDone = update.itemsDone;
    if (update.bytesDone !== undefined) s.bytesDone = update.bytesDone;
    if (update.items) s.itemsDone += update.items;
    if (update.bytes) s.bytesDone += update.bytes;
    if (update.itemsTotal !== undefined) s.itemsTotal = update.itemsTotal;
    if (update.bytesTotal !== undefined) s.bytesTotal = update.bytesTotal;
    if (update.itemsTotal !== undefined || update.bytesTotal !== undefined) s.totalsEstimated = update.totalsEstimated ?? false;
    const at = this.#now();
    this.#samples.push({ at, items: s.itemsDone, bytes: s.bytesDone });
    while (this.#samples.length > 2 && at - this.#samples[1].at >= RATE_WINDOW_MS) this.#samples.shift();
  }

  /** Items and bytes done so far. */
  counters(): { items: number; bytes: number } {
    return { items: this.#state.itemsDone, bytes: this.#state.bytesDone };
  }

  snapshot(): StoredProgress {
    const first = this.#samples[0];
    const last = this.#samples[this.#samples.length - 1];
    const seconds = (last.at - first.at) / 1000;
    const rate = (delta: number) => (seconds >= 0.2 ? Math.max(0, Math.round((delta / seconds) * 100) / 100) : null);
    return {
      ...this.#state,
      itemsDone: Math.max(this.#state.itemsDone, this.#shown.itemsDone),
      bytesDone: Math.max(this.#state.bytesDone, this.#shown.bytesDone),
      itemsPerSecond: rate(last.items - first.items),
      bytesPerSecond: rate(last.bytes - first.bytes),
    };
  }
}

/**
 * Runs `fn` at most once per `intervalMs`, always with the latest state: a call inside the
 * interval schedules one trailing run; calls meanwhile just mark it due.
 */
export class Throttle {
  readonly #intervalMs: number;
  readonly #fn: () => void;
  #lastRun = 0;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(intervalMs: number, fn: () => void) {
    this.#intervalMs = intervalMs;
    this.#fn = fn;
  }

  schedule(): void {
    if (this.#stopped || this.#timer) return;
    const wait = this.#lastRun + this.#intervalMs - Date.now();
    if (wait <= 0) this.#run();
    else this.#timer = setTimeout(() => this.#run(), wait);
  }

  /** Nothing runs after this. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #run(): void {
    this.#timer = null;
    if (this.#stopped) return;
    this.#lastRun = Date.now();
    this.#fn();
  }
}
