/**
 * workers/: the one pool of worker threads. Terms:
 *
 * - worker body: a module run in each thread (codec/codec-worker.ts, pack/scan-worker.ts)
 *   that calls `serveJobs` (serve-jobs.ts) with its job handler. It never imports its
 *   pool; the messages both sides share live in a protocol file beside them.
 * - job: one request posted to a worker and the one reply it gets (job-protocol.ts).
 *   A job is queued until a worker is free, then in flight until its reply arrives.
 * - in flight: each worker runs at most one job at a time, so `threads` is the most jobs in
 *   flight. Workers start on demand, up to `threads` ({@link WorkerPool.warm} starts them
 *   all now); an idle worker is unref'd, so a forgotten pool never keeps the process alive.
 * - urgent: a job someone is waiting for; it goes ahead of queued jobs that are not
 *   urgent, after the urgent ones already queued. Others run first in, first out.
 * - transfer list: buffers moved to the other thread instead of copied (detached on the
 *   sending side). Shared memory is never transferred: both threads see it in place.
 * - crash: a worker that exits while running a job fails that job with InternalError
 *   E_INTERNAL; the next job starts a new worker, so the pool goes on.
 * - close: terminates the workers; queued and running jobs, and every later job, reject
 *   with UsageError E_USAGE. Idempotent: every call answers the same promise.
 *
 * Errors thrown in a worker cross as src/error-wire.ts data and arrive as the same
 * EngineError subclass with the same code and data.
 */
import { Worker } from "node:worker_threads";
import { fromWire } from "../error-wire.js";
import { InternalError, UsageError } from "../errors.js";
import type { JobMessage, JobReply } from "./job-protocol.js";

/** Options of a WorkerPool. */
export interface WorkerPoolOptions {
  /** the worker body's module */
  readonly script: URL;
  /** most worker threads at once, an integer >= 1 */
  readonly threads: number;
  /** names the pool and its workers in errors ("codec": "codec worker exited ...") */
  readonly name: string;
  /**
   * nice value (0..19) each worker thread gives itself when it starts, where the system
   * allows per-thread priorities (Linux); default none: the process's own
   */
  readonly niceness?: number;
}

/** Options of one job. */
export interface JobOptions {
  /** buffers of the request to move to the worker (detached here); default none */
  readonly transfer?: readonly ArrayBuffer[];
  /** someone is waiting: queue ahead of jobs without this flag; default false */
  readonly urgent?: boolean;
}

interface Job {
  readonly id: number;
  readonly req: unknown;
  readonly transfer: readonly ArrayBuffer[];
  readonly urgent: boolean;
  readonly resolve: (res: unknown) => void;
  readonly reject: (err: unknown) => void;
}

interface Slot {
  readonly worker: Worker;
  job: Job | undefined;
  /** what the worker threw before it exited */
  failure: unknown;
}

/**
 * A pool of worker threads running one worker body.
 * @example
 * const pool = new WorkerPool<ScanRequest, ScanResult>({ script, threads: 2, name: "scan" });
 * const res = await pool.run(req);
 * await pool.close();
 */
export class WorkerPool<Req, Res> {
  /** Most worker threads the pool runs at once. */
  readonly threads: number;
  readonly #script: URL;
  readonly #name: string;
  readonly #niceness: number | undefined;
  #slots: Slot[] = [];
  #queue: Job[] = [];
  #nextId = 1;
  #closing: Promise<void> | undefined;

  constructor(opts: WorkerPoolOptions) {
    const { threads } = opts;
    if (!Number.isInteger(threads) || threads < 1) {
      throw new UsageError("E_USAGE", `${opts.name} pool threads must be >= 1, got ${threads}`);
    }
    this.threads = threads;
    this.#script = opts.script;
    this.#name = opts.name;
    this.#niceness = opts.niceness;
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** The error of a job submitted after {@link close}. */
  closedError(): UsageError {
    return new UsageError("E_USAGE", `${this.#name} pool is closed`);
  }

  /** Runs one job on the next free worker; rejects with what the worker threw. */
  run(req: Req, opts: JobOptions = {}): Promise<Res> {
    if (this.closed) return Promise.reject(this.closedError());
    return new Promise<Res>((resolve, reject) => {
      this.#enqueue({
        id: this.#nextId++,
        req,
        transfer: opts.transfer ?? [],
        urgent: opts.urgent === true,
        resolve: resolve as (res: unknown) => void,
        reject,
      });
      this.#dispatch();
    });
  }

  /**
   * Starts every worker thread now rather than on first use, so the first jobs do not wait
   * for a thread to boot (~100 ms each). Idle workers stay unref'd. No-op once closed.
   */
  warm(): void {
    if (this.closed) return;
    while (this.#spawn() !== undefined);
  }

  /** Terminates the workers; pending and later jobs reject with E_USAGE. Idempotent. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      const jobs = [...this.#queue, ...this.#slots.flatMap((s) => (s.job ? [s.job] : []))];
      this.#queue = [];
      for (const job of jobs) job.reject(this.closedError());
      // an answer still on its way finds no job: it must not unref a worker being terminated
      // (the terminate would then not keep the process alive until the worker is gone)
      for (const slot of this.#slots) slot.job = undefined;
      const workers = this.#slots.map((s) => s.worker);
      this.#slots = [];
      this.#closing = Promise.all(workers.map((w) => w.terminate())).then(() => undefined);
    }
    return this.#closing;
  }

  #enqueue(job: Job): void {
    const i = job.urgent ? this.#queue.findIndex((j) => !j.urgent) : -1;
    if (i < 0) this.#queue.push(job);
    else this.#queue.splice(i, 0, job);
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const slot = this.#slots.find((s) => s.job === undefined) ?? this.#spawn();
      if (slot === undefined) return;
      const job = this.#queue.shift()!;
      const msg: JobMessage<unknown> = { id: job.id, req: job.req };
      try {
        slot.worker.postMessage(msg, job.transfer);
      } catch (err) {
        job.reject(new InternalError(`${this.#name} job could not be posted`, {}, err));
        continue;
      }
      slot.job = job;
      slot.worker.ref();
    }
  }

  #spawn(): Slot | undefined {
    if (this.#slots.length >= this.threads) return undefined;
    const niceness = this.#niceness;
    const worker = new Worker(
      this.#script,
      niceness === undefined ? {} : { workerData: { niceness } },
    );
    const slot: Slot = { worker, job: undefined, failure: undefined };
    worker.unref();
    worker.on("message", (reply: JobReply<Res>) => this.#onReply(slot, reply));
    worker.on("error", (err) => {
      slot.failure = err;
    });
    worker.on("exit", (code) => this.#onExit(slot, code));
    this.#slots.push(slot);
    return slot;
  }

  #onReply(slot: Slot, reply: JobReply<Res>): void {
    const job = slot.job;
    if (job === undefined || job.id !== reply.id) return;
    slot.job = undefined;
    slot.worker.unref();
    if (reply.ok) job.resolve(reply.res);
    else job.reject(fromWire(reply.error, `${this.#name} worker`));
    this.#dispatch();
  }

  #onExit(slot: Slot, code: number): void {
    const i = this.#slots.indexOf(slot);
    if (i < 0) return; // removed by close()
    this.#slots.splice(i, 1);
    const { job, failure } = slot;
    job?.reject(new InternalError(`${this.#name} worker exited (code ${code})`, { code }, failure));
    this.#dispatch();
  }
}
