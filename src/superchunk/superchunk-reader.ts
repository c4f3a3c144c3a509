/**
 * Reads a whole super-chunk file: header, stored CRC, bounded inflate, raw CRC. The raw
 * CRC is computed by the codec worker that inflated the payload (CodecPool.inflateChecked),
 * off the calling thread.
 */
import { crc32 } from "node:zlib";
import type { CheckedInflate, CodecPool, InflateJobOptions } from "../codec/codec-pool.js";
import { CorruptError, EngineError } from "../errors.js";
import { decodeHeader } from "./decode-header.js";
import { checkExpected, type SuperChunkExpectation } from "./superchunk-expect.js";
import {
  type SuperChunkHeader,
  type SuperChunkLocation,
  superChunkCorrupt,
} from "./superchunk-header.js";

/**
 * A super-chunk read and checked: its header and its inflated payload, whole or (when a
 * prefix was asked for) its first bytes only.
 */
export interface InflatedSuperChunk {
  header: SuperChunkHeader;
  raw: Buffer;
}

/** How a super-chunk is inflated: `urgent` as for the pool, and how much of it is needed. */
export interface SuperChunkInflateOptions extends Omit<InflateJobOptions, "into"> {
  /**
   * The reader needs the first `needBytes` raw bytes (the end of the furthest sub-block it
   * reads); a longer prefix is inflated (prefixBytesFor). Default: the whole payload.
   */
  readonly needBytes?: number;
  /**
   * Gives the shared-memory buffer (see CodecPool.inflateChecked) to inflate into, of the
   * size asked, over memory that could hold the whole payload (`slabBytes`); default: the
   * codec thread allocates.
   */
  readonly alloc?: (size: number, slabBytes: number) => Promise<Buffer>;
  /**
   * Check the raw CRC of a whole payload (rule 13); default true. The stored CRC is always
   * checked, so turning this off trusts the codec to decode what it was given; mounts do, to
   * spend a reader's CPU on reads (fsck and extract keep it on).
   */
  readonly verifyRawCrc?: boolean;
  /**
   * What the metadata row that named this super-chunk says it is: checked against the
   * header before anything else (checkExpected), so a wrong file is never inflated.
   */
  readonly expect?: SuperChunkExpectation;
}

/** Smallest prefix step: an eighth of the payload. */
const PREFIX_STEPS = 8;

/**
 * How many leading raw bytes to inflate for a reader that needs `needBytes` of `rawBytes`:
 * an eighth, a quarter, a half or all of the payload, the smallest that covers the need.
 * Super-chunks lay out what the newest tree uses first, so readers of recent data stop
 * early; doubling steps keep a reader that reaches further and further from inflating the
 * same super-chunk more than twice over in all.
 */
export function prefixBytesFor(needBytes: number, rawBytes: number): number {
  let step = Math.ceil(rawBytes / PREFIX_STEPS);
  while (step < needBytes && step < rawBytes) step *= 2;
  return Math.min(step, rawBytes);
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
 * (`urgent` when a reader waits for this super-chunk; `prefixBytes` to inflate only the
 * first bytes, when the codec can stop early: then the stored CRC alone is checked, since
 * the raw CRC covers the whole payload).
 * With `job.expect`, the header must first agree with the row that named the file.
 * @throws CorruptError E_SUPERCHUNK_CORRUPT or E_INFLATE_BOUND, and whatever
 *   decodeHeader throws; every error carries `where` in its data.
 */
export async function inflateSuperChunk(
  file: Uint8Array,
  pool: CodecPool,
  where?: SuperChunkLocation,
  job: SuperChunkInflateOptions = {},
): Promise<InflatedSuperChunk> {
  const header = decodeHeader(file, where);
  if (job.expect !== undefined) checkExpected(header, job.expect, where);
  if (job.needBytes !== undefined && job.needBytes > header.rawBytes) {
    throw superChunkCorrupt(
      where,
      0,
      `a sub-block ends at raw byte ${job.needBytes}, past the payload's ${header.rawBytes}`,
    );
  }
  const size =
    job.needBytes === undefined ? header.rawBytes : prefixBytesFor(job.needBytes, header.rawBytes);
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
  let inflated: CheckedInflate;
  try {
    // without a buffer to fill, a prefix cannot be asked for: the whole payload is inflated
    const into = await job.alloc?.(size, header.rawBytes);
    inflated = await pool.inflateChecked(header.codec, stored, header.rawBytes, {
      ...(job.urgent === undefined ? {} : { urgent: job.urgent }),
      ...(into === undefined ? {} : { into }),
      ...(job.verifyRawCrc === false ? { rawCrc: false } : {}),
    });
  } catch (err) {
    throw err instanceof EngineError ? locate(err, where, header) : err;
  }
  const { raw } = inflated;
  const checkRaw = raw.length === header.rawBytes && job.verifyRawCrc !== false;
  if (checkRaw && inflated.crc32 !== header.rawCrc) {
    throw superChunkCorrupt(where, header.headerBytes, "raw payload CRC mismatch");
  }
  return { header, raw };
}
