/**
 * The worker side of a {@link WorkerPool}: a worker body calls {@link serveJobs} once with
 * its job handler. Each job's result is posted back with the buffers the handler names
 * moved rather than copied; anything the handler throws goes back through
 * src/error-wire.ts (toWire) and is rebuilt by the pool as the same EngineError subclass.
 */
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import { toWire } from "../error-wire.js";
import { InternalError } from "../errors.js";
import type { JobMessage, JobReply } from "./job-protocol.js";

/** What a job handler answers. */
export interface JobAnswer<Res> {
  readonly res: Res;
  /** buffers inside `res` to move to the pool instead of copying them; default none */
  readonly transfer?: readonly ArrayBuffer[];
}

/** A worker body's handler of one job; it may throw. */
export type JobHandler<Req, Res> = (req: Req) => JobAnswer<Res> | Promise<JobAnswer<Res>>;

/**
 * Answers every job the pool posts to this thread with `handle`. Throws InternalError on
 * the main thread.
 * @example
 * serveJobs((req: ScanRequest) => {
 *   const res = scanFile(req);
 *   return { res, transfer: [res.hashes.buffer] };
 * });
 */
export function serveJobs<Req, Res>(handle: JobHandler<Req, Res>): void {
  const port = parentPort;
  if (port === null) throw new InternalError("a worker body must run in a worker thread");
  lowerPriority((workerData as { niceness?: number } | null)?.niceness);
  port.on("message", (msg: JobMessage<Req>) => {
    void answer(msg, handle, (reply, transfer) => postMoving(port, reply, transfer));
  });
}

/**
 * Posts `reply` moving the `transfer` buffers, or copying them when they cannot move:
 * Node 22 and 24 refuse to transfer memory a native addon allocated (lz4-napi's
 * results), which Node 20 moved.
 */
function postMoving(port: MessagePort, reply: unknown, transfer: readonly ArrayBuffer[]): void {
  try {
    port.postMessage(reply, transfer);
  } catch (err) {
    if (transfer.length === 0 || (err as Error | null)?.name !== "DataCloneError") throw err;
    port.postMessage(reply);
  }
}

type Post<Res> = (reply: JobReply<Res>, transfer: readonly ArrayBuffer[]) => void;

async function answer<Req, Res>(
  msg: JobMessage<Req>,
  handle: JobHandler<Req, Res>,
  post: Post<Res>,
): Promise<void> {
  try {
    const { res, transfer = [] } = await handle(msg.req);
    post({ id: msg.id, ok: true, res }, transfer);
  } catch (err) {
    // the handler's error, or a result that could not be cloned
    post({ id: msg.id, ok: false, error: toWire(err) }, []);
  }
}

/**
 * Gives this thread the nice value `niceness` (WorkerPoolOptions.niceness): on Linux a
 * thread's id (from /proc/thread-self) names that thread alone to setpriority(2). Best
 * effort: elsewhere, or when refused, the thread keeps the process's priority.
 */
function lowerPriority(niceness: number | undefined): void {
  if (niceness === undefined) return;
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, niceness);
  } catch {
    // no per-thread priority here: run at the process's
  }
}
