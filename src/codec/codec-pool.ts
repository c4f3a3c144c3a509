/**
 * CodecPool: compress and inflate on worker threads so the main thread stays free
 * for I/O and FUSE. One job per worker at a time, FIFO queue, workers started on
 * demand. Inputs are copied into a fresh buffer that is transferred (the caller's
 * buffer is never detached), except shared memory, which the worker reads in place (the
 * caller must leave it alone until the job settles); results are transferred back without
 * a copy, or written straight into the caller's shared memory (`into`). Errors
 * are rebuilt as the same EngineError subclass with the same `code` and `data`.
 * Idle workers are unref'd, so a forgotten pool never keeps the process alive.
 *
 * Reads use `inflateChecked`: the worker also computes the CRC-32 of what it inflated, so
 * that pass runs in parallel with the main thread rather than on it, and an `urgent` job
 * (someone is waiting for it) goes ahead of queued background jobs (prefetches).
 */
import * as os from "node:os";
import { Worker } from "node:worker_threads";
import { crc32 } from "node:zlib";
import { InternalError, UsageError } from "../errors.js";
import { checkLevel, checkRawLength } from "./bounds.js";
import type { CodecName } from "./codec.js";
import { getCodec } from "./codec-registry.js";
import { type PoolReply, type PoolRequest, rebuildError } from "./pool-protocol.js";

/** Options of a CodecPool. */
export interface CodecPoolOptions {
  /** Worker threads; default `os.availableParallelism()`. */
  threads?: number;
}

/** A request as sent: an inflate may also ask for the CRC-32 of its output. */
export interface CheckedPoolRequest extends PoolRequest {
  /** true: the reply carries `crc32`, the CRC-32 of the inflated bytes */
  readonly crc32?: boolean;
}

/** A reply as received: `crc32` is set when the request asked for it. */
export type CheckedPoolReply = PoolReply & { readonly crc32?: number };

/** What `inflateChecked` resolves with. */
export interface CheckedInflate {
  /** the whole payload, or only its first `prefixBytes` when the job asked for a prefix */
  readonly raw: Buffer;
  /** CRC-32 (node:zlib crc32) of `raw` computed on the worker; undefined for a prefix */
  readonly crc32: number | undefined;
}

/** Options of one `inflateChecked` job. */
export interface InflateJobOptions {
  /** a reader is waiting: queue ahead of jobs without this flag; default false */
  readonly urgent?: boolean;
  /**
   * Inflate into this buffer, which must be a view of a SharedArrayBuffer: the whole payload
   * when it is `rawLength` long, else only that many leading bytes (codecs that can stop
   * early stop there). Default: the worker allocates the whole payload.
   */
  readonly into?: Buffer;
  /** compute the CRC-32 of a whole payload on the worker; default true */
  readonly rawCrc?: boolean;
}

interface Job {
  readonly req: CheckedPoolRequest;
  readonly resolve: (reply: { data: Buffer; crc32: number | undefined }) => void;
  readonly reject: (err: unknown) => void;
  readonly urgent: boolean;
}

interface Slot {
  readonly worker: Worker;
  job: Job | undefined;
  failure: unknown;
}

const WORKER_URL = new URL("./codec-worker.js", import.meta.url);

function closedError(): UsageError {
  return new UsageError("E_USAGE", "codec pool is closed");
}

/**
 * A pool of codec worker threads.
 * @example
 * const pool = new CodecPool({ threads: 2 });
 * const packed = await pool.compress("zstd", 19, raw);
 * const back = await pool.inflate("zstd", packed, raw.length);
 * await pool.close();
 */
export class CodecPool {
  /** Number of worker threads the pool may run. */
  readonly threads: number;
  #slots: Slot[] = [];
  #queue: Job[] = [];
  #nextId = 1;
  #closing: Promise<void> | undefined;

  constructor(opts: CodecPoolOptions = {}) {
    const threads = opts.threads ?? os.availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) {
      throw new UsageError("E_USAGE", `codec pool threads must be >= 1, got ${threads}`);
    }
    this.threads = threads;
  }

  /** Compresses `raw` (not modified, not detached) with `codec` at `level`. */
  compress(codec: CodecName, level: number, raw: Uint8Array): Promise<Buffer> {
    return this.#submit("compress", codec, level, 0, raw).then((r) => r.data);
  }

  /** Inflates `data` to exactly `rawLength` bytes, or rejects with E_INFLATE_BOUND. */
  inflate(codec: CodecName, data: Uint8Array, rawLength: number): Promise<Buffer> {
    return this.#submit("inflate", codec, 0, rawLength, data).then((r) => r.data);
  }

  /**
   * Like `inflate`, and also answers the CRC-32 of the inflated bytes, computed on the worker.
   * @example
   * const { raw, crc32 } = await pool.inflateChecked("zstd", stored, rawBytes, { urgent: true });
   * if (crc32 !== expected) throw new CorruptError(...);
   */
  inflateChecked(
    codec: CodecName,
    data: Uint8Array,
    rawLength: number,
    opts: InflateJobOptions = {},
  ): Promise<CheckedInflate> {
    const into = opts.into;
    if (into !== undefined && !(into.buffer instanceof SharedArrayBuffer)) {
      return Promise.reject(new UsageError("E_USAGE", "inflate target must be shared memory"));
    }
    return this.#submit(
      "inflate",
      codec,
      0,
      rawLength,
      data,
      opts.urgent === true,
      opts.rawCrc !== false,
      into,
    ).then((r) => ({
      raw: r.data,
      crc32:
        r.data.length === rawLength && opts.rawCrc !== false
          ? (r.crc32 ?? crc32(r.data))
          : undefined,
    }));
  }

  /**
   * Starts every worker thread now rather than on first use, so the first jobs do not wait
   * for a thread to boot (~100 ms each). Idle workers stay unref'd. No-op once closed.
   */
  warm(): void {
    if (this.#closing !== undefined) return;
    while (this.#spawn() !== undefined);
  }

  /** Stops every worker; pending and later jobs reject with E_USAGE. Idempotent. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      const jobs = [...this.#queue, ...this.#slots.flatMap((s) => (s.job ? [s.job] : []))];
      this.#queue = [];
      for (const job of jobs) job.reject(closedError());
      const workers = this.#slots.map((s) => s.worker);
      this.#slots = [];
      this.#closing = Promise.all(workers.map((w) => w.terminate())).then(() => undefined);
    }
    return this.#closing;
  }

  #submit(
    op: PoolRequest["op"],
    codec: CodecName,
    level: number,
    rawLength: number,
    data: Uint8Array,
    urgent = false,
    wantCrc = false,
    into?: Buffer,
  ): Promise<{ data: Buffer; crc32: number | undefined }> {
    if (this.#closing !== undefined) return Promise.reject(closedError());
    try {
      const c = getCodec(codec);
      if (op === "compress") checkLevel(c, level);
      else checkRawLength(c.name, rawLength);
      // "none" is a copy: not worth a thread hop
      if (c.name === "none") {
        return Promise.resolve(runInline(op, data, rawLength)).then((b) => ({
          data: into === undefined ? b : copyInto(b, into),
          crc32: undefined,
        }));
      }
    } catch (err) {
      return Promise.reject(err);
    }
    const req: CheckedPoolRequest = {
      id: this.#nextId++,
      op,
      codec,
      level,
      rawLength,
      // shared memory is read in place; anything else is copied into a buffer to transfer
      data: data.buffer instanceof SharedArrayBuffer ? data : new Uint8Array(data),
      ...(wantCrc ? { crc32: true } : {}),
      ...(into === undefined ? {} : { into }),
    };
    return new Promise((resolve, reject) => {
      this.#enqueue({ req, resolve, reject, urgent });
      this.#dispatch();
    });
  }

  /** Urgent jobs go after the urgent ones already queued, ahead of the rest; others at the end. */
  #enqueue(job: Job): void {
    if (!job.urgent) {
      this.#queue.push(job);
      return;
    }
    const i = this.#queue.findIndex((j) => !j.urgent);
    if (i < 0) this.#queue.push(job);
    else this.#queue.splice(i, 0, job);
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const slot = this.#slots.find((s) => s.job === undefined) ?? this.#spawn();
      if (slot === undefined) return;
      const job = this.#queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      const input = job.req.data.buffer;
      slot.worker.postMessage(job.req, input instanceof SharedArrayBuffer ? [] : [input]);
    }
  }

  #spawn(): Slot | undefined {
    if (this.#slots.length >= this.threads) return undefined;
    const worker = new Worker(WORKER_URL);
    const slot: Slot = { worker, job: undefined, failure: undefined };
    worker.unref();
    worker.on("message", (reply: CheckedPoolReply) => this.#onReply(slot, reply));
    worker.on("error", (err) => {
      slot.failure = err;
    });
    worker.on("exit", (code) => this.#onExit(slot, code));
    this.#slots.push(slot);
    return slot;
  }

  #onReply(slot: Slot, reply: CheckedPoolReply): void {
    const job = slot.job;
    if (job === undefined || job.req.id !== reply.id) return;
    slot.job = undefined;
    slot.worker.unref();
    if (reply.ok) {
      const out = reply.data ?? job.req.into;
      if (out === undefined) {
        job.reject(new InternalError("codec worker answered without data", { id: reply.id }));
      } else {
        const data = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
        job.resolve({ data, crc32: reply.crc32 });
      }
    } else job.reject(rebuildError(reply.error));
    this.#dispatch();
  }

  #onExit(slot: Slot, code: number): void {
    const i = this.#slots.indexOf(slot);
    if (i < 0) return; // removed by close()
    this.#slots.splice(i, 1);
    slot.job?.reject(
      new InternalError(`codec worker exited (code ${code})`, { code }, slot.failure),
    );
    this.#dispatch();
  }
}

/** The first `into.length` bytes of `raw`, copied into `into`. */
function copyInto(raw: Buffer, into: Buffer): Buffer {
  raw.copy(into, 0, 0, into.length);
  return into;
}

function runInline(
  op: PoolRequest["op"],
  data: Uint8Array,
  rawLength: number,
): Buffer | Promise<Buffer> {
  const none = getCodec("none");
  return op === "compress" ? none.compress(data, 0) : none.inflate(data, rawLength);
}
