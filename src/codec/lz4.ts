/**
 * The lz4 codec (lz4-napi, the lz4_flex block format). Stream format: the raw length
 * as a u32 little-endian, then one LZ4 *block* (not the LZ4 frame format; no block or
 * content checksums: the super-chunk header carries CRC-32s). lz4 has a single level, 0.
 *
 * Inflate checks the u32 prefix against the declared length before decoding, because
 * lz4_flex allocates whatever the prefix says; the decoder then refuses to write past
 * that length, and a shorter result is rejected after.
 */
import { compressSync, uncompressSync } from "lz4-napi";
import {
  asBuffer,
  checkLevel,
  checkRawLength,
  inflateBoundError,
  streamCorruptError,
} from "./bounds.js";
import { CODEC_IDS, type Codec } from "./codec.js";
import { registerCodec } from "./codec-table.js";

/** Length of the raw-length prefix. */
const LZ4_PREFIX_BYTES = 4;

function inflateLz4(data: Uint8Array, rawLength: number): Buffer {
  checkRawLength("lz4", rawLength);
  const input = asBuffer(data);
  if (input.byteLength < LZ4_PREFIX_BYTES) throw streamCorruptError("lz4", "shorter than prefix");
  const declared = input.readUInt32LE(0);
  if (declared !== rawLength) {
    throw inflateBoundError("lz4", rawLength, `stream declares ${declared}`, { declared });
  }
  let out: Buffer;
  try {
    out = uncompressSync(input);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/too small/i.test(message))
      throw inflateBoundError("lz4", rawLength, "the stream holds more", {}, err);
    throw streamCorruptError("lz4", message, {}, err);
  }
  if (out.byteLength !== rawLength) {
    throw inflateBoundError("lz4", rawLength, `got ${out.byteLength}`, {
      produced: out.byteLength,
    });
  }
  return out;
}

/** lz4 (lz4_flex); level 0 only. */
export const lz4Codec: Codec = {
  name: "lz4",
  id: CODEC_IDS.lz4,
  defaultLevel: 0,
  minLevel: 0,
  maxLevel: 0,
  compress(raw: Uint8Array, level: number): Buffer {
    checkLevel(lz4Codec, level);
    return compressSync(asBuffer(raw));
  },
  inflate: inflateLz4,
};

registerCodec(lz4Codec);
