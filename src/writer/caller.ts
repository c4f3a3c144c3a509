/** Who asks: the caller context of a file-system operation, and time arguments. */
import { UsageError } from "../errors.js";

/** The process on whose behalf an operation runs (FUSE passes it per request). */
export interface CallerContext {
  readonly uid: number;
  readonly gid: number;
  /**
   * The caller's supplementary groups, when known (chown to one of them is allowed, as to
   * the primary group); default none
   */
  readonly groups?: readonly number[];
  /** Bits cleared from the mode of new inodes; default 0 (the kernel usually applied it). */
  readonly umask?: number;
}

/** A time argument of utimens: nanoseconds since the epoch, the current time, or unchanged. */
export type TimeSpec = bigint | "now" | "omit";

/** The root user's context. */
export const ROOT_CALLER: CallerContext = { uid: 0, gid: 0 };

/** Current time in nanoseconds since the epoch. */
export function nowNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}

/** The longest entry name accepted, in bytes (NAME_MAX). */
export const NAME_MAX_BYTES = 255;

/** Throws unless `name` can be a directory entry name. */
export function checkName(name: Buffer): void {
  if (name.length > NAME_MAX_BYTES) {
    throw new UsageError("E_NAME_TOO_LONG", `name of ${name.length} bytes is too long`, {
      length: name.length,
    });
  }
  const dots = name.length <= 2 && name.every((b) => b === 0x2e);
  if (name.length === 0 || dots || name.includes(0x2f) || name.includes(0)) {
    throw new UsageError("E_USAGE", "invalid entry name", { hex: name.toString("hex") });
  }
}
