/**
 * The messages between the commit pool (commit-pool.ts) and its worker body
 * (commit-worker.ts), carried as jobs of a workers/ WorkerPool. Both sides import this
 * file; neither imports the other.
 */
import type { ChunkerParams } from "../chunker/chunker-params.js";
import type { WindowCuts } from "./cut-window.js";

/** One window of a commit's bytes to cut and hash (moved to the worker, moved back). */
export interface CutRequest {
  readonly data: Uint8Array;
  readonly params: ChunkerParams;
  /** the window ends its run */
  readonly last: boolean;
  /**
   * a whole-file hash to feed with the bytes cut (every window of the run names it; the
   * worker keeps it between jobs and answers its digest with the last window)
   */
  readonly stream?: number;
}

/** The cuts, and the window's bytes handed back. */
export interface CutReply extends WindowCuts {
  readonly data: Uint8Array;
  /** SHA-256 of the run's bytes, with its last window when a stream was named */
  readonly digest?: Uint8Array;
}
