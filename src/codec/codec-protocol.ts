/**
 * The messages between the codec pool (codec-pool.ts) and its worker body
 * (codec-worker.ts), carried as jobs of a workers/ WorkerPool. Both sides import this
 * file; neither imports the other.
 */
import type { CodecName } from "./codec.js";

/**
 * One compress or inflate job. `data` is owned by the message and transferred, unless it is
 * shared memory, which the worker reads in place.
 */
export interface CodecRequest {
  readonly op: "compress" | "inflate";
  readonly codec: CodecName;
  /** compression level (compress only) */
  readonly level: number;
  /** declared raw length (inflate only) */
  readonly rawLength: number;
  /**
   * inflate only: shared memory to inflate into (its length says how many leading bytes are
   * wanted); the reply then carries no data. Without it the worker allocates.
   */
  readonly into?: Uint8Array;
  /** inflate only: true asks for the CRC-32 of the whole inflated payload */
  readonly crc32?: boolean;
  readonly data: Uint8Array;
}

/** A codec worker's answer to one job. */
export interface CodecReply {
  /** the result, transferred; absent when the job inflated `into` shared memory */
  readonly data?: Uint8Array;
  /** CRC-32 (node:zlib crc32) of the inflated bytes, when the job asked and got them all */
  readonly crc32?: number;
}
