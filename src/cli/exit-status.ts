/**
 * The exit status of every error code, the same in every command: main maps an error to
 * its status here and nowhere else. README.md's "Exit status" section is this table
 * (a unit test keeps the two equal). Besides these: 0 done, 3 done but some input was
 * skipped with a warning.
 */
import type { ErrorCode } from "../errors.js";

/** One row: the status a command exits with on the code, and what the code means. */
export interface ExitRow {
  readonly status: 1 | 2;
  readonly meaning: string;
}

/** 2: the command cannot be done as asked (fix the command line or the paths it names). */
const usage = (meaning: string): ExitRow => ({ status: 2, meaning });
/** 1: the command failed on the data, the system or the network. */
const failed = (meaning: string): ExitRow => ({ status: 1, meaning });

/** Every error code's status and meaning; a code missing here fails to compile. */
export const EXIT_BY_CODE: { readonly [C in ErrorCode]: ExitRow } = {
  E_USAGE: usage("bad command line: unknown option or command, bad value, missing argument"),
  E_SOURCE_MISSING: usage("the source to pack does not exist"),
  E_SOURCE_NOT_DIR: usage("the source to pack is not a directory or a zip file"),
  E_DEST_NOT_EMPTY: usage("the destination (store, mountpoint) is not empty"),
  E_DEST_EXISTS: usage("the destination exists already (a store, an archive, a file)"),
  E_PATH_ESCAPE: usage("a name would be written outside the destination (`..`, absolute)"),
  E_STORE_LOCKED: usage("another process (named) holds the store's writer lock or lease"),
  E_EXISTS: usage("file system: the name exists"),
  E_NOT_EMPTY: usage("file system: the directory is not empty"),
  E_NOT_DIR: usage("file system: not a directory"),
  E_IS_DIR: usage("file system: is a directory"),
  E_ACCESS: usage("file system: permission denied"),
  E_NOT_PERMITTED: usage("file system: operation not permitted"),
  E_READ_ONLY: usage("file system: the store or mount is read-only"),
  E_NAME_TOO_LONG: usage("file system: name too long"),
  E_BAD_HANDLE: usage("file system: no such open file"),
  E_NO_XATTR: usage("file system: no such extended attribute"),
  E_TOO_BIG: usage("file system: file too large"),
  E_NOT_FOUND: failed("a file, path or object was not found"),
  E_NOT_A_STORE: failed("there is no store (or archive) at the location given"),
  E_NO_METADATA_COPY: failed("the store has no metadata copy to rebuild its database from"),
  E_SUPERCHUNK_MISSING: failed("a super-chunk the store names is missing"),
  E_CORRUPT: failed("damaged data: the database, a header or a record"),
  E_SUPERCHUNK_CORRUPT: failed("a damaged super-chunk (checksum or structure)"),
  E_SUBBLOCK_HASH: failed("a sub-block's bytes do not match their hash"),
  E_INFLATE_BOUND: failed("a super-chunk inflates beyond its declared size"),
  E_STORE_INCOMPLETE: failed("the store was never finished (an interrupted pack)"),
  E_SOURCE_CHANGED: failed("a source file changed while it was packed"),
  E_ZIP_CORRUPT: failed("a damaged zip file"),
  E_ZIP_DUPLICATE: failed("a zip file names the same path twice"),
  E_ZIP_SIZE_MISMATCH: failed("a zip entry's size is not what the zip declares"),
  E_ZIP_BOMB: failed("a zip file inflates beyond the limits (--zip-max-size)"),
  E_FORMAT_VERSION: failed("a store of a format version this build does not read"),
  E_BAD_MAGIC: failed("not a superchunk file (wrong magic bytes)"),
  E_IO: failed("an I/O operation failed"),
  E_UNREADABLE: failed("permission denied reading or writing a path"),
  E_NO_SPACE: failed("no space left on the device"),
  E_HTTP: failed("an HTTP or S3 request failed"),
  E_HTTP_NO_RANGE: failed("the HTTP server does not serve byte ranges"),
  E_TIMEOUT: failed("a request timed out"),
  E_UNSUPPORTED: failed("something this build does not support (a zip method, a file kind)"),
  E_NO_FUSE: failed("FUSE is not available (no /dev/fuse, no libfuse, no fusermount)"),
  E_MOUNT_BUSY: failed("the mountpoint is busy (something mounted there, files open)"),
  E_NOT_MOUNTED: failed("nothing is mounted there"),
  E_CODEC_UNKNOWN: failed("data compressed with a codec this build does not have"),
  E_ABORTED: failed("the operation was stopped by its caller (the library's AbortSignal)"),
  E_INTERNAL: failed("a bug in superchunk (report it, with --debug output)"),
};

/** The exit status for an error of `code`. */
export function exitStatusOf(code: ErrorCode): number {
  return EXIT_BY_CODE[code].status;
}
