/**
 * NAME_MAX at the kernel edge: a path op naming a component longer than 255 bytes answers
 * ENAMETOOLONG, as ext4 does, whether the name exists or not (the kernel passes names up to
 * 1024 bytes to a FUSE server, so a lookup would otherwise say ENOENT). Only ops that resolve
 * names are checked; ops on an open handle use a path libfuse already knows.
 */
import { ErrnoError } from "./errno.js";

/** The longest name of one path component, in bytes (ext4's NAME_MAX). */
export const NAME_MAX_BYTES = 255;
const SLASH = 0x2f;

/** Ops whose first argument is a path to resolve; `rename` and `link` have a second one. */
const PATH_OPS = new Set([
  "getattr",
  "access",
  "open",
  "opendir",
  "readdir",
  "readlink",
  "create",
  "mkdir",
  "mknod",
  "symlink",
  "link",
  "unlink",
  "rmdir",
  "rename",
  "chmod",
  "chown",
  "utimens",
  "truncate",
  "setxattr",
  "getxattr",
  "listxattr",
  "removexattr",
]);
const TWO_PATH_OPS = new Set(["rename", "link"]);

/** Throws ENAMETOOLONG when a component of `path` is longer than NAME_MAX_BYTES. */
export function checkPathNames(path: unknown): void {
  if (!Buffer.isBuffer(path) || path.length <= NAME_MAX_BYTES) return;
  let start = 0;
  for (;;) {
    const cut = path.indexOf(SLASH, start);
    const end = cut < 0 ? path.length : cut;
    if (end - start > NAME_MAX_BYTES) {
      throw new ErrnoError("ENAMETOOLONG", `a name of ${end - start} bytes is too long`);
    }
    if (cut < 0) return;
    start = cut + 1;
  }
}

/** Wraps every name-resolving handler of `table` (in place) with checkPathNames. */
export function limitNames<T extends object>(table: T): T {
  const t = table as Record<string, (...a: unknown[]) => unknown>;
  for (const [name, fn] of Object.entries(t)) {
    if (!PATH_OPS.has(name) || typeof fn !== "function") continue;
    const two = TWO_PATH_OPS.has(name);
    t[name] = (...args: unknown[]) => {
      checkPathNames(args[0]);
      if (two) checkPathNames(args[1]);
      return fn(...args);
    };
  }
  return table;
}
