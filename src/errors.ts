/**
 * Errors of superchunk. Every error the library throws is an EngineError with a
 * stable string `code`; tests and the CLI branch on `code`, never on the message.
 * Families: NotFound, Corrupt, Format, Io, Unsupported, Usage, Internal.
 */

export type ErrorCode =
  // usage: the caller asked for something impossible
  | "E_USAGE"
  | "E_SOURCE_MISSING"
  | "E_SOURCE_NOT_DIR"
  | "E_DEST_NOT_EMPTY"
  | "E_DEST_EXISTS"
  | "E_PATH_ESCAPE"
  | "E_STORE_LOCKED"
  // the caller's AbortSignal fired: the operation stopped and removed what it had written
  | "E_ABORTED"
  // file-system operations (read-write mount); errno in src/fuse/errno.ts
  | "E_EXISTS"
  | "E_NOT_EMPTY"
  | "E_NOT_DIR"
  | "E_IS_DIR"
  | "E_ACCESS"
  | "E_NOT_PERMITTED"
  | "E_READ_ONLY"
  | "E_NAME_TOO_LONG"
  | "E_BAD_HANDLE"
  | "E_NO_XATTR"
  | "E_TOO_BIG"
  // not found
  | "E_NOT_FOUND"
  | "E_NOT_A_STORE"
  | "E_NO_METADATA_COPY"
  | "E_SUPERCHUNK_MISSING"
  // corrupt data
  | "E_CORRUPT"
  | "E_SUPERCHUNK_CORRUPT"
  | "E_SUBBLOCK_HASH"
  | "E_INFLATE_BOUND"
  | "E_STORE_INCOMPLETE"
  | "E_SOURCE_CHANGED"
  // hostile or damaged zip input
  | "E_ZIP_CORRUPT"
  | "E_ZIP_DUPLICATE"
  | "E_ZIP_SIZE_MISMATCH"
  | "E_ZIP_BOMB"
  // format
  | "E_FORMAT_VERSION"
  | "E_BAD_MAGIC"
  // io
  | "E_IO"
  | "E_UNREADABLE"
  | "E_NO_SPACE"
  | "E_HTTP"
  | "E_HTTP_NO_RANGE"
  | "E_TIMEOUT"
  // unsupported
  | "E_UNSUPPORTED"
  | "E_NO_FUSE"
  // mounts
  | "E_MOUNT_BUSY"
  | "E_NOT_MOUNTED"
  | "E_CODEC_UNKNOWN"
  // internal
  | "E_INTERNAL";

export type ErrorFamily =
  | "usage"
  | "notfound"
  | "corrupt"
  | "format"
  | "io"
  | "unsupported"
  | "internal";

/** Base of every error superchunk throws. */
export class EngineError extends Error {
  readonly code: ErrorCode;
  readonly family: ErrorFamily;
  readonly data: Record<string, unknown>;

  constructor(
    family: ErrorFamily,
    code: ErrorCode,
    message: string,
    data: Record<string, unknown> = {},
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "EngineError";
    this.family = family;
    this.code = code;
    this.data = data;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, family: this.family, message: this.message, data: this.data };
  }
}

type Data = Record<string, unknown>;

export class UsageError extends EngineError {
  constructor(code: ErrorCode, message: string, data?: Data, cause?: unknown) {
    super("usage", code, message, data, cause);
    this.name = "UsageError";
  }
}
export class NotFoundError extends EngineError {
  constructor(code: ErrorCode, message: string, data?: Data, cause?: unknown) {
    super("notfound", code, message, data, cause);
    this.name = "NotFoundError";
  }
}
/** Data on disk is damaged. `data` carries the location: superChunkId, offset, entry. */
export class CorruptError extends EngineError {
  constructor(code: ErrorCode, message: string, data?: Data, cause?: unknown) {
    super("corrupt", code, message, data, cause);
    this.name = "CorruptError";
  }
}
export class FormatError extends EngineError {
  constructor(code: ErrorCode, message: string, data?: Data, cause?: unknown) {
    super("format", code, message, data, cause);
    this.name = "FormatError";
  }
}
export class IoError extends EngineError {
  constructor(code: ErrorCode, message: string, data?: Data, cause?: unknown) {
    super("io", code, message, data, cause);
    this.name = "IoError";
  }
}
export class UnsupportedError extends EngineError {
  constructor(code: ErrorCode, message: string, data?: Data, cause?: unknown) {
    super("unsupported", code, message, data, cause);
    this.name = "UnsupportedError";
  }
}
export class InternalError extends EngineError {
  constructor(message: string, data?: Data, cause?: unknown) {
    super("internal", "E_INTERNAL", message, data, cause);
    this.name = "InternalError";
  }
}

/**
 * The operation was stopped by its caller's AbortSignal and removed what it had written
 * (a usage-family error: the caller asked for it). Named "AbortError", as the DOM's is,
 * so `err.name === "AbortError"` checks work for both; `cause` is the signal's reason.
 */
export class AbortError extends EngineError {
  constructor(message = "the operation was aborted", data?: Data, cause?: unknown) {
    super("usage", "E_ABORTED", message, data, cause);
    this.name = "AbortError";
  }
}

/** Throws AbortError E_ABORTED when `signal` has fired (nothing when it is undefined). */
export function throwIfAborted(signal: AbortSignal | undefined, what = "the operation"): void {
  if (signal?.aborted) throw new AbortError(`${what} was aborted`, {}, signal.reason);
}

/**
 * A progress callback that calls `onProgress` (when given), then throws AbortError once
 * `signal` has fired: a long operation's progress reports double as its abort points.
 */
export function abortingProgress<P>(
  signal: AbortSignal,
  what: string,
  onProgress?: (p: P) => void,
): (p: P) => void {
  return (p) => {
    onProgress?.(p);
    throwIfAborted(signal, what);
  };
}

/**
 * A recoverable oddity met during an operation (an unreadable file skipped, a
 * device node not restored): reported through the operation's onWarning hook,
 * never thrown. `code` is the code the same problem would carry as an error.
 */
export interface EngineWarning {
  readonly path: string;
  readonly code: ErrorCode;
  readonly message: string;
}

/** Invariant check: throws InternalError when `cond` is false. */
export function assert(cond: unknown, message: string, data?: Data): asserts cond {
  if (!cond) throw new InternalError(`invariant failed: ${message}`, data);
}

/** True when `err` is an EngineError with the given code. */
export function isCode(err: unknown, code: ErrorCode): boolean {
  return err instanceof EngineError && err.code === code;
}

/** Wraps a Node fs error (ENOENT, EACCES, ENOSPC, ...) into an EngineError naming the path. */
export function wrapFsError(err: unknown, path: string, what: string): EngineError {
  if (err instanceof EngineError) return err;
  const sys = (err as NodeJS.ErrnoException | undefined)?.code;
  const detail = err instanceof Error ? err.message : String(err);
  if (sys === "ENOENT")
    return new NotFoundError("E_NOT_FOUND", `${path}: not found (${what})`, { path }, err);
  if (sys === "ENOSPC" || sys === "EDQUOT")
    return new IoError("E_NO_SPACE", `${path}: no space left on device (${what})`, { path }, err);
  if (sys === "EACCES" || sys === "EPERM")
    return new IoError("E_UNREADABLE", `${path}: permission denied (${what})`, { path }, err);
  return new IoError("E_IO", `${path}: ${what} failed: ${detail}`, { path, sys }, err);
}

/**
 * Runs every cleanup step in order, each even when an earlier one fails, and answers the
 * first failure (undefined when all succeeded). Cleanup after an error must not replace
 * that error or add a second one: `finally { await closeAll(...) }` style callers use
 * {@link cleanupAfter}.
 */
export async function closeAll(
  ...steps: readonly (() => unknown | Promise<unknown>)[]
): Promise<unknown> {
  let first: unknown;
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      first ??= err;
    }
  }
  return first;
}

/**
 * Runs `work`, then every cleanup step (closeAll). The work's error wins: a cleanup failure
 * after it is dropped (cleanup after a failure often fails for the same reason); after a
 * success the first cleanup failure is thrown.
 * @example
 * return cleanupAfter(() => checkStore(...), () => pool.close(), () => src.close());
 */
export async function cleanupAfter<T>(
  work: () => Promise<T>,
  ...steps: readonly (() => unknown | Promise<unknown>)[]
): Promise<T> {
  let out: T;
  try {
    out = await work();
  } catch (err) {
    await closeAll(...steps);
    throw err;
  }
  const failed = await closeAll(...steps);
  if (failed !== undefined) throw failed;
  return out;
}
