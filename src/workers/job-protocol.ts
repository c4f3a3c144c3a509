/**
 * The messages between a {@link WorkerPool} and a worker body ({@link serveJobs}): the
 * pool posts a {@link JobMessage} per job, the worker answers each with one
 * {@link JobReply}. A failed job carries its error as a {@link WireError}, so it arrives as
 * the same EngineError subclass with the same code and data (src/error-wire.ts).
 */
import type { WireError } from "../error-wire.js";

/** One job as posted to a worker: `id` pairs it with its reply. */
export interface JobMessage<Req> {
  readonly id: number;
  readonly req: Req;
}

/** A worker's answer to the job with the same `id`. */
export type JobReply<Res> =
  | { readonly id: number; readonly ok: true; readonly res: Res }
  | { readonly id: number; readonly ok: false; readonly error: WireError };
