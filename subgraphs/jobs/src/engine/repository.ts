/**
 * The content-addressed chunk repository of each account. An item's bytes are cut by the chunker;
 * each chunk is addressed by HMAC-SHA256 of its plaintext under the account's address key, and
 * stored once: a chunk that exists already costs a lookup and no bytes. New chunks are compressed
 * with zstd (kept raw when that does not shrink them), sealed with AES-256-GCM bound to the
 * account and the address, and written with putIfAbsent.
 *
 * Writing and reading stream end to end: at most `concurrency` chunks are in flight, so memory
 * stays flat whatever the item's size, and a slow store slows the reader of the item (backpressure).
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { availableParallelism } from 'node:os';
import { zstdDecompressSync } from 'node:zlib';
import { type ChunkingParams, chunkStream, DEFAULT_CHUNKING, validateChunkingParams } from './chunker.ts';
import { encodeChunk, FLAG_ZSTD } from './codec.ts';
import { AccountKeys } from './crypto.ts';
import { ChunkIntegrityError, DecryptionError, EngineConfigError, ItemIntegrityError, ObjectNotFoundError } from './errors.ts';
import type { DataKeyProvider } from './keys.ts';
import { addressOfChunkKey, assertAddress, assertId, layout } from './layout.ts';
import { SealPool } from './seal-pool.ts';
import type { ObjectInfo, ObjectStore } from './store.ts';
import { ByteBudget, type ByteSource, bytesOf, TaskWindow } from './streams.ts';

export interface ChunkRef {
  /** HMAC-SHA256 of the plaintext under the account's address key, hex. */
  address: string;
  /** Plaintext bytes. */
  size: number;
}

export interface WriteItemResult {
  chunks: ChunkRef[];
  /** Logical (plaintext) bytes of the item. */
  size: number;
  /** SHA-256 of the item's plaintext, hex: what `sha256sum` of the restored file prints. */
  contentHash: string;
  newChunks: number;
  reusedChunks: number;
  /** Plaintext bytes of the chunks this write stored for the first time. */
  newBytes: number;
  /** Plaintext bytes of the chunks that were stored already (deduplicated). */
  reusedBytes: number;
  /** Bytes this write added to the store (compressed, sealed). */
  storedBytes: number;
}

export interface WriteItemOptions {
  /** Checked between chunks; on abort the write stops after the chunks in flight are stored. */
  signal?: AbortSignal;
  /** Called as chunks are done, with the plaintext bytes each one covered. */
  onBytes?: (bytes: number) => void;
}

export interface ReadItemOptions {
  signal?: AbortSignal;
  /** SHA-256 the item must hash to; the stream fails at its end if it does not. */
  expectedContentHash?: string;
  /** Chunks fetched ahead of the reader (default 4). */
  readAhead?: number;
}

export interface RepositoryOptions {
  store: ObjectStore;
  keys: DataKeyProvider;
  /** Chunking of accounts created from now on; an existing account keeps the parameters it was created with. */
  chunking?: ChunkingParams;
  /** zstd level (default 3). */
  compressionLevel?: number;
  /** Chunks in flight per item write (default 16). */
  concurrency?: number;
  /** How many chunk addresses per account to remember as stored, saving a lookup each (default 200,000). */
  knownAddressLimit?: number;
  /** Worker threads that compress and seal (default: cores - 1, at least 1); 0 seals on the calling thread. */
  sealWorkers?: number;
  /** Plaintext bytes of chunks in flight across all writes (default 8 MiB): bounds memory whatever the concurrency. */
  maxInflightBytes?: number;
}

interface RepositoryConfig {
  version: 1;
  chunking: ChunkingParams;
  createdAt: string;
}

/** Repository over a store: opens accounts (verifying their data key) and writes and reads items. */
export class Repository {
  readonly store: ObjectStore;
  readonly keys: DataKeyProvider;
  readonly options: Required<Omit<RepositoryOptions, 'store' | 'keys'>>;
  private readonly accounts = new Map<string, Promise<AccountRepository>>();
  private pool: SealPool | null = null;
  /** Shared by every item write of this repository. */
  readonly inflight: ByteBudget;

  constructor(options: RepositoryOptions) {
    this.store = options.store;
    this.keys = options.keys;
    this.options = {
      chunking: options.chunking ?? DEFAULT_CHUNKING,
      compressionLevel: options.compressionLevel ?? 3,
      concurrency: options.concurrency ?? 16,
      knownAddressLimit: options.knownAddressLimit ?? 200_000,
      sealWorkers: options.sealWorkers ?? Math.max(1, availableParallelism() - 1),
      maxInflightBytes: options.maxInflightBytes ?? 8 * 1024 * 1024,
    };
    this.inflight = new ByteBudget(this.options.maxInflightBytes);
    validateChunkingParams(this.options.chunking);
    if (!Number.isInteger(this.options.compressionLevel) || this.options.compressionLevel < -7 || this.options.compressionLevel > 22) {
      throw new EngineConfigError('compressionLevel must be an integer from -7 to 22');
    }
  }

  /**
   * The account's repository, created on first use. Throws DecryptionError when the data key the
   * provider returns is not the one the account's repository was created with.
   */
  account(accountId: string): Promise<AccountRepository> {
    assertId('account', accountId);
    let opened = this.accounts.get(accountId);
    if (!opened) {
      opened = this.open(accountId);
      this.accounts.set(accountId, opened);
      opened.catch(() => this.accounts.delete(accountId));
    }
    return opened;
  }

  /** The worker pool that hashes and seals, or null when the repository seals on the calling thread. */
  chunkPool(): SealPool | null {
    if (this.options.sealWorkers <= 0) return null;
    this.pool ??= new SealPool(this.options.sealWorkers);
    return this.pool;
  }

  /** Stops the sealing workers (they also let the process exit when idle, so this is for tidiness). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await pool?.close();
  }

  /** Forget opened accounts (their keys and address caches), e.g. after a key change. */
  forget(accountId?: string): void {
    if (accountId === undefined) this.accounts.clear();
    else this.accounts.delete(accountId);
  }

  async writeItem(accountId: string, content: ByteSource, options?: WriteItemOptions): Promise<WriteItemResult> {
    return (await this.account(accountId)).writeItem(content, options);
  }

  /** The item's bytes; every chunk is checked against its address as it is read. */
  readItem(accountId: string, chunks: readonly ChunkRef[], options?: ReadItemOptions): Readable {
    const account = this.account(accountId);
    return Readable.from(
      (async function* () {
        yield* (await account).readChunks(chunks, options);
      })(),
      { objectMode: false, highWaterMark: 1 },
    );
  }

  private async open(accountId: string): Promise<AccountRepository> {
    const keys = new AccountKeys(accountId, await this.keys.dataKey(accountId));
    const configKey = layout.config(accountId);
    let config = await readConfig(this.store, keys, configKey);
    if (!config) {
      const fresh: RepositoryConfig = { version: 1, chunking: { ...this.options.chunking }, createdAt: new Date().toISOString() };
      const sealed = keys.sealObject('config', 'config', Buffer.from(JSON.stringify(fresh)));
      await this.store.putIfAbsent(configKey, sealed);
      config = await readConfig(this.store, keys, configKey);
      if (!config) throw new Error(`repository config of account ${accountId} could not be written`);
    }
    return new AccountRepository(this, keys, config.chunking);
  }
}

async function readConfig(store: ObjectStore, keys: AccountKeys, key: string): Promise<RepositoryConfig | null> {
  let sealed: Buffer;
  try {
    sealed = await store.getBytes(key);
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return null;
    throw error;
  }
  let opened: Buffer;
  try {
    opened = keys.openObject('config', 'config', sealed).plaintext;
  } catch (cause) {
    throw new DecryptionError(`the data key does not open the repository of account ${keys.accountId}`, { cause });
  }
  const config = JSON.parse(opened.toString('utf8')) as RepositoryConfig;
  validateChunkingParams(config.chunking);
  return config;
}

interface StoredChunk {
  address: string;
  isNew: boolean;
  storedBytes: number;
}

/** Chunks smaller than this are hashed and sealed inline: handing them to a worker costs more than it saves. */
const INLINE_LIMIT = 16 * 1024;

/** One account's chunks. Obtain it from Repository.account(). */
export class AccountRepository {
  readonly accountId: string;
  readonly keys: AccountKeys;
  readonly chunking: ChunkingParams;
  readonly store: ObjectStore;
  private readonly repository: Repository;
  private readonly known = new Set<string>();
  private readonly writing = new Map<string, Promise<StoredChunk>>();
  private confirmed: string[] = [];

  constructor(repository: Repository, keys: AccountKeys, chunking: ChunkingParams) {
    this.repository = repository;
    this.store = repository.store;
    this.accountId = keys.accountId;
    this.keys = keys;
    this.chunking = chunking;
  }

  chunkKey(address: string): string {
    return layout.chunk(this.accountId, address);
  }

  /** Remember addresses known to be stored (e.g. from the parent snapshot's index) so writes skip them. */
  rememberStored(addresses: Iterable<string>): void {
    const batch: string[] = [];
    const pool = this.repository.chunkPool();
    for (const address of addresses) {
      this.rememberLocally(address);
      batch.push(address);
      if (batch.length >= 10_000) pool?.remember(this.accountId, batch.splice(0));
    }
    pool?.remember(this.accountId, batch);
  }

  /** Forget that an address is stored (after deleting the chunk). */
  forgetStored(address: string): void {
    this.known.delete(address);
    this.repository.chunkPool()?.forget(this.accountId, [address]);
  }

  private rememberLocally(address: string): void {
    if (this.known.size >= this.repository.options.knownAddressLimit) this.known.clear();
    this.known.add(address);
  }

  /** A write confirmed the address stored: remember it here, and tell the workers in batches. */
  private confirm(address: string): void {
    this.rememberLocally(address);
    this.confirmed.push(address);
    if (this.confirmed.length >= 64) this.flushConfirmed();
  }

  private flushConfirmed(): void {
    if (this.confirmed.length === 0) return;
    this.repository.chunkPool()?.remember(this.accountId, this.confirmed);
    this.confirmed = [];
  }

  async writeItem(content: ByteSource, options: WriteItemOptions = {}): Promise<WriteItemResult> {
    const { signal, onBytes } = options;
    signal?.throwIfAborted();
    const chunks: ChunkRef[] = [];
    const result: WriteItemResult = { chunks, size: 0, contentHash: '', newChunks: 0, reusedChunks: 0, newBytes: 0, reusedBytes: 0, storedBytes: 0 };
    const window = new TaskWindow(this.repository.options.concurrency);
    const budget = this.repository.inflight;
    const pool = this.repository.chunkPool();
    // An item whose first chunk is small has only that chunk (the chunker cuts below the minimum
    // only at the end), so it stays on this thread; anything larger goes to one worker, in order.
    let stream = 0;
    let inlineHash: Hash | null = null;
    try {
      for await (const plaintext of chunkStream(bytesOf(content), this.chunking)) {
        signal?.throwIfAborted();
        if (stream === 0 && inlineHash === null) {
          if (pool && plaintext.length >= Math.min(INLINE_LIMIT, this.chunking.minSize)) stream = pool.openStream();
          else inlineHash = createHash('sha256');
        }
        inlineHash?.update(plaintext);
        const size = plaintext.length;
        const ref: ChunkRef = { address: '', size };
        chunks.push(ref);
        result.size += size;
        await budget.acquire(size);
        let started = false;
        try {
          await window.add(async () => {
            started = true;
            let stored: StoredChunk;
            try {
              stored = await (stream !== 0 ? this.storeViaWorker(pool!, stream, plaintext) : this.storeInline(plaintext));
            } finally {
              budget.release(size);
            }
            ref.address = stored.address;
            if (stored.isNew) {
              result.newChunks++;
              result.newBytes += size;
              result.storedBytes += stored.storedBytes;
            } else {
              result.reusedChunks++;
              result.reusedBytes += size;
            }
            onBytes?.(size);
          });
        } catch (error) {
          if (!started) budget.release(size);
          throw error;
        }
      }
      await window.drain();
      if (stream !== 0) {
        const open = stream;
        stream = 0;
        result.contentHash = await pool!.digest(open);
      } else {
        result.contentHash = (inlineHash ?? createHash('sha256')).digest('hex');
      }
    } finally {
      await window.settle();
      if (stream !== 0) pool!.drop(stream);
      this.flushConfirmed();
    }
    return result;
  }

  /** Hashes and seals on this thread, skipping the work for chunks already stored. */
  private storeInline(plaintext: Uint8Array): Promise<StoredChunk> {
    const address = this.keys.address(plaintext);
    return this.store1(address, async () => {
      if (await this.store.exists(this.chunkKey(address))) return null;
      return encodeChunk(this.keys.sealer, address, plaintext, this.repository.options.compressionLevel);
    });
  }

  /** Hands the chunk to its item's worker (synchronously, so chunks reach the worker in order). */
  private storeViaWorker(pool: SealPool, stream: number, plaintext: Uint8Array): Promise<StoredChunk> {
    const processed = pool.process(this.keys, stream, plaintext, this.repository.options.compressionLevel);
    return processed.then(({ address, sealed }) =>
      this.store1(address, async () => {
        if (!sealed) return null;
        if (await this.store.exists(this.chunkKey(address))) return null;
        return sealed;
      }),
    );
  }

  /**
   * Stores one chunk unless it is stored already: `seal` returns its sealed bytes, or null when it
   * found the chunk stored. Concurrent writes of one address share the work.
   */
  private store1(address: string, seal: () => Promise<Buffer | null>): Promise<StoredChunk> {
    if (this.known.has(address)) return Promise.resolve({ address, isNew: false, storedBytes: 0 });
    const inFlight = this.writing.get(address);
    if (inFlight) return inFlight.then(() => ({ address, isNew: false, storedBytes: 0 }));
    const work = (async (): Promise<StoredChunk> => {
      const sealed = await seal();
      if (!sealed) {
        this.confirm(address);
        return { address, isNew: false, storedBytes: 0 };
      }
      const created = await this.store.putIfAbsent(this.chunkKey(address), sealed);
      this.confirm(address);
      return { address, isNew: created, storedBytes: created ? sealed.length : 0 };
    })();
    this.writing.set(address, work);
    const clear = () => this.writing.delete(address);
    work.then(clear, clear);
    return work;
  }

  /**
   * One chunk's plaintext, checked: it must exist, authenticate under this account and address,
   * decompress to the recorded size and hash back to its address. Anything else is a ChunkIntegrityError.
   */
  async readChunk(ref: ChunkRef): Promise<Buffer> {
    assertAddress(ref.address);
    let sealed: Buffer;
    try {
      sealed = await this.store.getBytes(this.chunkKey(ref.address));
    } catch (error) {
      if (error instanceof ObjectNotFoundError) throw new ChunkIntegrityError(ref.address, 'missing', 'not in the store');
      throw error;
    }
    return this.openChunk(ref, sealed);
  }

  /** Decodes a sealed chunk already fetched (verify reads chunks itself). */
  openChunk(ref: ChunkRef, sealed: Buffer): Buffer {
    let opened: ReturnType<AccountKeys['openChunk']>;
    try {
      opened = this.keys.openChunk(ref.address, sealed);
    } catch (cause) {
      throw new ChunkIntegrityError(ref.address, 'corrupt', 'does not authenticate', { cause });
    }
    let plaintext: Buffer;
    if (opened.flags & FLAG_ZSTD) {
      try {
        plaintext = zstdDecompressSync(opened.plaintext, { maxOutputLength: Math.max(1, ref.size) });
      } catch (cause) {
        throw new ChunkIntegrityError(ref.address, 'corrupt', 'does not decompress to its recorded size', { cause });
      }
    } else {
      plaintext = opened.plaintext;
    }
    if (plaintext.length !== ref.size) throw new ChunkIntegrityError(ref.address, 'corrupt', `holds ${plaintext.length} bytes, expected ${ref.size}`);
    if (!this.keys.matches(ref.address, plaintext)) throw new ChunkIntegrityError(ref.address, 'corrupt', 'does not hash to its address');
    return plaintext;
  }

  /** The plaintext of `chunks` in order, fetching a few ahead; optionally checks the whole item's SHA-256. */
  async *readChunks(chunks: readonly ChunkRef[], options: ReadItemOptions = {}): AsyncGenerator<Buffer> {
    const { signal, expectedContentHash } = options;
    const ahead = Math.max(1, options.readAhead ?? 4);
    const hash = expectedContentHash ? createHash('sha256') : null;
    const pending: Promise<Buffer>[] = [];
    let next = 0;
    const fill = () => {
      while (pending.length < ahead && next < chunks.length) {
        const promise = this.readChunk(chunks[next++]);
        promise.catch(() => {}); // observed when its turn comes
        pending.push(promise);
      }
    };
    try {
      fill();
      while (pending.length > 0) {
        signal?.throwIfAborted();
        const plaintext = await pending.shift()!;
        fill();
        hash?.update(plaintext);
        yield plaintext;
      }
    } finally {
      await Promise.allSettled(pending);
    }
    if (hash && expectedContentHash && hash.digest('hex') !== expectedContentHash) {
      throw new ItemIntegrityError('(stream)', `content hash differs from ${expectedContentHash}`);
    }
  }

  readItem(chunks: readonly ChunkRef[], options?: ReadItemOptions): Readable {
    return Readable.from(this.readChunks(chunks, options), { objectMode: false, highWaterMark: 1 });
  }

  async hasChunk(address: string): Promise<boolean> {
    assertAddress(address);
    return this.store.exists(this.chunkKey(address));
  }

  async *listChunks(): AsyncIterable<ObjectInfo & { address: string }> {
    for await (const info of this.store.list(layout.chunks(this.accountId))) {
      const address = addressOfChunkKey(info.key);
      if (address) yield { ...info, address };
    }
  }

  async deleteChunk(address: string): Promise<void> {
    assertAddress(address);
    this.forgetStored(address);
    await this.store.delete(this.chunkKey(address));
  }
}
