/**
 * A worker body for the WorkerPool tests: each job names what the worker does, so a test
 * can make it answer, throw an EngineError or a plain Error, wait, or crash the thread.
 */
import { execFileSync } from "node:child_process";
import { CorruptError } from "../../src/errors.js";
import { serveJobs } from "../../src/workers/serve-jobs.js";

/** A job of the test worker. */
export type TestJob =
  | { readonly kind: "echo"; readonly bytes: Uint8Array }
  | { readonly kind: "corrupt" }
  | { readonly kind: "plain" }
  | { readonly kind: "wait"; readonly ms: number }
  /** answers, then blocks the thread in native code for `ms` (a terminate waits it out) */
  | { readonly kind: "answer-then-block"; readonly ms: number }
  | { readonly kind: "crash" };

serveJobs<TestJob, Record<string, unknown>>(async (job) => {
  switch (job.kind) {
    case "echo": {
      const copy = new Uint8Array(job.bytes);
      return { res: { bytes: copy }, transfer: [copy.buffer] };
    }
    case "corrupt":
      throw new CorruptError("E_SUBBLOCK_HASH", "sub-block hash mismatch", {
        superChunkId: 7,
        offset: 4096,
        size: 12n,
      });
    case "plain":
      throw new TypeError("not an engine error");
    case "wait":
      await new Promise((r) => setTimeout(r, job.ms));
      return { res: { waited: job.ms } };
    case "answer-then-block":
      setImmediate(() => execFileSync("sleep", [String(job.ms / 1000)]));
      return { res: { answered: true } };
    case "crash":
      // thrown outside the job: an uncaught exception ends the thread
      setImmediate(() => {
        throw new Error("worker blew up");
      });
      return new Promise<never>(() => {});
  }
});
