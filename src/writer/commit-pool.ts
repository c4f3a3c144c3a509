/**
 * The commit's cutting and hashing off the serving thread: a workers/ WorkerPool running
 * commit-worker.ts. A run (a stretch of data a commit cuts, window by window) of at most
 * INLINE_BYTES is cut on the calling thread (a worker round trip costs more than it
 * does); a longer one goes to the worker window by window, so the serving thread only
 * reads, looks up and appends between jobs. One thread: a commit runs one job at a time
 * (commits are serialized by the store's mutex), and a run's whole-file hash stays in that
 * thread between its windows. The worker starts on the first long run.
 */
import { createHash, type Hash } from "node:crypto";
import type { ChunkerParams } from "../chunker/chunker-params.js";
import { KIB, MIB } from "../types.js";
import { WorkerPool } from "../workers/worker-pool.js";
import type { CutReply, CutRequest } from "./commit-protocol.js";
import { cutWindow } from "./cut-window.js";

/** Longest run cut inline (about 0.2 ms of chunking and hashing). */
export const INLINE_BYTES = 256 * KIB;

/** Bytes of a file a commit reads at a time (plus up to one sub-block carried over). */
export const WINDOW_BYTES = 4 * MIB;

const WORKER_URL = new URL("./commit-worker.js", import.meta.url);

/** One run's windows, cut in order. */
export interface CutRun {
  /**
   * Cuts `data` (see cutWindow); answers the cuts and the bytes (`data` itself may be
   * detached: use the reply's). The reply of the last window carries the run's digest
   * when one was asked for.
   */
  cut(data: Uint8Array, last: boolean): Promise<CutReply>;
}

/** Cuts runs of commits, inline or on the worker. */
export class CommitPool {
  readonly #pool = new WorkerPool<CutRequest, CutReply>({
    script: WORKER_URL,
    threads: 1,
    name: "commit",
  });
  #nextStream = 1;
  /** the window buffer every run reads into, in shared memory (see `window`) */
  #window: Uint8Array | undefined;

  /**
   * A buffer of `bytes` for a run's next window: shared memory, reused by every window of
   * every run (commits take turns under the store's mutex, and a window's bytes are done
   * with before the next is read). Reused, its pages are not faulted in again for each
   * window; shared, the worker reads it in place, with nothing copied or moved.
   */
  window(bytes: number): Uint8Array {
    if (this.#window === undefined || this.#window.byteLength < bytes) {
      this.#window = new Uint8Array(new SharedArrayBuffer(Math.max(bytes, WINDOW_BYTES + MIB)));
    }
    return this.#window.subarray(0, bytes);
  }

  /** Starts a run of `length` bytes; `digest`: also hash the run's bytes as a whole. */
  run(length: number, params: ChunkerParams, digest: boolean): CutRun {
    if (length <= INLINE_BYTES) return inlineRun(params, digest);
    const stream = digest ? this.#nextStream++ : undefined;
    return {
      cut: (data, last) => {
        // shared memory is read in place; else the whole ArrayBuffer moves (a view into a
        // larger one is copied first)
        if (data.buffer instanceof SharedArrayBuffer) {
          return this.#pool.run({ data, params, last, stream }, { transfer: [], urgent: true });
        }
        const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
        const req: CutRequest = { data: own ? data : data.slice(), params, last, stream };
        return this.#pool.run(req, { transfer: [req.data.buffer as ArrayBuffer], urgent: true });
      },
    };
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}

function inlineRun(params: ChunkerParams, digest: boolean): CutRun {
  const whole: Hash | undefined = digest ? createHash("sha256") : undefined;
  return {
    cut: async (data, last) => {
      const cuts = cutWindow(data, params, last, whole);
      return { ...cuts, data, ...(last && whole && { digest: whole.digest() }) };
    },
  };
}
