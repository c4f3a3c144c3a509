/**
 * The scan phase of pack on worker threads: each job chunks, hashes and sketches
 * one file (scan-worker.ts), so both cores cut and hash while the main thread
 * deduplicates. A thin user of the workers/ WorkerPool; the messages are in
 * scan-protocol.ts. Every worker starts with the pool.
 */
import type { ChunkerParams } from "../chunker/chunker-params.js";
import { WorkerPool } from "../workers/worker-pool.js";
import type { ScanRequest, ScanResult } from "./scan-protocol.js";

export type { ScanRequest, ScanResult } from "./scan-protocol.js";

const WORKER_URL = new URL("./scan-worker.js", import.meta.url);

/** A pool of scan worker threads. */
export class ScanPool {
  readonly #pool: WorkerPool<ScanRequest, ScanResult>;

  constructor(threads: number) {
    this.#pool = new WorkerPool({
      script: WORKER_URL,
      threads: Math.max(1, threads),
      name: "scan",
    });
    this.#pool.warm();
  }

  /** Cuts, hashes and sketches the file at `path`; rejects with its read error. */
  scan(path: Buffer, params: ChunkerParams): Promise<ScanResult> {
    return this.#pool.run({ path: new Uint8Array(path), params });
  }

  /** Stops the workers; pending and later scans reject with E_USAGE. Idempotent. */
  close(): Promise<void> {
    return this.#pool.close();
  }
}
