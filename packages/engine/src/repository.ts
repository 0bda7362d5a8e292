/**
 * The content-addressed chunk repository of each account. An item's bytes are cut by the chunker
 * and each chunk is hashed once (SHA-256) on the calling thread; its address is the HMAC of that
 * digest under the account's address key, and it is stored once: a chunk that exists already
 * costs a lookup and no bytes. A new chunk is compressed with zstd on libuv's thread pool (kept raw
 * when that does not shrink it), sealed with AES-256-GCM bound to the account and the address, and
 * appended to the open pack (its pieces written as they are, several chunks per write).
 *
 * Writing and reading stream end to end: the chunks in flight, counted by the memory they keep
 * alive, stay under one byte budget per repository, so memory stays flat whatever the items'
 * sizes, and a slow store slows the reader of the item (backpressure). Reads go through ChunkReader.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { zstdDecompress, zstdDecompressSync } from 'node:zlib';
import { type ChunkingParams, chunkStream, DEFAULT_CHUNKING, isChunkCopy, validateChunkingParams } from './chunker.ts';
import { encodeChunk, FLAG_ZSTD, poolSlots, type SealedParts, sealedLength } from './codec.ts';
import { AccountKeys, chunkDigest, ContentHash } from './crypto.ts';
import { ChunkIntegrityError, DecryptionError, EngineConfigError, ObjectNotFoundError } from './errors.ts';
import type { DataKeyProvider } from './keys.ts';

import { assertAddress, assertId, layout, packIdOfKey } from './layout.ts';
import { ChunkIndex, type ChunkLocation, type PackEntry } from './chunk-index.ts';
import { ChunkReader } from './reader.ts';
import { createObjectWriter, type ObjectInfo, type ObjectStore, type ObjectWriter } from './store.ts';
import { ByteBudget, type ByteSource, bytesOf, freeBuffer, TaskWindow } from './streams.ts';

export interface ChunkRef {
  /** HMAC-SHA256 of the plaintext's SHA-256 under the account's address key, hex. */
  address: string;
  /** Plaintext bytes. */
  size: number;
}

export interface WriteItemResult {
  chunks: ChunkRef[];
  /** Logical (plaintext) bytes of the item. */
  size: number;
  /** The item's ContentHash: SHA-256 over its chunks' SHA-256s, hex. */
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
  /** Content hash (see ContentHash) the item must have; the stream fails at its end if it does not. */
  expectedContentHash?: string;
  /** Plaintext bytes read ahead of the consumer (default 4 MiB). */
  readAheadBytes?: number;
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
  /** Bytes of chunks in flight across all writes (default 8 MiB), counting the buffers they are cut from: bounds memory whatever the concurrency. */
  maxInflightBytes?: number;
  /** New chunks are appended to a pack of about this many bytes, stored as one object (default 16 MiB). */
  packSize?: number;
}

export type { ChunkLocation, PackEntry } from './chunk-index.ts';

/** One stored pack (its chunks: AccountRepository.packEntries). */
export interface PackInfo {
  id: string;
  key: string;
  createdAt: Date;
  bytes: number;
}

interface PackIndexBody {
  version: 1;
  pack: string;
  createdAt: string;
  bytes: number;
  entries: PackEntry[];
}

interface OpenPack {
  id: string;
  writer: ObjectWriter;
  entries: PackEntry[];
}

/** Packs being committed (flushed, linked, indexed) at once per account: beyond this, appending waits. Writers hold no pack in memory, so this bounds open files and unflushed data, not memory. */
const MAX_PACK_WRITES = 4;

/**
 * Format 2 addresses a chunk by the HMAC of its SHA-256 and hashes an item as the list of its
 * chunks' digests (format 1 hashed every byte twice: once for the address, once for the item).
 */
const FORMAT = 2;

interface RepositoryConfig {
  version: typeof FORMAT;
  chunking: ChunkingParams;
  createdAt: string;
}

/** Repository over a store: opens accounts (verifying their data key) and writes and reads items. */
export class Repository {
  readonly store: ObjectStore;
  readonly keys: DataKeyProvider;
  readonly options: Required<Omit<RepositoryOptions, 'store' | 'keys'>>;
  private readonly accounts = new Map<string, Promise<AccountRepository>>();
  /** Shared by every item write of this repository. */
  readonly inflight: ByteBudget;

  constructor(options: RepositoryOptions) {
    this.store = options.store;
    this.keys = options.keys;
    this.options = {
      chunking: options.chunking ?? DEFAULT_CHUNKING,
      compressionLevel: options.compressionLevel ?? 3,
      concurrency: options.concurrency ?? 16,
      maxInflightBytes: options.maxInflightBytes ?? 8 * 1024 * 1024,
      packSize: options.packSize ?? 16 * 1024 * 1024,
    };
    if (!Number.isSafeInteger(this.options.packSize) || this.options.packSize < 1) throw new EngineConfigError('packSize must be a positive integer');
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

  /** Stores the open packs of every opened account (see AccountRepository.flush). */
  async flush(): Promise<void> {
    const opened = await Promise.allSettled([...this.accounts.values()]);
    await Promise.all(opened.map((result) => (result.status === 'fulfilled' ? result.value.flush() : undefined)));
  }

  /** Stores the open packs (call it on shutdown). */
  async close(): Promise<void> {
    await this.flush();
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
      const fresh: RepositoryConfig = { version: FORMAT, chunking: { ...this.options.chunking }, createdAt: new Date().toISOString() };
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
  if (config.version !== FORMAT) {
    throw new EngineConfigError(`the repository of account ${keys.accountId} is in format ${config.version}; this version reads format ${FORMAT} only (format 1 was a pre-release: back up again into an empty store)`);
  }
  validateChunkingParams(config.chunking);
  return config;
}

interface StoredChunk {
  isNew: boolean;
  storedBytes: number;
}

const REUSED: StoredChunk = Object.freeze({ isNew: false, storedBytes: 0 });

export interface DecodedChunk {
  plaintext: Buffer;
  /** SHA-256 of the plaintext. */
  digest: Uint8Array;
}


/**
 * zstd decompression into one buffer (no second copy). One byte more than expected: zlib allocates
 * a spare output buffer whenever the last one came back full.
 */
function decompressOptions(size: number): Parameters<typeof zstdDecompressSync>[1] {
  const expected = Math.max(1, size);
  return { maxOutputLength: expected, chunkSize: Math.max(64, expected + 1) } as Parameters<typeof zstdDecompressSync>[1];
}

function decompress(compressed: Buffer, size: number): Buffer {
  return zstdDecompressSync(compressed, decompressOptions(size));
}

const zstdDecompressAsync = promisify(zstdDecompress);

async function decompressOnPool(compressed: Buffer, size: number): Promise<Buffer> {
  await poolSlots.acquire(1);
  try {
    return await zstdDecompressAsync(compressed, decompressOptions(size));
  } finally {
    poolSlots.release(1);
  }
}

/** Chunks from this size on are decompressed on libuv's thread pool; a smaller one costs less than the trip. */
const OFF_THREAD_BYTES = 16 * 1024;

/** One account's chunks. Obtain it from Repository.account(). */
export class AccountRepository {
  readonly accountId: string;
  readonly keys: AccountKeys;
  readonly chunking: ChunkingParams;
  readonly store: ObjectStore;
  private readonly repository: Repository;
  private readonly writing = new Map<string, Promise<StoredChunk>>();
  /** Where the stored chunks are, from the pack indexes read so far. */
  private readonly index = new ChunkIndex((packId) => this.readPackIndex(packId));
  private indexLoaded = false;
  private indexRefresh: Promise<void> | null = null;
  /** Sealed chunks appended to a pack that is not durable yet: not stored until flush() returns. */
  private readonly unflushed = new Set<string>();
  private openPack: OpenPack | null = null;
  private readonly packWrites = new Set<Promise<void>>();
  private packError: unknown = null;

  constructor(repository: Repository, keys: AccountKeys, chunking: ChunkingParams) {
    this.repository = repository;
    this.store = repository.store;
    this.accountId = keys.accountId;
    this.keys = keys;
    this.chunking = chunking;
  }

  async writeItem(content: ByteSource, options: WriteItemOptions = {}): Promise<WriteItemResult> {
    const { signal, onBytes } = options;
    signal?.throwIfAborted();
    const chunks: ChunkRef[] = [];
    const result: WriteItemResult = { chunks, size: 0, contentHash: '', newChunks: 0, reusedChunks: 0, newBytes: 0, reusedBytes: 0, storedBytes: 0 };
    const window = new TaskWindow(this.repository.options.concurrency);
    const budget = this.repository.inflight;
    const contentHash = new ContentHash();
    try {
      for await (const plaintext of chunkStream(bytesOf(content), this.chunking)) {
        signal?.throwIfAborted();
        const size = plaintext.length;
        result.size += size;
        // One SHA-256 pass: the address is keyed on the digest, the item's hash lists the digests.
        const digest = chunkDigest(plaintext);
        const address = this.keys.addressOf(digest);
        chunks.push({ address, size });
        contentHash.update(digest);
        const release = await budget.hold(plaintext);
        try {
          await window.add(async () => {
            let stored: StoredChunk;
            try {
              stored = await this.store1(address, plaintext);
            } finally {
              release();
            }
            // Hashed, compressed and sealed: a copy of the chunker's is needed no more.
            if (isChunkCopy(plaintext)) freeBuffer(plaintext);
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
          release();
          throw error;
        }
      }
      await window.drain();
      result.contentHash = contentHash.hex();
    } finally {
      await window.settle();
    }
    return result;
  }

  /**
   * Stores one chunk unless it is stored already (known, or in a pack index); concurrent writes of
   * one address share the work. A new chunk is compressed (on libuv's threads), sealed and appended
   * to the open pack.
   */
  private store1(address: string, plaintext: Uint8Array): Promise<StoredChunk> {
    const inFlight = this.writing.get(address);
    if (inFlight) return inFlight.then(() => REUSED);
    const work = (async (): Promise<StoredChunk> => {
      if (await this.isStored(address)) return REUSED;
      const sealed = await encodeChunk(this.keys.sealer, address, plaintext, this.repository.options.compressionLevel);
      const storedBytes = sealedLength(sealed);
      await this.append(address, sealed);
      return { isNew: true, storedBytes };
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
    if (this.unflushed.has(ref.address)) await this.flush(); // in the open pack: store it, then read it back
    return (await new ChunkReader(this).read(ref)).plaintext;
  }

  /** The sealed bytes of a chunk: from the open pack or a stored pack (ranged read). */
  private async readSealed(address: string): Promise<Buffer> {
    if (this.unflushed.has(address)) await this.flush(); // in the open pack: store it, then read it back
    const location = await this.locate(address);
    if (!location) throw new ChunkIntegrityError(address, 'missing', 'not in the store');
    let sealed: Buffer;
    try {
      sealed = await this.store.getRange(layout.pack(this.accountId, location.packId), location.offset, location.length);
    } catch (error) {
      if (error instanceof ObjectNotFoundError) throw new ChunkIntegrityError(address, 'missing', `its pack ${location.packId} is not in the store`);
      throw error;
    }
    if (sealed.length !== location.length) throw new ChunkIntegrityError(address, 'corrupt', `its pack ${location.packId} is truncated`);
    return sealed;
  }

  /** Where a stored (durable) chunk is packed, re-reading the pack indexes once when it is not known yet. */
  async locate(address: string): Promise<ChunkLocation | null> {
    await this.ensureIndex();
    let location = await this.index.locate(address);
    if (!location) {
      await this.refreshIndex();
      location = await this.index.locate(address);
    }
    return location;
  }

  /** Whether a write may skip the chunk: durable, or in a pack that the next flush() stores. */
  private async isStored(address: string): Promise<boolean> {
    if (this.unflushed.has(address)) return true;
    await this.ensureIndex();
    return (await this.index.locate(address)) !== null;
  }

  private async ensureIndex(): Promise<void> {
    if (this.indexLoaded) return;
    await this.refreshIndex();
    this.indexLoaded = true;
  }

  /**
   * Reads the pack indexes not read yet (other processes may have written packs since) and forgets
   * the packs whose index is gone (garbage collection in another process deleted them), so no
   * write deduplicates against a chunk that is no longer stored.
   */
  refreshIndex(): Promise<void> {
    this.indexRefresh ??= (async () => {
      try {
        const known = this.index.packs().map((pack) => pack.id);
        const listed = new Set<string>();
        const fresh: string[] = [];
        for await (const info of this.store.list(layout.packIndexes(this.accountId))) {
          const id = packIdOfKey(info.key);
          if (!id) continue;
          listed.add(id);
          if (!this.index.hasPack(id)) fresh.push(id);
        }
        // Only packs known before the listing: one this process committed meanwhile may be missing from it.
        for (const id of known) if (!listed.has(id)) this.index.removePack(id);
        const window = new TaskWindow(16);
        try {
          for (const id of fresh) {
            await window.add(async () => {
              const body = await this.readPackIndexBody(id);
              if (body) this.index.addPack({ id, createdAt: new Date(body.createdAt), bytes: body.bytes }, body.entries);
            });
          }
          await window.drain();
        } finally {
          await window.settle();
        }
      } finally {
        this.indexRefresh = null;
      }
    })();
    return this.indexRefresh;
  }

  private async readPackIndexBody(packId: string): Promise<PackIndexBody | null> {
    const key = layout.packIndex(this.accountId, packId);
    let sealed: Buffer;
    try {
      sealed = await this.store.getBytes(key);
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return null; // deleted meanwhile
      throw error;
    }
    return JSON.parse(this.keys.openObject('pack-index', key, sealed).plaintext.toString('utf8')) as PackIndexBody;
  }

  private async readPackIndex(packId: string): Promise<readonly PackEntry[] | null> {
    return (await this.readPackIndexBody(packId))?.entries ?? null;
  }

  /** Appends a sealed chunk to the open pack (written through to a temporary object); a full pack is committed in the background. */
  private async append(address: string, sealed: SealedParts): Promise<void> {
    while (!this.openPack && this.packWrites.size >= MAX_PACK_WRITES) await Promise.race(this.packWrites);
    if (this.packError) throw this.packError;
    const pack = (this.openPack ??= this.newPack());
    pack.entries.push([address, pack.writer.size, sealedLength(sealed)]);
    this.unflushed.add(address);
    const written = pack.writer.write(sealed);
    if (pack.writer.size >= this.repository.options.packSize) this.rotate();
    await written;
    // Written: the writer keeps no reference, and the sealed pieces are this repository's own.
    for (const part of sealed) freeBuffer(part);
  }

  private newPack(): OpenPack {
    const id = randomBytes(16).toString('hex');
    return { id, writer: createObjectWriter(this.store, layout.pack(this.accountId, id)), entries: [] };
  }

  /** Starts committing the open pack. */
  private rotate(): void {
    const pack = this.openPack;
    this.openPack = null;
    if (!pack) return;
    if (pack.entries.length === 0) {
      void pack.writer.abort().catch(() => {});
      return;
    }
    const write: Promise<void> = this.commitPack(pack)
      .then(
        () => {},
        async (error: unknown) => {
          this.packError ??= error;
          for (const [address] of pack.entries) this.unflushed.delete(address);
          await pack.writer.abort().catch(() => {});
        },
      )
      .finally(() => this.packWrites.delete(write));
    this.packWrites.add(write);
  }

  /** Commits a pack (one object), makes it durable, then writes its sealed index; from then on its chunks are stored. */
  private async commitPack(pack: OpenPack): Promise<PackInfo> {
    const key = layout.pack(this.accountId, pack.id);
    const bytes = pack.writer.size;
    if (!(await pack.writer.commit())) throw new Error(`pack ${key} exists already`);
    await this.store.flush?.();
    const createdAt = new Date();
    const indexKey = layout.packIndex(this.accountId, pack.id);
    const body: PackIndexBody = { version: 1, pack: pack.id, createdAt: createdAt.toISOString(), bytes, entries: pack.entries };
    await this.store.putIfAbsent(indexKey, this.keys.sealObject('pack-index', indexKey, Buffer.from(JSON.stringify(body))));
    this.index.addPack({ id: pack.id, createdAt, bytes }, pack.entries);
    for (const [address] of pack.entries) this.unflushed.delete(address);
    return { id: pack.id, key, createdAt, bytes };
  }

  /**
   * Durability barrier for chunks: writes the open pack, waits for every pack being written, then
   * flushes the store. Chunks appended before the call are stored once it returns; call it before
   * writing anything that names them (SnapshotWriter does, at each checkpoint).
   */
  async flush(): Promise<void> {
    this.rotate();
    while (this.packWrites.size > 0) await Promise.all([...this.packWrites]);
    if (this.packError) {
      const error = this.packError;
      this.packError = null;
      throw error;
    }
    await this.store.flush?.();
  }

  /** Every stored pack (re-reads indexes written since). */
  async listPacks(): Promise<PackInfo[]> {
    await this.refreshIndex();
    this.indexLoaded = true;
    return this.index.packs().map(({ id, createdAt, bytes }) => ({ id, key: layout.pack(this.accountId, id), createdAt, bytes }));
  }

  /** The chunks of a stored pack, as its index lists them (read again when not among the recently used). */
  async packEntries(packId: string): Promise<readonly PackEntry[]> {
    await this.ensureIndex();
    return (await this.index.packEntries(packId)) ?? [];
  }

  /** Deletes a pack: its index first (so no reader is sent to it), then the pack. */
  async deletePack(packId: string): Promise<void> {
    await this.store.delete(layout.packIndex(this.accountId, packId));
    await this.store.delete(layout.pack(this.accountId, packId));
    this.index.removePack(packId);
  }

  /**
   * Rewrites the chunks `keep` names (address → its current location) into new packs, makes them
   * durable with their indexes, then deletes the old packs `replace`. The sealed bytes are copied
   * as they are: a chunk stays bound to its account and address.
   */
  async repack(replace: readonly string[], keep: readonly string[]): Promise<{ packs: number; bytes: number }> {
    let pack = this.newPack();
    const written = { packs: 0, bytes: 0 };
    // Each new pack holds a temporary object open: one is started only when chunks are left for it.
    const write = async (more: boolean) => {
      if (pack.entries.length === 0) await pack.writer.abort();
      else {
        const info = await this.commitPack(pack);
        written.packs++;
        written.bytes += info.bytes;
      }
      if (more) pack = this.newPack();
    };
    try {
      for (const [i, address] of keep.entries()) {
        const sealed = await this.readSealed(address);
        pack.entries.push([address, pack.writer.size, sealed.length]);
        await pack.writer.write(sealed);
        if (pack.writer.size >= this.repository.options.packSize && i < keep.length - 1) await write(true);
      }
    } catch (error) {
      await pack.writer.abort().catch(() => {});
      throw error;
    }
    await write(false);
    await this.store.flush?.();
    // The new packs hold the kept chunks: the old ones can go.
    for (const id of replace) await this.deletePack(id);
    return written;
  }

  /**
   * Opens a sealed chunk and checks it (see readChunk). Authentication runs here, so `sealed` may
   * be reused once this returns; decompressing a chunk of some size runs on libuv's thread pool,
   * so a restore decodes on every core while this thread reads, hashes and writes.
   */
  decode(ref: ChunkRef, sealed: Buffer): Promise<DecodedChunk> {
    let opened: ReturnType<AccountKeys['openChunk']>;
    try {
      opened = this.keys.openChunk(ref.address, sealed);
    } catch (cause) {
      return Promise.reject(new ChunkIntegrityError(ref.address, 'corrupt', 'does not authenticate', { cause }));
    }
    return this.check(ref, opened);
  }

  private async check(ref: ChunkRef, opened: ReturnType<AccountKeys['openChunk']>): Promise<DecodedChunk> {
    let plaintext = opened.plaintext;
    if (opened.flags & FLAG_ZSTD) {
      try {
        plaintext = ref.size < OFF_THREAD_BYTES ? decompress(opened.plaintext, ref.size) : await decompressOnPool(opened.plaintext, ref.size);
      } catch (cause) {
        throw new ChunkIntegrityError(ref.address, 'corrupt', 'does not decompress to its recorded size', { cause });
      }
      freeBuffer(opened.plaintext); // decrypted here, decompressed now
    }
    if (plaintext.length !== ref.size) throw new ChunkIntegrityError(ref.address, 'corrupt', `holds ${plaintext.length} bytes, expected ${ref.size}`);
    // Hashed here: WebCrypto's digest on the thread pool copies the chunk first, which costs more.
    const digest = chunkDigest(plaintext);
    if (!this.keys.matches(ref.address, digest)) throw new ChunkIntegrityError(ref.address, 'corrupt', 'does not hash to its address');
    return { plaintext, digest };
  }

  /** The plaintext of `chunks` in order, read ahead by pack (see ChunkReader); optionally checks the whole item's content hash. */
  async *readChunks(chunks: readonly ChunkRef[], options: ReadItemOptions = {}): AsyncGenerator<Buffer> {
    const { signal, expectedContentHash } = options;
    if (chunks.some((ref) => this.unflushed.has(ref.address))) await this.flush();
    const reader = new ChunkReader(this, { signal, readAheadBytes: options.readAheadBytes });
    for await (const { chunks: content } of reader.items([{ chunks, contentHash: expectedContentHash }])) yield* content;
  }

  readItem(chunks: readonly ChunkRef[], options?: ReadItemOptions): Readable {
    return Readable.from(this.readChunks(chunks, options), { objectMode: false, highWaterMark: 1 });
  }

  /** Whether the chunk is durably stored (an appended chunk is not, until flush()). */
  async hasChunk(address: string): Promise<boolean> {
    assertAddress(address);
    return (await this.locate(address)) !== null;
  }

  /** Every durably stored chunk (key = its pack, size = its sealed length). */
  async *listChunks(): AsyncIterable<ObjectInfo & { address: string }> {
    for (const pack of await this.listPacks()) {
      for (const [address, , length] of await this.packEntries(pack.id)) {
        if ((await this.index.locate(address))?.packId !== pack.id) continue;
        yield { key: pack.key, size: length, lastModified: pack.createdAt, tier: 'hot', address };
      }
    }
  }
}
