/**
 * How an error crosses a thread or process boundary (worker threads, the mount daemon's
 * IPC channel): {@link toWire} turns anything thrown into plain JSON-safe data keeping an
 * EngineError's family, code and data; {@link fromWire} rebuilds the same EngineError
 * subclass on the other side. Anything that was not an EngineError comes back as an
 * InternalError naming what it was. This is the only serialisation of errors.
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
} from "./errors.js";

/** An error as plain data: structured-cloneable and JSON-safe (no bigint, no buffers). */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly family?: ErrorFamily;
  readonly code?: ErrorCode;
  readonly data?: Record<string, unknown>;
  readonly stack?: string;
}

/** Turns anything thrown into {@link WireError}, keeping the EngineError fields. */
export function toWire(err: unknown): WireError {
  if (err instanceof EngineError) {
    const { name, message, family, code, stack } = err;
    return { name, message, family, code, data: plainData(err.data), ...(stack ? { stack } : {}) };
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

/**
 * Rebuilds an error sent by {@link toWire}: the same subclass, code and data. `where` names
 * the other side ("codec worker", "mount server") in the message of a non-EngineError.
 */
export function fromWire(w: WireError, where = "worker"): EngineError {
  let err: EngineError;
  if (w.family !== undefined && w.family !== "internal" && w.code !== undefined) {
    err = new REBUILD[w.family](w.code, w.message, w.data ?? {});
  } else if (w.family === "internal") {
    err = new InternalError(w.message, w.data ?? {});
  } else {
    err = new InternalError(`${where}: ${w.name}: ${w.message}`, { name: w.name });
  }
  if (w.stack !== undefined) err.stack = w.stack;
  return err;
}

/** `data` as plain JSON: bigints become strings, anything unserialisable is dropped. */
function plainData(data: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(data, (_k, v) => (typeof v === "bigint" ? String(v) : v)));
  } catch {
    return {};
  }
}
