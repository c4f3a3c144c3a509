/**
 * Messages between the codec pool and its workers, and how an error crosses the
 * thread boundary: serialized to plain data in the worker, rebuilt as the same
 * EngineError subclass with the same `code` and `data` in the pool.
 */
import {
  CorruptError,
  EngineError,
  type ErrorCode,
  type ErrorFamily,
  FormatError,
  InternalError,
  IoError,
  NotFoundError,
  UnsupportedError,
  UsageError,
} from "../errors.js";
import type { CodecName } from "./codec.js";

/** A job sent to a worker. `data` is owned by the message and transferred. */
export interface PoolRequest {
  readonly id: number;
  readonly op: "compress" | "inflate";
  readonly codec: CodecName;
  /** compression level (compress only) */
  readonly level: number;
  /** declared raw length (inflate only) */
  readonly rawLength: number;
  /**
   * inflate only: shared memory to inflate into (its length says how many leading bytes are
   * wanted); the reply then carries no data. Without it the worker allocates.
   */
  readonly into?: Uint8Array;
  readonly data: Uint8Array;
}

/** An error as plain, cloneable data. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly family?: ErrorFamily;
  readonly code?: ErrorCode;
  readonly data?: Record<string, unknown>;
  readonly stack?: string;
}

/** A worker's answer to one request. */
export type PoolReply =
  | { readonly id: number; readonly ok: true; readonly data?: Uint8Array }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError };

/** Turns anything thrown into cloneable data, keeping the EngineError fields. */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof EngineError) {
    const { name, message, family, code, data, stack } = err;
    return { name, message, family, code, data, ...(stack === undefined ? {} : { stack }) };
  }
  if (err instanceof Error) {
    return { name: err.name, message: err.message, ...(err.stack ? { stack: err.stack } : {}) };
  }
  return { name: "Error", message: String(err) };
}

const REBUILD: Record<Exclude<ErrorFamily, "internal">, typeof UsageError> = {
  usage: UsageError,
  notfound: NotFoundError,
  corrupt: CorruptError,
  format: FormatError,
  io: IoError,
  unsupported: UnsupportedError,
};

/** Rebuilds a serialized error; anything that was not an EngineError becomes InternalError. */
export function rebuildError(s: SerializedError): EngineError {
  let err: EngineError;
  if (s.family !== undefined && s.family !== "internal" && s.code !== undefined) {
    err = new REBUILD[s.family](s.code, s.message, s.data ?? {});
  } else if (s.family === "internal") {
    err = new InternalError(s.message, s.data ?? {});
  } else {
    err = new InternalError(`codec worker: ${s.name}: ${s.message}`, { name: s.name });
  }
  if (s.stack !== undefined) err.stack = s.stack;
  return err;
}

/**
 * A Uint8Array that alone owns its ArrayBuffer, so that buffer can be transferred:
 * `data` itself when it already does, else a copy. Only for buffers given away (a
 * worker's results): never pass a caller's buffer, transfer would detach it.
 */
export function transferable(data: Uint8Array): Uint8Array {
  const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
  return whole && !(data.buffer instanceof SharedArrayBuffer) ? data : new Uint8Array(data);
}
