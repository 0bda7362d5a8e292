/**
 * The one reader of stored chunks: restore, export and verify go through it.
 *
 * Chunks are asked for in the order a consumer needs them (item by item), but read pack by pack:
 * the requests waiting when a read can start are grouped by pack and sorted by offset, neighbours
 * become one ranged read (a positional read, an S3 Range GET), and a few such reads are in flight
 * at once, so each stretch of a pack is read once and in order. Every chunk is decoded as its read
 * arrives (authenticated, decompressed, hashed back to its address), and every
 * item still gets its chunks in order. What is read ahead is bounded in bytes, so memory stays flat
 * whatever the size of the snapshot.
 */
import { ContentHash } from './crypto.ts';
import { ChunkIntegrityError, ItemIntegrityError, ObjectNotFoundError } from './errors.ts';
import { layout } from './layout.ts';
import type { AccountRepository, ChunkLocation, ChunkRef, DecodedChunk } from './repository.ts';
import { ByteBudget, freeBuffer, TaskWindow } from './streams.ts';

export interface ReaderOptions {
  signal?: AbortSignal;
  /** Plaintext bytes read ahead of the consumer (default 4 MiB). */
  readAheadBytes?: number;
  /** Ranged reads in flight at once (default 4). */
  parallelReads?: number;
  /**
   * Free each chunk's memory as soon as its consumer asks for the next one (or stops), instead of
   * leaving it to the garbage collector: for consumers done with a chunk by then (that wrote and
   * awaited it, or hashed it), never for one that keeps chunks or passes them on to a stream.
   */
  freeConsumed?: boolean;
}

/** A ranged read covers at most this much of a pack. */
const MAX_RANGE = 2 * 1024 * 1024;
/** Items planned ahead of the consumer at most (bounds the bookkeeping of many tiny items). */
const MAX_ITEMS_AHEAD = 512;

interface Request {
  ref: ChunkRef;
  /** Order of the request: reads go out earliest first. */
  seq: number;
  location?: ChunkLocation;
  resolve: (chunk: DecodedChunk) => void;
  reject: (error: unknown) => void;
}

/** One item's chunks as the planner requests them, and the consumer's place in them. */
interface ItemReads {
  id?: string;
  contentHash?: string;
  total: number;
  requested: Promise<DecodedChunk>[];
  /** Woken when a chunk of the item is requested (or planning ends). */
  arrived: Wakeup;
  /** Its consumer stopped: request no more of it. */
  abandoned: boolean;
}

interface Planning {
  done: boolean;
  error: unknown;
  /** Items whose consumer may be waiting for a chunk. */
  live: Set<ItemReads>;
}

/** What the reader reads: an item's chunks, and its content hash when the whole item is to be checked. */
export interface ReadableItem {
  id?: string;
  chunks: readonly ChunkRef[];
  /** When given, the item's chunks must hash to it (see ContentHash); the item's iterable fails at its end otherwise. */
  contentHash?: string;
}

/** A wake-up call that one side waits for and the other gives. */
class Wakeup {
  #resolve: (() => void) | null = null;

  wait(): Promise<void> {
    return new Promise((resolve) => (this.#resolve = resolve));
  }

  wake(): void {
    const resolve = this.#resolve;
    this.#resolve = null;
    resolve?.();
  }
}

export class ChunkReader {
  private readonly account: AccountRepository;
  private readonly signal?: AbortSignal;
  private readonly freeConsumed: boolean;
  private readonly budget: ByteBudget;
  private readonly reads: TaskWindow;
  private pending: Request[] = [];
  private pumping: Promise<void> | null = null;
  private pumpScheduled = false;
  private readonly buffers: Buffer[] = [];
  private seq = 0;

  constructor(account: AccountRepository, options: ReaderOptions = {}) {
    this.account = account;
    this.signal = options.signal;
    this.freeConsumed = options.freeConsumed ?? false;
    this.budget = new ByteBudget(options.readAheadBytes ?? 4 * 1024 * 1024);
    this.reads = new TaskWindow(options.parallelReads ?? 4);
  }

  /**
   * Every item of `items` with its plaintext chunks, in order. The chunks of the items after the
   * one being consumed are read ahead (within the budget); consume the items in the order given
   * (several at once is fine). Each chunk is verified; the item's iterable fails on a bad one.
   */
  async *items<T extends ReadableItem>(items: AsyncIterable<T> | Iterable<T>): AsyncGenerator<{ item: T; chunks: AsyncIterable<Buffer> }> {
    const ahead: { item: T; reads: ItemReads }[] = [];
    const consumer = new Wakeup();
    const plannerRoom = new Wakeup();
    const planning: Planning = { done: false, error: null, live: new Set() };
    let stop = false;
    const planner = (async () => {
      try {
        for await (const item of items) {
          if (stop) return;
          while (ahead.length >= MAX_ITEMS_AHEAD && !stop) await plannerRoom.wait();
          const reads: ItemReads = { id: item.id, contentHash: item.contentHash, total: item.chunks.length, requested: [], arrived: new Wakeup(), abandoned: false };
          ahead.push({ item, reads });
          planning.live.add(reads);
          consumer.wake();
          for (const ref of item.chunks) {
            if (stop) return;
            if (reads.abandoned) break;
            this.signal?.throwIfAborted();
            if (!this.budget.tryAcquire(ref.size)) {
              this.pump(); // what is waiting goes out while this waits for room
              await this.budget.acquire(ref.size);
            }
            if (stop || reads.abandoned) {
              this.budget.release(ref.size);
              if (stop) return;
              break;
            }
            reads.requested.push(this.request(ref));
            reads.arrived.wake();
          }
        }
      } catch (error) {
        planning.error = error;
      } finally {
        planning.done = true;
        this.pump();
        consumer.wake();
        for (const reads of planning.live) reads.arrived.wake();
      }
    })();
    try {
      while (true) {
        while (ahead.length === 0 && !planning.done) await consumer.wait();
        if (ahead.length === 0) break;
        const { item, reads } = ahead.shift()!;
        plannerRoom.wake();
        yield { item, chunks: this.consume(reads, planning) };
      }
      if (planning.error) throw planning.error;
    } finally {
      stop = true;
      plannerRoom.wake();
      // Chunks planned for items nobody read give their room back, which also frees a planner waiting for room.
      while (ahead.length > 0) await this.discard(ahead.shift()!.reads, 0);
      await planner;
      while (ahead.length > 0) await this.discard(ahead.shift()!.reads, 0);
    }
  }

  /** One chunk, verified (for callers that need a single chunk). */
  read(ref: ChunkRef): Promise<DecodedChunk> {
    const chunk = this.request(ref);
    this.pump();
    return chunk;
  }

  private async *consume(reads: ItemReads, planning: Planning): AsyncGenerator<Buffer> {
    let next = 0;
    const contentHash = reads.contentHash === undefined ? null : new ContentHash();
    try {
      while (next < reads.total) {
        while (reads.requested.length <= next) {
          if (planning.error) throw planning.error;
          if (planning.done) throw new Error('the reader stopped before this item was read');
          await reads.arrived.wait();
        }
        // What the planner asked for goes out in one batch, planned by pack, once the consumer needs it.
        this.pumpSoon();
        const chunk = await reads.requested[next];
        next++;
        contentHash?.update(chunk.digest);
        const { length } = chunk.plaintext;
        try {
          yield chunk.plaintext;
        } finally {
          // Counted until the consumer is done with it (it asks for the next one, or stops).
          if (this.freeConsumed) freeBuffer(chunk.plaintext);
          this.budget.release(length);
        }
      }
      if (contentHash && contentHash.hex() !== reads.contentHash) throw new ItemIntegrityError(reads.id ?? '(stream)', `content hash differs from ${reads.contentHash}`);
    } finally {
      planning.live.delete(reads);
      reads.abandoned = true;
      await this.discard(reads, next);
    }
  }

  /** Waits for the chunks of `reads` from `from` on that were requested, releasing their room. */
  private async discard(reads: ItemReads, from: number): Promise<void> {
    reads.abandoned = true;
    this.pump();
    for (let i = from; i < reads.requested.length; i++) {
      const result = await reads.requested[i].then(
        (chunk) => {
          const { length } = chunk.plaintext;
          freeBuffer(chunk.plaintext); // decoded for nobody
          return length;
        },
        () => null,
      );
      this.budget.release(result ?? 0);
    }
    reads.requested.length = Math.min(reads.requested.length, from);
  }

  private request(ref: ChunkRef): Promise<DecodedChunk> {
    const chunk = new Promise<DecodedChunk>((resolve, reject) => {
      this.pending.push({ ref, seq: this.seq++, resolve, reject });
    });
    chunk.catch(() => {}); // observed by its consumer, or dropped with an item nobody reads
    return chunk;
  }

  /** Sends what is pending after the planner had a turn to add to it. */
  private pumpSoon(): void {
    if (this.pumpScheduled || this.pending.length === 0) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Starts sending what is pending, unless that is under way (what arrives meanwhile goes in the next round). */
  private pump(): void {
    // (The body would finish at once with nothing pending, before `pumping` is even assigned.)
    if (this.pumping || this.pending.length === 0) return;
    this.pumping = (async () => {
      try {
        while (this.pending.length > 0) {
          const batch = this.pending;
          this.pending = [];
          await this.send(batch);
        }
      } finally {
        this.pumping = null;
      }
    })();
  }

  private async send(batch: Request[]): Promise<void> {
    const byPack = new Map<string, Request[]>();
    for (const request of batch) {
      try {
        const location = await this.account.locate(request.ref.address);
        if (!location) {
          request.reject(new ChunkIntegrityError(request.ref.address, 'missing', 'not in the store'));
          continue;
        }
        request.location = location;
        const list = byPack.get(location.packId);
        if (list) list.push(request);
        else byPack.set(location.packId, [request]);
      } catch (error) {
        request.reject(error);
      }
    }
    const ranges: Request[][] = [];
    for (const requests of byPack.values()) {
      requests.sort((a, b) => a.location!.offset - b.location!.offset);
      let range: Request[] = [];
      for (const request of requests) {
        const first = range[0]?.location;
        const last = range.at(-1)?.location;
        // Chunks back to back in the pack are one read; a gap (another item's chunks) starts another.
        if (first && last && (request.location!.offset !== last.offset + last.length || request.location!.offset + request.location!.length - first.offset > MAX_RANGE)) {
          ranges.push(range);
          range = [];
        }
        range.push(request);
      }
      if (range.length) ranges.push(range);
    }
    // Earliest needed first.
    ranges.sort((a, b) => Math.min(...a.map((r) => r.seq)) - Math.min(...b.map((r) => r.seq)));
    for (const range of ranges) {
      try {
        await this.reads.add(() => this.readRange(range));
      } catch (error) {
        for (const request of range) request.reject(error);
      }
    }
  }

  private async readRange(range: Request[]): Promise<void> {
    const { packId } = range[0].location!;
    const start = range[0].location!.offset;
    const end = Math.max(...range.map((r) => r.location!.offset + r.location!.length));
    // Ranges are read into a few buffers used over and over: decoding copies what it keeps.
    const into = this.buffers.pop() ?? Buffer.allocUnsafe(Math.min(MAX_RANGE, this.budget.limit));
    try {
      let bytes: Buffer;
      try {
        this.signal?.throwIfAborted();
        bytes = await this.account.store.getRange(layout.pack(this.account.accountId, packId), start, end - start, into);
      } catch (error) {
        const failure = error instanceof ObjectNotFoundError ? null : error;
        for (const request of range) request.reject(failure ?? new ChunkIntegrityError(request.ref.address, 'missing', `its pack ${packId} is not in the store`));
        return;
      }
      this.decodeRange(range, start, bytes);
    } finally {
      this.buffers.push(into);
    }
  }

  private decodeRange(range: Request[], start: number, bytes: Buffer): void {
    const { packId } = range[0].location!;
    for (const request of range) {
      const { offset, length } = request.location!;
      const sealed = bytes.subarray(offset - start, offset - start + length);
      if (sealed.length !== length) {
        request.reject(new ChunkIntegrityError(request.ref.address, 'corrupt', `its pack ${packId} is truncated`));
        continue;
      }
      // Authenticated now (the range buffer is reused); decompressed and hashed on the thread pool.
      this.account.decode(request.ref, sealed).then(request.resolve, request.reject);
    }
  }
}
