/**
 * Parses and validates a super-chunk header. The fixed prefix alone gives the header's
 * length, so a range reader fetches the prefix, then the header, then the payload.
 */
import { type CodecName, codecNameOfId } from "../codec/codec.js";
import { FormatError, UnsupportedError } from "../errors.js";
import { FORMAT_VERSION, HASH_BYTES, SUPERCHUNK_MAX_BYTES, type SubBlockHash } from "../types.js";
import {
  type SuperChunkEntry,
  type SuperChunkHeader,
  type SuperChunkLocation,
  superChunkCorrupt,
} from "./superchunk-header.js";
import {
  computeHeaderCrc,
  FIELD,
  headerBytesFor,
  SUPERCHUNK_ENTRY_BYTES,
  SUPERCHUNK_MAGIC,
  SUPERCHUNK_MAX_ENTRIES,
  SUPERCHUNK_PREFIX_BYTES,
} from "./superchunk-layout.js";

interface Prefix {
  version: number;
  count: number;
  headerBytes: number;
}

function view(buf: Uint8Array): Buffer {
  return Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
}

function checkMagic(b: Buffer, where: SuperChunkLocation | undefined): void {
  const n = Math.min(b.byteLength, SUPERCHUNK_MAGIC.byteLength);
  if (!b.subarray(0, n).equals(SUPERCHUNK_MAGIC.subarray(0, n))) {
    throw new FormatError(
      "E_BAD_MAGIC",
      `${where?.path ?? "super-chunk"}: not a super-chunk (bad magic)`,
      {
        ...where,
        offset: 0,
      },
    );
  }
  if (b.byteLength < SUPERCHUNK_PREFIX_BYTES) {
    throw superChunkCorrupt(
      where,
      b.byteLength,
      `truncated: ${b.byteLength} bytes, the prefix has ${SUPERCHUNK_PREFIX_BYTES}`,
    );
  }
}

/** Reads magic, version and the table size from the fixed prefix. */
function readPrefix(b: Buffer, where: SuperChunkLocation | undefined): Prefix {
  checkMagic(b, where);
  const version = b.readUInt16LE(FIELD.version);
  if (version === 0) throw superChunkCorrupt(where, FIELD.version, "format version 0");
  if (version > FORMAT_VERSION) {
    throw new FormatError(
      "E_FORMAT_VERSION",
      `${where?.path ?? "super-chunk"}: format version ${version} is newer than ${FORMAT_VERSION}, the newest this build reads`,
      { ...where, version, supported: FORMAT_VERSION, offset: FIELD.version },
    );
  }
  const count = b.readUInt32LE(FIELD.count);
  if (count > SUPERCHUNK_MAX_ENTRIES) {
    throw superChunkCorrupt(
      where,
      FIELD.count,
      `${count} entries, at most ${SUPERCHUNK_MAX_ENTRIES}`,
    );
  }
  const headerBytes = b.readUInt32LE(FIELD.headerBytes);
  if (headerBytes !== headerBytesFor(count)) {
    throw superChunkCorrupt(
      where,
      FIELD.headerBytes,
      `header length ${headerBytes} does not fit ${count} entries`,
    );
  }
  return { version, count, headerBytes };
}

/**
 * Length of the whole header (prefix + table), from the fixed prefix alone
 * (at least SUPERCHUNK_PREFIX_BYTES bytes). Checks magic and version, not the CRC.
 */
export function headerLength(prefix: Uint8Array, where?: SuperChunkLocation): number {
  return readPrefix(view(prefix), where).headerBytes;
}

/** Reads a u64 size field and bounds it by SUPERCHUNK_MAX_BYTES. */
function readSize(b: Buffer, offset: number, where: SuperChunkLocation | undefined): number {
  const value = b.readBigUInt64LE(offset);
  if (value > BigInt(SUPERCHUNK_MAX_BYTES)) {
    throw superChunkCorrupt(where, offset, `size ${value} exceeds ${SUPERCHUNK_MAX_BYTES}`);
  }
  return Number(value);
}

function readCodec(b: Buffer, where: SuperChunkLocation | undefined): CodecName {
  const id = b.readUInt8(FIELD.codec);
  const codec = codecNameOfId(id);
  if (codec === undefined) {
    throw new UnsupportedError(
      "E_CODEC_UNKNOWN",
      `${where?.path ?? "super-chunk"}: unknown codec id ${id}`,
      {
        ...where,
        codecId: id,
        offset: FIELD.codec,
      },
    );
  }
  return codec;
}

/** Flags and the reserved word are 0 in version 1; anything else needs a newer reader. */
function checkReserved(b: Buffer, where: SuperChunkLocation | undefined): void {
  const flags = b.readUInt8(FIELD.flags);
  const reserved = b.readUInt32LE(FIELD.reserved);
  if (flags !== 0 || reserved !== 0) {
    throw new FormatError(
      "E_FORMAT_VERSION",
      `${where?.path ?? "super-chunk"}: unknown flags ${flags}/${reserved}`,
      {
        ...where,
        flags,
        reserved,
        offset: flags !== 0 ? FIELD.flags : FIELD.reserved,
      },
    );
  }
}

/** Copies the table out (so the header does not pin `b`) and checks the lengths. */
function readEntries(
  b: Buffer,
  p: Prefix,
  rawBytes: number,
  where: SuperChunkLocation | undefined,
): SuperChunkEntry[] {
  const table = Buffer.from(b.subarray(SUPERCHUNK_PREFIX_BYTES, p.headerBytes));
  const entries: SuperChunkEntry[] = new Array(p.count);
  let sum = 0;
  for (let i = 0; i < p.count; i++) {
    const at = i * SUPERCHUNK_ENTRY_BYTES;
    const length = table.readUInt32LE(at + HASH_BYTES);
    if (length === 0)
      throw superChunkCorrupt(where, SUPERCHUNK_PREFIX_BYTES + at, `entry ${i} is empty`);
    sum += length;
    entries[i] = { hash: table.subarray(at, at + HASH_BYTES) as SubBlockHash, length };
  }
  if (sum !== rawBytes) {
    throw superChunkCorrupt(
      where,
      SUPERCHUNK_PREFIX_BYTES,
      `entries sum to ${sum}, raw bytes is ${rawBytes}`,
    );
  }
  return entries;
}

/**
 * Decodes the header at the start of `buf` (the whole file, or at least its header).
 * @throws FormatError E_BAD_MAGIC, E_FORMAT_VERSION; UnsupportedError E_CODEC_UNKNOWN;
 *   CorruptError E_SUPERCHUNK_CORRUPT (truncated, CRC mismatch, inconsistent sizes),
 *   each with `data` {superChunkId, path, offset}.
 */
export function decodeHeader(buf: Uint8Array, where?: SuperChunkLocation): SuperChunkHeader {
  const b = view(buf);
  const p = readPrefix(b, where);
  if (b.byteLength < p.headerBytes) {
    throw superChunkCorrupt(
      where,
      b.byteLength,
      `truncated: header has ${p.headerBytes} bytes, got ${b.byteLength}`,
    );
  }
  if (computeHeaderCrc(b, p.headerBytes) !== b.readUInt32LE(FIELD.headerCrc)) {
    throw superChunkCorrupt(where, FIELD.headerCrc, "header CRC mismatch");
  }
  checkReserved(b, where);
  const codec = readCodec(b, where);
  const rawBytes = readSize(b, FIELD.rawBytes, where);
  const storedBytes = readSize(b, FIELD.storedBytes, where);
  if (storedBytes > rawBytes || (codec === "none" && storedBytes !== rawBytes)) {
    throw superChunkCorrupt(
      where,
      FIELD.storedBytes,
      `stored ${storedBytes} bytes for ${rawBytes} raw (${codec})`,
    );
  }
  const entries = readEntries(b, p, rawBytes, where);
  const rawCrc = b.readUInt32LE(FIELD.rawCrc);
  const storedCrc = b.readUInt32LE(FIELD.storedCrc);
  return {
    version: p.version,
    codec,
    rawBytes,
    storedBytes,
    rawCrc,
    storedCrc,
    entries,
    headerBytes: p.headerBytes,
  };
}
