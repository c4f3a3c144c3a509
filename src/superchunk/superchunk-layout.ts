/**
 * Byte layout of a super-chunk file (normative text: spec/FORMAT.md). All integers are
 * little-endian. A file is a fixed 48-byte prefix, a table of `count` 36-byte entries,
 * then the stored (compressed) payload:
 *
 * | offset | size | field                                                          |
 * | -----: | ---: | -------------------------------------------------------------- |
 * |      0 |    4 | magic "SCHK"                                                   |
 * |      4 |    2 | format version (u16)                                           |
 * |      6 |    1 | codec id (u8): none 0, zstd 1, xz 2, lz4 3                     |
 * |      7 |    1 | flags (u8), 0 in version 1                                     |
 * |      8 |    4 | sub-block count (u32)                                          |
 * |     12 |    4 | header bytes (u32) = 48 + 36 * count: offset of the payload    |
 * |     16 |    8 | raw bytes (u64): inflated payload length                       |
 * |     24 |    8 | stored bytes (u64): payload length in the file                 |
 * |     32 |    4 | CRC-32 of the raw payload                                      |
 * |     36 |    4 | CRC-32 of the stored payload                                   |
 * |     40 |    4 | reserved, 0                                                    |
 * |     44 |    4 | CRC-32 of header bytes [0, 44) followed by [48, header bytes)  |
 * |     48 | 36·n | entries: SHA-256 of the sub-block (32), its length (u32)       |
 */
import { crc32 } from "node:zlib";

/** The four bytes every super-chunk file starts with. */
export const SUPERCHUNK_MAGIC = Buffer.from("SCHK", "latin1");
/** Length of the fixed prefix; it alone tells the length of the whole header. */
export const SUPERCHUNK_PREFIX_BYTES = 48;
/** Length of one table entry: hash (32) + length (4). */
export const SUPERCHUNK_ENTRY_BYTES = 36;
/** Most entries a super-chunk may list (bounds the header a reader fetches: ~36 MiB). */
export const SUPERCHUNK_MAX_ENTRIES = 1 << 20;

/** Offsets of the prefix fields. */
export const FIELD = {
  magic: 0,
  version: 4,
  codec: 6,
  flags: 7,
  count: 8,
  headerBytes: 12,
  rawBytes: 16,
  storedBytes: 24,
  rawCrc: 32,
  storedCrc: 36,
  reserved: 40,
  headerCrc: 44,
} as const;

/** Header length for `count` entries. */
export function headerBytesFor(count: number): number {
  return SUPERCHUNK_PREFIX_BYTES + SUPERCHUNK_ENTRY_BYTES * count;
}

/** CRC-32 of a header: bytes [0, 44) then [48, headerBytes), skipping the CRC field. */
export function computeHeaderCrc(header: Uint8Array, headerBytes: number): number {
  const head = crc32(header.subarray(0, FIELD.headerCrc));
  return crc32(header.subarray(SUPERCHUNK_PREFIX_BYTES, headerBytes), head);
}
