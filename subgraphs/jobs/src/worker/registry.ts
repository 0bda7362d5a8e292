import type { JobKind, TriggerKind } from '../entities/job.ts';
import type { JobLogLevel } from '../entities/job-log.ts';

/** What a handler knows about the job it runs. */
export interface JobInfo {
  id: string;
  accountId: string;
  sourceId: string | null;
  kind: JobKind;
  params: Record<string, unknown>;
  /** 1 on the first attempt; retries and recoveries from a lost worker add one. */
  attempt: number;
  triggeredBy: { kind: TriggerKind; id: string | null };
}

/**
 * Counters a handler reports. Absolute values (`itemsDone`) replace, deltas (`items`, `bytes`) add;
 * totals may be given when known. Cheap to call per item: the runtime throttles what it sends.
 */
export interface ProgressUpdate {
  itemsDone?: number;
  bytesDone?: number;
  items?: number;
  bytes?: number;
  itemsTotal?: number | null;
  bytesTotal?: number | null;
  /** The totals given are an estimate (for example the previous snapshot's size). */
  totalsEstimated?: boolean;
}

export interface JobContext {
  job: JobInfo;
  /** Aborted when the job is cancelled, the worker shuts down or loses its lease: stop soon, store nothing half-done. */
  signal: AbortSignal;
  progress(update: ProgressUpdate): void;
  /** Adds a line to the job's log, which the account's members read: no secrets, no stack traces. */
  log(message: string, level?: JobLogLevel): void;
  /**
   * Durably records how far the job got; a later attempt (after a crash, a retry or a redrive) gets
   * it back as `lastCheckpoint`, with the progress counters as they were at this call. Resolves
   * once stored; rejects (and aborts `signal`) when this worker no longer owns the job.
   */
  checkpoint(data: unknown): Promise<void>;
  /** The last checkpoint of an earlier attempt, or undefined on a fresh start. */
  lastCheckpoint: unknown;
}

/** What a successful handler may report. */
export interface JobOutcome {
  /** Some items were skipped (each should be named in the log). */
  partialSuccess?: boolean;
  /** Stored on the job (a snapshot id, an export key), not shown to clients as is. */
  result?: Record<string, unknown>;
}

/**
 * Runs one attempt of a job. Resolve for success; throw a JobFailure (or any error carrying a
 * `failureType`) for an expected failure; anything else counts as INTERNAL.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a handler with nothing to report simply returns
export type JobHandler = (ctx: JobContext) => Promise<JobOutcome | void>;

/**
 * Handlers by job kind. A worker takes only the kinds it has a handler for. No global instance:
 * each worker builds its own (see buildRegistry), so several can live in one process.
 */
export class JobHandlerRegistry {
  readonly #handlers = new Map<JobKind, JobHandler>();

  register(kind: JobKind, handler: JobHandler): this {
    if (this.#handlers.has(kind)) throw new Error(`A handler for ${kind} jobs is already registered`);
    this.#handlers.set(kind, handler);
    return this;
  }

  /** Puts a handler in place of the one registered for the kind, e.g. from a JOB_HANDLER_MODULES module. */
  replace(kind: JobKind, handler: JobHandler): this {
    this.#handlers.set(kind, handler);
    return this;
  }

  get(kind: JobKind): JobHandler | undefined {
    return this.#handlers.get(kind);
  }

  kinds(): JobKind[] {
    return [...this.#handlers.keys()];
  }
}
