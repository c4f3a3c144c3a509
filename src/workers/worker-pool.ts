/**
 * A fixed pool of worker threads running one script, with a job queue. Jobs are
 * plain messages; a worker answers each with a result or a serialized error, and
 * EngineErrors keep their family and code across the thread boundary.
 */
import { Worker } from "node:worker_threads";
import { EngineError, type ErrorCode, type ErrorFamily, InternalError } from "../errors.js";

interface Job {
  readonly id: number;
  readonly req: unknown;
  readonly transfer: readonly ArrayBuffer[];
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
}

/** What a worker posts back for one job. */
export type WorkerReply =
  | { id: number; ok: true; res: unknown }
  | {
      id: number;
      ok: false;
      error: {
        family?: ErrorFamily;
        code?: ErrorCode;
        message: string;
        data?: Record<string, unknown>;
      };
    };

export class WorkerPool<Req, Res> {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Job>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(script: URL, threads: number) {
    for (let i = 0; i < Math.max(1, threads); i++) this.idle.push(this.spawn(script));
  }

  /** Runs one job on the next free worker. */
  run(req: Req, transfer: readonly ArrayBuffer[] = []): Promise<Res> {
    if (this.closed) return Promise.reject(new InternalError("worker pool is closed"));
    return new Promise<Res>((resolve, reject) => {
      const job: Job = {
        id: this.nextId++,
        req,
        transfer,
        resolve: resolve as (v: unknown) => void,
        reject,
      };
      this.queue.push(job);
      this.pump();
    });
  }

  /** Terminates the workers; queued and running jobs reject. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new InternalError("worker pool closed");
    for (const job of this.queue.splice(0)) job.reject(err);
    for (const job of this.busy.values()) job.reject(err);
    const all = [...this.idle, ...this.busy.keys()];
    this.idle.length = 0;
    this.busy.clear();
    await Promise.all(all.map((w) => w.terminate()));
  }

  private spawn(script: URL): Worker {
    const w = new Worker(script);
    w.unref();
    w.on("message", (msg: WorkerReply) => this.done(w, msg));
    w.on("error", (e) => this.crashed(w, e));
    return w;
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.busy.set(w, job);
      w.ref();
      w.postMessage({ id: job.id, req: job.req }, job.transfer as ArrayBuffer[]);
    }
  }

  private done(w: Worker, msg: WorkerReply): void {
    const job = this.busy.get(w);
    if (!job || job.id !== msg.id) return;
    this.busy.delete(w);
    w.unref();
    this.idle.push(w);
    if (msg.ok) job.resolve(msg.res);
    else job.reject(rebuildError(msg.error));
    this.pump();
  }

  private crashed(w: Worker, e: unknown): void {
    const job = this.busy.get(w);
    this.busy.delete(w);
    job?.reject(new InternalError("worker thread crashed", {}, e));
  }
}

function rebuildError(e: Extract<WorkerReply, { ok: false }>["error"]): EngineError {
  if (e.family && e.code) return new EngineError(e.family, e.code, e.message, e.data ?? {});
  return new InternalError(e.message);
}

/** Serializes an error for WorkerReply. */
export function serializeError(err: unknown): Extract<WorkerReply, { ok: false }>["error"] {
  if (err instanceof EngineError) {
    return { family: err.family, code: err.code, message: err.message, data: err.data };
  }
  return { message: err instanceof Error ? (err.stack ?? err.message) : String(err) };
}
