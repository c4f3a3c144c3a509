/**
 * Options of the content-defined chunker, with their defaults and validation in one place.
 */

import { UsageError } from "../errors.js";
import { CHUNK_AVG_BYTES, KIB, MIB, SUPERCHUNK_MAX_BYTES } from "../types.js";

/** Smallest average sub-block size the chunker accepts. */
export const CHUNK_AVG_MIN_BYTES = 1 * KIB;
/** Largest average sub-block size the chunker accepts. */
export const CHUNK_AVG_MAX_BYTES = 16 * MIB;
/** Smallest `minBytes` accepted: a sanity floor, far below any useful size. */
export const CHUNK_MIN_FLOOR_BYTES = 64;

/** How files are cut into sub-blocks. Every field is part of a store's recorded settings. */
export interface ChunkerParams {
  /**
   * Average sub-block size, a power of two in [1 KiB, 16 MiB]; default CHUNK_AVG_BYTES (32 KiB).
   * In "fixed" mode, the exact size of every sub-block but a file's last.
   */
  avgBytes: number;
  /** Smallest sub-block except a file's last; default avgBytes / 4. Ignored in "fixed" mode. */
  minBytes: number;
  /** Largest sub-block; default avgBytes * 4, at most SUPERCHUNK_MAX_BYTES. Unused when "fixed". */
  maxBytes: number;
  /** "cdc": FastCDC content-defined cuts (default); "fixed": cuts at multiples of avgBytes. */
  mode: "cdc" | "fixed";
}

/**
 * Fills the defaults of `opts` and validates the result.
 * @throws UsageError E_USAGE unless min < avg < max, avg is a power of two in [1 KiB, 16 MiB],
 *   min >= 64 and max <= SUPERCHUNK_MAX_BYTES.
 * @example
 * const p = chunkerParams({ avgBytes: 64 * KIB }); // min 16 KiB, max 256 KiB, mode "cdc"
 */
export function chunkerParams(opts: Partial<ChunkerParams> = {}): ChunkerParams {
  const avgBytes = opts.avgBytes ?? CHUNK_AVG_BYTES;
  const params: ChunkerParams = {
    avgBytes,
    minBytes: opts.minBytes ?? Math.floor(avgBytes / 4),
    maxBytes: opts.maxBytes ?? avgBytes * 4,
    mode: opts.mode ?? "cdc",
  };
  validate(params);
  return params;
}

function validate(p: ChunkerParams): void {
  const { avgBytes: avg, minBytes: min, maxBytes: max } = p;
  const fail = (why: string): never => {
    throw new UsageError("E_USAGE", `invalid chunker params: ${why}`, { ...p });
  };
  if (p.mode !== "cdc" && p.mode !== "fixed") fail(`mode must be "cdc" or "fixed"`);
  if (!Number.isSafeInteger(avg) || !Number.isSafeInteger(min) || !Number.isSafeInteger(max))
    fail("sizes must be integers");
  if (avg < CHUNK_AVG_MIN_BYTES || avg > CHUNK_AVG_MAX_BYTES || (avg & (avg - 1)) !== 0)
    fail("avgBytes must be a power of two between 1 KiB and 16 MiB");
  if (!(min < avg && avg < max)) fail("need minBytes < avgBytes < maxBytes");
  if (min < CHUNK_MIN_FLOOR_BYTES) fail(`minBytes must be at least ${CHUNK_MIN_FLOOR_BYTES}`);
  if (max > SUPERCHUNK_MAX_BYTES) fail(`maxBytes must be at most ${SUPERCHUNK_MAX_BYTES}`);
}
