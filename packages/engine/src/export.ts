/**
 * Export of a snapshot (or chosen items) as a downloadable archive, streamed: items are read chunk by
 * chunk, verified, and written straight into the archive, so exporting a large snapshot takes no
 * more memory than a small one. Consumers pipe the Readable into an HTTP response or a file.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zc, createZstdCompress } from 'node:zlib';
import { type ArchiveEntry, safeArchivePath, tarStream, type ZipMethod, zipStream } from './archive.ts';
import { ChunkReader } from './reader.ts';
import type { AccountRepository } from './repository.ts';
import { readSnapshot, type SnapshotHeader, type SnapshotItem, snapshotItems } from './snapshot.ts';

export type ExportFormat = 'tar.zst' | 'zip';

export interface ExportOptions {
  format: ExportFormat;
  /** Only these items (by id); every item by default. */
  itemIds?: Iterable<string>;
  /** zip only: 'store' (default, fastest; most backup data is compressed or small) or 'deflate'. */
  zipMethod?: ZipMethod;
  /** zip only: zip64 records even for small archives. */
  forceZip64?: boolean;
  signal?: AbortSignal;
}

export interface ExportStream {
  snapshot: SnapshotHeader;
  /** Suggested file name, e.g. `snapshot-<id>.tar.zst`. */
  fileName: string;
  contentType: string;
  stream: Readable;
}

/** Archive entries for a snapshot's items, with names made unique and safe; their chunks are read ahead by pack. */
export async function* snapshotEntries(account: AccountRepository, snapshot: SnapshotHeader, options: { itemIds?: Iterable<string>; signal?: AbortSignal } = {}): AsyncGenerator<ArchiveEntry> {
  const ids = options.itemIds ? new Set(options.itemIds) : undefined;
  const used = new Set<string>();
  const reader = new ChunkReader(account, { signal: options.signal });
  for await (const { item, chunks } of reader.items(snapshotItems(account, snapshot, { ids }))) {
    options.signal?.throwIfAborted();
    yield itemEntry(snapshot, item, uniqueName(used, safeArchivePath(item.path)), chunks);
  }
}

function itemEntry(snapshot: SnapshotHeader, item: SnapshotItem, name: string, chunks: AsyncIterable<Buffer>): ArchiveEntry {
  const mtime = item.modifiedAt ? new Date(item.modifiedAt) : new Date(snapshot.createdAt);
  return {
    name,
    size: item.size,
    mtime: Number.isNaN(mtime.getTime()) ? new Date(snapshot.createdAt) : mtime,
    content: () => chunks,
  };
}

function uniqueName(used: Set<string>, name: string): string {
  let candidate = name;
  for (let n = 2; used.has(candidate); n++) {
    const dot = name.lastIndexOf('.');
    const slash = name.lastIndexOf('/');
    candidate = dot > slash + 1 ? `${name.slice(0, dot)} (${n})${name.slice(dot)}` : `${name} (${n})`;
  }
  used.add(candidate);
  return candidate;
}

/** Opens an export of the snapshot; errors (a corrupt chunk, an abort) surface as errors of the stream. */
export async function exportSnapshot(account: AccountRepository, snapshotId: string, options: ExportOptions): Promise<ExportStream> {
  const snapshot = await readSnapshot(account, snapshotId);
  const entries = snapshotEntries(account, snapshot, options);
  if (options.format === 'zip') {
    return {
      snapshot,
      fileName: `snapshot-${snapshot.id}.zip`,
      contentType: 'application/zip',
      stream: Readable.from(zipStream(entries, { method: options.zipMethod, forceZip64: options.forceZip64 }), { objectMode: false }),
    };
  }
  const zstd = createZstdCompress({ params: { [zc.ZSTD_c_compressionLevel]: 3 } });
  pipeline(Readable.from(tarStream(entries), { objectMode: false }), zstd, { signal: options.signal }).catch((error) => zstd.destroy(error));
  return { snapshot, fileName: `snapshot-${snapshot.id}.tar.zst`, contentType: 'application/zstd', stream: zstd };
}
