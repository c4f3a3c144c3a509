/**
 * Body of a commit pool worker thread (workers/ serveJobs): cuts and hashes one window of
 * a commit's bytes per job (cut-window.ts) and moves the window back with the result.
 * Whole-file hashes of runs in progress live here between jobs (the pool has one thread).
 */
import { createHash, type Hash } from "node:crypto";
import { serveJobs } from "../workers/serve-jobs.js";
import type { CutReply, CutRequest } from "./commit-protocol.js";
import { cutWindow } from "./cut-window.js";

/** stream id → whole-file hash of a run whose last window has not come yet */
const streams = new Map<number, Hash>();

serveJobs((req: CutRequest) => {
  const whole = req.stream === undefined ? undefined : streamHash(req.stream);
  const cuts = cutWindow(req.data, req.params, req.last, whole);
  let digest: Uint8Array | undefined;
  if (req.last && whole !== undefined) {
    streams.delete(req.stream!);
    digest = whole.digest();
  }
  const res: CutReply = { ...cuts, data: req.data, ...(digest && { digest }) };
  // shared memory (the pool's window) is not moved: both threads see it
  const transfer = [res.data, res.lengths, res.hashes, res.zero]
    .map((a) => a.buffer)
    .filter((b): b is ArrayBuffer => !(b instanceof SharedArrayBuffer));
  return { res, transfer: [...new Set(transfer)] };
});

function streamHash(id: number): Hash {
  let h = streams.get(id);
  if (h === undefined) {
    // (a worker restarted mid-run gives a wrong digest: it only serves a dedup lookup)
    h = createHash("sha256");
    streams.set(id, h);
  }
  return h;
}
