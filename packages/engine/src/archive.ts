/**
 * Streaming archive writers: POSIX ustar with pax extended headers (long or non-ASCII names,
 * sizes of 8 GiB and more), and zip with data descriptors (stored or deflated, zip64 when a size,
 * an offset or the entry count needs it). Both take entries one at a time, stream each entry's
 * bytes through, and never hold more than one piece of one entry.
 */
import { once } from 'node:events';
import { createDeflateRaw, crc32 } from 'node:zlib';
import { EngineConfigError } from './errors.ts';

export interface ArchiveEntry {
  /** `/`-separated path inside the archive. */
  name: string;
  size: number;
  mtime: Date;
  /** Unix permission bits (default 0o644). */
  mode?: number;
  content: () => AsyncIterable<Uint8Array>;
}

/** A safe relative path: no leading `/`, no `.` or `..` segments, no NUL, no backslashes. */
export function safeArchivePath(path: string): string {
  const segments = path
    .replace(/\\/g, '/')
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.' && segment !== '..')
    .map((segment) => segment.replace(/\0/g, ''));
  const joined = segments.join('/');
  return joined === '' ? 'unnamed' : joined;
}

// ---- tar ----------------------------------------------------------------------------------------

const BLOCK = 512;
const ZERO_BLOCK = Buffer.alloc(BLOCK);

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function tarHeader(fields: { name: string; size: number; mtime: number; mode: number; type: string; prefix?: string }): Buffer {
  const header = Buffer.alloc(BLOCK);
  header.write(fields.name, 0, 100, 'utf8');
  header.write(octal(fields.mode & 0o7777, 8), 100, 8, 'ascii');
  header.write(octal(0, 8), 108, 8, 'ascii'); // uid
  header.write(octal(0, 8), 116, 8, 'ascii'); // gid
  header.write(octal(Math.min(fields.size, 0o77777777777), 12), 124, 12, 'ascii');
  header.write(octal(Math.max(0, Math.min(fields.mtime, 0o77777777777)), 12), 136, 12, 'ascii');
  header.write('        ', 148, 8, 'ascii'); // checksum placeholder
  header.write(fields.type, 156, 1, 'ascii');
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  if (fields.prefix) header.write(fields.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += header[i];
  header.write(octal(sum, 7) + ' ', 148, 8, 'ascii');
  return header;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length = String(length).length + Buffer.byteLength(body);
  return `${length}${body}`;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? Buffer.alloc(0) : ZERO_BLOCK.subarray(0, BLOCK - rest);
}

/** A ustar stream of `entries`; names that do not fit ustar get a pax header. */
export async function* tarStream(entries: AsyncIterable<ArchiveEntry> | Iterable<ArchiveEntry>): AsyncGenerator<Buffer> {
  for await (const entry of entries) {
    const name = safeArchivePath(entry.name);
    const mtime = Math.floor(entry.mtime.getTime() / 1000);
    const mode = entry.mode ?? 0o644;
    const nameBytes = Buffer.byteLength(name);
    const ascii = /^[\x20-\x7e]*$/.test(name);
    const pax: string[] = [];
    if (nameBytes > 100 || !ascii) pax.push(paxRecord('path', name));
    if (entry.size > 0o77777777777) pax.push(paxRecord('size', String(entry.size)));
    if (pax.length > 0) {
      const body = Buffer.from(pax.join(''), 'utf8');
      yield tarHeader({ name: `PaxHeaders/${asciiTail(name, 80)}`, size: body.length, mtime, mode: 0o644, type: 'x' });
      yield body;
      yield padding(body.length);
    }
    yield tarHeader({ name: ascii && nameBytes <= 100 ? name : asciiTail(name, 100), size: entry.size, mtime, mode, type: '0' });
    let written = 0;
    for await (const piece of entry.content()) {
      written += piece.length;
      if (written > entry.size) throw new EngineConfigError(`entry ${name} is longer than its declared ${entry.size} bytes`);
      yield Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.length);
    }
    if (written !== entry.size) throw new EngineConfigError(`entry ${name} had ${written} bytes, declared ${entry.size}`);
    yield padding(entry.size);
  }
  yield Buffer.alloc(BLOCK * 2);
}

/** A printable-ASCII fallback name of at most `max` bytes (readers that ignore pax still get something). */
function asciiTail(name: string, max: number): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_');
  return ascii.length <= max ? ascii : ascii.slice(ascii.length - max);
}

// ---- zip ----------------------------------------------------------------------------------------

export type ZipMethod = 'store' | 'deflate';

export interface ZipOptions {
  method?: ZipMethod;
  /** Write zip64 records for every entry even when nothing needs them (tests, very large archives). */
  forceZip64?: boolean;
}

interface CentralRecord {
  nameBytes: Buffer;
  method: number;
  dosTime: number;
  dosDate: number;
  crc: number;
  compressedSize: number;
  size: number;
  offset: number;
  zip64: boolean;
  mode: number;
}

const U32 = 0xffffffff;

function dosDateTime(date: Date): { time: number; date: number } {
  const year = Math.max(1980, date.getUTCFullYear());
  return {
    time: (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | Math.floor(date.getUTCSeconds() / 2),
    date: ((year - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate(),
  };
}

/** Deflates a stream piece by piece, yielding output as it comes. */
async function* deflate(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  const deflater = createDeflateRaw({ level: 6 });
  const output: Buffer[] = [];
  deflater.on('data', (data: Buffer) => output.push(data));
  const ended = once(deflater, 'end');
  for await (const piece of source) {
    if (!deflater.write(piece)) await once(deflater, 'drain');
    while (output.length) yield output.shift()!;
  }
  deflater.end();
  await ended;
  while (output.length) yield output.shift()!;
}

/**
 * A zip stream of `entries`. Sizes and CRC follow each entry in a data descriptor, so nothing is
 * buffered; the central directory at the end repeats them. Names are UTF-8 (flag bit 11).
 */
export async function* zipStream(entries: AsyncIterable<ArchiveEntry> | Iterable<ArchiveEntry>, options: ZipOptions = {}): AsyncGenerator<Buffer> {
  const method = options.method === 'deflate' ? 8 : 0;
  const central: CentralRecord[] = [];
  let offset = 0;
  for await (const entry of entries) {
    const nameBytes = Buffer.from(safeArchivePath(entry.name), 'utf8');
    const { time, date } = dosDateTime(entry.mtime);
    // Decided up front from the declared size: deflate can grow incompressible data a little.
    const zip64 = options.forceZip64 === true || entry.size >= U32 - 1024 * 1024 || offset >= U32;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(zip64 ? 45 : 20, 4);
    local.writeUInt16LE(0x0808, 6); // data descriptor + UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    // crc and sizes are zero here: they follow in the data descriptor.
    local.writeUInt32LE(zip64 ? U32 : 0, 18);
    local.writeUInt32LE(zip64 ? U32 : 0, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const extra = zip64 ? zip64Extra([0, 0]) : Buffer.alloc(0);
    local.writeUInt16LE(extra.length, 28);
    yield local;
    yield nameBytes;
    yield extra;
    const entryOffset = offset;
    offset += local.length + nameBytes.length + extra.length;

    let crc = 0;
    let size = 0;
    let compressedSize = 0;
    const raw = async function* () {
      for await (const piece of entry.content()) {
        crc = crc32(piece, crc);
        size += piece.length;
        yield piece;
      }
    };
    const body = method === 8 ? deflate(raw()) : raw();
    for await (const piece of body) {
      compressedSize += piece.length;
      yield Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.length);
    }
    if (size !== entry.size) throw new EngineConfigError(`entry ${nameBytes.toString()} had ${size} bytes, declared ${entry.size}`);
    offset += compressedSize;

    const descriptor = Buffer.alloc(zip64 ? 24 : 16);
    descriptor.writeUInt32LE(0x08074b50, 0);
    descriptor.writeUInt32LE(crc >>> 0, 4);
    if (zip64) {
      descriptor.writeBigUInt64LE(BigInt(compressedSize), 8);
      descriptor.writeBigUInt64LE(BigInt(size), 16);
    } else {
      descriptor.writeUInt32LE(compressedSize, 8);
      descriptor.writeUInt32LE(size, 12);
    }
    yield descriptor;
    offset += descriptor.length;
    central.push({ nameBytes, method, dosTime: time, dosDate: date, crc: crc >>> 0, compressedSize, size, offset: entryOffset, zip64, mode: entry.mode ?? 0o644 });
  }

  const centralStart = offset;
  for (const record of central) {
    const needs64 = record.zip64 || record.size >= U32 || record.compressedSize >= U32 || record.offset >= U32;
    const values64 = needs64 ? [record.size, record.compressedSize, record.offset] : [];
    const extra = needs64 ? zip64Extra(values64) : Buffer.alloc(0);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE((3 << 8) | (needs64 ? 45 : 20), 4); // made by Unix
    header.writeUInt16LE(needs64 ? 45 : 20, 6);
    header.writeUInt16LE(0x0808, 8);
    header.writeUInt16LE(record.method, 10);
    header.writeUInt16LE(record.dosTime, 12);
    header.writeUInt16LE(record.dosDate, 14);
    header.writeUInt32LE(record.crc, 16);
    header.writeUInt32LE(needs64 ? U32 : record.compressedSize, 20);
    header.writeUInt32LE(needs64 ? U32 : record.size, 24);
    header.writeUInt16LE(record.nameBytes.length, 28);
    header.writeUInt16LE(extra.length, 30);
    header.writeUInt32LE(((0o100000 | record.mode) << 16) >>> 0, 38); // regular file + permissions
    header.writeUInt32LE(needs64 ? U32 : record.offset, 42);
    yield header;
    yield record.nameBytes;
    yield extra;
    offset += header.length + record.nameBytes.length + extra.length;
  }
  const centralSize = offset - centralStart;
  const count = central.length;
  const needsEnd64 = options.forceZip64 === true || count >= 0xffff || centralStart >= U32 || centralSize >= U32 || central.some((r) => r.zip64);
  if (needsEnd64) {
    const end64 = Buffer.alloc(56);
    end64.writeUInt32LE(0x06064b50, 0);
    end64.writeBigUInt64LE(44n, 4);
    end64.writeUInt16LE((3 << 8) | 45, 12);
    end64.writeUInt16LE(45, 14);
    end64.writeBigUInt64LE(BigInt(count), 24);
    end64.writeBigUInt64LE(BigInt(count), 32);
    end64.writeBigUInt64LE(BigInt(centralSize), 40);
    end64.writeBigUInt64LE(BigInt(centralStart), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(offset), 8);
    locator.writeUInt32LE(1, 16);
    yield end64;
    yield locator;
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(needsEnd64 ? 0xffff : count, 8);
  end.writeUInt16LE(needsEnd64 ? 0xffff : count, 10);
  end.writeUInt32LE(needsEnd64 ? U32 : centralSize, 12);
  end.writeUInt32LE(needsEnd64 ? U32 : centralStart, 16);
  yield end;
}

function zip64Extra(values: number[]): Buffer {
  const extra = Buffer.alloc(4 + values.length * 8);
  extra.writeUInt16LE(0x0001, 0);
  extra.writeUInt16LE(values.length * 8, 2);
  for (let i = 0; i < values.length; i++) extra.writeBigUInt64LE(BigInt(values[i]), 4 + i * 8);
  return extra;
}
