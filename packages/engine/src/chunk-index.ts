/**
 * Where an account's stored chunks are, in memory small enough for repositories of tens of
 * millions of chunks.
 *
 * - A sorted table of one 8-byte number per chunk: the first 32 bits of its address and the number
 *   of the pack that holds it. It answers "which packs may hold this address": for a chunk never
 *   stored, almost always none, without reading anything.
 * - The packs by number: id, size, time.
 * - An LRU of decoded pack indexes (address → offset, length): a candidate pack is confirmed by
 *   its index, so a prefix shared by two addresses costs a read, never a wrong chunk.
 *
 * Chunks registered since the table was last merged wait in a small map; a deleted pack's entries
 * are skipped, and dropped once a quarter of the table is dead.
 */
import { EngineConfigError } from './errors.ts';

/** [address, offset, length] of one chunk in its pack. */
export type PackEntry = readonly [address: string, offset: number, length: number];

/** Where a packed chunk is: `length` sealed bytes at `offset` of pack `packId`. */
export interface ChunkLocation {
  packId: string;
  offset: number;
  length: number;
}

export interface PackMeta {
  id: string;
  createdAt: Date;
  bytes: number;
}

const PACK_BITS = 21;
const PACKS_MAX = 2 ** PACK_BITS;
const PREFIX_SPAN = 2 ** PACK_BITS;
/** Entries waiting outside the sorted table before it is rebuilt. */
const RECENT_MAX = 65_536;

function prefixOf(address: string): number {
  return Number.parseInt(address.slice(0, 8), 16);
}

export class ChunkIndex {
  /** Sorted entries in [0, length); the rest is room to grow into. */
  private table = new Float64Array(1024);
  private length = 0;
  private deadEntries = 0;
  private readonly recent = new Map<number, number[]>();
  private recentCount = 0;
  private readonly ids: string[] = [];
  private readonly created: number[] = [];
  private readonly sizes: number[] = [];
  private readonly live: boolean[] = [];
  private readonly counts: number[] = [];
  private readonly numbers = new Map<string, number>();
  private readonly cache = new Map<number, Map<string, readonly [number, number]>>();
  private readonly cacheSize: number;
  private readonly loadEntries: (packId: string) => Promise<readonly PackEntry[] | null>;
  private chunks = 0;

  /** `loadEntries` reads a pack's index (null when the pack is gone). */
  constructor(loadEntries: (packId: string) => Promise<readonly PackEntry[] | null>, cacheSize = 64) {
    this.loadEntries = loadEntries;
    this.cacheSize = cacheSize;
  }

  /** Chunks in the registered packs (an address stored twice counts twice). */
  get size(): number {
    return this.chunks;
  }

  hasPack(packId: string): boolean {
    const number = this.numbers.get(packId);
    return number !== undefined && this.live[number];
  }

  packs(): PackMeta[] {
    const out: PackMeta[] = [];
    for (let n = 0; n < this.ids.length; n++) if (this.live[n]) out.push(this.meta(n));
    return out;
  }

  pack(packId: string): PackMeta | null {
    const number = this.numbers.get(packId);
    return number === undefined || !this.live[number] ? null : this.meta(number);
  }

  private meta(number: number): PackMeta {
    return { id: this.ids[number], createdAt: new Date(this.created[number]), bytes: this.sizes[number] };
  }

  /** Registers a pack and its chunks; the entries are kept only while the pack is among the recently used. */
  addPack(meta: PackMeta, entries: readonly PackEntry[]): void {
    if (this.numbers.has(meta.id)) return;
    const number = this.ids.length;
    if (number >= PACKS_MAX) throw new EngineConfigError(`an account holds at most ${PACKS_MAX} packs`);
    this.ids.push(meta.id);
    this.created.push(meta.createdAt.getTime());
    this.sizes.push(meta.bytes);
    this.live.push(true);
    this.counts.push(entries.length);
    this.numbers.set(meta.id, number);
    for (const [address] of entries) {
      const prefix = prefixOf(address);
      const list = this.recent.get(prefix);
      if (list) list.push(number);
      else this.recent.set(prefix, [number]);
    }
    this.recentCount += entries.length;
    this.chunks += entries.length;
    this.remember(number, entries);
    if (this.recentCount >= RECENT_MAX) this.merge();
  }

  /** Forgets a pack (deleted): its chunks are no longer found. */
  removePack(packId: string): void {
    const number = this.numbers.get(packId);
    if (number === undefined || !this.live[number]) return;
    this.live[number] = false;
    this.chunks -= this.counts[number];
    this.deadEntries += this.counts[number];
    this.cache.delete(number);
    if (this.deadEntries > this.length / 4 + RECENT_MAX) this.compact();
  }

  /** Where the chunk is, or null when no registered pack holds it. */
  async locate(address: string): Promise<ChunkLocation | null> {
    for (const number of this.candidates(address)) {
      const entries = await this.entries(number);
      const found = entries?.get(address);
      if (found) return { packId: this.ids[number], offset: found[0], length: found[1] };
    }
    return null;
  }

  /** A pack's entries (from the cache, or read again). */
  async packEntries(packId: string): Promise<readonly PackEntry[] | null> {
    const number = this.numbers.get(packId);
    if (number === undefined || !this.live[number]) return null;
    const entries = await this.entries(number);
    return entries ? [...entries].map(([address, [offset, length]]) => [address, offset, length] as const) : null;
  }

  /** Packs that may hold `address`, oldest first. */
  private candidates(address: string): number[] {
    const prefix = prefixOf(address);
    const out: number[] = [];
    const low = prefix * PREFIX_SPAN;
    const table = this.table;
    const length = this.length;
    let lo = 0;
    let hi = length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (table[mid] < low) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < length && table[i] < low + PREFIX_SPAN; i++) {
      const number = table[i] - low;
      if (this.live[number] && out.at(-1) !== number) out.push(number);
    }
    for (const number of this.recent.get(prefix) ?? []) if (this.live[number] && !out.includes(number)) out.push(number);
    return out;
  }

  private async entries(number: number): Promise<Map<string, readonly [number, number]> | null> {
    const cached = this.cache.get(number);
    if (cached) {
      this.cache.delete(number);
      this.cache.set(number, cached);
      return cached;
    }
    const entries = await this.loadEntries(this.ids[number]);
    if (!entries) return null;
    return this.remember(number, entries);
  }

  private remember(number: number, entries: readonly PackEntry[]): Map<string, readonly [number, number]> {
    const map = new Map<string, readonly [number, number]>();
    for (const [address, offset, length] of entries) map.set(address, [offset, length]);
    this.cache.set(number, map);
    while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    return map;
  }

  /** Folds the recent entries into the sorted table (a merge from the back, into room grown by a quarter at a time). */
  private merge(): void {
    const recent = new Float64Array(this.recentCount);
    let at = 0;
    for (const [prefix, numbers] of this.recent) for (const number of numbers) recent[at++] = prefix * PREFIX_SPAN + number;
    recent.sort();
    this.recent.clear();
    this.recentCount = 0;
    const total = this.length + recent.length;
    if (total > this.table.length) {
      const grown = new Float64Array(Math.max(total, Math.ceil(this.table.length * 1.25)));
      grown.set(this.table.subarray(0, this.length));
      this.table = grown;
    }
    const table = this.table;
    let i = this.length - 1;
    let j = recent.length - 1;
    for (let k = total - 1; j >= 0; k--) table[k] = i >= 0 && table[i] > recent[j] ? table[i--] : recent[j--];
    this.length = total;
  }

  /** Drops the entries of deleted packs from the table. */
  private compact(): void {
    this.merge();
    const table = this.table;
    let kept = 0;
    for (let i = 0; i < this.length; i++) if (this.live[table[i] % PREFIX_SPAN]) table[kept++] = table[i];
    this.length = kept;
    this.deadEntries = 0;
  }
}
