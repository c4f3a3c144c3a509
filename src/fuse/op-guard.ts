/**
 * The one failure path every op of both ops tables goes through: a thrown value is logged when
 * errno.ts says an operator must hear of it (damaged data, unexpected errors), rate-limited per
 * distinct line, and rethrown; the mount's `errnoOf` (errnoFor) then picks the errno.
 */
import { EngineError } from "../errors.js";
import { errnoFor } from "./errno.js";

/** Options of the failure log. */
export interface OpLogOptions {
  /** receives one line per logged failure (damaged super-chunk, unexpected error) */
  log(line: string): void;
  /** same repeated failure is logged at most once per this many ms; default 10 000 */
  logRepeatMs?: number;
}

const MAX_REMEMBERED = 1000;

/** Logs failures of ops, each distinct line at most once per `logRepeatMs`. */
export class OpGuard {
  readonly #log: (line: string) => void;
  readonly #repeatMs: number;
  readonly #logged = new Map<string, number>();

  constructor(opts: OpLogOptions) {
    this.#log = opts.log;
    this.#repeatMs = opts.logRepeatMs ?? 10_000;
  }

  /**
   * `fn` wrapped: failures (sync throws and rejections) are logged if they deserve it and
   * passed on unchanged. The first argument names the path in the log line.
   */
  wrap<A extends unknown[], R>(op: string, fn: (...args: A) => R): (...args: A) => R {
    return (...args: A): R => {
      try {
        const r = fn(...args);
        if (r instanceof Promise) {
          return r.catch((err: unknown) => {
            this.failed(op, args[0], err);
            throw err;
          }) as R;
        }
        return r;
      } catch (err) {
        this.failed(op, args[0], err);
        throw err;
      }
    };
  }

  /** Logs `err` of `op` on `path` when it deserves a line. */
  failed(op: string, path: unknown, err: unknown): void {
    if (!errnoFor(err).log) return;
    const line = describeFailure(op, pathText(path), err);
    const key = `${op}\0${line}`;
    const now = Date.now();
    const last = this.#logged.get(key);
    if (last !== undefined && now - last < this.#repeatMs) return;
    if (this.#logged.size > MAX_REMEMBERED) this.#logged.clear();
    this.#logged.set(key, now);
    this.#log(line);
  }
}

function pathText(p: unknown): string {
  if (Buffer.isBuffer(p)) return p.toString("utf8");
  if (typeof p === "string") return p;
  return "(open file)";
}

/** One log line for a failed op: code, where (super-chunk, offset), path, message. */
export function describeFailure(op: string, path: string, err: unknown): string {
  if (err instanceof EngineError) {
    const sc = err.data.superChunkId ?? err.data.superChunk;
    const where = sc === undefined ? "" : ` super-chunk ${String(sc)}`;
    const off = err.data.offset === undefined ? "" : ` offset ${String(err.data.offset)}`;
    return `superchunk: ${op} ${path}: ${err.code}${where}${off}: ${err.message}`;
  }
  const msg = err instanceof Error ? err.message : String(err);
  return `superchunk: ${op} ${path}: unexpected error (EIO): ${msg}`;
}
