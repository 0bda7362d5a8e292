import type { Readable } from 'node:stream';

export type ByteSource = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array> | Readable;

/** Any byte source (a Readable, an async generator of buffers, an array of buffers) as buffers. */
export async function* bytesOf(source: ByteSource): AsyncGenerator<Uint8Array> {
  for await (const part of source as AsyncIterable<Uint8Array | string>) {
    yield typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
  }
}

/** Buffers under this are left to the garbage collector: freeing them early gains little. */
const FREE_MIN_BYTES = 64 * 1024;

/**
 * Gives the memory of a buffer back at once instead of at V8's next full collection. V8 runs one
 * for external memory (where large buffers live) only after some 64 MiB of it piled up, so a
 * pipeline that allocates a buffer or two per chunk (decrypted, decompressed, sealed) holds that
 * much garbage at its peak. Only for a buffer its caller made (a copy, zlib's or a cipher's output)
 * that nothing else references any more: its whole ArrayBuffer goes, and every view of it becomes
 * empty. A view that does not start its ArrayBuffer, and small or pooled buffers, are left alone.
 */
export function freeBuffer(view: Uint8Array): void {
  const { buffer } = view;
  if (view.byteOffset !== 0 || !(buffer instanceof ArrayBuffer) || buffer.detached) return;
  if (buffer.byteLength < FREE_MIN_BYTES || buffer.byteLength <= Buffer.poolSize) return;
  buffer.transfer(0);
}

/**
 * A bounded set of concurrent tasks. add() waits while the window is full, so a producer cannot
 * run ahead of its consumers (memory stays at `limit` tasks). The first failure is remembered and
 * rethrown by the next add() or by drain(); settle() waits for everything still running, so no
 * task outlives the operation that started it.
 */
export class TaskWindow {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | null = null;
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = Math.max(1, limit);
  }

  async add(task: () => Promise<void>): Promise<void> {
    this.throwIfFailed();
    while (this.running.size >= this.limit) {
      await Promise.race(this.running);
      this.throwIfFailed();
    }
    const promise: Promise<void> = task().then(
      () => {
        this.running.delete(promise);
      },
      (error: unknown) => {
        this.running.delete(promise);
        this.failure ??= { error };
      },
    );
    this.running.add(promise);
  }

  async drain(): Promise<void> {
    await this.settle();
    this.throwIfFailed();
  }

  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}

/** Runs `fn` over `items` with at most `limit` at a time, results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  const window = new TaskWindow(limit);
  try {
    for (let i = 0; i < items.length; i++) {
      await window.add(async () => {
        results[i] = await fn(items[i], i);
      });
    }
    await window.drain();
  } finally {
    await window.settle();
  }
  return results;
}

/**
 * A budget of bytes in flight, shared by every write of a repository: however many items run at
 * once, the chunks they hold stay under the limit (one chunk always gets through, so a chunk
 * bigger than the whole budget cannot stall).
 */
export class ByteBudget {
  private used = 0;
  private waiters: (() => void)[] = [];
  private readonly holds = new Map<ArrayBufferLike, { count: number; ready: Promise<void> }>();
  readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Takes `bytes` if they fit now (or nothing is taken), without waiting. */
  tryAcquire(bytes: number): boolean {
    if (this.used > 0 && this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  async acquire(bytes: number): Promise<void> {
    while (this.used > 0 && this.used + bytes > this.limit) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.used += bytes;
  }

  /**
   * Holds the memory `view` keeps alive until the returned function is called: its whole
   * ArrayBuffer (a chunk cut from a 1 MiB read keeps the MiB alive), counted once however many
   * views of it are in flight.
   */
  async hold(view: Uint8Array): Promise<() => void> {
    const buffer = view.buffer;
    let entry = this.holds.get(buffer);
    if (!entry) {
      entry = { count: 0, ready: this.acquire(buffer.byteLength) };
      this.holds.set(buffer, entry);
    }
    const held = entry;
    held.count++;
    await held.ready;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--held.count > 0) return;
      this.holds.delete(buffer);
      this.release(buffer.byteLength);
    };
  }

  release(bytes: number): void {
    this.used -= bytes;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
