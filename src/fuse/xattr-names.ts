/**
 * Which xattr names a read-write mount stores. The kernel hands a FUSE server every name a
 * caller gives; a local file system refuses, with EOPNOTSUPP, a namespace it has no handler
 * for (`bogus.a`, a `system.*` name it does not implement), and so does the mount:
 *
 * - `user.`, `trusted.` and `security.` names are stored (the kernel has already checked
 *   the caller may set them);
 * - POSIX ACLs (`system.posix_acl_*`) are refused: the store does not enforce them, so
 *   cp -a and friends fall back to chmod, as on a file system without ACLs, rather than the
 *   ACL being kept as an inert blob while the mode stays wrong;
 * - a namespace with no name after it (`user.`) is EINVAL, as the kernel answers it for a
 *   local file system;
 * - every other name is refused.
 */
import { ErrnoError } from "./errno.js";

const NAMESPACES = ["user.", "trusted.", "security."] as const;

/** True for a POSIX ACL's name (`system.posix_acl_access`, `_default`). */
export function isAclName(name: string): boolean {
  return name.startsWith("system.posix_acl_");
}

/** Throws EOPNOTSUPP unless `name` is in a namespace the store keeps; EINVAL for a bare one. */
export function checkXattrName(name: string): void {
  if (isAclName(name)) throw new ErrnoError("EOPNOTSUPP", "no ACLs");
  const ns = NAMESPACES.find((prefix) => name.startsWith(prefix));
  if (ns === undefined) {
    throw new ErrnoError("EOPNOTSUPP", `no xattr namespace for ${JSON.stringify(name)}`);
  }
  if (name.length === ns.length) throw new ErrnoError("EINVAL", `no xattr name after ${ns}`);
}
