/** Serializes a super-chunk header (see superchunk-layout.ts for the byte layout). */
import { CODEC_IDS } from "../codec/codec.js";
import { assert } from "../errors.js";
import { FORMAT_VERSION, HASH_BYTES, SUPERCHUNK_MAX_BYTES } from "../types.js";
import type { SuperChunkHeader } from "./superchunk-header.js";
import {
  computeHeaderCrc,
  FIELD,
  headerBytesFor,
  SUPERCHUNK_ENTRY_BYTES,
  SUPERCHUNK_MAGIC,
  SUPERCHUNK_MAX_ENTRIES,
  SUPERCHUNK_PREFIX_BYTES,
} from "./superchunk-layout.js";

/** The fields a writer supplies; version and headerBytes follow from them. */
export type SuperChunkHeaderInput = Omit<SuperChunkHeader, "headerBytes" | "version">;

/** Checks the invariants every header written must satisfy; InternalError if not. */
function checkInput(h: SuperChunkHeaderInput): void {
  const count = h.entries.length;
  assert(count <= SUPERCHUNK_MAX_ENTRIES, "too many entries", { count });
  assert(h.rawBytes <= SUPERCHUNK_MAX_BYTES, "raw payload too large", { rawBytes: h.rawBytes });
  assert(CODEC_IDS[h.codec] !== undefined, "unknown codec", { codec: h.codec });
  assert(h.storedBytes >= 0 && h.storedBytes <= h.rawBytes, "stored bytes out of range", {
    storedBytes: h.storedBytes,
    rawBytes: h.rawBytes,
  });
  assert(h.codec !== "none" || h.storedBytes === h.rawBytes, "codec none must store raw bytes");
  let sum = 0;
  for (const e of h.entries) {
    assert(e.hash.byteLength === HASH_BYTES, "hash must be 32 bytes");
    assert(Number.isInteger(e.length) && e.length >= 1, "entry length must be >= 1", {
      length: e.length,
    });
    sum += e.length;
  }
  assert(sum === h.rawBytes, "entry lengths must sum to raw bytes", { sum, rawBytes: h.rawBytes });
}

/**
 * Encodes the header of a super-chunk: the fixed prefix and the entry table.
 * @example const header = encodeHeader({ codec: "zstd", rawBytes, storedBytes, rawCrc, storedCrc, entries });
 */
export function encodeHeader(h: SuperChunkHeaderInput): Buffer {
  checkInput(h);
  const headerBytes = headerBytesFor(h.entries.length);
  const buf = Buffer.alloc(headerBytes);
  SUPERCHUNK_MAGIC.copy(buf, FIELD.magic);
  buf.writeUInt16LE(FORMAT_VERSION, FIELD.version);
  buf.writeUInt8(CODEC_IDS[h.codec], FIELD.codec);
  buf.writeUInt8(0, FIELD.flags);
  buf.writeUInt32LE(h.entries.length, FIELD.count);
  buf.writeUInt32LE(headerBytes, FIELD.headerBytes);
  buf.writeBigUInt64LE(BigInt(h.rawBytes), FIELD.rawBytes);
  buf.writeBigUInt64LE(BigInt(h.storedBytes), FIELD.storedBytes);
  buf.writeUInt32LE(h.rawCrc >>> 0, FIELD.rawCrc);
  buf.writeUInt32LE(h.storedCrc >>> 0, FIELD.storedCrc);
  let pos = SUPERCHUNK_PREFIX_BYTES;
  for (const e of h.entries) {
    buf.set(e.hash, pos);
    buf.writeUInt32LE(e.length, pos + HASH_BYTES);
    pos += SUPERCHUNK_ENTRY_BYTES;
  }
  buf.writeUInt32LE(computeHeaderCrc(buf, headerBytes), FIELD.headerCrc);
  return buf;
}
