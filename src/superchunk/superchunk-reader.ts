/**
 * Reads a whole super-chunk file: header, stored CRC, bounded inflate, raw CRC. The raw
 * CRC is computed by the codec worker that inflated the payload (CodecPool.inflateChecked),
 * off the calling thread.
 */
import { crc32 } from "node:zlib";
import type { CodecPool, InflateJobOptions } from "../codec/codec-pool.js";
import { CorruptError, EngineError } from "../errors.js";
import { decodeHeader } from "./decode-header.js";
import {
  type SuperChunkHeader,
  type SuperChunkLocation,
  superChunkCorrupt,
} from "./superchunk-header.js";

/** A super-chunk read and checked: its header and its inflated payload. */
export interface InflatedSuperChunk {
  header: SuperChunkHeader;
  raw: Buffer;
}

/** Adds the super-chunk's location to a corruption found by the codec. */
function locate(err: unknown, where: SuperChunkLocation | undefined, h: SuperChunkHeader): unknown {
  if (!(err instanceof CorruptError)) return err;
  const data = {
    ...err.data,
    superChunkId: where?.superChunkId,
    path: where?.path,
    offset: h.headerBytes,
  };
  if (err.code === "E_INFLATE_BOUND") return new CorruptError(err.code, err.message, data, err);
  return superChunkCorrupt(
    where,
    h.headerBytes,
    `${h.codec} payload does not inflate: ${err.message}`,
    err,
  );
}

/**
 * Verifies the stored CRC, inflates (bounded by the header's raw bytes) and verifies
 * the raw CRC. `file` must be exactly header + payload. `job` is passed to the pool
 * (`urgent` when a reader waits for this super-chunk).
 * @throws CorruptError E_SUPERCHUNK_CORRUPT or E_INFLATE_BOUND, and whatever
 *   decodeHeader throws; every error carries `where` in its data.
 */
export async function inflateSuperChunk(
  file: Uint8Array,
  pool: CodecPool,
  where?: SuperChunkLocation,
  job: InflateJobOptions = {},
): Promise<InflatedSuperChunk> {
  const header = decodeHeader(file, where);
  const end = header.headerBytes + header.storedBytes;
  if (file.byteLength !== end) {
    const what = file.byteLength < end ? "truncated" : "trailing bytes";
    throw superChunkCorrupt(
      where,
      Math.min(file.byteLength, end),
      `${what}: file has ${file.byteLength} bytes, header says ${end}`,
    );
  }
  const stored = file.subarray(header.headerBytes, end);
  if (crc32(stored) !== header.storedCrc) {
    throw superChunkCorrupt(where, header.headerBytes, "stored payload CRC mismatch");
  }
  let inflated: { raw: Buffer; crc32: number };
  try {
    inflated = await pool.inflateChecked(header.codec, stored, header.rawBytes, job);
  } catch (err) {
    throw err instanceof EngineError ? locate(err, where, header) : err;
  }
  const { raw } = inflated;
  if (inflated.crc32 !== header.rawCrc) {
    throw superChunkCorrupt(where, header.headerBytes, "raw payload CRC mismatch");
  }
  return { header, raw };
}
