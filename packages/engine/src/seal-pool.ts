/**
 * Worker threads that do the per-byte work of a backup: each chunk's SHA-256 and address
 * (HMAC-SHA256 of the digest), zstd and AES-GCM, so a backup uses more than one core.
 *
 * Chunks are independent: each goes to the least busy worker, and the writer may seal a chunk on
 * its own thread instead when every worker has a backlog. A worker seals every chunk whose address
 * it does not know to be stored; it learns stored addresses only from the main thread (the parent
 * snapshot's index and confirmed writes), never from its own guesses, so a failed write can never
 * make it skip a chunk. Workers hold a reference on the event loop only while they have work.
 */
import { Worker } from 'node:worker_threads';
import type { AccountKeys } from './crypto.ts';

export type WorkerRequest =
  | { type: 'key'; accountId: string; encKey: Uint8Array; idKey: Uint8Array }
  | { type: 'known'; accountId: string; addresses: string[] }
  | { type: 'forget'; accountId: string; addresses: string[] | null }
  | { type: 'chunk'; id: number; accountId: string; data: Uint8Array; level: number };

export type WorkerResponse =
  | { type: 'chunk'; id: number; address: string; digest: Uint8Array; sealed: Uint8Array | null }
  | { type: 'error'; id: number; message: string };

export interface ProcessedChunk {
  address: string;
  /** SHA-256 of the plaintext. */
  digest: Uint8Array;
  /** Compressed and sealed bytes, or null when the worker knows the chunk is stored. */
  sealed: Buffer | null;
}

interface PoolWorker {
  worker: Worker;
  /** Requests not answered yet (the answer may still wait in this thread's event queue). */
  inflight: number;
  /** Chunks sent, and chunks the worker has taken up (it counts them in shared memory as it goes). */
  sent: number;
  taken: Int32Array;
  accounts: Set<string>;
}

interface Waiter {
  resolve: (value: any) => void;
  reject: (error: Error) => void;
  worker: PoolWorker;
}

function backlog(entry: PoolWorker): number {
  return entry.sent - Atomics.load(entry.taken, 0);
}

export class SealPool {
  readonly size: number;
  private readonly workers: PoolWorker[] = [];
  private readonly waiters = new Map<number, Waiter>();
  private nextId = 1;
  private closed = false;

  constructor(size: number) {
    this.size = Math.max(1, size);
  }

  private spawn(): PoolWorker {
    const taken = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(new URL('./seal-worker.ts', import.meta.url), { workerData: { taken } });
    const entry: PoolWorker = { worker, inflight: 0, sent: 0, taken, accounts: new Set() };
    worker.unref();
    worker.on('message', (message: WorkerResponse) => {
      const waiter = this.waiters.get(message.id);
      if (!waiter) return;
      this.waiters.delete(message.id);
      this.release(entry);
      if (message.type === 'error') waiter.reject(new Error(`chunk worker: ${message.message}`));
      else {
        const sealed = message.sealed ? Buffer.from(message.sealed.buffer, message.sealed.byteOffset, message.sealed.byteLength) : null;
        waiter.resolve({ address: message.address, digest: message.digest, sealed } satisfies ProcessedChunk);
      }
    });
    const fail = (error: Error) => {
      const index = this.workers.indexOf(entry);
      if (index >= 0) this.workers.splice(index, 1);
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

  /**
   * Chunks waiting in the shortest worker queue (sent, not yet taken up). Read from shared memory,
   * not from answers received: a writer that keeps this thread busy has not seen the answers yet.
   */
  backlog(): number {
    let least = Number.POSITIVE_INFINITY;
    for (const entry of this.workers) least = Math.min(least, backlog(entry));
    return this.workers.length < this.size ? 0 : least;
  }

  /** Digests and addresses the chunk, and seals it unless its address is known stored. */
  process(keys: AccountKeys, plaintext: Uint8Array, level: number, transfer = false): Promise<ProcessedChunk> {
    this.ensureWorkers();
    let entry = this.workers[0];
    for (const candidate of this.workers) if (backlog(candidate) < backlog(entry)) entry = candidate;
    this.ensureKeys(entry, keys);
    entry.sent++;
    // `transfer`: the caller hands over the chunk's memory (it must own its whole ArrayBuffer and not
    // touch it again); otherwise a private copy is transferred.
    const data = transfer && plaintext.byteOffset === 0 && plaintext.byteLength === plaintext.buffer.byteLength ? plaintext : new Uint8Array(plaintext);
    const id = this.nextId++;
    return this.request<ProcessedChunk>(entry, { type: 'chunk', id, accountId: keys.accountId, data, level }, [data.buffer as ArrayBuffer]);
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
