/**
 * The messages between the scan pool (scan-pool.ts) and its worker body (scan-worker.ts),
 * carried as jobs of a workers/ WorkerPool. Both sides import this file; neither imports
 * the other.
 */
import type { ChunkerParams } from "../chunker/chunker-params.js";

/** One file to scan. */
export interface ScanRequest {
  /** absolute path of the file, as bytes */
  readonly path: Uint8Array;
  readonly params: ChunkerParams;
}

/** Sub-blocks of one file, in file order, as flat typed arrays (cheap to transfer). */
export interface ScanResult {
  /** SHA-256 of the whole file as read */
  readonly fileHash: Uint8Array;
  /** bytes read (the file's size at the time it was read) */
  readonly size: number;
  /** count × 32 bytes of SHA-256 (all zero for a zero run) */
  readonly hashes: Uint8Array;
  readonly lengths: Uint32Array;
  /** 1 where the sub-block is all zeros (stored as a hole) */
  readonly zero: Uint8Array;
  /** 1 where the sub-block looks already compressed (codec/dense.ts) */
  readonly dense: Uint8Array;
  /** count × SKETCH_WORDS similarity sketch words */
  readonly sketches: Uint32Array;
}
