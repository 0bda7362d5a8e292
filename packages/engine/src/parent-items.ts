/**
 * The parent snapshot's items by id, for the change-marker check: an item whose id and change
 * marker equal an item of the parent is carried over without reading its content.
 *
 * Kept compact, because a source may hold millions of items: a table sorted by a 53-bit hash of
 * each id, with a hash of its marker and the manifest page that holds it (20 bytes an item). An
 * item whose hashes match is then read from its page (the last few pages are kept decoded: a
 * source tends to list its items in the order it listed them last time) and compared in full, so
 * a hash collision costs a page read, never a wrong item.
 */
import type { AccountRepository } from './repository.ts';
import { readPage, type SnapshotHeader, type SnapshotItem } from './snapshot.ts';

/** cyrb53: a fast 53-bit string hash (not cryptographic: matches are confirmed in full). */
function hash53(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** Pages kept decoded. */
const CACHED_PAGES = 4;

export class ParentItems {
  private readonly account: AccountRepository;
  private readonly header: SnapshotHeader;
  private readonly ids: Float64Array;
  private readonly markers: Float64Array;
  private readonly pages: Uint32Array;
  private readonly cache = new Map<number, Promise<Map<string, SnapshotItem>>>();

  private constructor(account: AccountRepository, header: SnapshotHeader, ids: Float64Array, markers: Float64Array, pages: Uint32Array) {
    this.account = account;
    this.header = header;
    this.ids = ids;
    this.markers = markers;
    this.pages = pages;
  }

  /** Reads the parent's pages once (one at a time) and keeps the table of its items that have a change marker. */
  static async load(account: AccountRepository, header: SnapshotHeader): Promise<ParentItems> {
    let ids = new Float64Array(1024);
    let markers = new Float64Array(1024);
    let pages = new Uint32Array(1024);
    let count = 0;
    for (let seq = 1; seq <= header.pages; seq++) {
      for (const item of (await readPage(account, header, seq)).items) {
        if (item.changeMarker === undefined) continue;
        if (count === ids.length) {
          ids = grow(ids, new Float64Array(count * 2));
          markers = grow(markers, new Float64Array(count * 2));
          pages = grow(pages, new Uint32Array(count * 2));
        }
        ids[count] = hash53(item.id);
        markers[count] = hash53(item.changeMarker, 1);
        pages[count] = seq;
        count++;
      }
    }
    const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => ids[a] - ids[b]);
    return new ParentItems(
      account,
      header,
      Float64Array.from(order, (i) => ids[i]),
      Float64Array.from(order, (i) => markers[i]),
      Uint32Array.from(order, (i) => pages[i]),
    );
  }

  get size(): number {
    return this.ids.length;
  }

  /** The parent's entry of item `id` when it was stored with `changeMarker`, else null. */
  async unchanged(id: string, changeMarker: string): Promise<SnapshotItem | null> {
    const idHash = hash53(id);
    const markerHash = hash53(changeMarker, 1);
    let low = 0;
    let high = this.ids.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.ids[mid] < idHash) low = mid + 1;
      else high = mid;
    }
    for (let i = low; i < this.ids.length && this.ids[i] === idHash; i++) {
      if (this.markers[i] !== markerHash) continue;
      const item = (await this.page(this.pages[i])).get(id);
      if (item?.changeMarker === changeMarker) return item;
    }
    return null;
  }

  private page(seq: number): Promise<Map<string, SnapshotItem>> {
    let page = this.cache.get(seq);
    if (page) {
      this.cache.delete(seq);
    } else {
      page = readPage(this.account, this.header, seq).then((body) => new Map(body.items.map((item) => [item.id, item])));
      page.catch(() => this.cache.delete(seq));
      if (this.cache.size >= CACHED_PAGES) this.cache.delete(this.cache.keys().next().value!);
    }
    this.cache.set(seq, page);
    return page;
  }
}

function grow<T extends Float64Array | Uint32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
