/**
 * The packed form of a store's database. A store that pack has just written is
 * read-mostly, so its SQLite file is kept zstd-compressed (like squashfs and
 * DwarFS compress their metadata): superchunk.db.zst. Opening read-only inflates
 * it into memory; opening for writing first turns it back into superchunk.db
 * (written, synced, renamed) and only then removes the packed copy, so a crash
 * leaves one of the two complete.
 *
 * Layout (little-endian):
 *   0  4  magic "SCDB"
 *   4  2  version (1)
 *   6  2  reserved, 0
 *   8  8  raw bytes (the SQLite image)
 *  16  4  crc32 of the raw bytes
 *  20  4  crc32 of the payload
 *  24  …  zstd frames of the raw bytes, one or more, concatenated (a decoder reads them
 *           as one stream; pack writes one frame per part of the image)
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { crc32 } from "node:zlib";
import { getCodec } from "../codec/codec-registry.js";
import { CorruptError, FormatError, wrapFsError } from "../errors.js";
import { fsyncDirSync, writeFileDurably } from "./durable.js";

export const PACKED_DB_SUFFIX = ".zst";
const MAGIC = Buffer.from("SCDB");
const HEADER_BYTES = 24;
const VERSION = 1;
/** A packed database above this is refused as damaged rather than inflated. */
const MAX_DB_BYTES = 16 * 1024 * 1024 * 1024;
const LEVEL = 19;

/**
 * Compresses `dbFile` into `dbFile.zst` (durably) and removes `dbFile`. Returns the packed
 * size. `packed`: the packed form of the file's bytes, when the caller made it already.
 */
export function packDatabaseFile(
  dbFile: string,
  packed = encodePackedDatabase(fs.readFileSync(dbFile)),
): number {
  const out = `${dbFile}${PACKED_DB_SUFFIX}`;
  writeFileDurably(out, packed);
  removePlainDatabase(dbFile);
  return packed.length;
}

/** Removes `dbFile` and its WAL and shared-memory files once its packed form is in place. */
function removePlainDatabase(dbFile: string): void {
  fs.rmSync(dbFile);
  for (const side of ["-wal", "-shm"]) fs.rmSync(`${dbFile}${side}`, { force: true });
  fsyncDirSync(path.dirname(dbFile));
}

/** Hands over one part of the image and its zstd frame, in order (the metadata copy). */
export type PackedPartSink = (raw: Buffer, frame: Buffer, index: number) => Promise<void>;

/**
 * Codes one part of the image into a zstd frame at `level` (the frame must be what the zstd
 * codec's `compress` makes of it); `raw` is shared memory, left alone until this settles.
 */
export type PartCompressor = (raw: Buffer, level: number) => Buffer | Promise<Buffer>;

/** zstd on this thread: the default PartCompressor. */
function compressHere(raw: Buffer, level: number): Buffer {
  return getCodec("zstd").compress(raw, level) as Buffer;
}

/**
 * Packs `dbFile` into `dbFile.zst` part by part: at most `partBytes` of the image is read at a
 * time and compressed (level 19) into a frame of its own, which goes to `onPart` and is
 * appended to the payload, so neither the image nor its packed form is ever held whole. The
 * file is written to a temporary sibling, synced and renamed, then `dbFile` is removed (as
 * packDatabaseFile does). Returns the packed size.
 *
 * `compress` codes each part; given one that runs on a worker (pack's), this thread stays
 * free while a part is coded (tens of seconds at level 19), so the collector can finish
 * what it started. On this thread it could not: the 64 MiB part starts a collection, and
 * the columns pack has just let go of (200 MiB and more at a million files) stayed resident
 * beside the part and the zstd context until the part was coded.
 */
export async function packDatabaseFileByParts(
  dbFile: string,
  partBytes: number,
  onPart: PackedPartSink,
  compress: PartCompressor = compressHere,
): Promise<number> {
  const out = `${dbFile}${PACKED_DB_SUFFIX}`;
  const tmp = `${out}.tmp-${process.pid}`;
  let src: number | undefined;
  let dst: number | undefined;
  try {
    src = fs.openSync(dbFile, "r");
    dst = fs.openSync(tmp, "w", 0o644);
    // shared memory: a worker's compressor reads it in place, without a copy
    const part = Buffer.from(new SharedArrayBuffer(partBytes));
    let rawBytes = 0;
    let rawCrc = 0;
    let payloadCrc = 0;
    let at = HEADER_BYTES;
    for (let index = 0; ; index++) {
      const n = readFull(src, part, rawBytes);
      if (n === 0 && index > 0) break;
      const raw = part.subarray(0, n);
      const frame = await compress(raw, LEVEL);
      rawCrc = crc32(raw, rawCrc);
      payloadCrc = crc32(frame, payloadCrc);
      rawBytes += n;
      await onPart(raw, frame, index);
      fs.writeSync(dst, frame, 0, frame.length, at);
      at += frame.length;
      if (n < partBytes) break;
    }
    fs.writeSync(dst, packedHeader(rawBytes, rawCrc, payloadCrc), 0, HEADER_BYTES, 0);
    fs.fsyncSync(dst);
    fs.closeSync(dst);
    dst = undefined;
    fs.renameSync(tmp, out);
    fs.closeSync(src);
    src = undefined;
    removePlainDatabase(dbFile);
    return at;
  } catch (err) {
    if (dst !== undefined) fs.closeSync(dst);
    fs.rmSync(tmp, { force: true });
    throw wrapFsError(err, dbFile, "pack database");
  } finally {
    if (src !== undefined) fs.closeSync(src);
  }
}

/** Reads until `buf` is full or the file ends; the bytes read. */
function readFull(fd: number, buf: Buffer, position: number): number {
  let got = 0;
  while (got < buf.length) {
    const n = fs.readSync(fd, buf, got, buf.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

function packedHeader(rawBytes: number, rawCrc: number, payloadCrc: number): Buffer {
  const head = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(head, 0);
  head.writeUInt16LE(VERSION, 4);
  head.writeBigUInt64LE(BigInt(rawBytes), 8);
  head.writeUInt32LE(rawCrc, 16);
  head.writeUInt32LE(payloadCrc, 20);
  return head;
}

/**
 * The packed form (header + zstd frame) of a raw SQLite image; `level` 19 by default (a
 * writer publishing while it serves uses a faster one).
 */
export function encodePackedDatabase(raw: Buffer, level = LEVEL): Buffer {
  const payload = getCodec("zstd").compress(raw, level) as Buffer;
  return Buffer.concat([packedHeader(raw.length, crc32(raw), crc32(payload)), payload]);
}

/** The zstd frame inside a packed database (its payload). */
export function packedPayload(packed: Buffer): Buffer {
  return packed.subarray(HEADER_BYTES);
}

/** Inflates a packed database file, checking both checksums and the declared size. */
export function readPackedDatabase(packedFile: string): Buffer {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(packedFile);
  } catch (err) {
    throw wrapFsError(err, packedFile, "read packed database");
  }
  return decodePackedDatabase(buf, packedFile);
}

/**
 * Inflates a packed database held in memory (e.g. an archive's entry), checking both
 * checksums and the declared size; `label` names it in errors.
 */
export function decodePackedDatabase(buf: Buffer, label: string): Buffer {
  const where = { path: label };
  if (buf.length < HEADER_BYTES || !buf.subarray(0, 4).equals(MAGIC)) {
    throw new CorruptError("E_CORRUPT", `${label}: not a packed superchunk database`, where);
  }
  if (buf.readUInt16LE(4) > VERSION) {
    throw new FormatError("E_FORMAT_VERSION", `${label}: packed database version is newer`, where);
  }
  const rawBytes = Number(buf.readBigUInt64LE(8));
  const payload = buf.subarray(HEADER_BYTES);
  if (rawBytes > MAX_DB_BYTES || crc32(payload) !== buf.readUInt32LE(20)) {
    throw new CorruptError("E_CORRUPT", `${label}: packed database is damaged`, where);
  }
  const raw = getCodec("zstd").inflate(payload, rawBytes) as Buffer;
  if (crc32(raw) !== buf.readUInt32LE(16)) {
    throw new CorruptError("E_CORRUPT", `${label}: packed database checksum mismatch`, where);
  }
  return raw;
}

/** Turns `dbFile.zst` back into `dbFile` for writing; a no-op when `dbFile` exists. */
export function unpackDatabaseFile(dbFile: string): void {
  const packed = `${dbFile}${PACKED_DB_SUFFIX}`;
  if (fs.existsSync(dbFile)) {
    // a crash after the rename below left both: the plain file is the live one
    fs.rmSync(packed, { force: true });
    return;
  }
  writeFileDurably(dbFile, readPackedDatabase(packed));
  fs.rmSync(packed);
  fsyncDirSync(path.dirname(dbFile));
}
