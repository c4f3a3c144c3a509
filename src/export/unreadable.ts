/**
 * extract --continue-on-error: a file whose content cannot be read from the store (a
 * damaged or missing super-chunk, bytes that fail their checks) is not written; it is
 * reported instead and the extract goes on with the rest. Only a failure to read the store
 * counts: a failure to write the destination (no space, no permission) still ends it.
 */
import { EngineError, type ErrorCode, type ErrorFamily } from "../errors.js";

/** The families of errors that reading and checking a file's bytes ends in. */
const READ_FAILURES: ReadonlySet<ErrorFamily> = new Set(["corrupt", "notfound", "io", "format"]);

/** A file extract could not write, and why. */
export interface UnreadableFile {
  /** where it would have been written */
  readonly path: string;
  readonly code: ErrorCode;
  readonly message: string;
}

/**
 * The failure of reading a file's content from the store (`err` thrown while its bytes were
 * read and checked), as an UnreadableFile for `path`; undefined when `err` is something
 * else, to be thrown on (a destination error, a bug).
 */
export function unreadableFile(path: string, err: unknown): UnreadableFile | undefined {
  if (!(err instanceof EngineError)) return undefined; // the destination's own errors are raw
  if (!READ_FAILURES.has(err.family)) return undefined;
  return { path, code: err.code, message: err.message };
}
