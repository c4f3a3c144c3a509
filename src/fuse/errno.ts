/**
 * The only place errno exists. FUSE ops answer with a negative errno; this file turns engine
 * errors (by stable `code`, then by family) and the adapter's own refusals into one, and says
 * which ones deserve a log line. Numbers come from the platform (`os.constants.errno`), so they
 * match what the kernel expects on this machine.
 */
import { constants } from "node:os";
import { EngineError, type ErrorCode, type ErrorFamily } from "../errors.js";

/** errno names the adapter uses. */
export type ErrnoName =
  | "EPERM"
  | "ENOENT"
  | "EIO"
  | "EBADF"
  | "EACCES"
  | "EEXIST"
  | "ENOTDIR"
  | "EISDIR"
  | "EINVAL"
  | "ENOSPC"
  | "EROFS"
  | "ERANGE"
  | "ENAMETOOLONG"
  | "ENOTEMPTY"
  | "ENODATA"
  | "EOPNOTSUPP"
  | "EFBIG"
  | "EBUSY"
  | "EXDEV"
  | "ENOSYS";

/** The negative errno FUSE expects for `name`. */
export function negErrno(name: ErrnoName): number {
  const n = (constants.errno as Record<string, number | undefined>)[name];
  return -(n ?? constants.errno.EIO);
}

/** A refusal the adapter itself decides (EROFS on a write, ENOTDIR, EBADF, ...). */
export class ErrnoError extends Error {
  readonly errno: ErrnoName;
  constructor(errno: ErrnoName, message: string = errno) {
    super(message);
    this.name = "ErrnoError";
    this.errno = errno;
  }
}

/** How an error is answered: its errno and whether it is worth a log line. */
export interface ErrnoAnswer {
  readonly errno: number;
  readonly log: boolean;
}

/** Codes whose errno differs from their family's default. */
const BY_CODE: Partial<Record<ErrorCode, ErrnoName>> = {
  E_NOT_FOUND: "ENOENT",
  E_SUPERCHUNK_MISSING: "EIO",
  E_NOT_A_STORE: "EIO",
  E_NO_SPACE: "ENOSPC",
  E_UNREADABLE: "EIO",
  E_DEST_EXISTS: "EEXIST",
  E_DEST_NOT_EMPTY: "ENOTEMPTY",
  E_CODEC_UNKNOWN: "EIO",
  E_EXISTS: "EEXIST",
  E_NOT_EMPTY: "ENOTEMPTY",
  E_NOT_DIR: "ENOTDIR",
  E_IS_DIR: "EISDIR",
  E_ACCESS: "EACCES",
  E_NOT_PERMITTED: "EPERM",
  E_READ_ONLY: "EROFS",
  E_NAME_TOO_LONG: "ENAMETOOLONG",
  E_BAD_HANDLE: "EBADF",
  E_NO_XATTR: "ENODATA",
  E_TOO_BIG: "EFBIG",
  E_STORE_LOCKED: "EBUSY",
};

/** Default errno of each family; `log` marks the ones an operator must hear about. */
const BY_FAMILY: Record<ErrorFamily, { errno: ErrnoName; log: boolean }> = {
  usage: { errno: "EINVAL", log: false },
  notfound: { errno: "ENOENT", log: false },
  corrupt: { errno: "EIO", log: true },
  format: { errno: "EIO", log: true },
  io: { errno: "EIO", log: true },
  unsupported: { errno: "EOPNOTSUPP", log: false },
  internal: { errno: "EIO", log: true },
};

/**
 * Maps any thrown value to the negative errno a FUSE op answers with. Known engine codes get
 * their mapped errno; a damaged or missing super-chunk is EIO and logged; anything unknown
 * (a plain Error, a bug) is EIO and logged. Never -1 by accident.
 */
export function errnoFor(err: unknown): ErrnoAnswer {
  if (err instanceof ErrnoError) return { errno: negErrno(err.errno), log: false };
  if (err instanceof EngineError) {
    const fam = BY_FAMILY[err.family] ?? BY_FAMILY.internal;
    const name = BY_CODE[err.code] ?? fam.errno;
    const log = fam.log || err.code === "E_SUPERCHUNK_MISSING" || name === "EIO";
    return { errno: negErrno(name), log };
  }
  return { errno: negErrno("EIO"), log: true };
}

/** The OS's errno number for a name, for tests comparing against `err.errno` of fs calls. */
export function errnoNumber(name: ErrnoName): number {
  return -negErrno(name);
}
