/**
 * Structural walk of a .xz stream (xz file format 1.0.4) before it is decoded: the
 * stream header, every block header (each must declare its compressed and its
 * uncompressed size), then an index and footer that end exactly at the end of the
 * data, so no second stream can follow. liblzma enforces each block's declared
 * uncompressed size while decoding, so the sum returned here bounds the output.
 */
import { crc32 } from "node:zlib";
import type { CorruptError } from "../errors.js";
import { inflateBoundError, streamCorruptError } from "./bounds.js";

const STREAM_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
/** Stream header: magic (6), stream flags (2), CRC-32 of the flags (4). */
const STREAM_HEADER_BYTES = 12;
/** Stream footer: CRC-32 (4), backward size (4), stream flags (2), "YZ" (2). */
const STREAM_FOOTER_BYTES = 12;
/** Size of the integrity check of each block, indexed by check id. */
const CHECK_BYTES = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];
const FLAG_COMPRESSED_SIZE = 0x40;
const FLAG_UNCOMPRESSED_SIZE = 0x80;
const FLAG_RESERVED = 0x3c;

function corrupt(detail: string, offset: number): CorruptError {
  return streamCorruptError("xz", `${detail} at offset ${offset}`, { offset });
}

/** Reads a variable-length integer at `pos`; returns [value, bytes used]. */
function readVli(buf: Buffer, pos: number, end: number): [number, number] {
  let value = 0;
  for (let i = 0; i < 8 && pos + i < end; i++) {
    const byte = buf[pos + i]!;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) {
      if (byte === 0 && i > 0) throw corrupt("non-minimal integer", pos);
      return [value, i + 1];
    }
  }
  throw corrupt("bad or oversized integer", pos);
}

/** Validates the stream header; returns the check size of every block. */
function readStreamHeader(buf: Buffer): number {
  if (buf.byteLength < STREAM_HEADER_BYTES + STREAM_FOOTER_BYTES) throw corrupt("truncated", 0);
  if (!buf.subarray(0, 6).equals(STREAM_MAGIC)) throw corrupt("not an xz stream", 0);
  const flags = buf.subarray(6, 8);
  if (flags[0] !== 0 || (flags[1]! & 0xf0) !== 0) throw corrupt("unsupported stream flags", 6);
  if (crc32(flags) !== buf.readUInt32LE(8)) throw corrupt("stream header CRC mismatch", 8);
  return CHECK_BYTES[flags[1]! & 0x0f]!;
}

/** Reads the block header at `pos`; returns its total block size and uncompressed size. */
function readBlock(buf: Buffer, pos: number, checkBytes: number): [number, number] {
  const headerBytes = (buf[pos]! + 1) * 4;
  const end = pos + headerBytes;
  if (end > buf.byteLength) throw corrupt("truncated block header", pos);
  if (crc32(buf.subarray(pos, end - 4)) !== buf.readUInt32LE(end - 4)) {
    throw corrupt("block header CRC mismatch", pos);
  }
  const flags = buf[pos + 1]!;
  if (flags & FLAG_RESERVED) throw corrupt("reserved block flags set", pos + 1);
  if (!(flags & FLAG_COMPRESSED_SIZE) || !(flags & FLAG_UNCOMPRESSED_SIZE)) {
    throw inflateBoundError("xz", 0, "a block does not declare its sizes", { offset: pos });
  }
  const [compressed, n1] = readVli(buf, pos + 2, end - 4);
  const [uncompressed] = readVli(buf, pos + 2 + n1, end - 4);
  if (compressed === 0) throw corrupt("empty block", pos);
  const blockBytes = headerBytes + Math.ceil(compressed / 4) * 4 + checkBytes;
  if (pos + blockBytes > buf.byteLength) throw corrupt("truncated block", pos);
  return [blockBytes, uncompressed];
}

/** Checks that the index at `pos` and the footer end exactly at the end of `buf`. */
function checkTail(buf: Buffer, pos: number): void {
  const footer = buf.byteLength - STREAM_FOOTER_BYTES;
  if (buf.readUInt16BE(footer + 10) !== 0x595a) throw corrupt("missing footer magic", footer);
  const indexBytes = (buf.readUInt32LE(footer + 4) + 1) * 4;
  if (pos + indexBytes !== footer) throw corrupt("index does not end at the footer", pos);
}

/**
 * Total uncompressed size declared by the blocks of the single .xz stream in `buf`.
 * @throws CorruptError E_CORRUPT on a malformed stream, E_INFLATE_BOUND on a block
 *   that does not declare its sizes.
 */
export function xzDeclaredSize(buf: Buffer): number {
  const checkBytes = readStreamHeader(buf);
  let pos = STREAM_HEADER_BYTES;
  let total = 0;
  while (pos < buf.byteLength - STREAM_FOOTER_BYTES && buf[pos] !== 0) {
    const [blockBytes, uncompressed] = readBlock(buf, pos, checkBytes);
    pos += blockBytes;
    total += uncompressed;
  }
  if (buf[pos] !== 0) throw corrupt("missing index", pos);
  checkTail(buf, pos);
  return total;
}
