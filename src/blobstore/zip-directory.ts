/**
 * Reads a zip file's central directory from a ByteSource without reading the rest:
 * the end-of-central-directory record (and its zip64 counterpart) from the tail,
 * then the directory itself. Layouts are little-endian; offsets below are within
 * each record. The central directory is the authority for every entry's size and
 * place; local headers are checked against it when an entry is read.
 */
import { CorruptError, UnsupportedError } from "../errors.js";
import type { ByteSource } from "./byte-source.js";

/** One file entry of a zip's central directory. */
export interface ZipEntry {
  readonly name: string;
  /** 0 stored, 8 deflated */
  readonly method: number;
  readonly flags: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
}

/** A parsed central directory: entries by name, and where the directory starts. */
export interface ZipDirectory {
  readonly entries: ReadonlyMap<string, ZipEntry>;
  readonly directoryOffset: number;
  readonly archiveBytes: number;
}

export const METHOD_STORED = 0;
export const METHOD_DEFLATED = 8;
export const LOCAL_HEADER_BYTES = 30;
const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const EOCD_BYTES = 22;
const ZIP64_LOCATOR_BYTES = 20;
const ZIP64_EOCD_BYTES = 56;
const CENTRAL_BYTES = 46;
const MAX_COMMENT_BYTES = 0xffff;
const ZIP64_EXTRA_ID = 0x0001;
const FLAG_ENCRYPTED = 1;

/** Where the central directory is, per the end records. */
interface DirectoryPlace {
  readonly offset: number;
  readonly size: number;
  readonly count: number;
  /** where the end records start: the directory must end at or before it */
  readonly endStart: number;
}

function corrupt(src: ByteSource, what: string, data: Record<string, unknown> = {}): CorruptError {
  return new CorruptError("E_ZIP_CORRUPT", `${src.location}: ${what}`, {
    path: src.location,
    ...data,
  });
}

/** A little-endian u64 as a number; E_ZIP_CORRUPT when it does not fit exactly. */
function u64(buf: Buffer, at: number, src: ByteSource): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(src, "64-bit field out of range");
  return Number(v);
}

/** Reads and parses the central directory of the zip in `src`. */
export async function readZipDirectory(src: ByteSource): Promise<ZipDirectory> {
  const total = await src.size();
  if (total < EOCD_BYTES) throw corrupt(src, "too short to be a zip file", { bytes: total });
  const tailLen = Math.min(total, EOCD_BYTES + MAX_COMMENT_BYTES + ZIP64_LOCATOR_BYTES);
  const tailStart = total - tailLen;
  const tail = await src.read(tailStart, tailLen);
  const eocd = findEocd(tail);
  if (eocd < 0) throw corrupt(src, "no end-of-central-directory record (not a zip file?)");
  const place = await locateDirectory(src, tail, tailStart, eocd);
  if (place.offset + place.size > place.endStart || place.count * CENTRAL_BYTES > place.size) {
    throw corrupt(src, "central directory lies outside the archive", { ...place });
  }
  const dir =
    place.offset >= tailStart
      ? tail.subarray(place.offset - tailStart, place.offset - tailStart + place.size)
      : await src.read(place.offset, place.size);
  const entries = parseEntries(src, dir, place);
  return { entries, directoryOffset: place.offset, archiveBytes: total };
}

/**
 * End of central directory record (22 bytes + comment), searched backwards:
 *   0 4 signature 0x06054b50   4 2 this disk       6 2 directory's disk
 *   8 2 entries on this disk  10 2 entries total  12 4 directory size
 *  16 4 directory offset      20 2 comment length 22 … comment
 */
function findEocd(tail: Buffer): number {
  for (let i = tail.length - EOCD_BYTES; i >= 0; i--) {
    if (tail.readUInt32LE(i) !== SIG_EOCD) continue;
    if (i + EOCD_BYTES + tail.readUInt16LE(i + 20) === tail.length) return i;
  }
  return -1;
}

async function locateDirectory(
  src: ByteSource,
  tail: Buffer,
  tailStart: number,
  eocd: number,
): Promise<DirectoryPlace> {
  if (tail.readUInt16LE(eocd + 4) !== 0 || tail.readUInt16LE(eocd + 6) !== 0) {
    throw new UnsupportedError("E_UNSUPPORTED", `${src.location}: multi-disk zip files`, {
      path: src.location,
    });
  }
  const loc = eocd - ZIP64_LOCATOR_BYTES;
  if (loc >= 0 && tail.readUInt32LE(loc) === SIG_ZIP64_LOCATOR) {
    return readZip64End(src, tail, tailStart, loc);
  }
  return {
    count: tail.readUInt16LE(eocd + 10),
    size: tail.readUInt32LE(eocd + 12),
    offset: tail.readUInt32LE(eocd + 16),
    endStart: tailStart + eocd,
  };
}

/**
 * Zip64 end-of-central-directory locator (20 bytes, just before the EOCD):
 *   0 4 signature 0x07064b50  4 4 disk  8 8 offset of the zip64 EOCD record  16 4 disks
 * Zip64 end-of-central-directory record (56 bytes + extensible data):
 *   0 4 signature 0x06064b50  4 8 record size  12 2 made by  14 2 needed
 *  16 4 disk  20 4 directory's disk  24 8 entries on disk  32 8 entries total
 *  40 8 directory size  48 8 directory offset
 */
async function readZip64End(
  src: ByteSource,
  tail: Buffer,
  tailStart: number,
  loc: number,
): Promise<DirectoryPlace> {
  const at = u64(tail, loc + 8, src);
  if (at + ZIP64_EOCD_BYTES > tailStart + loc) throw corrupt(src, "bad zip64 locator", { at });
  const rec =
    at >= tailStart
      ? tail.subarray(at - tailStart, at - tailStart + ZIP64_EOCD_BYTES)
      : await src.read(at, ZIP64_EOCD_BYTES);
  if (rec.readUInt32LE(0) !== SIG_ZIP64_EOCD) throw corrupt(src, "bad zip64 end record", { at });
  return {
    count: u64(rec, 32, src),
    size: u64(rec, 40, src),
    offset: u64(rec, 48, src),
    endStart: at,
  };
}

/**
 * Central directory file header (46 bytes + name + extra + comment):
 *   0 4 signature 0x02014b50   4 2 made by   6 2 needed   8 2 flags  10 2 method
 *  12 2 time  14 2 date  16 4 crc-32  20 4 compressed size  24 4 uncompressed size
 *  28 2 name length  30 2 extra length  32 2 comment length  34 2 disk
 *  36 2 internal attrs  38 4 external attrs  42 4 local header offset
 */
function parseEntries(src: ByteSource, dir: Buffer, place: DirectoryPlace): Map<string, ZipEntry> {
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < place.count; i++) {
    if (p + CENTRAL_BYTES > dir.length || dir.readUInt32LE(p) !== SIG_CENTRAL) {
      throw corrupt(src, `bad central directory header #${i}`, { offset: place.offset + p });
    }
    const nameLen = dir.readUInt16LE(p + 28);
    const extraLen = dir.readUInt16LE(p + 30);
    const next = p + CENTRAL_BYTES + nameLen + extraLen + dir.readUInt16LE(p + 32);
    if (next > dir.length) throw corrupt(src, `central directory header #${i} is cut short`);
    const name = dir.toString("utf8", p + CENTRAL_BYTES, p + CENTRAL_BYTES + nameLen);
    const extra = dir.subarray(p + CENTRAL_BYTES + nameLen, p + CENTRAL_BYTES + nameLen + extraLen);
    const e = withZip64(src, name, extra, {
      name,
      flags: dir.readUInt16LE(p + 8),
      method: dir.readUInt16LE(p + 10),
      crc32: dir.readUInt32LE(p + 16),
      compressedSize: dir.readUInt32LE(p + 20),
      uncompressedSize: dir.readUInt32LE(p + 24),
      localHeaderOffset: dir.readUInt32LE(p + 42),
    });
    p = next;
    if (name.endsWith("/")) continue;
    checkEntry(src, e, place.offset);
    if (entries.has(name)) {
      throw new CorruptError("E_ZIP_DUPLICATE", `${src.location}: entry ${name} appears twice`, {
        path: src.location,
        entry: name,
      });
    }
    entries.set(name, e);
  }
  return entries;
}

/**
 * Zip64 extended information extra field (id 0x0001): 8-byte values, present in this
 * order only for the fields whose 32-bit value is 0xffffffff: uncompressed size,
 * compressed size, local header offset (then a 4-byte disk number).
 */
function withZip64(src: ByteSource, name: string, extra: Buffer, e: ZipEntry): ZipEntry {
  const MAX32 = 0xffffffff;
  if (e.uncompressedSize !== MAX32 && e.compressedSize !== MAX32 && e.localHeaderOffset !== MAX32)
    return e;
  for (let q = 0; q + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(q);
    const len = extra.readUInt16LE(q + 2);
    if (id === ZIP64_EXTRA_ID) {
      const f = extra.subarray(q + 4, q + 4 + len);
      let r = 0;
      const take = (v: number) => {
        if (v !== MAX32) return v;
        if (r + 8 > f.length) throw corrupt(src, `short zip64 field in ${name}`, { entry: name });
        r += 8;
        return u64(f, r - 8, src);
      };
      const uncompressedSize = take(e.uncompressedSize);
      const compressedSize = take(e.compressedSize);
      return {
        ...e,
        uncompressedSize,
        compressedSize,
        localHeaderOffset: take(e.localHeaderOffset),
      };
    }
    q += 4 + len;
  }
  throw corrupt(src, `entry ${name} needs a zip64 field and has none`, { entry: name });
}

function checkEntry(src: ByteSource, e: ZipEntry, directoryOffset: number): void {
  if (e.flags & FLAG_ENCRYPTED) {
    throw new UnsupportedError("E_UNSUPPORTED", `${src.location}: entry ${e.name} is encrypted`, {
      path: src.location,
      entry: e.name,
    });
  }
  if (e.method !== METHOD_STORED && e.method !== METHOD_DEFLATED) {
    throw new UnsupportedError(
      "E_UNSUPPORTED",
      `${src.location}: entry ${e.name} uses compression method ${e.method}`,
      { path: src.location, entry: e.name, method: e.method },
    );
  }
  const end =
    e.localHeaderOffset + LOCAL_HEADER_BYTES + Buffer.byteLength(e.name) + e.compressedSize;
  if (end > directoryOffset) {
    throw corrupt(src, `entry ${e.name} lies outside the archive's data`, {
      entry: e.name,
      offset: e.localHeaderOffset,
    });
  }
  if (e.method === METHOD_STORED && e.compressedSize !== e.uncompressedSize) {
    throw new CorruptError(
      "E_ZIP_SIZE_MISMATCH",
      `${src.location}: stored entry ${e.name} has two sizes`,
      { path: src.location, entry: e.name },
    );
  }
}

/**
 * Local file header (30 bytes + name + extra), before each entry's data:
 *   0 4 signature 0x04034b50  4 2 needed  6 2 flags  8 2 method  10 2 time  12 2 date
 *  14 4 crc-32  18 4 compressed size  22 4 uncompressed size  26 2 name length
 *  28 2 extra length
 * Answers the length of header + name + extra; E_ZIP_CORRUPT when it disagrees with `e`.
 */
export function localHeaderLength(src: ByteSource, e: ZipEntry, head: Buffer): number {
  const nameLen = Buffer.byteLength(e.name);
  if (
    head.length < LOCAL_HEADER_BYTES ||
    head.readUInt32LE(0) !== SIG_LOCAL ||
    head.readUInt16LE(8) !== e.method ||
    head.readUInt16LE(26) !== nameLen
  ) {
    throw corrupt(src, `local header of ${e.name} does not match the central directory`, {
      entry: e.name,
      offset: e.localHeaderOffset,
    });
  }
  return LOCAL_HEADER_BYTES + nameLen + head.readUInt16LE(28);
}
