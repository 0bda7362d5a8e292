/**
 * Object storage for the engine. Everything the engine writes is immutable (chunks, manifest pages,
 * indexes, snapshot headers) and goes through putIfAbsent, so a retried or concurrent write can
 * never replace an object; put() exists for the few mutable records (a rewrapped data key).
 *
 * LocalDirectoryStore is the default backend; S3Store (store-s3.ts) is the S3-compatible one. It
 * lives in its own file so that loading the engine does not load the AWS SDK.
 */
import { randomBytes } from 'node:crypto';
import { close as closeCb, constants as fsConstants, type Dirent, fdatasync as fdatasyncCb, open as openCb, read as readCb, stat as statCb, write as writeCb, writev as writevCb } from 'node:fs';
import { access, link, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { dirname, join, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { EngineConfigError, ObjectNotFoundError } from './errors.ts';

/** hot → warm (30 days) → cold (90 days); what each means is up to the backend (S3 storage classes). */
export type StorageTier = 'hot' | 'warm' | 'cold';
export const STORAGE_TIERS: readonly StorageTier[] = ['hot', 'warm', 'cold'];

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: Date;
  tier: StorageTier;
}

export interface ObjectStore {
  /** Stores `body` under `key` unless an object is there already; true when this call created it. Never replaces. */
  putIfAbsent(key: string, body: Uint8Array): Promise<boolean>;
  /** Stores or atomically replaces; readers see the old or the new object, never a mix. */
  put(key: string, body: Uint8Array): Promise<void>;
  /** The object's bytes as a stream; ObjectNotFoundError when absent. */
  get(key: string): Promise<Readable>;
  /** The whole object in memory, for objects known to be small (chunks, manifest pages). */
  getBytes(key: string): Promise<Buffer>;
  /**
   * `length` bytes from `offset` (a chunk inside a pack); ObjectNotFoundError when the object is
   * absent. Fewer bytes come back when the object ends first. A backend may read into `into`
   * (at least `length` bytes, reused by the caller) and return a view of it.
   */
  getRange(key: string, offset: number, length: number, into?: Buffer): Promise<Buffer>;
  head(key: string): Promise<ObjectInfo | null>;
  exists(key: string): Promise<boolean>;
  /** Removes the object; removing an absent one is not an error. */
  delete(key: string): Promise<void>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  setTier(key: string, tier: StorageTier): Promise<void>;
  /** Resolves when the store can be read and written now; else throws why not, naming no path or bucket (readiness probes). */
  check(): Promise<void>;
  /**
   * Durability barrier: objects stored before the call survive a crash once it returns. The
   * engine calls it before writing anything that references earlier objects (a manifest page
   * naming chunks, a snapshot header naming pages). Backends whose writes are durable on return
   * (S3) need not implement it.
   */
  flush?(): Promise<void>;
  /**
   * A writer that builds one object from appended pieces (a pack of chunks) without holding it in
   * memory; the object appears under `key` only at commit, like putIfAbsent. Backends without it
   * get bufferedWriter (the pieces are kept until commit, then stored with one putIfAbsent).
   */
  createWriter?(key: string): ObjectWriter;
  /**
   * Backends whose writers leave temporary objects that listings do not show (LocalDirectoryStore's
   * `.tmp-*` files) delete those older than `olderThanMs` under `prefix`.
   */
  removeStaleTemporaryFiles?(olderThanMs: number, now?: number, prefix?: string): Promise<number>;
}

/** Builds one immutable object from appended pieces; see ObjectStore.createWriter. */
export interface ObjectWriter {
  /** Bytes appended so far (including writes still in flight). */
  readonly size: number;
  /**
   * Appends `body` (one buffer, or pieces written one after the other) at the current end; calls
   * may overlap, pieces land in call order. Once the promise settles the writer keeps no reference
   * to `body`: the caller may free it.
   */
  write(body: Uint8Array | readonly Uint8Array[]): Promise<void>;
  /** Waits for the writes, then stores the object unless one exists (false then). Nothing is visible before. */
  commit(): Promise<boolean>;
  /** Drops what was written. */
  abort(): Promise<void>;
}

/** The writer of stores without createWriter: pieces in memory, one putIfAbsent at commit. */
export function createObjectWriter(store: ObjectStore, key: string): ObjectWriter {
  if (store.createWriter) return store.createWriter(key);
  let parts: Uint8Array[] = [];
  let size = 0;
  return {
    get size() {
      return size;
    },
    async write(body) {
      for (const part of piecesOf(body)) {
        parts.push(Buffer.from(part)); // a copy: the caller may free its pieces
        size += part.length;
      }
    },
    async commit() {
      const body = Buffer.concat(parts);
      parts = [];
      return store.putIfAbsent(key, body);
    },
    async abort() {
      parts = [];
    },
  };
}

function piecesOf(body: Uint8Array | readonly Uint8Array[]): readonly Uint8Array[] {
  return body instanceof Uint8Array ? [body] : body;
}

/** Writes `buffers` back to back at `position`, however many calls it takes. */
async function writeAllAt(fd: number, buffers: Uint8Array[], position: number): Promise<void> {
  let queue = buffers;
  while (queue.length > 0) {
    // At most IOV_MAX (1024) pieces per call.
    const batch = queue.length > 1024 ? queue.slice(0, 1024) : queue;
    let written = (await writevFd(fd, batch, position)).bytesWritten;
    position += written;
    let done = 0;
    while (done < batch.length && written >= batch[done].length) written -= batch[done++].length;
    const rest = done < batch.length && written > 0 ? [batch[done].subarray(written), ...batch.slice(done + 1)] : batch.slice(done);
    queue = [...rest, ...queue.slice(batch.length)];
  }
}

// The callback API costs the event loop less per call than FileHandle promises, and a chunk
// write is six calls: open, write, fdatasync, close, link, unlink.
const openFd = promisify(openCb);
const writeFd = promisify(writeCb);
const writevFd = promisify(writevCb);
const syncFd = promisify(fdatasyncCb);
const readFd = promisify(readCb);
const closeFd = promisify(closeCb);
const statPath = promisify(statCb);

const SEGMENT = /^[A-Za-z0-9._=-]+$/;

/** Keys are `/`-separated segments of safe characters: no `..`, no absolute paths, nothing a filesystem or S3 treats specially. */
export function assertObjectKey(key: string): void {
  if (key.length === 0 || key.length > 1024) throw new EngineConfigError(`object key must be 1-1024 characters`);
  for (const segment of key.split('/')) {
    if (!SEGMENT.test(segment) || segment === '.' || segment === '..' || segment.startsWith('.tmp-')) {
      throw new EngineConfigError(`object key "${key}" has an unsafe segment "${segment}"`);
    }
  }
}

export function assertKeyPrefix(prefix: string): void {
  if (prefix === '') return;
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  assertObjectKey(trimmed);
}

export interface LocalDirectoryStoreOptions {
  /**
   * Flush each object's data to disk before it takes its name, and directories at flush()
   * (default true). Off, a crash can lose recent objects or leave them empty: for tests and scratch.
   */
  durable?: boolean;
}

/**
 * Objects as files under `root`, one file per key (the repository layout fans chunks out into
 * 256 directories by address prefix). Writes go to a temporary file in the target directory, are
 * flushed, and are then linked (putIfAbsent: fails if the name exists, so nothing is replaced) or
 * renamed (put) into place, so a reader never sees a partial object and a crash leaves at most a
 * `.tmp-*` file that removeStaleTemporaryFiles() clears. New names become durable at flush(),
 * which syncs the directories that gained entries since the last one.
 */
export class LocalDirectoryStore implements ObjectStore {
  readonly root: string;
  private readonly durable: boolean;
  private readonly knownDirs = new Set<string>();
  private dirtyDirs = new Set<string>();

  constructor(root: string, options: LocalDirectoryStoreOptions = {}) {
    this.root = root;
    this.durable = options.durable ?? true;
  }

  async check(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true });
      await access(this.root, fsConstants.W_OK);
    } catch (error) {
      throw new Error(`the storage directory cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }

  private path(key: string): string {
    assertObjectKey(key);
    return join(this.root, ...key.split('/'));
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.knownDirs.add(dir);
  }

  private async writeTemp(dir: string, body: Uint8Array): Promise<string> {
    await this.ensureDir(dir);
    const tmp = join(dir, `.tmp-${randomBytes(8).toString('hex')}`);
    const fd = await openFd(tmp, 'wx');
    try {
      for (let offset = 0; offset < body.length; ) {
        const { bytesWritten } = await writeFd(fd, body, offset, body.length - offset, null);
        offset += bytesWritten;
      }
      if (this.durable) await syncFd(fd);
    } catch (error) {
      await closeFd(fd).catch(() => {});
      await unlink(tmp).catch(() => {});
      throw error;
    }
    await closeFd(fd);
    return tmp;
  }

  private async syncDir(dir: string): Promise<void> {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async flush(): Promise<void> {
    if (!this.durable || this.dirtyDirs.size === 0) return;
    const dirs = [...this.dirtyDirs];
    this.dirtyDirs = new Set();
    try {
      await Promise.all(dirs.map((dir) => this.syncDir(dir)));
    } catch (error) {
      for (const dir of dirs) this.dirtyDirs.add(dir);
      throw error;
    }
  }

  async putIfAbsent(key: string, body: Uint8Array): Promise<boolean> {
    const target = this.path(key);
    const dir = dirname(target);
    const tmp = await this.writeTemp(dir, body);
    try {
      await link(tmp, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      await unlink(tmp).catch(() => {});
    }
    this.dirtyDirs.add(dir);
    return true;
  }

  /** Appends go to a temporary file (positional writes), which is flushed and linked into place at commit. */
  createWriter(key: string): ObjectWriter {
    const target = this.path(key);
    const dir = dirname(target);
    const tmp = join(dir, `.tmp-${randomBytes(8).toString('hex')}`);
    const ready = this.ensureDir(dir).then(() => openFd(tmp, 'wx'));
    ready.catch(() => {});
    // Appends queue up while a write is in flight and go out together in one writev: a pack of
    // small chunks costs a few system calls, not one per chunk.
    let queued: { pieces: readonly Uint8Array[]; resolve: () => void; reject: (error: unknown) => void }[] = [];
    let queuedAt = 0;
    let flowing: Promise<void> | null = null;
    let size = 0;
    let failed: unknown = null;
    let closed = false;
    const flow = (fd: number): Promise<void> =>
      (flowing ??= (async () => {
        try {
          while (queued.length > 0) {
            const batch = queued;
            const position = queuedAt;
            queued = [];
            queuedAt = size;
            try {
              if (failed) throw failed;
              await writeAllAt(fd, batch.flatMap((entry) => entry.pieces) as Uint8Array[], position);
              for (const entry of batch) entry.resolve();
            } catch (error) {
              failed ??= error;
              for (const entry of batch) entry.reject(error);
            }
          }
        } finally {
          flowing = null;
        }
      })());
    const settle = async () => {
      const fd = await ready.catch(() => null);
      if (fd !== null && queued.length > 0) void flow(fd);
      while (flowing) await flowing;
    };
    const discard = async (fd: number | null) => {
      closed = true;
      if (fd !== null) await closeFd(fd).catch(() => {});
      await unlink(tmp).catch(() => {});
    };
    return {
      get size() {
        return size;
      },
      write: (body) => {
        if (closed) return Promise.reject(new Error(`writer of ${key} is closed`));
        const pieces = piecesOf(body);
        if (queued.length === 0) queuedAt = size;
        for (const piece of pieces) size += piece.length;
        const written = new Promise<void>((resolve, reject) => queued.push({ pieces, resolve, reject }));
        ready.then(flow, (error: unknown) => {
          failed ??= error;
          for (const entry of queued.splice(0)) entry.reject(error);
        });
        return written;
      },
      commit: async () => {
        const fd = await ready;
        await settle();
        try {
          if (failed) throw failed;
          if (this.durable) await syncFd(fd);
        } catch (error) {
          await discard(fd);
          throw error;
        }
        closed = true;
        await closeFd(fd);
        try {
          await link(tmp, target);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
          throw error;
        } finally {
          await unlink(tmp).catch(() => {});
        }
        this.dirtyDirs.add(dir);
        return true;
      },
      abort: async () => {
        const fd = await ready.catch(() => null);
        await settle();
        await discard(fd);
      },
    };
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const target = this.path(key);
    const dir = dirname(target);
    const tmp = await this.writeTemp(dir, body);
    try {
      await rename(tmp, target);
    } catch (error) {
      await unlink(tmp).catch(() => {});
      throw error;
    }
    this.dirtyDirs.add(dir);
    if (this.durable) await this.flush();
  }

  async get(key: string): Promise<Readable> {
    const path = this.path(key);
    try {
      const handle = await open(path, 'r');
      return handle.createReadStream({ highWaterMark: 256 * 1024 });
    } catch (error) {
      throw notFound(error, key);
    }
  }

  async getBytes(key: string): Promise<Buffer> {
    try {
      return await readFile(this.path(key));
    } catch (error) {
      throw notFound(error, key);
    }
  }

  async getRange(key: string, offset: number, length: number, into?: Buffer): Promise<Buffer> {
    let fd: number;
    try {
      fd = await openFd(this.path(key), 'r');
    } catch (error) {
      throw notFound(error, key);
    }
    try {
      const out = into && into.length >= length ? into.subarray(0, length) : Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await readFd(fd, out, filled, length - filled, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return filled === length ? out : out.subarray(0, filled);
    } finally {
      await closeFd(fd);
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const info = await statPath(this.path(key));
      return info.isFile() ? { key, size: info.size, lastModified: info.mtime, tier: 'hot' } : null;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.head(key)) !== null;
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.path(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertKeyPrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash < 0 ? '' : prefix.slice(0, slash);
    yield* this.walk(dirKey, prefix);
  }

  private async *walk(dirKey: string, prefix: string): AsyncIterable<ObjectInfo> {
    const dir = dirKey === '' ? this.root : join(this.root, ...dirKey.split('/'));
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw error;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.tmp-')) continue;
      const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
      if (entry.isDirectory()) {
        // Descend only where keys below can still match the prefix.
        if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) yield* this.walk(key, prefix);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const info = await this.head(key);
        if (info) yield info;
      }
    }
  }

  /** Local disks have a single tier: the call checks the object exists and changes nothing. */
  async setTier(key: string, _tier: StorageTier): Promise<void> {
    if (!(await this.exists(key))) throw new ObjectNotFoundError(key);
  }

  /** Deletes `.tmp-*` files older than `olderThanMs` left by a crash mid-write (under `prefix`, a key prefix ending in `/`); returns how many. */
  async removeStaleTemporaryFiles(olderThanMs: number, now = Date.now(), prefix = ''): Promise<number> {
    let removed = 0;
    const visit = async (dir: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        const path = `${dir}${sep}${entry.name}`;
        if (entry.isDirectory()) await visit(path);
        else if (entry.name.startsWith('.tmp-')) {
          const info = await stat(path).catch(() => null);
          if (info && now - info.mtimeMs > olderThanMs) {
            await unlink(path).catch(() => {});
            removed++;
          }
        }
      }
    };
    await visit(prefix ? join(this.root, ...prefix.split('/').filter(Boolean)) : this.root);
    return removed;
  }
}

function notFound(error: unknown, key: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' ? new ObjectNotFoundError(key) : error;
}

/** Reads a whole stream into one buffer (for objects known to be small). */
export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.isBuffer(part) ? part : Buffer.from(part));
  return Buffer.concat(parts);
}
