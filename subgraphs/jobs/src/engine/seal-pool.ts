/**
 * Worker threads that do the per-byte work of a backup: the item's SHA-256, each chunk's address
 * (HMAC-SHA256), zstd and AES-GCM. The main thread only chunks, dispatches and writes, so a
 * backup uses two cores instead of one.
 *
 * All chunks of one item go to the same worker, in order, under one stream id, so the worker can
 * hash the item as a whole. A worker seals every chunk whose address it does not know to be
 * stored; it learns stored addresses only from the main thread (the parent snapshot's index and
 * confirmed writes), never from its own guesses, so a failed write can never make it skip a chunk.
 * Workers hold a reference on the event loop only while they have work.
 */
import { Worker } from 'node:worker_threads';
import type { AccountKeys } from './crypto.ts';

export type WorkerRequest =
  | { type: 'key'; accountId: string; encKey: Uint8Array; idKey: Uint8Array }
  | { type: 'known'; accountId: string; addresses: string[] }
  | { type: 'forget'; accountId: string; addresses: string[] | null }
  | { type: 'chunk'; id: number; stream: number; accountId: string; data: Uint8Array; level: number; hashItem: boolean }
  | { type: 'digest'; id: number; stream: number }
  | { type: 'drop'; stream: number };

export type WorkerResponse =
  | { type: 'chunk'; id: number; address: string; sealed: Uint8Array | null }
  | { type: 'digest'; id: number; hash: string }
  | { type: 'error'; id: number; message: string };

export interface ProcessedChunk {
  address: string;
  /** Compressed and sealed bytes, or null when the worker knows the chunk is stored. */
  sealed: Buffer | null;
}

interface PoolWorker {
  worker: Worker;
  inflight: number;
  accounts: Set<string>;
}

interface Waiter {
  resolve: (value: any) => void;
  reject: (error: Error) => void;
  worker: PoolWorker;
}

export class SealPool {
  readonly size: number;
  private readonly workers: PoolWorker[] = [];
  private readonly waiters = new Map<number, Waiter>();
  private readonly streams = new Map<number, PoolWorker>();
  private nextId = 1;
  private nextStream = 1;
  private nextWorker = 0;
  private closed = false;

  constructor(size: number) {
    this.size = Math.max(1, size);
  }

  private spawn(): PoolWorker {
    const worker = new Worker(new URL('./seal-worker.ts', import.meta.url));
    const entry: PoolWorker = { worker, inflight: 0, accounts: new Set() };
    worker.unref();
    worker.on('message', (message: WorkerResponse) => {
      const waiter = this.waiters.get(message.id);
      if (!waiter) return;
      this.waiters.delete(message.id);
      this.release(entry);
      if (message.type === 'error') waiter.reject(new Error(`chunk worker: ${message.message}`));
      else if (message.type === 'digest') waiter.resolve(message.hash);
      else {
        const sealed = message.sealed ? Buffer.from(message.sealed.buffer, message.sealed.byteOffset, message.sealed.byteLength) : null;
        waiter.resolve({ address: message.address, sealed } satisfies ProcessedChunk);
      }
    });
    const fail = (error: Error) => {
      const index = this.workers.indexOf(entry);
      if (index >= 0) this.workers.splice(index, 1);
      for (const [stream, owner] of this.streams) if (owner === entry) this.streams.delete(stream);
      for (const [id, waiter] of this.waiters) {
        if (waiter.worker !== entry) continue;
        this.waiters.delete(id);
        waiter.reject(error);
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`chunk worker exited with code ${code}`)));
    this.workers.push(entry);
    return entry;
  }

  private release(entry: PoolWorker): void {
    entry.inflight--;
    if (entry.inflight === 0) entry.worker.unref();
  }

  private ensureKeys(entry: PoolWorker, keys: AccountKeys): void {
    if (entry.accounts.has(keys.accountId)) return;
    entry.worker.postMessage({
      type: 'key',
      accountId: keys.accountId,
      encKey: new Uint8Array(keys.encryptionKey),
      idKey: new Uint8Array(keys.addressKey),
    } satisfies WorkerRequest);
    entry.accounts.add(keys.accountId);
  }

  private request<T>(entry: PoolWorker, message: WorkerRequest & { id: number }, transfer: ArrayBuffer[] = []): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiters.set(message.id, { resolve, reject, worker: entry });
      if (entry.inflight++ === 0) entry.worker.ref();
      entry.worker.postMessage(message, transfer);
    });
  }

  private ensureWorkers(): void {
    if (this.closed) throw new Error('the chunk worker pool is closed');
    while (this.workers.length < this.size) this.spawn();
  }

  /** A stream id for one item: its chunks go to one worker, which hashes them in order. */
  openStream(): number {
    this.ensureWorkers();
    const stream = this.nextStream++;
    this.streams.set(stream, this.workers[this.nextWorker++ % this.workers.length]);
    return stream;
  }

  private owner(stream: number): PoolWorker {
    const entry = this.streams.get(stream);
    if (!entry) throw new Error(`chunk stream ${stream} is not open (its worker failed?)`);
    return entry;
  }

  /** Hashes the chunk into its stream, addresses it, and seals it unless its address is known stored. */
  process(keys: AccountKeys, stream: number, plaintext: Uint8Array, level: number, hashItem = true, transfer = false): Promise<ProcessedChunk> {
    const entry = this.owner(stream);
    this.ensureKeys(entry, keys);
    // `transfer`: the caller hands over the chunk's memory (it must own its whole ArrayBuffer and not
    // touch it again); otherwise a private copy is transferred.
    const data = transfer && plaintext.byteOffset === 0 && plaintext.byteLength === plaintext.buffer.byteLength ? plaintext : new Uint8Array(plaintext);
    const id = this.nextId++;
    return this.request<ProcessedChunk>(entry, { type: 'chunk', id, stream, accountId: keys.accountId, data, level, hashItem }, [data.buffer as ArrayBuffer]);
  }

  /** SHA-256 of everything processed on the stream, hex; closes the stream. */
  async digest(stream: number): Promise<string> {
    const entry = this.owner(stream);
    const id = this.nextId++;
    try {
      return await this.request<string>(entry, { type: 'digest', id, stream });
    } finally {
      this.streams.delete(stream);
    }
  }

  /** Abandons a stream (after a failed or cancelled write). */
  drop(stream: number): void {
    const entry = this.streams.get(stream);
    if (!entry) return;
    this.streams.delete(stream);
    entry.worker.postMessage({ type: 'drop', stream } satisfies WorkerRequest);
  }

  /** Tells every worker these addresses are stored, so they stop sealing them. */
  remember(accountId: string, addresses: string[]): void {
    if (addresses.length === 0) return;
    this.ensureWorkers();
    for (const entry of this.workers) entry.worker.postMessage({ type: 'known', accountId, addresses } satisfies WorkerRequest);
  }

  /** Tells every worker these addresses (or all, for null) may no longer be stored. */
  forget(accountId: string, addresses: string[] | null): void {
    for (const entry of this.workers) entry.worker.postMessage({ type: 'forget', accountId, addresses } satisfies WorkerRequest);
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((entry) => entry.worker.terminate()));
  }
}
