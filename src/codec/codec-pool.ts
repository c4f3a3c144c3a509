/**
 * CodecPool: compress and inflate on worker threads so the main thread stays free for I/O
 * and FUSE. A thin user of the workers/ WorkerPool (one job per worker at a time, FIFO
 * queue, workers started on demand, crash and close handling); its worker body is
 * codec-worker.ts, the messages between them are in codec-protocol.ts. Inputs are copied
 * into a fresh buffer that is transferred (the caller's buffer is never detached), except
 * shared memory, which the worker reads in place (the caller must leave it alone until the
 * job settles); results are transferred back without a copy, or written straight into the
 * caller's shared memory (`into`). Errors arrive as the same EngineError subclass with the
 * same `code` and `data`.
 *
 * Reads use `inflateChecked`: the worker also computes the CRC-32 of what it inflated, so
 * that pass runs in parallel with the main thread rather than on it, and an `urgent` job
 * (someone is waiting for it) goes ahead of queued background jobs (prefetches).
 */
import * as os from "node:os";
import { crc32 } from "node:zlib";
import { InternalError, UsageError } from "../errors.js";
import { WorkerPool } from "../workers/worker-pool.js";
import { checkLevel, checkRawLength } from "./bounds.js";
import type { CodecName } from "./codec.js";
import type { CodecReply, CodecRequest } from "./codec-protocol.js";
import { getCodec } from "./codec-registry.js";

/** Options of a CodecPool. */
export interface CodecPoolOptions {
  /** Worker threads; default `os.availableParallelism()`. */
  threads?: number;
  /** nice value of the worker threads (background work: 19); default the process's */
  niceness?: number;
}

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

const WORKER_URL = new URL("./codec-worker.js", import.meta.url);

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
  readonly #pool: WorkerPool<CodecRequest, CodecReply>;

  constructor(opts: CodecPoolOptions = {}) {
    const threads = opts.threads ?? os.availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) {
      throw new UsageError("E_USAGE", `codec pool threads must be >= 1, got ${threads}`);
    }
    this.threads = threads;
    const nice = opts.niceness === undefined ? {} : { niceness: opts.niceness };
    this.#pool = new WorkerPool({ script: WORKER_URL, threads, name: "codec", ...nice });
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
    this.#pool.warm();
  }

  /** Stops every worker; pending and later jobs reject with E_USAGE. Idempotent. */
  close(): Promise<void> {
    return this.#pool.close();
  }

  #submit(
    op: CodecRequest["op"],
    codec: CodecName,
    level: number,
    rawLength: number,
    data: Uint8Array,
    urgent = false,
    wantCrc = false,
    into?: Buffer,
  ): Promise<{ data: Buffer; crc32: number | undefined }> {
    if (this.#pool.closed) return Promise.reject(this.#pool.closedError());
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
    // shared memory is read in place; anything else is copied into a buffer to transfer
    const shared = data.buffer instanceof SharedArrayBuffer;
    const input = shared ? data : new Uint8Array(data);
    const req: CodecRequest = {
      op,
      codec,
      level,
      rawLength,
      data: input,
      ...(wantCrc ? { crc32: true } : {}),
      ...(into === undefined ? {} : { into }),
    };
    const transfer = shared ? [] : [input.buffer as ArrayBuffer];
    return this.#pool.run(req, { transfer, urgent }).then((reply) => {
      const out = reply.data ?? into;
      if (out === undefined) throw new InternalError("codec worker answered without data");
      return { data: Buffer.from(out.buffer, out.byteOffset, out.byteLength), crc32: reply.crc32 };
    });
  }
}

/** The first `into.length` bytes of `raw`, copied into `into`. */
function copyInto(raw: Buffer, into: Buffer): Buffer {
  raw.copy(into, 0, 0, into.length);
  return into;
}

function runInline(
  op: CodecRequest["op"],
  data: Uint8Array,
  rawLength: number,
): Buffer | Promise<Buffer> {
  const none = getCodec("none");
  return op === "compress" ? none.compress(data, 0) : none.inflate(data, rawLength);
}
